//! Shelters, zones and geocoding on the demo region, and zones on the real
//! Taipei flood layer.

mod common;

use cap::hazard::HazardKind;
use geodata::geocoder::{Precision, geocode};
use geodata::shelters::ShelterFilter;
use geodata::zones::ZoneIndex;

#[test]
fn nearest_suitable_shelters_come_nearest_first_with_metres() {
    let shelters = geodata::demo::shelters().expect("demo shelters");
    assert_eq!(shelters.shelters().len(), 8);
    // Next to DEMO-S02 (earthquake only, outdoor).
    let any = shelters.nearest(123.081, 23.031, 2, ShelterFilter::default());
    assert_eq!(any[0].shelter.id, "DEMO-S02");
    assert!(
        any[0].distance_m > 100.0 && any[0].distance_m < 200.0,
        "{}",
        any[0].distance_m
    );
    assert!(any[0].distance_m <= any[1].distance_m);
    let flood = shelters.nearest(
        123.081,
        23.031,
        3,
        ShelterFilter {
            hazard: Some(HazardKind::Flood),
            indoor: Some(true),
            min_capacity: 0,
        },
    );
    let ids: Vec<&str> = flood.iter().map(|n| n.shelter.id.as_str()).collect();
    assert_eq!(ids, vec!["DEMO-S03", "DEMO-S01", "DEMO-S05"]);
    // To S01: 0.061° of longitude and 0.009° of latitude at 23°N, about
    // 6.33 km.
    let d = flood[1].distance_m;
    assert!((6_000.0..6_600.0).contains(&d), "{d}");
    let big = shelters.nearest(
        123.0,
        23.0,
        1,
        ShelterFilter {
            min_capacity: 1000,
            ..Default::default()
        },
    );
    assert_eq!(big[0].shelter.id, "DEMO-S08");
    assert!(
        shelters
            .nearest(123.0, 23.0, 0, ShelterFilter::default())
            .is_empty()
    );
}

#[test]
fn bad_shelter_rows_are_errors_naming_the_line() {
    let e = geodata::shelters::ShelterIndex::from_csv_text(
        "id,name,address,lon,lat,capacity,hazards,indoor\nA,a,x,123,23,10,lava,indoor\n",
    )
    .err()
    .expect("error");
    assert!(e.contains("line 2") && e.contains("lava"), "{e}");
}

#[test]
fn zones_containing_a_point() {
    let zones = geodata::demo::zones().expect("demo zones");
    assert_eq!(zones.zones().len(), 2);
    let kinds = |lon, lat| {
        zones
            .containing(lon, lat)
            .iter()
            .map(|z| z.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(123.02, 23.02), vec![HazardKind::Flood]);
    assert_eq!(
        kinds(123.13, 23.17),
        vec![HazardKind::DebrisFlow],
        "second part"
    );
    assert_eq!(
        kinds(123.07, 23.03),
        vec![HazardKind::Flood],
        "boundary included"
    );
    assert!(kinds(123.09, 23.09).is_empty());
}

#[test]
fn real_taipei_flood_layer() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let text = std::fs::read_to_string(data.join("hazards/taipei_flood_simulate_78.geojson"))
        .expect("flood");
    let zones =
        ZoneIndex::new(ZoneIndex::from_geojson_text(&text, HazardKind::Flood).expect("parse"));
    assert_eq!(zones.zones().len(), 3);
    for z in zones.zones() {
        use geo::InteriorPoint;
        let p = z.geometry.0[0].interior_point().expect("point");
        let hit = zones.containing(p.x(), p.y());
        assert!(
            hit.iter().any(|h| h.id == z.id),
            "{} not found at its own interior point",
            z.name
        );
    }
    assert!(zones.containing(121.0, 22.0).is_empty());
}

#[test]
fn geocoding_the_demo_region() {
    let atlas = geodata::demo::atlas();
    let gazetteer = geodata::demo::gazetteer(&atlas).expect("gazetteer");
    assert_eq!(gazetteer.len(), 8);
    // In the gazetteer: address precision, even written differently.
    let g = geocode(&atlas, Some(&gazetteer), "霧島縣 雲港鎮 中山路 ３號").expect("geocode");
    assert_eq!(g.precision, Precision::Address);
    assert_eq!((g.lon, g.lat), (123.021, 23.0405));
    assert_eq!(g.village_code.as_deref(), Some("99000010001"));
    let g = geocode(&atlas, Some(&gazetteer), "星河市東區銀河里銀河街12-1號").expect("geocode");
    assert_eq!(g.precision, Precision::Address);
    // Not in the gazetteer: the village's interior point.
    let g = geocode(&atlas, Some(&gazetteer), "霧島縣雲港鎮海安里中山路99號").expect("geocode");
    assert_eq!(g.precision, Precision::Village);
    assert_eq!(g.village_code.as_deref(), Some("99000010002"));
    assert_eq!(
        atlas.locate(g.lon, g.lat).expect("inside").village_code(),
        "99000010002"
    );
    // Only a town: town precision, no village.
    let g = geocode(&atlas, None, "雲海市西區晚霞路5號").expect("geocode");
    assert_eq!(g.precision, Precision::Town);
    assert_eq!(g.town_code, "99100020");
    assert_eq!(g.village_code, None);
    // English names.
    let g = geocode(
        &atlas,
        None,
        "No. 5, Haian Vil., Yungang Township, Wudao County",
    )
    .expect("english");
    assert_eq!(g.village_code.as_deref(), Some("99000010002"));
    // A town in two counties with no county: an error listing both.
    let e = geocode(&atlas, None, "東區銀河街1號").unwrap_err();
    assert_eq!(e.candidates(), ["雲海市東區", "星河市東區"]);
    // A village name found in two towns of the county: the exact name
    // decides; the bare stem is ambiguous.
    let g = geocode(&atlas, None, "霧島縣中興村1號").expect("exact name");
    assert_eq!(g.village_code.as_deref(), Some("99000020004"));
    let county = atlas.find_county("霧島縣").expect("county");
    let e = atlas.find_village(Some(county), "中興").unwrap_err();
    assert_eq!(e.candidates(), ["霧島縣雲港鎮中興里", "霧島縣霧溪鄉中興村"]);
    let e = geocode(&atlas, None, "霧島縣1號").unwrap_err();
    assert!(e.to_string().contains("no town"), "{e}");
    // Unknown names are errors naming them.
    let e = geocode(&atlas, None, "霧島縣海角鎮1號").unwrap_err();
    assert!(e.to_string().contains("海角鎮"), "{e}");
    assert!(geocode(&atlas, None, "中山路7號").is_err());
}

#[test]
fn geocoding_real_addresses() {
    let Some(imp) = common::full_atlas() else {
        return;
    };
    let a = &imp.atlas;
    let g = geocode(a, None, "110台北市信義區西村里市府路45號").expect("Taipei");
    assert_eq!(g.village_code.as_deref(), Some("63000020001"));
    assert_eq!(g.precision, Precision::Village);
    let g = geocode(
        a,
        None,
        "No. 7, Ln. 3, Sec. 2, Zhongshan Rd., Xinyi Dist., Taipei City 110",
    )
    .expect("english");
    assert_eq!(g.town_code, "63000020");
    assert_eq!(g.precision, Precision::Town);
    let g = geocode(a, None, "桃園縣中壢市中央西路二段30號").expect("old county name");
    assert_eq!(&g.town_code[..5], "68000");
    let g = geocode(a, None, "金門縣金城鎮民生路1號").expect("Kinmen");
    assert_eq!(&g.county_code, "09020");
    let e = geocode(a, None, "中正區重慶南路一段122號").unwrap_err();
    assert!(e.candidates().iter().any(|c| c == "臺北市中正區"), "{e}");
    assert!(e.candidates().iter().any(|c| c == "基隆市中正區"), "{e}");
}
