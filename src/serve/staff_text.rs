//! Text people typed that staff will read: relay names and notes, place
//! labels, chiefs' notes, and what the relay lists and print views show.
//!
//! The rule, decided here for every such text:
//!
//! - **Refused at input.** A character that is invisible or changes the
//!   reading direction — control (Cc), format (Cf: the bidi embeddings,
//!   overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks
//!   U+200E/U+200F/U+061C, the zero-width characters U+200B–U+200D,
//!   U+2060, U+FEFF, tags, soft hyphen), line and paragraph separators, and
//!   the invisible fillers (U+034F, Hangul fillers) — is refused with an
//!   error naming the field and the code point. Refusing rather than
//!   silently dropping lets the person see and fix what they typed; none of
//!   these is needed to write a name or a note in the eight languages the
//!   service speaks.
//! - **Cleaned and flagged at output.** Text that reached the store before
//!   this rule (or any other way) is shown to staff with those characters
//!   removed and a flag saying so, so a chief never reads a name turned
//!   around by an override and knows the entry was tampered with.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::{ApiError, ErrorCode};

/// Whether `c` is invisible or changes the reading direction (see the
/// module documentation).
pub fn is_hidden(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    ) || matches!(
        c,
        // Combining grapheme joiner and the Hangul fillers: letters or
        // marks by category, but draw nothing.
        '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
    )
}

/// Refuses `value` if it holds a hidden character, naming `field`, the
/// code point and its position (never the text itself).
pub fn refuse_hidden(value: &str, field: &str) -> Result<(), ApiError> {
    match value.chars().enumerate().find(|(_, c)| is_hidden(*c)) {
        None => Ok(()),
        Some((position, c)) => Err(ApiError::field(
            ErrorCode::InvalidField,
            field,
            format!(
                "must not contain invisible or direction-changing characters \
                 (U+{:04X} at character {})",
                u32::from(c),
                position + 1
            ),
        )),
    }
}

/// Text as shown to staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub text: String,
    /// Hidden characters were removed.
    pub flagged: bool,
}

/// `value` without its hidden characters, flagged when any were removed.
pub fn shown(value: &str) -> Shown {
    let text: String = value.chars().filter(|c| !is_hidden(*c)).collect();
    Shown {
        flagged: text.len() != value.len(),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character the relay lists must never show, one per line of
    /// the rule.
    const HIDDEN: [char; 21] = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}',
        '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{0007}', '\u{2028}', '\u{3164}',
    ];

    #[test]
    fn bidi_controls_and_invisible_characters_are_hidden() {
        for c in HIDDEN {
            assert!(is_hidden(c), "U+{:04X}", u32::from(c));
        }
        for c in ['王', 'a', ' ', 'ก', 'ệ', 'ñ', '阿', '\u{FE0F}', '1', '-'] {
            assert!(!is_hidden(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn input_with_a_hidden_character_is_refused_naming_field_and_code_point() {
        assert!(refuse_hidden("王阿嬤 (wheelchair)", "name").is_ok());
        let error = refuse_hidden("Lin\u{202E}gnahC", "name").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidField);
        assert_eq!(error.field.as_deref(), Some("name"));
        assert!(
            error.message.contains("U+202E at character 4"),
            "{}",
            error.message
        );
        assert!(!error.message.contains("Lin"), "{}", error.message);
    }

    #[test]
    fn output_drops_hidden_characters_and_flags_them() {
        assert_eq!(
            shown("王\u{200B}阿\u{2066}嬤\u{2069}"),
            Shown {
                text: "王阿嬤".into(),
                flagged: true
            }
        );
        assert_eq!(
            shown("Grandma Lin"),
            Shown {
                text: "Grandma Lin".into(),
                flagged: false
            }
        );
    }
}
