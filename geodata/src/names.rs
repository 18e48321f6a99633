//! Name normalisation: the one place that decides when two spellings of a
//! place name are the same.
//!
//! Every lookup compares *keys*, never raw strings. A key is the name with
//! spaces removed, full-width ASCII folded to half-width, ASCII lower-cased
//! and 台 written as 臺 (the atlas writes 台北市, NCDR and CAP write 臺北市).
//! A *stem* further drops the administrative suffix (縣/市, 鄉/鎮/市/區,
//! 村/里, or the English "County", "City", "District", "Township", "Vil."),
//! so 板橋市 (before 2010) and 板橋區 (after) meet.

/// Folds one character: full-width ASCII to ASCII, ideographic space to
/// space, 台 to 臺.
pub fn fold_char(c: char) -> char {
    match c {
        '台' => '臺',
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The comparison key of a name: folded, ASCII lower-cased, without spaces
/// or ASCII punctuation (so "Xinyi Dist." and "xinyi dist" agree).
pub fn key(name: &str) -> String {
    name.chars()
        .map(fold_char)
        .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Chinese suffixes of each level, longest first.
const COUNTY_SUFFIXES: &[&str] = &["縣", "市"];
const TOWN_SUFFIXES: &[&str] = &["鄉", "鎮", "市", "區"];
const VILLAGE_SUFFIXES: &[&str] = &["村", "里"];
/// English suffixes (as keys: lower case, no spaces or dots).
const EN_COUNTY_SUFFIXES: &[&str] = &["county", "city"];
const EN_TOWN_SUFFIXES: &[&str] = &["district", "township", "city", "dist", "twp", "town"];
const EN_VILLAGE_SUFFIXES: &[&str] = &["village", "vil", "li", "tsun"];

/// Administrative level of a name, for choosing which suffixes to strip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameLevel {
    County,
    Town,
    Village,
}

/// The key of `name` with its administrative suffix removed. A name that is
/// only a suffix (or one character plus it, like 東區) keeps at least one
/// character.
pub fn stem(name: &str, level: NameLevel) -> String {
    let k = key(name);
    let (zh, en) = match level {
        NameLevel::County => (COUNTY_SUFFIXES, EN_COUNTY_SUFFIXES),
        NameLevel::Town => (TOWN_SUFFIXES, EN_TOWN_SUFFIXES),
        NameLevel::Village => (VILLAGE_SUFFIXES, EN_VILLAGE_SUFFIXES),
    };
    let suffixes: &[&str] = if k.is_ascii() { en } else { zh };
    for suffix in suffixes {
        if let Some(rest) = k.strip_suffix(suffix)
            && !rest.is_empty()
        {
            return rest.to_string();
        }
    }
    k
}

/// Counties that were renamed or merged, old name → current name. Taoyuan
/// became a municipality in 2014; Taipei County became New Taipei in 2010;
/// Taichung, Tainan and Kaohsiung counties merged into their cities in 2010.
const RENAMED_COUNTIES: &[(&str, &str)] = &[
    ("桃園縣", "桃園市"),
    ("臺北縣", "新北市"),
    ("臺中縣", "臺中市"),
    ("臺南縣", "臺南市"),
    ("高雄縣", "高雄市"),
    ("taoyuan county", "taoyuan city"),
    ("taipei county", "new taipei city"),
    ("taichung county", "taichung city"),
    ("tainan county", "tainan city"),
    ("kaohsiung county", "kaohsiung city"),
];

/// The current name of a county given under a former name, as a key; the
/// key of `name` itself when it was never renamed.
pub fn current_county_key(name: &str) -> String {
    let k = key(name);
    RENAMED_COUNTIES
        .iter()
        .find(|(old, _)| key(old) == k)
        .map(|(_, new)| key(new))
        .unwrap_or(k)
}

/// True when `name` is a former county name (so its stem must not be used:
/// the stem of 臺北縣 would otherwise meet 臺北市).
pub fn is_former_county(name: &str) -> bool {
    let k = key(name);
    RENAMED_COUNTIES.iter().any(|(old, _)| key(old) == k)
}

/// Converts a name to the form stored in the atlas: trimmed and with 臺.
pub fn display(name: &str) -> String {
    name.trim().replace('台', "臺")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tai_variants_share_a_key() {
        assert_eq!(key("台北市"), key("臺北市"));
        assert_eq!(key(" 臺 北 市 "), "臺北市");
        assert_eq!(key("Ｘinyi Dist."), "xinyidist");
    }

    #[test]
    fn stems_drop_suffixes() {
        assert_eq!(
            stem("板橋市", NameLevel::Town),
            stem("板橋區", NameLevel::Town)
        );
        assert_eq!(stem("東區", NameLevel::Town), "東");
        assert_eq!(stem("區", NameLevel::Town), "區");
        assert_eq!(stem("Xinyi Dist.", NameLevel::Town), "xinyi");
        assert_eq!(stem("Xinyi District", NameLevel::Town), "xinyi");
        assert_eq!(stem("西村里", NameLevel::Village), "西村");
        assert_eq!(stem("Taipei City", NameLevel::County), "taipei");
    }

    #[test]
    fn renamed_counties_map_to_current_names() {
        assert_eq!(current_county_key("台北縣"), key("新北市"));
        assert_eq!(current_county_key("桃園縣"), key("桃園市"));
        assert_eq!(current_county_key("Taipei County"), key("New Taipei City"));
        assert_eq!(current_county_key("花蓮縣"), key("花蓮縣"));
        assert!(is_former_county("高雄縣"));
        assert!(!is_former_county("高雄市"));
    }
}
