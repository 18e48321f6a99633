//! Address parsing: real-world forms (clean and messy), the English form,
//! and a property test that formatting and re-parsing is the identity.

use geodata::address::Address;
use proptest::prelude::*;

fn parts(a: &Address) -> [Option<&str>; 11] {
    [
        a.postal_code.as_deref(),
        a.county.as_deref(),
        a.town.as_deref(),
        a.village.as_deref(),
        a.neighborhood.as_deref(),
        a.road.as_deref(),
        a.section.as_deref(),
        a.lane.as_deref(),
        a.alley.as_deref(),
        a.number.as_deref(),
        a.floor.as_deref(),
    ]
}

#[test]
fn chinese_forms() {
    // input → postal, county, town, village, 鄰, road, 段, 巷, 弄, 號, 樓
    let cases: &[(&str, [Option<&str>; 11])] = &[
        (
            "臺北市信義區西村里5鄰中山路2段3巷4弄7號5樓",
            [
                None,
                Some("臺北市"),
                Some("信義區"),
                Some("西村里"),
                Some("5"),
                Some("中山路"),
                Some("2"),
                Some("3"),
                Some("4"),
                Some("7"),
                Some("5"),
            ],
        ),
        // postal code, 台, spaces, full-width digits, Chinese numerals
        (
            "１１０ 台北市 信義區 市府路 四十五號 八十九樓",
            [
                Some("110"),
                Some("臺北市"),
                Some("信義區"),
                None,
                None,
                Some("市府路"),
                None,
                None,
                None,
                Some("45"),
                Some("89"),
            ],
        ),
        // dash numbers, 之 after 號 and 樓
        (
            "高雄市苓雅區四維三路2-1號之3 十二樓之5",
            [
                None,
                Some("高雄市"),
                Some("苓雅區"),
                None,
                None,
                Some("四維三路"),
                None,
                None,
                None,
                Some("2之1之3"),
                Some("12之5"),
            ],
        ),
        // 大道, section written in Chinese, basement floor
        (
            "100臺北市中正區凱達格蘭大道一號B1",
            [
                Some("100"),
                Some("臺北市"),
                Some("中正區"),
                None,
                None,
                Some("凱達格蘭大道"),
                None,
                None,
                None,
                Some("1"),
                Some("B1"),
            ],
        ),
        // a county town with 村 and 鄰, no road
        (
            "南投縣信義鄉東埔村3鄰12號",
            [
                None,
                Some("南投縣"),
                Some("信義鄉"),
                Some("東埔村"),
                Some("3"),
                None,
                None,
                None,
                None,
                Some("12"),
                None,
            ],
        ),
        // town ending in 市 inside a county; 街; 5-digit postal code
        (
            "30264新竹縣竹北市光明六路東一段10巷2弄3號之1",
            [
                Some("30264"),
                Some("新竹縣"),
                Some("竹北市"),
                None,
                None,
                Some("光明六路東"),
                Some("1"),
                Some("10"),
                Some("2"),
                Some("3之1"),
                None,
            ],
        ),
        // no county, town with 里 inside its name (太麻里鄉)
        (
            "太麻里鄉大王村大王路1號",
            [
                None,
                None,
                Some("太麻里鄉"),
                Some("大王村"),
                None,
                Some("大王路"),
                None,
                None,
                None,
                Some("1"),
                None,
            ],
        ),
        // road that starts like a town suffix (新市路) is not a town
        (
            "臺南市新市區新市路 7 號",
            [
                None,
                Some("臺南市"),
                Some("新市區"),
                None,
                None,
                Some("新市路"),
                None,
                None,
                None,
                Some("7"),
                None,
            ],
        ),
        // floors written with F
        (
            "新北市板橋區文化路一段188巷5號3F",
            [
                None,
                Some("新北市"),
                Some("板橋區"),
                None,
                None,
                Some("文化路"),
                Some("1"),
                Some("188"),
                None,
                Some("5"),
                Some("3"),
            ],
        ),
    ];
    for (input, expected) in cases {
        let a = Address::parse(input);
        assert_eq!(&parts(&a), expected, "{input}: {a:?}");
    }
}

#[test]
fn unplaced_text_is_kept_not_dropped() {
    let a = Address::parse("臺北市信義區市府路45號(台北101)");
    assert_eq!(a.number.as_deref(), Some("45"));
    assert!(
        a.rest.as_deref().is_some_and(|r| r.contains("101")),
        "{a:?}"
    );
    assert!(Address::parse("").is_empty());
}

#[test]
fn english_forms() {
    let a = Address::parse("No. 7, Ln. 3, Sec. 2, Zhongshan Rd., Xinyi Dist., Taipei City 110");
    assert_eq!(
        parts(&a),
        [
            Some("110"),
            Some("Taipei City"),
            Some("Xinyi Dist."),
            None,
            None,
            Some("Zhongshan Rd."),
            Some("2"),
            Some("3"),
            None,
            Some("7"),
            None
        ]
    );
    let a = Address::parse(
        "5F.-2, No. 12-1, Aly. 4, Lane 8, Minsheng Road, Zhubei City, Hsinchu County 302, Taiwan (R.O.C.)",
    );
    assert_eq!(a.number.as_deref(), Some("12之1"));
    assert_eq!(a.alley.as_deref(), Some("4"));
    assert_eq!(a.lane.as_deref(), Some("8"));
    assert_eq!(a.town.as_deref(), Some("Zhubei City"));
    assert_eq!(a.county.as_deref(), Some("Hsinchu County"));
    assert_eq!(a.postal_code.as_deref(), Some("302"));
    let a = Address::parse("B1, No. 1, Xicun Vil., Xinyi Dist., Taipei City");
    assert_eq!(a.floor.as_deref(), Some("B1"));
    assert_eq!(a.village.as_deref(), Some("Xicun Vil."));
}

fn name(suffixes: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "中", "山", "信", "義", "光", "復", "民", "生", "和", "平", "東", "西",
        ]),
        prop::sample::select(vec!["正", "興", "安", "華", "德", "豐", "寧", "港"]),
        prop::sample::select(suffixes),
    )
        .prop_map(|(a, b, s)| format!("{a}{b}{s}"))
}

fn num() -> impl Strategy<Value = String> {
    (1u32..300).prop_map(|n| n.to_string())
}

fn num_with_sub() -> impl Strategy<Value = String> {
    (num(), prop::option::of(1u32..20)).prop_map(|(n, s)| match s {
        Some(s) => format!("{n}之{s}"),
        None => n,
    })
}

prop_compose! {
    fn address()(
        postal_code in prop::option::of(prop::sample::select(vec!["110", "30264", "970"]).prop_map(String::from)),
        county in prop::option::of(prop::sample::select(vec!["臺北市", "新北市", "花蓮縣", "嘉義縣"]).prop_map(String::from)),
        town in prop::option::of(name(&["區", "鄉", "鎮", "市"])),
        village in prop::option::of(name(&["村", "里"])),
        neighborhood in prop::option::of(num()),
        road in prop::option::of(name(&["路", "街", "大道"])),
        section in prop::option::of((1u32..8).prop_map(|n| n.to_string())),
        lane in prop::option::of(num()),
        alley in prop::option::of(num()),
        number in prop::option::of(num_with_sub()),
        floor in prop::option::of(prop_oneof![num_with_sub(), (1u32..4).prop_map(|n| format!("B{n}"))]),
    ) -> Address {
        let mut a = Address { postal_code, county, town, village, neighborhood, road, section, lane, alley, number, floor, rest: None };
        // A postal code without any name before the numbers would run into them.
        if a.county.is_none() && a.town.is_none() && a.village.is_none() { a.postal_code = None; }
        // 段 only follows a road.
        if a.road.is_none() { a.section = None; }
        a
    }
}

proptest! {
    #[test]
    fn formatting_then_parsing_gives_the_same_address(a in address()) {
        let text = a.to_string();
        prop_assert_eq!(Address::parse(&text), a.clone(), "text {}", text);
    }

    #[test]
    fn messy_spelling_parses_the_same(a in address()) {
        // Spaces between parts, full-width digits and 台 for 臺.
        let messy: String = a
            .to_string()
            .chars()
            .flat_map(|c| {
                let c = match c {
                    '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                    '臺' => '台',
                    _ => c,
                };
                [c, if matches!(c, '市' | '區' | '路' | '號') { ' ' } else { '\u{0}' }]
            })
            .filter(|&c| c != '\u{0}')
            .collect();
        prop_assert_eq!(Address::parse(&messy), a, "text {}", messy);
    }

    #[test]
    fn parsing_never_panics(s in "\\PC{0,40}") {
        let _ = Address::parse(&s);
    }
}
