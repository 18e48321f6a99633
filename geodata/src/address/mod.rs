//! Taiwan postal addresses: parsing into components and formatting back.
//!
//! Chinese form, most general first: `[郵遞區號] 縣市 鄉鎮市區 村里 N鄰
//! 路/街/大道 N段 N巷 N弄 N[之M]號 N樓[之M]`. The parser folds full-width
//! characters, drops stray spaces, writes 台 as 臺, reads Chinese numerals
//! in numbers (三十五號) and `7-1號` as `7之1號`. English form, most
//! specific first: `No. 7, Ln. 3, Sec. 2, Zhongshan Rd., Xinyi Dist.,
//! Taipei City 110`.
//!
//! Parsing is pure and never fails: what it cannot place stays in
//! [`Address::rest`]. Whether the names exist is the geocoder's business.

mod english;
pub mod numerals;

use std::fmt;

use serde::Serialize;

use crate::names;

/// An address split into its components. Numbers are kept as text
/// (`"7之1"`, `"B1"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub postal_code: Option<String>,
    pub county: Option<String>,
    pub town: Option<String>,
    pub village: Option<String>,
    pub neighborhood: Option<String>,
    pub road: Option<String>,
    pub section: Option<String>,
    pub lane: Option<String>,
    pub alley: Option<String>,
    pub number: Option<String>,
    pub floor: Option<String>,
    /// Text the parser could not place (a building name, a room).
    pub rest: Option<String>,
}

/// Cities at county level (the 市 among the 22 counties).
const CITIES: [&str; 9] = [
    "臺北市",
    "新北市",
    "桃園市",
    "臺中市",
    "臺南市",
    "高雄市",
    "基隆市",
    "新竹市",
    "嘉義市",
];
const TOWN_SUFFIX: [char; 4] = ['區', '鄉', '鎮', '市'];
const VILLAGE_SUFFIX: [char; 2] = ['村', '里'];

/// True when the text at `at` continues a road name rather than starting
/// a new component (路, 街, 大道, …).
fn is_road_start(chars: &[char], at: usize) -> bool {
    match chars.get(at) {
        Some('路' | '街' | '巷' | '弄' | '段') => true,
        Some('大') => chars.get(at + 1) == Some(&'道'),
        _ => false,
    }
}

/// Folds full-width characters and 台 → 臺, reads Chinese numerals, and
/// removes spaces, except a space between two numbers (`之3 12樓`), which
/// stays as a separator.
fn normalise(input: &str) -> String {
    let folded: String = input
        .chars()
        .map(names::fold_char)
        .map(|c| match c {
            '－' | '—' | '–' | '‐' => '-',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    let text = numerals::arabize(&folded);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c != ' ' {
            out.push(c);
            continue;
        }
        let prev = out.chars().last();
        let next = chars[i + 1..].iter().find(|&&n| n != ' ');
        if prev.is_some_and(|p| p.is_ascii_digit())
            && next.is_some_and(|n| n.is_ascii_digit())
            && !out.ends_with(' ')
        {
            out.push(' ');
        }
    }
    out
}

impl Address {
    /// Parses an address in Chinese or English form.
    ///
    /// ```
    /// use geodata::address::Address;
    /// let a = Address::parse("110 台北市信義區西村里5鄰 中山路二段3巷4弄7-1號12樓");
    /// assert_eq!(a.county.as_deref(), Some("臺北市"));
    /// assert_eq!(a.section.as_deref(), Some("2"));
    /// assert_eq!(a.number.as_deref(), Some("7之1"));
    /// assert_eq!(a.to_string(), "110臺北市信義區西村里5鄰中山路2段3巷4弄7之1號12樓");
    /// ```
    pub fn parse(input: &str) -> Address {
        let has_cjk = input
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        if !has_cjk && input.chars().any(|c| c.is_ascii_alphabetic()) {
            return english::parse(input);
        }
        parse_chinese(&normalise(input))
    }

    /// True when no component was found.
    pub fn is_empty(&self) -> bool {
        *self == Address::default()
    }
}

fn take_digits(chars: &[char], i: &mut usize) -> Option<String> {
    let start = *i;
    while *i < chars.len() && chars[*i].is_ascii_digit() {
        *i += 1;
    }
    (*i > start).then(|| chars[start..*i].iter().collect())
}

fn parse_chinese(text: &str) -> Address {
    let chars: Vec<char> = text.chars().collect();
    let mut a = Address::default();
    let mut i = 0;
    // Postal code: 3, 5 or 6 digits before the first name.
    if let Some(code) = take_digits(&chars, &mut i) {
        let next = chars.get(i);
        let is_name = next.is_some_and(|c| {
            !c.is_ascii_digit() && !c.is_ascii_alphabetic() && !"段巷弄號樓鄰之- ".contains(*c)
        });
        if matches!(code.len(), 3 | 5 | 6) && is_name {
            a.postal_code = Some(code);
        } else {
            i = 0;
        }
    }
    // County: three characters ending in 縣, or in 市 when it is one of the
    // provincial/special municipalities or a town name follows (竹北市
    // alone is a town).
    let town_follows = |at: usize| {
        (2..=4).any(|n| {
            chars
                .get(at + n - 1)
                .is_some_and(|c| TOWN_SUFFIX.contains(c))
                && !is_road_start(&chars, at + n)
        })
    };
    let county_here = chars.len() >= i + 3
        && match chars[i + 2] {
            '縣' => true,
            '市' => {
                CITIES.contains(&chars[i..i + 3].iter().collect::<String>().as_str())
                    || town_follows(i + 3)
            }
            _ => false,
        };
    if county_here {
        a.county = Some(chars[i..i + 3].iter().collect());
        i += 3;
    }
    // Town: 2–4 characters ending in 區鄉鎮市, not the start of a road name.
    if let Some(len) = (2..=4).find(|&n| {
        chars
            .get(i + n - 1)
            .is_some_and(|c| TOWN_SUFFIX.contains(c))
            && !is_road_start(&chars, i + n)
            // 新市區: 新市 is not the town when 區 follows; but 信義區市府路:
            // a road may start with 市 or 鎮 (市府路, 市民大道), never with 區/鄉.
            && !matches!(chars.get(i + n), Some('區' | '鄉'))
    }) {
        a.town = Some(chars[i..i + len].iter().collect());
        i += len;
    }
    // Village: 2–4 characters ending in 村里, not followed by a road suffix.
    if let Some(len) = (2..=4).find(|&n| {
        chars
            .get(i + n - 1)
            .is_some_and(|c| VILLAGE_SUFFIX.contains(c))
            && !is_road_start(&chars, i + n)
            && !chars.get(i + n).is_some_and(|c| VILLAGE_SUFFIX.contains(c))
            && chars[i..i + n].iter().all(|c| !c.is_ascii_digit())
    }) {
        a.village = Some(chars[i..i + len].iter().collect());
        i += len;
    }
    // Neighbourhood: N鄰.
    let mut j = i;
    if let Some(n) = take_digits(&chars, &mut j)
        && chars.get(j) == Some(&'鄰')
    {
        a.neighborhood = Some(n);
        i = j + 1;
    }
    // Road: up to 大道, 路 or 街 before the first digit.
    let digit_at = chars[i..]
        .iter()
        .position(|c| c.is_ascii_digit())
        .map_or(chars.len(), |p| i + p);
    let road_end = (i..digit_at).find_map(|k| match chars[k] {
        '大' if chars.get(k + 1) == Some(&'道') => Some(k + 2),
        '路' | '街' => Some(k + 1),
        _ => None,
    });
    // A road continues up to its section number (光明六路東 + 1段).
    let road_end = road_end.map(|end| {
        let mut k = digit_at;
        let digits = take_digits(&chars, &mut k).is_some();
        if digits
            && chars.get(k) == Some(&'段')
            && chars[end..digit_at]
                .iter()
                .all(|c| !c.is_ascii_digit() && *c != ' ')
        {
            digit_at
        } else {
            end
        }
    });
    if let Some(end) = road_end {
        a.road = Some(chars[i..end].iter().collect());
        i = end;
    }
    // Numbered parts: N段 N巷 N弄 N[之M]號[之M] N樓[之M], also B1 / 地下1樓 / 5F.
    let mut rest = String::new();
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        let basement = if chars[i..].starts_with(&['地', '下']) {
            i += 2;
            true
        } else if matches!(chars[i], 'B' | 'b')
            && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
        {
            i += 1;
            true
        } else {
            false
        };
        let Some(mut n) = take_digits(&chars, &mut i) else {
            rest.extend(&chars[start..=start]);
            i = start + 1;
            continue;
        };
        if matches!(chars.get(i), Some('之' | '-'))
            && let Some(m) = {
                let mut k = i + 1;
                let m = take_digits(&chars, &mut k);
                if m.is_some() {
                    i = k;
                }
                m
            }
        {
            n = format!("{n}之{m}");
        }
        let unit = chars.get(i).copied();
        let sub = |i: &mut usize| -> Option<String> {
            if chars.get(*i + 1) == Some(&'之') {
                let mut k = *i + 2;
                let m = take_digits(&chars, &mut k);
                if m.is_some() {
                    *i = k - 1;
                }
                m
            } else {
                None
            }
        };
        match unit {
            Some('段') => a.section = Some(n),
            Some('巷') => a.lane = Some(n),
            Some('弄') => a.alley = Some(n),
            Some('號') => {
                a.number = Some(match sub(&mut i) {
                    Some(m) => format!("{n}之{m}"),
                    None => n,
                })
            }
            Some('樓' | 'F' | 'f') => {
                let floor = if basement { format!("B{n}") } else { n };
                a.floor = Some(match sub(&mut i) {
                    Some(m) => format!("{floor}之{m}"),
                    None => floor,
                })
            }
            _ if basement => {
                a.floor = Some(format!("B{n}"));
                continue;
            }
            _ => {
                rest.extend(&chars[start..i]);
                continue;
            }
        }
        i += 1;
    }
    let rest = rest
        .trim_matches(|c: char| c == ',' || c == '、')
        .to_string();
    if !rest.is_empty() {
        a.rest = Some(rest);
    }
    a
}

impl fmt::Display for Address {
    /// The Chinese form, e.g. `110臺北市信義區西村里5鄰中山路2段3巷4弄7之1號12樓`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in [&self.postal_code, &self.county, &self.town, &self.village]
            .into_iter()
            .flatten()
        {
            f.write_str(part)?;
        }
        if let Some(n) = &self.neighborhood {
            write!(f, "{n}鄰")?;
        }
        if let Some(r) = &self.road {
            f.write_str(r)?;
        }
        for (part, unit) in [
            (&self.section, "段"),
            (&self.lane, "巷"),
            (&self.alley, "弄"),
            (&self.number, "號"),
            (&self.floor, "樓"),
        ] {
            if let Some(p) = part {
                write!(f, "{p}{unit}")?;
            }
        }
        if let Some(r) = &self.rest {
            f.write_str(r)?;
        }
        Ok(())
    }
}
