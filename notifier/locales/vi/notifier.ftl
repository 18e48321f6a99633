# Tin nhắn Hazardline, tiếng Việt.

## Tên thiên tai (dùng trong câu)
hazard-rainfall = mưa lớn
hazard-flood = ngập lụt
hazard-debris_flow = lũ bùn đá
hazard-earthquake = động đất
hazard-typhoon = bão
hazard-thunderstorm = dông sét
hazard-tsunami = sóng thần
hazard-heat = nắng nóng gay gắt
hazard-cold = rét đậm
hazard-fog = sương mù dày
hazard-wind = gió mạnh
hazard-other = thiên tai

## Mức màu
colour-green = XANH LÁ
colour-yellow = VÀNG
colour-orange = CAM
colour-red = ĐỎ

## Lời khuyên chuẩn khi cơ quan không có hướng dẫn bằng tiếng Việt
advice-rainfall = Hạn chế ra ngoài. Tránh xa sông suối, sườn dốc và vùng trũng thấp.
advice-flood = Di chuyển lên chỗ cao ngay. Không đi bộ hoặc lái xe qua chỗ ngập nước.
advice-debris_flow = Sơ tán ngay đến nơi an toàn. Tránh xa suối và sườn dốc.
advice-earthquake = Cúi thấp, che đầu và bám chặt. Khi hết rung, kiểm tra rò rỉ gas và đề phòng dư chấn.
advice-typhoon = Ở trong nhà. Chằng chống cửa và đồ vật ngoài trời. Không ra biển hoặc lên núi.
advice-thunderstorm = Ở trong nhà. Tránh xa bãi trống, chỗ có nước và vật cao.
advice-tsunami = Rời khỏi bờ biển ngay. Đi lên chỗ cao hoặc vào sâu trong đất liền.
advice-heat = Tránh ra ngoài vào buổi trưa. Uống nước thường xuyên và để ý người già, trẻ em.
advice-cold = Giữ ấm cơ thể. Mở cửa thông gió khi dùng bình nóng lạnh gas hoặc lò sưởi.
advice-fog = Lái xe chậm, bật đèn sương mù và giữ khoảng cách.
advice-wind = Hạn chế ra ngoài. Tránh xa biển quảng cáo, cây cối và công trường.
advice-other = Làm theo hướng dẫn của chính quyền và theo dõi tin mới nhất.
advice-all-clear = Bạn có thể sinh hoạt bình thường trở lại. Cẩn thận ở những nơi bị hư hại.
advice-relief = Mở đường dẫn để xem cơ quan phụ trách, giấy tờ cần có và thời hạn.
advice-lowered = Hãy tiếp tục theo dõi. Bạn sẽ được báo khi cảnh báo kết thúc hoặc tăng mức trở lại.

## Tiêu đề
title-new = Cảnh báo { $hazard } mức { $colour }: { $place }
title-update = Cập nhật: cảnh báo { $hazard } mức { $colour }: { $place }
title-all-clear = Đã hủy cảnh báo { $hazard }: { $place }
title-relief = Hỗ trợ sau { $hazard }: { $place }
title-lowered = Hạ mức: cảnh báo { $hazard } còn mức { $colour }: { $place }

## Câu đầu tiên
headline-new = Cảnh báo { $hazard } mức { $colour } tại { $place }.
headline-update = Cảnh báo { $hazard } tại { $place } đã thay đổi. Mức hiện tại: { $colour }.
headline-all-clear = Cảnh báo { $hazard } tại { $place } đã kết thúc.
headline-relief = Người dân { $place } có thể nhận hỗ trợ sau { $hazard }.
headline-lowered = Cảnh báo { $hazard } tại { $place } đã hạ xuống mức { $colour }, thấp hơn mức bạn chọn nhận thông báo. Cảnh báo vẫn còn hiệu lực.
headline-in-force = Cảnh báo { $hazard } mức { $colour } tại { $place } có hiệu lực từ { $time } (giờ Đài Loan).

## Các câu khác
action = Cần làm: { $instruction }
shelter = Nơi trú ẩn gần nhất đang mở: { $shelter } ({ $distance }).
valid-until = Có hiệu lực đến { $time } (giờ Đài Loan).
details = Chi tiết: { $link }
original-label = Nguyên văn của cơ quan
exercise-marker = [DIỄN TẬP]
exercise-note = Đây là diễn tập, không phải thiên tai thật.

## Danh sách báo tin và hỗ trợ
relay-title = Danh sách cần báo tin
relay-issued = Thời điểm lập
relay-col-name = Họ tên
relay-col-phone = Điện thoại
relay-col-address = Địa chỉ
relay-col-needs = Nhu cầu
relay-col-language = Ngôn ngữ
relay-col-status = Kết quả
relay-need-no-smartphone = không có điện thoại thông minh
relay-need-elderly = người cao tuổi
relay-need-disabled = người khuyết tật
relay-need-language = cần ngôn ngữ khác
relay-ack-none = chưa liên lạc
relay-ack-reached = đã liên lạc được
relay-ack-not-reached = không liên lạc được
relay-ack-evacuated = đã sơ tán
relay-ack-needs-help = cần giúp đỡ
relief-col-office = Cơ quan
relief-col-phone = Điện thoại
relief-col-address = Địa chỉ
relief-col-documents = Giấy tờ cần mang
relief-col-deadline = Hạn nộp

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = Hủy { $hazard }
correction-notice = Đính chính: cảnh báo trước đó đã được gửi nhầm. Xin bỏ qua; không cần làm gì.

# The place name a message gives a traveller's shared location.
current-location = vị trí hiện tại của bạn

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = Khu vực được khoanh vùng
area-circle = Trong bán kính { $distance } km
