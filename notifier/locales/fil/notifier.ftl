# Mga mensahe ng Hazardline, Filipino.
# ASCII lang ang bantas para manatiling GSM-7 ang SMS.

## Mga pangalan ng panganib
hazard-rainfall = malakas na ulan
hazard-flood = baha
hazard-debris_flow = daloy ng putik at bato
hazard-earthquake = lindol
hazard-typhoon = bagyo
hazard-thunderstorm = kulog at kidlat
hazard-tsunami = tsunami
hazard-heat = matinding init
hazard-cold = matinding lamig
hazard-fog = makapal na hamog
hazard-wind = malakas na hangin
hazard-other = panganib

## Mga kulay ng babala
colour-green = BERDE
colour-yellow = DILAW
colour-orange = KAHEL
colour-red = PULA

## Karaniwang payo kapag walang utos ang ahensya sa wikang ito
advice-rainfall = Manatili sa loob ng bahay. Lumayo sa ilog, dalisdis at mabababang lugar.
advice-flood = Pumunta agad sa mataas na lugar. Huwag lumusong o magmaneho sa baha.
advice-debris_flow = Lumikas na ngayon sa ligtas na lugar. Lumayo sa sapa at dalisdis.
advice-earthquake = Dumapa, magtago at kumapit. Kapag tumigil ang pagyanig, tingnan kung may tagas ng gas at maghanda sa aftershock.
advice-typhoon = Manatili sa loob ng bahay. Isara nang mabuti ang mga bintana at itali ang mga gamit sa labas. Huwag pumunta sa dagat o bundok.
advice-thunderstorm = Manatili sa loob. Lumayo sa malawak na bukid, tubig at matataas na bagay.
advice-tsunami = Umalis agad sa baybayin. Pumunta sa mataas na lugar o papasok sa lupa.
advice-heat = Iwasang lumabas sa tanghali. Uminom ng tubig nang madalas at bantayan ang matatanda at bata.
advice-cold = Magpainit. Buksan ang bintana kapag gumagamit ng gas na heater o pampainit ng tubig.
advice-fog = Magmaneho nang dahan-dahan, buksan ang fog light at lumayo sa sasakyang nasa unahan.
advice-wind = Iwasang lumabas. Lumayo sa mga karatula, puno at construction site.
advice-other = Sundin ang utos ng mga awtoridad at abangan ang mga balita.
advice-all-clear = Maaari nang bumalik sa karaniwang gawain. Mag-ingat sa mga nasirang lugar.
advice-relief = Buksan ang link para sa mga opisina, dokumento at deadline.
advice-lowered = Manatiling alerto. Aabisuhan ka kapag natapos ito o tumaas muli.

## Mga pamagat
title-new = Babalang { $colour }: { $hazard } - { $place }
title-update = Update: babalang { $colour }: { $hazard } - { $place }
title-all-clear = Tapos na ang babala sa { $hazard }: { $place }
title-relief = Tulong pagkatapos ng { $hazard }: { $place }
title-lowered = Ibinaba: babala sa { $hazard }, { $colour } na ngayon: { $place }

## Unang pangungusap
headline-new = May babalang { $colour } sa { $hazard } para sa { $place }.
headline-update = Nagbago ang babala sa { $hazard } para sa { $place }. Antas ngayon: { $colour }.
headline-all-clear = Tapos na ang babala sa { $hazard } para sa { $place }.
headline-relief = May tulong para sa { $place } pagkatapos ng { $hazard }.
headline-lowered = Ibinaba sa { $colour } ang babala sa { $hazard } para sa { $place }, mas mababa sa antas na pinili mong abisuhan. May bisa pa rin ang babala.
headline-in-force = May babalang { $colour } sa { $hazard } para sa { $place } mula pa noong { $time } (oras sa Taiwan).

## Iba pang pangungusap
action = Gawin: { $instruction }
shelter = Pinakamalapit na bukas na evacuation center: { $shelter } ({ $distance }).
valid-until = May bisa hanggang { $time } (oras sa Taiwan).
details = Detalye: { $link }
original-label = Orihinal na teksto ng ahensya
exercise-marker = [PAGSASANAY]
exercise-note = Pagsasanay lamang ito, hindi tunay na sakuna.

## Listahan ng aabisuhan at tulong
relay-title = Listahan ng aabisuhan
relay-issued = Inilabas
relay-col-name = Pangalan
relay-col-phone = Telepono
relay-col-address = Tirahan
relay-col-needs = Pangangailangan
relay-col-language = Wika
relay-col-status = Resulta
relay-need-no-smartphone = walang smartphone
relay-need-elderly = nakatatanda
relay-need-disabled = may kapansanan
relay-need-language = kailangan ng ibang wika
relay-ack-none = hindi pa nakakausap
relay-ack-reached = naabisuhan na
relay-ack-not-reached = hindi makontak
relay-ack-evacuated = nakalikas na
relay-ack-needs-help = kailangan ng tulong
relief-col-office = Opisina
relief-col-phone = Telepono
relief-col-address = Tirahan
relief-col-documents = Mga dokumentong dadalhin
relief-col-deadline = Huling araw ng pag-aplay

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = Kinansela: { $hazard }
correction-notice = Pagtutuwid: ang naunang alerto ay naipadala nang mali. Huwag pansinin; walang kailangang gawin.

# The place name a message gives a traveller's shared location.
current-location = ang kasalukuyan mong lokasyon

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = Itinakdang lugar
area-circle = Sa loob ng { $distance } km
