# Hazardline 메시지, 한국어.

## 재난 이름
hazard-rainfall = 호우
hazard-flood = 침수
hazard-debris_flow = 토석류
hazard-earthquake = 지진
hazard-typhoon = 태풍
hazard-thunderstorm = 뇌우
hazard-tsunami = 지진해일
hazard-heat = 폭염
hazard-cold = 한파
hazard-fog = 짙은 안개
hazard-wind = 강풍
hazard-other = 재난

## 경보 색깔
colour-green = 녹색
colour-yellow = 황색
colour-orange = 주황색
colour-red = 적색

## 기관의 지시가 이 언어로 없을 때의 기본 행동 요령
advice-rainfall = 외출을 피하고 하천, 비탈면, 낮은 지대에서 멀리 떨어지세요.
advice-flood = 지금 높은 곳으로 이동하세요. 물에 잠긴 길은 걷거나 운전하지 마세요.
advice-debris_flow = 지금 안전한 곳으로 대피하세요. 계곡과 비탈면에서 멀리 떨어지세요.
advice-earthquake = 몸을 낮추고 머리를 보호하고 움직이지 마세요. 흔들림이 멈추면 가스를 확인하고 여진에 대비하세요.
advice-typhoon = 실내에 머무르세요. 창문과 바깥 물건을 고정하고 바닷가와 산에 가지 마세요.
advice-thunderstorm = 실내에 머무르세요. 넓은 들판, 물가, 높은 물체에서 떨어지세요.
advice-tsunami = 지금 해안을 떠나 높은 곳이나 내륙으로 대피하세요.
advice-heat = 한낮에는 외출을 피하고 물을 자주 마시며 노인과 어린이를 살펴 주세요.
advice-cold = 몸을 따뜻하게 하세요. 가스 온수기나 난로를 쓸 때는 환기하세요.
advice-fog = 속도를 줄이고 안개등을 켜고 차간 거리를 유지하세요.
advice-wind = 외출을 피하고 간판, 나무, 공사장에서 멀리 떨어지세요.
advice-other = 당국의 지시에 따르고 최신 소식을 확인하세요.
advice-all-clear = 일상생활로 돌아가도 됩니다. 피해 지역 근처에서는 조심하세요.
advice-relief = 링크에서 담당 기관, 필요한 서류, 기한을 확인하세요.
advice-lowered = 계속 주의하세요. 경보가 해제되거나 다시 상향되면 알려 드립니다.

## 제목
title-new = { $hazard } { $colour } 경보: { $place }
title-update = 변경: { $hazard } { $colour } 경보: { $place }
title-all-clear = { $hazard } 경보 해제: { $place }
title-relief = { $hazard } 피해 지원: { $place }
title-lowered = 하향: { $hazard } 경보 { $colour }: { $place }

## 본문 첫 문장
headline-new = { $place }에 { $hazard } { $colour } 경보가 발령되었습니다.
headline-update = { $place }의 { $hazard } 경보가 변경되었습니다. 현재 단계: { $colour }.
headline-all-clear = { $place }의 { $hazard } 경보가 해제되었습니다.
headline-relief = { $place }에서 { $hazard } 피해 지원을 받을 수 있습니다.
headline-lowered = { $place }의 { $hazard } 경보가 { $colour } 단계로 하향되었습니다. 알림을 받기로 한 단계보다 낮지만 경보는 아직 유효합니다.
headline-in-force = { $place }에 { $time }(대만 시간)부터 { $hazard } { $colour } 경보가 발령 중입니다.

## 그 밖의 문장
action = 행동 요령: { $instruction }
shelter = 가장 가까운 운영 중인 대피소: { $shelter } ({ $distance }).
valid-until = 유효 시간: { $time }까지 (대만 시간).
details = 자세히: { $link }
original-label = 기관 원문
exercise-marker = [훈련]
exercise-note = 이것은 훈련이며 실제 재난이 아닙니다.

## 연락 명단과 피해 지원
relay-title = 연락 명단
relay-issued = 발행
relay-col-name = 이름
relay-col-phone = 전화
relay-col-address = 주소
relay-col-needs = 필요 사항
relay-col-language = 언어
relay-col-status = 결과
relay-need-no-smartphone = 스마트폰 없음
relay-need-elderly = 어르신
relay-need-disabled = 장애인
relay-need-language = 다른 언어 필요
relay-ack-none = 미연락
relay-ack-reached = 연락됨
relay-ack-not-reached = 연락 안 됨
relay-ack-evacuated = 대피함
relay-ack-needs-help = 도움 필요
relief-col-office = 담당 기관
relief-col-phone = 전화
relief-col-address = 주소
relief-col-documents = 필요 서류
relief-col-deadline = 신청 기한

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = { $hazard } 해제
correction-notice = 정정: 앞서 보낸 경보는 잘못 발송되었습니다. 무시하십시오. 조치할 필요가 없습니다.

# The place name a message gives a traveller's shared location.
current-location = 현재 위치

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = 지정 구역
area-circle = 반경 { $distance }km 이내
