//! The languages messages are written in.
//!
//! Eight locales cover Taiwan's residents and its largest groups of migrant
//! workers and visitors. Each has a template file under
//! `notifier/locales/<tag>/notifier.ftl`, compiled into the binary so a
//! running service never depends on files beside it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A locale messages can be rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Locale {
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en")]
    En,
    #[serde(rename = "ja")]
    Ja,
    #[serde(rename = "ko")]
    Ko,
    #[serde(rename = "th")]
    Th,
    #[serde(rename = "vi")]
    Vi,
    #[serde(rename = "fil")]
    Fil,
    #[serde(rename = "id")]
    Id,
}

impl Locale {
    pub const ALL: [Locale; 8] = [
        Locale::ZhTw,
        Locale::En,
        Locale::Ja,
        Locale::Ko,
        Locale::Th,
        Locale::Vi,
        Locale::Fil,
        Locale::Id,
    ];

    /// The BCP 47 tag, which is also the template folder name.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhTw => "zh-TW",
            Locale::En => "en",
            Locale::Ja => "ja",
            Locale::Ko => "ko",
            Locale::Th => "th",
            Locale::Vi => "vi",
            Locale::Fil => "fil",
            Locale::Id => "id",
        }
    }

    /// What joins two sentences: Chinese and Japanese sentences end in a
    /// full-width stop and are written without spaces between them.
    pub(crate) fn sentence_gap(self) -> &'static str {
        match self {
            Locale::ZhTw | Locale::Ja => "",
            _ => " ",
        }
    }

    /// The ellipsis that marks shortened text. Latin-script locales use three
    /// ASCII dots so a shortened SMS stays in GSM-7 (one `…` would turn the
    /// whole message into UCS-2 and halve its room).
    pub(crate) fn ellipsis(self) -> &'static str {
        match self {
            Locale::En | Locale::Fil | Locale::Id => "...",
            _ => "…",
        }
    }

    /// Picks the best supported locale for a language tag as subscribers or
    /// CAP `<info language>` write it (`zh-Hant-TW`, `EN-us`, `tl`, `in`).
    pub fn from_language_tag(tag: &str) -> Option<Locale> {
        let lower = tag.trim().to_ascii_lowercase();
        let primary = lower.split(['-', '_']).next().unwrap_or("");
        match primary {
            // Every Chinese tag maps to Traditional Chinese: it is the only
            // written Chinese the agencies publish.
            "zh" => Some(Locale::ZhTw),
            "en" => Some(Locale::En),
            "ja" => Some(Locale::Ja),
            "ko" => Some(Locale::Ko),
            "th" => Some(Locale::Th),
            "vi" => Some(Locale::Vi),
            // Tagalog is the basis of Filipino; devices often report `tl`.
            "fil" | "tl" => Some(Locale::Fil),
            // `in` is the deprecated code still sent by older Android builds.
            "id" | "in" => Some(Locale::Id),
            _ => None,
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// A language tag no supported locale matches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported locale {0:?} (supported: zh-TW, en, ja, ko, th, vi, fil, id)")]
pub struct UnsupportedLocale(pub String);

impl FromStr for Locale {
    type Err = UnsupportedLocale;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Locale::from_language_tag(s).ok_or_else(|| UnsupportedLocale(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_variants_map() {
        for locale in Locale::ALL {
            assert_eq!(locale.tag().parse::<Locale>(), Ok(locale));
        }
        assert_eq!(Locale::from_language_tag("zh-Hant-TW"), Some(Locale::ZhTw));
        assert_eq!(Locale::from_language_tag("EN_us"), Some(Locale::En));
        assert_eq!(Locale::from_language_tag("tl"), Some(Locale::Fil));
        assert_eq!(Locale::from_language_tag("in-ID"), Some(Locale::Id));
        assert!("de".parse::<Locale>().is_err());
    }
}
