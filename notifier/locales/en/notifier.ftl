# Hazardline messages, English.
# Keep to plain words and ASCII punctuation: an SMS that contains a single
# curly quote or dash is sent as UCS-2 and holds less than half the text.

## Hazard names, used inside sentences.
hazard-rainfall = heavy rain
hazard-flood = flood
hazard-debris_flow = debris flow
hazard-earthquake = earthquake
hazard-typhoon = typhoon
hazard-thunderstorm = thunderstorm
hazard-tsunami = tsunami
hazard-heat = extreme heat
hazard-cold = extreme cold
hazard-fog = dense fog
hazard-wind = strong wind
hazard-other = hazard

## Colour levels.
colour-green = GREEN
colour-yellow = YELLOW
colour-orange = ORANGE
colour-red = RED

## Standard advice when the agency's instruction is not in this language.
advice-rainfall = Stay indoors. Keep away from rivers, slopes and low-lying areas.
advice-flood = Move to higher ground now. Do not walk or drive through flood water.
advice-debris_flow = Leave now for a safe place. Keep away from streams and slopes.
advice-earthquake = Drop, cover and hold on. When the shaking stops, check for gas leaks and expect aftershocks.
advice-typhoon = Stay indoors. Secure windows and loose objects. Keep away from the coast and mountains.
advice-thunderstorm = Stay indoors. Keep away from open fields, water and tall objects.
advice-tsunami = Leave the coast now. Go to high ground or inland.
advice-heat = Avoid going out around midday. Drink water often and check on older people and children.
advice-cold = Keep warm. Keep rooms aired when using gas heaters or water heaters.
advice-fog = Drive slowly with fog lights on and keep your distance.
advice-wind = Stay indoors. Keep away from signs, trees and building sites.
advice-other = Follow the authorities' instructions and watch for updates.
advice-all-clear = You can return to normal activities. Take care near damaged areas.
advice-relief = Open the link for offices, documents and deadlines.
advice-lowered = Stay alert. You will be told when it ends or rises again.

## Titles (push title, e-mail subject).
title-new = { $colour } { $hazard } warning: { $place }
title-update = Update: { $colour } { $hazard } warning: { $place }
title-all-clear = All clear: { $hazard } warning ended: { $place }
title-relief = Help after the { $hazard }: { $place }
title-lowered = Lowered: { $hazard } warning now { $colour }: { $place }

## First sentence of the body.
headline-new = { $colour } { $hazard } warning for { $place }.
headline-update = The { $hazard } warning for { $place } has changed. Level now: { $colour }.
headline-all-clear = The { $hazard } warning for { $place } has ended.
headline-relief = Help is available after the { $hazard } in { $place }.
headline-lowered = The { $hazard } warning for { $place } was lowered to { $colour }, below the level you chose to hear about. It is still in force.
headline-in-force = { $colour } { $hazard } warning for { $place }, in force since { $time } (Taiwan time).

## Further sentences.
action = What to do: { $instruction }
shelter = Nearest open shelter: { $shelter } ({ $distance }).
valid-until = Valid until { $time } (Taiwan time).
details = Details: { $link }
original-label = Original text from the agency
exercise-marker = [EXERCISE]
exercise-note = This is a drill, not a real emergency.

## Relay lists and relief steps
relay-title = Relay list
relay-issued = Issued
relay-col-name = Name
relay-col-phone = Phone
relay-col-address = Address
relay-col-needs = Needs
relay-col-language = Language
relay-col-status = Result
relay-need-no-smartphone = no smartphone
relay-need-elderly = older person
relay-need-disabled = disability
relay-need-language = needs another language
relay-ack-none = not yet contacted
relay-ack-reached = reached
relay-ack-not-reached = not reached
relay-ack-evacuated = evacuated
relay-ack-needs-help = needs help
relief-col-office = Office
relief-col-phone = Phone
relief-col-address = Address
relief-col-documents = Documents to bring
relief-col-deadline = Apply by

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = { $hazard } cancelled
correction-notice = Correction: the earlier alert was sent in error. Disregard it; no action is needed.

# The place name a message gives a traveller's shared location.
current-location = your current location

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = Drawn area
area-circle = Within { $distance } km
