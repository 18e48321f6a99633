//! Alert → hazard kind, colour level and exercise flag.
//!
//! **Hazard kind**, per `<info>`, first match wins:
//! 1. `eventCode`: Taiwan's `profile:CAP-TWP:Event:1.0` values (`rainfall`,
//!    `debrisFlow`, `highWater`, ...), then SAME / NWS codes (`TOR`, `FFW`,
//!    `EQW`, `TSW`, ...). A known code is decisive, even when it maps to
//!    `Other` (`workSchlClos` is not a rainfall alert whatever its text says);
//! 2. keywords in `event` (Chinese, English, a few German and Spanish
//!    words), most specific first: tsunami before earthquake, typhoon before
//!    wind and rain, debris flow and flood before rain;
//! 3. otherwise `Other`. `category` alone never names one of our kinds: `Met`
//!    covers all weather and `Geo` covers landslides and volcanoes as well as
//!    earthquakes, and telling an earthquake subscriber about a volcano
//!    because of a shared category would be wrong. The alert's kind is the
//!    first specific (non-`Other`) kind among its infos.
//!
//! **Colour**, per `<info>`: the agency's own level when it gives one, in
//! this order: `alert_color` (綠色/黃色/橙色/紅色 or English words),
//! `website_color` (an `R,G,B` triplet, nearest of the palette; CWA's
//! purple, beyond red, reads as red), `severity_level` (colour words
//! inside, CWA's 大雨/豪雨/大豪雨/超大豪雨, WRA's 一級/二級/三級警戒),
//! MeteoAlarm's `awareness_level` (`"2; yellow; Moderate"`). Failing those,
//! from CAP `severity` and `urgency`:
//!
//! | severity | colour |
//! |---|---|
//! | Extreme | red |
//! | Severe, urgency Immediate | red |
//! | Severe | orange |
//! | Moderate | yellow |
//! | Unknown | yellow (an ungraded warning is not dismissed) |
//! | Minor | green |
//!
//! and urgency `Past` caps the result at green: the event is over. The
//! alert's colour is the highest agency-given colour among its infos, or if
//! none gives one the highest derived colour; an alert with no info is
//! green.
//!
//! **Exercise**: every status but `Actual` (Exercise, System, Test, Draft).

use serde::Serialize;

use crate::model::{Alert, Info, Severity, Urgency};

use super::{Colour, HazardKind};

/// What an alert means for the people in its area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Classification {
    pub hazard: HazardKind,
    pub colour: Colour,
    /// `status` is not `Actual`: never deliver as a real alert.
    pub exercise: bool,
}

pub fn classify(alert: &Alert) -> Classification {
    let hazard = alert
        .infos
        .iter()
        .map(info_hazard)
        .find(|k| *k != HazardKind::Other)
        .unwrap_or(HazardKind::Other);
    let given = alert.infos.iter().filter_map(agency_colour).max();
    let colour = given
        .or_else(|| alert.infos.iter().map(derived_colour).max())
        .unwrap_or(Colour::Green);
    Classification {
        hazard,
        colour,
        exercise: !alert.status.is_real(),
    }
}

/// The hazard kind of one info block (see the module doc for the order).
pub fn info_hazard(info: &Info) -> HazardKind {
    info.event_codes
        .iter()
        .find_map(|code| from_event_code(&code.value_name, &code.value))
        .or_else(|| from_event_text(&info.event))
        .unwrap_or(HazardKind::Other)
}

/// The colour of one info block: the agency's own, else derived.
pub fn info_colour(info: &Info) -> Colour {
    agency_colour(info).unwrap_or_else(|| derived_colour(info))
}

const TWP_EVENT: &str = "profile:CAP-TWP:Event:1.0";

fn from_event_code(name: &str, value: &str) -> Option<HazardKind> {
    use HazardKind::*;
    let value = value.trim();
    if name.trim() == TWP_EVENT {
        return Some(match value {
            "rainfall" | "heavyRain" => Rainfall,
            "debrisFlow" | "landslide" => DebrisFlow,
            "highWater" | "flood" | "ReservoirDis" | "reservoirDis" => Flood,
            "earthquake" => Earthquake,
            "typhoon" | "seaTyphoon" | "landTyphoon" => Typhoon,
            "thunderstorm" => Thunderstorm,
            "tsunami" => Tsunami,
            "heat" => Heat,
            "coldSurge" | "lowTemp" | "cold" => Cold,
            "denseFog" | "fog" => Fog,
            "strongWind" | "wind" => Wind,
            // Known profile values that are none of our kinds: school
            // closures, road closures, parking, outbreaks, fires, outages.
            _ => Other,
        });
    }
    if name.trim().eq_ignore_ascii_case("SAME") || name.trim().eq_ignore_ascii_case("NWS") {
        return Some(match value.get(..3).unwrap_or(value) {
            "TOR" | "TOA" | "HWW" | "HWA" | "DSW" | "SQW" | "EWW" => Wind,
            "SVR" | "SVA" | "SVS" => Thunderstorm,
            "FFW" | "FFA" | "FFS" | "FLW" | "FLA" | "FLS" | "CFW" | "CFA" => Flood,
            "EQW" => Earthquake,
            "TSW" | "TSA" => Tsunami,
            "HUW" | "HUA" | "HLS" | "TRW" | "TRA" => Typhoon,
            "BZW" | "WSW" | "WSA" | "ISW" | "WCW" => Cold,
            "EHW" | "EHA" => Heat,
            "LSW" => DebrisFlow,
            _ => return None,
        });
    }
    None
}

/// Keywords, most specific first. Matched on the lower-cased event text.
const EVENT_KEYWORDS: &[(&[&str], HazardKind)] = &[
    (&["海嘯", "tsunami"], HazardKind::Tsunami),
    (
        &["地震", "earthquake", "seism", "erdbeben", "sismo"],
        HazardKind::Earthquake,
    ),
    (
        &[
            "颱風",
            "台風",
            "typhoon",
            "hurricane",
            "huracán",
            "tropical cyclone",
            "ciclón tropical",
            "tropical storm",
            "tormenta tropical",
        ],
        HazardKind::Typhoon,
    ),
    (
        &["土石流", "山崩", "debris", "landslide", "mudslide"],
        HazardKind::DebrisFlow,
    ),
    (
        &["雷雨", "雷電", "thunderstorm", "gewitter", "tormenta"],
        HazardKind::Thunderstorm,
    ),
    (
        &[
            "淹水",
            "水位",
            "洩洪",
            "洪水",
            "flood",
            "hochwasser",
            "inundación",
        ],
        HazardKind::Flood,
    ),
    (
        &["豪雨", "大雨", "降雨", "rain", "regen", "lluvia"],
        HazardKind::Rainfall,
    ),
    (
        &["高溫", "heat", "hitze", "high-temperature"],
        HazardKind::Heat,
    ),
    (
        &[
            "低溫",
            "寒流",
            "cold",
            "frost",
            "snow",
            "blizzard",
            "ice",
            "low-temperature",
            "schnee",
            "glätte",
        ],
        HazardKind::Cold,
    ),
    (&["濃霧", "fog", "nebel"], HazardKind::Fog),
    (
        &["強風", "wind", "gale", "kuling", "sturm", "böen", "orkan"],
        HazardKind::Wind,
    ),
];

fn from_event_text(event: &str) -> Option<HazardKind> {
    let lower = event.to_lowercase();
    EVENT_KEYWORDS
        .iter()
        .find(|(words, _)| words.iter().any(|w| mentions(&lower, w)))
        .map(|(_, kind)| *kind)
}

/// Whether `text` mentions `keyword`. Chinese keywords match anywhere (no
/// spaces between words); Latin-script keywords must start a word, so
/// "ice" does not fire on "police" nor "rain" on "terrain", while
/// "rainfall" and "windböen" still match "rain" and "wind".
fn mentions(text: &str, keyword: &str) -> bool {
    if !keyword.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return text.contains(keyword);
    }
    text.match_indices(keyword).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// The colour the agency itself gave, if any (see the module doc).
fn agency_colour(info: &Info) -> Option<Colour> {
    let param = |name: &str| info.parameter_values(name).find_map(colour_from_words);
    param("alert_color")
        .or_else(|| {
            info.parameter_values("website_color")
                .find_map(colour_from_rgb)
        })
        .or_else(|| param("severity_level"))
        .or_else(|| {
            info.parameter_values("severity_level")
                .find_map(colour_from_level)
        })
        .or_else(|| param("awareness_level"))
}

/// Colour words in Chinese or English anywhere in the text (`黃色警戒`,
/// `高溫橙色36燈號`, `2; yellow; Moderate`). Red is looked for first so a
/// text naming two colours errs on the serious side.
fn colour_from_words(text: &str) -> Option<Colour> {
    let lower = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&["紅", "红", "red", "紫", "purple"]) {
        Some(Colour::Red)
    } else if has(&["橙", "orange", "amber"]) {
        Some(Colour::Orange)
    } else if has(&["黃", "黄", "yellow"]) {
        Some(Colour::Yellow)
    } else if has(&["綠", "绿", "green"]) {
        Some(Colour::Green)
    } else {
        None
    }
}

/// Level names that imply a colour: CWA rainfall levels and WRA's
/// numbered warning levels (一級 is the most serious).
fn colour_from_level(text: &str) -> Option<Colour> {
    let t = text.trim();
    if t.contains("超大豪雨") || t.contains("大豪雨") || t.contains("一級") {
        Some(Colour::Red)
    } else if t.contains("豪雨") || t.contains("二級") {
        Some(Colour::Orange)
    } else if t.contains("大雨") || t.contains("三級") {
        Some(Colour::Yellow)
    } else {
        None
    }
}

/// `R,G,B` → the nearest palette colour; greys and whites (no hue) give
/// nothing.
fn colour_from_rgb(text: &str) -> Option<Colour> {
    let mut parts = text.split(',').map(|p| p.trim().parse::<i32>());
    let (Some(Ok(r)), Some(Ok(g)), Some(Ok(b)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if ![r, g, b].iter().all(|c| (0..=255).contains(c)) {
        return None;
    }
    let spread = r.max(g).max(b) - r.min(g).min(b);
    if spread < 64 {
        return None;
    }
    const PALETTE: &[((i32, i32, i32), Colour)] = &[
        ((0, 255, 0), Colour::Green),
        ((0, 128, 0), Colour::Green),
        ((255, 255, 0), Colour::Yellow),
        ((255, 128, 0), Colour::Orange),
        ((255, 165, 0), Colour::Orange),
        ((255, 0, 0), Colour::Red),
        ((128, 0, 128), Colour::Red),
        ((156, 41, 148), Colour::Red),
    ];
    PALETTE
        .iter()
        .min_by_key(|((pr, pg, pb), _)| (r - pr).pow(2) + (g - pg).pow(2) + (b - pb).pow(2))
        .map(|(_, c)| *c)
}

fn derived_colour(info: &Info) -> Colour {
    let colour = match info.severity {
        Severity::Extreme => Colour::Red,
        Severity::Severe if info.urgency == Urgency::Immediate => Colour::Red,
        Severity::Severe => Colour::Orange,
        Severity::Moderate | Severity::Unknown => Colour::Yellow,
        Severity::Minor => Colour::Green,
    };
    if info.urgency == Urgency::Past {
        Colour::Green
    } else {
        colour
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_palette() {
        assert_eq!(colour_from_rgb("255,255,0"), Some(Colour::Yellow));
        assert_eq!(colour_from_rgb("255,128,0"), Some(Colour::Orange));
        assert_eq!(colour_from_rgb(" 156, 41, 148 "), Some(Colour::Red));
        assert_eq!(colour_from_rgb("0,200,0"), Some(Colour::Green));
        assert_eq!(colour_from_rgb("200,200,200"), None);
        assert_eq!(colour_from_rgb("255,0"), None);
        assert_eq!(colour_from_rgb("300,0,0"), None);
    }

    #[test]
    fn colour_words_and_levels() {
        assert_eq!(colour_from_words("紅色"), Some(Colour::Red));
        assert_eq!(colour_from_words("高溫橙色36燈號"), Some(Colour::Orange));
        assert_eq!(colour_from_words("黃色警戒"), Some(Colour::Yellow));
        assert_eq!(colour_from_words("綠色"), Some(Colour::Green));
        assert_eq!(
            colour_from_words("2; yellow; Moderate"),
            Some(Colour::Yellow)
        );
        assert_eq!(colour_from_words("10; Rain"), None);
        assert_eq!(colour_from_level("大雨"), Some(Colour::Yellow));
        assert_eq!(colour_from_level("豪雨"), Some(Colour::Orange));
        assert_eq!(colour_from_level("超大豪雨"), Some(Colour::Red));
        assert_eq!(colour_from_level("二級警戒"), Some(Colour::Orange));
        assert_eq!(colour_from_level("一級警戒"), Some(Colour::Red));
    }

    #[test]
    fn event_text_order() {
        use HazardKind::*;
        for (text, kind) in [
            ("地震", Earthquake),
            ("地震引發海嘯", Tsunami),
            ("海上陸上颱風警報", Typhoon),
            ("土石流", DebrisFlow),
            ("河川高水位", Flood),
            ("水庫洩洪", Flood),
            ("降雨", Rainfall),
            ("雷雨", Thunderstorm),
            ("Flash Flood Watch", Flood),
            ("Severe Thunderstorm Warning", Thunderstorm),
            ("Tropical Cyclone Alert", Typhoon),
            ("Wind Advisory", Wind),
            ("Blizzard Warning", Cold),
            ("濃霧", Fog),
            ("高溫", Heat),
            ("低溫", Cold),
            ("強風", Wind),
        ] {
            assert_eq!(from_event_text(text), Some(kind), "{text}");
        }
        assert_eq!(from_event_text("停班停課"), None);
        assert_eq!(from_event_text("Police Notice"), None);
        assert_eq!(from_event_text("Terrain closure"), None);
        assert_eq!(from_event_text("STURMBÖEN"), Some(Wind));
        assert_eq!(from_event_text("Aviso de Tormenta Tropical"), Some(Typhoon));
        assert_eq!(from_event_text("Snow and Ice Warning"), Some(Cold));
    }

    #[test]
    fn event_codes() {
        use HazardKind::*;
        assert_eq!(from_event_code(TWP_EVENT, "debrisFlow"), Some(DebrisFlow));
        assert_eq!(from_event_code(TWP_EVENT, "workSchlClos"), Some(Other));
        assert_eq!(from_event_code("SAME", "TOR"), Some(Wind));
        assert_eq!(from_event_code("SAME", "CAE"), None);
        assert_eq!(from_event_code("emma_id", "x"), None);
    }
}
