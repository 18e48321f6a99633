# Pesan Hazardline, bahasa Indonesia.
# Tanda baca ASCII saja agar SMS tetap GSM-7.

## Nama bahaya
hazard-rainfall = hujan lebat
hazard-flood = banjir
hazard-debris_flow = aliran lumpur dan batu
hazard-earthquake = gempa bumi
hazard-typhoon = topan
hazard-thunderstorm = badai petir
hazard-tsunami = tsunami
hazard-heat = cuaca sangat panas
hazard-cold = cuaca sangat dingin
hazard-fog = kabut tebal
hazard-wind = angin kencang
hazard-other = bahaya

## Tingkat warna
colour-green = HIJAU
colour-yellow = KUNING
colour-orange = ORANYE
colour-red = MERAH

## Saran baku bila instansi tidak memberi petunjuk dalam bahasa ini
advice-rainfall = Tetap di dalam rumah. Jauhi sungai, lereng dan daerah rendah.
advice-flood = Segera pindah ke tempat tinggi. Jangan berjalan atau berkendara melewati banjir.
advice-debris_flow = Segera mengungsi ke tempat aman. Jauhi sungai kecil dan lereng.
advice-earthquake = Merunduk, berlindung dan berpegangan. Setelah guncangan berhenti, periksa kebocoran gas dan waspadai gempa susulan.
advice-typhoon = Tetap di dalam rumah. Kunci jendela dan amankan barang di luar. Jangan pergi ke pantai atau gunung.
advice-thunderstorm = Tetap di dalam ruangan. Jauhi lapangan terbuka, air dan benda tinggi.
advice-tsunami = Segera tinggalkan pantai. Pergi ke tempat tinggi atau menjauh ke daratan.
advice-heat = Hindari keluar sekitar tengah hari. Sering minum air dan perhatikan orang tua dan anak-anak.
advice-cold = Jaga tubuh tetap hangat. Buka ventilasi saat memakai pemanas air gas atau pemanas ruangan.
advice-fog = Kurangi kecepatan, nyalakan lampu kabut dan jaga jarak.
advice-wind = Hindari keluar rumah. Jauhi papan reklame, pohon dan lokasi proyek.
advice-other = Ikuti petunjuk pihak berwenang dan pantau kabar terbaru.
advice-all-clear = Anda dapat kembali beraktivitas seperti biasa. Hati-hati di daerah yang rusak.
advice-relief = Buka tautan untuk melihat kantor, dokumen yang diperlukan dan batas waktu.
advice-lowered = Tetap waspada. Anda akan diberi tahu saat peringatan berakhir atau naik lagi.

## Judul
title-new = Peringatan { $colour } { $hazard }: { $place }
title-update = Pembaruan: peringatan { $colour } { $hazard }: { $place }
title-all-clear = Peringatan { $hazard } dicabut: { $place }
title-relief = Bantuan setelah { $hazard }: { $place }
title-lowered = Diturunkan: peringatan { $hazard } kini { $colour }: { $place }

## Kalimat pertama
headline-new = Peringatan { $colour } { $hazard } untuk { $place }.
headline-update = Peringatan { $hazard } untuk { $place } berubah. Tingkat sekarang: { $colour }.
headline-all-clear = Peringatan { $hazard } untuk { $place } sudah berakhir.
headline-relief = Bantuan tersedia untuk warga { $place } setelah { $hazard }.
headline-lowered = Peringatan { $hazard } untuk { $place } diturunkan ke { $colour }, di bawah tingkat yang Anda pilih untuk diberi tahu. Peringatan masih berlaku.
headline-in-force = Peringatan { $colour } { $hazard } untuk { $place }, berlaku sejak { $time } (waktu Taiwan).

## Kalimat lain
action = Yang harus dilakukan: { $instruction }
shelter = Tempat pengungsian terdekat yang buka: { $shelter } ({ $distance }).
valid-until = Berlaku sampai { $time } (waktu Taiwan).
details = Rincian: { $link }
original-label = Teks asli dari instansi
exercise-marker = [LATIHAN]
exercise-note = Ini latihan, bukan bencana sungguhan.

## Daftar warga dan bantuan
relay-title = Daftar warga yang perlu dihubungi
relay-issued = Diterbitkan
relay-col-name = Nama
relay-col-phone = Telepon
relay-col-address = Alamat
relay-col-needs = Kebutuhan
relay-col-language = Bahasa
relay-col-status = Hasil
relay-need-no-smartphone = tidak punya ponsel pintar
relay-need-elderly = lansia
relay-need-disabled = penyandang disabilitas
relay-need-language = perlu bahasa lain
relay-ack-none = belum dihubungi
relay-ack-reached = sudah dihubungi
relay-ack-not-reached = tidak dapat dihubungi
relay-ack-evacuated = sudah mengungsi
relay-ack-needs-help = perlu bantuan
relief-col-office = Kantor
relief-col-phone = Telepon
relief-col-address = Alamat
relief-col-documents = Dokumen yang dibawa
relief-col-deadline = Batas pengajuan

# Written by the issuer console when an office ends an alert: the Cancel's
# headline ($hazard is the alert's own event name), and the text of a
# correction (an alert sent in error).
ending-headline = { $hazard } dicabut
correction-notice = Koreksi: peringatan sebelumnya terkirim karena kesalahan. Abaikan; tidak perlu tindakan apa pun.

# The place name a message gives a traveller's shared location.
current-location = lokasi Anda saat ini

# How the console describes an area an office drew: a polygon, or a circle
# ($distance is its radius in kilometres).
area-drawn = Area yang ditandai
area-circle = Dalam radius { $distance } km
