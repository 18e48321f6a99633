# Hazardline メッセージ、日本語。

## 災害の名前
hazard-rainfall = 大雨
hazard-flood = 浸水
hazard-debris_flow = 土石流
hazard-earthquake = 地震
hazard-typhoon = 台風
hazard-thunderstorm = 雷雨
hazard-tsunami = 津波
hazard-heat = 高温
hazard-cold = 低温
hazard-fog = 濃霧
hazard-wind = 強風
hazard-other = 災害

## 警戒レベルの色
colour-green = 緑
colour-yellow = 黄
colour-orange = オレンジ
colour-red = 赤

## 機関の指示がこの言語にないときの標準の行動
advice-rainfall = 外出を控え、川や斜面、低い土地から離れてください。
advice-flood = すぐに高い所へ移動してください。水につかった道を歩いたり車で通ったりしないでください。
advice-debris_flow = すぐに安全な場所へ避難してください。川や斜面から離れてください。
advice-earthquake = 姿勢を低くし、頭を守り、じっとしてください。揺れが収まったらガスを確認し、余震に注意してください。
advice-typhoon = 屋内にいてください。窓や屋外の物を固定し、海や山に近づかないでください。
advice-thunderstorm = 屋内にいてください。広い場所、水辺、高い物から離れてください。
advice-tsunami = すぐに海岸から離れ、高台か内陸へ避難してください。
advice-heat = 昼前後の外出を避け、こまめに水を飲み、高齢者や子どもに気を配ってください。
advice-cold = 暖かくしてください。ガス給湯器やストーブを使うときは換気してください。
advice-fog = 車はスピードを落とし、フォグランプをつけ、車間距離をとってください。
advice-wind = 外出を控え、看板、木、工事現場から離れてください。
advice-other = 行政の指示に従い、最新の情報を確認してください。
advice-all-clear = 普段の生活に戻れます。被害のあった場所では気をつけてください。
advice-relief = リンクから窓口、必要な書類、期限を確認してください。
advice-lowered = 引き続き注意してください。解除されたとき、または再び引き上げられたときにお知らせします。

## タイトル
title-new = { $hazard }警戒（{ $colour }）：{ $place }
title-update = 更新：{ $hazard }警戒（{ $colour }）：{ $place }
title-all-clear = { $hazard }警戒 解除：{ $place }
title-relief = { $hazard }の後の支援：{ $place }
title-lowered = 引き下げ：{ $hazard }警戒（{ $colour }）：{ $place }

## 本文の最初の文
headline-new = { $place }に{ $hazard }警戒（{ $colour }）が出ています。
headline-update = { $place }の{ $hazard }警戒が変わりました。現在のレベルは{ $colour }です。
headline-all-clear = { $place }の{ $hazard }警戒は解除されました。
headline-relief = { $place }で{ $hazard }の後の支援を受けられます。
headline-lowered = { $place }の{ $hazard }警戒は{ $colour }に引き下げられました。通知を希望したレベルより下ですが、警戒はまだ続いています。
headline-in-force = { $place }に{ $time }（台湾時間）から{ $hazard }警戒（{ $colour }）が出ています。

## その他の文
action = すること：{ $instruction }
shelter = 開設中の最寄りの避難所：{ $shelter }（{ $distance }）。
valid-until = 有効期限：{ $time }（台湾時間）。
details = 詳細：{ $link }
original-label = 機関の原文
exercise-marker = 【訓練】
exercise-note = これは訓練です。本当の災害ではありません。

## 連絡リストと支援
relay-title = 連絡リスト
relay-issued = 発行
relay-col-name = 氏名
relay-col-phone = 電話
relay-col-address = 住所
relay-col-needs = 支援の理由
relay-col-language = 言語
relay-col-status = 結果
relay-need-no-smartphone = スマートフォンなし
relay-need-elderly = 高齢者
relay-need-disabled = 障害のある方
relay-need-language = 他の言語が必要
relay-ack-none = 未連絡
relay-ack-reached = 連絡済み
relay-ack-not-reached = 連絡つかず
relay-ack-evacuated = 避難済み
relay-ack-needs-help = 支援が必要
relief-col-office = 窓口
relief-col-phone = 電話
relief-col-address = 住所
relief-col-documents = 必要な書類
relief-col-deadline = 申請期限

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = { $hazard } 解除
correction-notice = 訂正：先ほどの警報は誤って送信されました。無視してください。対応は不要です。

# The place name a message gives a traveller's shared location.
current-location = 現在地

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = 指定区域
area-circle = 半径 { $distance } km 以内
