# Hazardline 訊息，臺灣華語（正體中文）。

## 災害名稱
hazard-rainfall = 豪大雨
hazard-flood = 淹水
hazard-debris_flow = 土石流
hazard-earthquake = 地震
hazard-typhoon = 颱風
hazard-thunderstorm = 雷雨
hazard-tsunami = 海嘯
hazard-heat = 高溫
hazard-cold = 低溫
hazard-fog = 濃霧
hazard-wind = 強風
hazard-other = 災害

## 警戒顏色
colour-green = 綠色
colour-yellow = 黃色
colour-orange = 橙色
colour-red = 紅色

## 機關未提供此語言指示時的標準建議
advice-rainfall = 請避免外出，遠離河川、山坡及低窪地區。
advice-flood = 請立即移往高處，切勿徒步或開車通過淹水路段。
advice-debris_flow = 請立即撤離至安全處所，遠離溪流及山坡。
advice-earthquake = 趴下、掩護、穩住。搖晃停止後檢查瓦斯，並留意餘震。
advice-typhoon = 請留在室內，固定門窗及戶外物品，勿前往海邊或山區。
advice-thunderstorm = 請留在室內，遠離空曠地、水邊及高大物體。
advice-tsunami = 請立即遠離海岸，往高處或內陸避難。
advice-heat = 中午前後避免外出，多補充水分，並關心長者及孩童。
advice-cold = 請注意保暖，使用瓦斯熱水器或暖爐時保持通風。
advice-fog = 開車請減速、開霧燈，並保持車距。
advice-wind = 請避免外出，遠離招牌、樹木及工地。
advice-other = 請依政府指示行動，並留意最新消息。
advice-all-clear = 可恢復正常活動，經過受損地區時請小心。
advice-relief = 請開啟連結查看辦理機關、應備文件及期限。
advice-lowered = 請持續留意。警戒解除或再升級時會再通知您。

## 標題
title-new = { $hazard }{ $colour }警戒：{ $place }
title-update = 更新：{ $hazard }{ $colour }警戒：{ $place }
title-all-clear = { $hazard }警戒解除：{ $place }
title-relief = { $hazard }災後協助：{ $place }
title-lowered = 降級：{ $hazard }警戒降為{ $colour }：{ $place }

## 內文第一句
headline-new = { $place }發布{ $hazard }{ $colour }警戒。
headline-update = { $place }的{ $hazard }警戒已更新，目前為{ $colour }。
headline-all-clear = { $place }的{ $hazard }警戒已解除。
headline-relief = { $place }{ $hazard }災後可申請協助。
headline-lowered = { $place }的{ $hazard }警戒已降為{ $colour }，低於您設定的通知等級，但警戒仍然有效。
headline-in-force = { $place }的{ $hazard }{ $colour }警戒自{ $time }（臺灣時間）起生效中。

## 其他句子
action = 應變：{ $instruction }
shelter = 最近開設的避難處所：{ $shelter }（{ $distance }）。
valid-until = 有效至{ $time }（臺灣時間）。
details = 詳情：{ $link }
original-label = 機關原文
exercise-marker = 【演習】
exercise-note = 這是演習，不是真實災害。

## 通報名單與災後協助
relay-title = 通報名單
relay-issued = 發布時間
relay-col-name = 姓名
relay-col-phone = 電話
relay-col-address = 地址
relay-col-needs = 需求
relay-col-language = 語言
relay-col-status = 聯繫結果
relay-need-no-smartphone = 無智慧型手機
relay-need-elderly = 長者
relay-need-disabled = 身心障礙
relay-need-language = 需其他語言
relay-ack-none = 未聯繫
relay-ack-reached = 已聯繫
relay-ack-not-reached = 聯繫不上
relay-ack-evacuated = 已撤離
relay-ack-needs-help = 需要協助
relief-col-office = 承辦機關
relief-col-phone = 電話
relief-col-address = 地址
relief-col-documents = 應備文件
relief-col-deadline = 申請期限

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = { $hazard } 解除
correction-notice = 更正：先前發送的警報為誤發，請忽略，無須採取任何行動。

# The place name a message gives a traveller's shared location.
current-location = 目前位置

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = 繪製區域
area-circle = 半徑 { $distance } 公里範圍
