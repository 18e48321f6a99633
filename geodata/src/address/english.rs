//! The English (romanised) address form: comma-separated parts, most
//! specific first, e.g. `5F., No. 7-1, Ln. 3, Sec. 2, Zhongshan Rd.,
//! Xinyi Dist., Taipei City 110, Taiwan (R.O.C.)`.

use super::Address;

fn lower_words(part: &str) -> String {
    part.to_ascii_lowercase().replace('.', " ")
}

/// The number after a label such as "No." / "Lane", with `-` written 之.
fn labelled_number(part: &str, labels: &[&str]) -> Option<String> {
    let l = lower_words(part);
    let l = l.trim();
    labels.iter().find_map(|label| {
        let rest = l.strip_prefix(label)?;
        let rest = rest.trim();
        let ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '-');
        ok.then(|| rest.replace('-', "之"))
    })
}

/// True when the last word of `part` is one of `suffixes`.
fn ends_with_any(part: &str, suffixes: &[&str]) -> bool {
    let l = lower_words(part);
    l.split_whitespace()
        .last()
        .is_some_and(|w| suffixes.contains(&w))
}

pub(super) fn parse(input: &str) -> Address {
    let mut a = Address::default();
    let mut rest = Vec::new();
    let parts: Vec<&str> = input
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    // The county is the last part naming a City or County; earlier "City"
    // parts are county-administered cities (towns).
    let county_at = parts
        .iter()
        .rposition(|p| ends_with_any(strip_postal(p).0, &["city", "county"]));
    for (i, part) in parts.iter().enumerate() {
        let (name, postal) = strip_postal(part);
        if let Some(code) = postal {
            a.postal_code = Some(code.to_string());
        }
        let l = lower_words(name);
        let l = l.trim();
        if name.is_empty()
            || matches!(l, "taiwan" | "taiwan (r o c )" | "r o c" | "roc")
            || l.starts_with("taiwan")
        {
            continue;
        }
        if let Some(n) = labelled_number(name, &["no", "number"]) {
            a.number = Some(n);
        } else if let Some(n) = labelled_number(name, &["ln", "lane"]) {
            a.lane = Some(n);
        } else if let Some(n) = labelled_number(name, &["aly", "alley"]) {
            a.alley = Some(n);
        } else if let Some(n) = labelled_number(name, &["sec", "section"]) {
            a.section = Some(n);
        } else if let Some(n) = labelled_number(name, &["lin", "neighborhood"]) {
            a.neighborhood = Some(n);
        } else if let Some(f) = floor(l) {
            a.floor = Some(f);
        } else if ends_with_any(
            name,
            &[
                "rd",
                "road",
                "st",
                "street",
                "blvd",
                "boulevard",
                "ave",
                "avenue",
            ],
        ) {
            a.road = Some(name.to_string());
        } else if ends_with_any(name, &["vil", "village"]) {
            a.village = Some(name.to_string());
        } else if Some(i) == county_at {
            a.county = Some(name.to_string());
        } else if ends_with_any(
            name,
            &["dist", "district", "township", "twp", "city", "town"],
        ) {
            a.town = Some(name.to_string());
        } else {
            rest.push(name.to_string());
        }
    }
    if !rest.is_empty() {
        a.rest = Some(rest.join(", "));
    }
    a
}

/// Splits a trailing postal code off ("Taipei City 110").
fn strip_postal(part: &str) -> (&str, Option<&str>) {
    let trimmed = part.trim_end();
    let digits = trimmed.len() - trimmed.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let head = trimmed[..trimmed.len() - digits].trim_end();
    if matches!(digits, 3 | 5 | 6)
        && head
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '.')
    {
        (head, Some(&trimmed[trimmed.len() - digits..]))
    } else {
        (part, None)
    }
}

/// "5F" / "5f" / "5th fl" / "floor 5" / "b1" → "5" / "B1".
fn floor(l: &str) -> Option<String> {
    let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(n) = compact.strip_prefix('b')
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
    {
        return Some(format!("B{n}"));
    }
    let n = compact
        .strip_suffix('f')
        .or_else(|| compact.strip_prefix("floor"))
        .or_else(|| {
            compact
                .strip_suffix("fl")
                .map(|s| s.trim_end_matches(|c: char| c.is_ascii_alphabetic()))
        })?;
    (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).then(|| n.to_string())
}
