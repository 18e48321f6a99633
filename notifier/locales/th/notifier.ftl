# ข้อความ Hazardline ภาษาไทย

## ชื่อภัย
hazard-rainfall = ฝนตกหนัก
hazard-flood = น้ำท่วม
hazard-debris_flow = ดินโคลนถล่ม
hazard-earthquake = แผ่นดินไหว
hazard-typhoon = พายุไต้ฝุ่น
hazard-thunderstorm = พายุฝนฟ้าคะนอง
hazard-tsunami = สึนามิ
hazard-heat = อากาศร้อนจัด
hazard-cold = อากาศหนาวจัด
hazard-fog = หมอกหนา
hazard-wind = ลมแรง
hazard-other = ภัยพิบัติ

## ระดับสี
colour-green = สีเขียว
colour-yellow = สีเหลือง
colour-orange = สีส้ม
colour-red = สีแดง

## คำแนะนำมาตรฐานเมื่อหน่วยงานไม่มีคำแนะนำเป็นภาษานี้
advice-rainfall = งดออกนอกบ้าน อยู่ห่างจากแม่น้ำ ลาดเขา และที่ลุ่มต่ำ
advice-flood = ย้ายขึ้นที่สูงทันที ห้ามเดินหรือขับรถผ่านน้ำท่วม
advice-debris_flow = อพยพไปยังที่ปลอดภัยทันที อยู่ห่างจากลำธารและลาดเขา
advice-earthquake = หมอบลง หาที่กำบัง และจับให้มั่น เมื่อหยุดสั่นให้ตรวจดูแก๊สรั่วและระวังอาฟเตอร์ช็อก
advice-typhoon = อยู่ในอาคาร ปิดหน้าต่างให้แน่นและเก็บของนอกบ้าน อย่าไปชายทะเลหรือภูเขา
advice-thunderstorm = อยู่ในอาคาร อยู่ห่างจากที่โล่ง แหล่งน้ำ และสิ่งของที่สูง
advice-tsunami = ออกจากชายฝั่งทันที ไปยังที่สูงหรือเข้าไปในแผ่นดิน
advice-heat = งดออกนอกบ้านช่วงเที่ยง ดื่มน้ำบ่อย ๆ และดูแลผู้สูงอายุและเด็ก
advice-cold = รักษาร่างกายให้อบอุ่น เปิดระบายอากาศเมื่อใช้เครื่องทำน้ำอุ่นแก๊สหรือเครื่องทำความร้อน
advice-fog = ขับรถช้าลง เปิดไฟตัดหมอก และเว้นระยะห่างจากรถคันหน้า
advice-wind = งดออกนอกบ้าน อยู่ห่างจากป้าย ต้นไม้ และเขตก่อสร้าง
advice-other = ปฏิบัติตามคำแนะนำของทางการและติดตามข่าวสารล่าสุด
advice-all-clear = กลับไปใช้ชีวิตตามปกติได้ ระวังบริเวณที่เสียหาย
advice-relief = เปิดลิงก์เพื่อดูหน่วยงาน เอกสารที่ต้องใช้ และกำหนดเวลา
advice-lowered = โปรดติดตามสถานการณ์ต่อไป เราจะแจ้งเมื่อยกเลิกหรือเมื่อระดับสูงขึ้นอีก

## หัวข้อ
title-new = เตือนภัย{ $hazard } ระดับ{ $colour }: { $place }
title-update = อัปเดต: เตือนภัย{ $hazard } ระดับ{ $colour }: { $place }
title-all-clear = ยกเลิกเตือนภัย{ $hazard }: { $place }
title-relief = ความช่วยเหลือหลัง{ $hazard }: { $place }
title-lowered = ลดระดับ: เตือนภัย{ $hazard } เป็นระดับ{ $colour }: { $place }

## ประโยคแรกของข้อความ
headline-new = ประกาศเตือนภัย{ $hazard } ระดับ{ $colour } สำหรับ{ $place }
headline-update = การเตือนภัย{ $hazard }สำหรับ{ $place }เปลี่ยนแปลงแล้ว ขณะนี้อยู่ระดับ{ $colour }
headline-all-clear = ยกเลิกการเตือนภัย{ $hazard }สำหรับ{ $place }แล้ว
headline-relief = ผู้อยู่ใน{ $place }ขอรับความช่วยเหลือหลัง{ $hazard }ได้
headline-lowered = การเตือนภัย{ $hazard }สำหรับ{ $place }ลดลงเป็นระดับ{ $colour } ต่ำกว่าระดับที่คุณเลือกรับแจ้ง แต่การเตือนภัยยังมีผลอยู่
headline-in-force = การเตือนภัย{ $hazard } ระดับ{ $colour } สำหรับ{ $place } มีผลตั้งแต่ { $time } (เวลาไต้หวัน)

## ประโยคอื่น ๆ
action = สิ่งที่ต้องทำ: { $instruction }
shelter = ศูนย์พักพิงที่เปิดอยู่ใกล้ที่สุด: { $shelter } ({ $distance })
valid-until = มีผลถึง { $time } (เวลาไต้หวัน)
details = รายละเอียด: { $link }
original-label = ข้อความต้นฉบับจากหน่วยงาน
exercise-marker = [ฝึกซ้อม]
exercise-note = นี่คือการฝึกซ้อม ไม่ใช่เหตุการณ์จริง

## รายชื่อผู้ต้องแจ้งต่อและความช่วยเหลือ
relay-title = รายชื่อผู้ต้องแจ้งต่อ
relay-issued = ออกเมื่อ
relay-col-name = ชื่อ
relay-col-phone = โทรศัพท์
relay-col-address = ที่อยู่
relay-col-needs = ความต้องการ
relay-col-language = ภาษา
relay-col-status = ผลการติดต่อ
relay-need-no-smartphone = ไม่มีสมาร์ทโฟน
relay-need-elderly = ผู้สูงอายุ
relay-need-disabled = ผู้พิการ
relay-need-language = ต้องการภาษาอื่น
relay-ack-none = ยังไม่ได้ติดต่อ
relay-ack-reached = ติดต่อได้แล้ว
relay-ack-not-reached = ติดต่อไม่ได้
relay-ack-evacuated = อพยพแล้ว
relay-ack-needs-help = ต้องการความช่วยเหลือ
relief-col-office = หน่วยงาน
relief-col-phone = โทรศัพท์
relief-col-address = ที่อยู่
relief-col-documents = เอกสารที่ต้องใช้
relief-col-deadline = ยื่นภายใน

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = ยกเลิก { $hazard }
correction-notice = แก้ไข: การแจ้งเตือนก่อนหน้านี้ส่งโดยผิดพลาด โปรดเพิกเฉย ไม่ต้องดำเนินการใด ๆ

# The place name a message gives a traveller's shared location.
current-location = ตำแหน่งปัจจุบันของคุณ

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = พื้นที่ที่กำหนด
area-circle = ภายในรัศมี { $distance } กม.
