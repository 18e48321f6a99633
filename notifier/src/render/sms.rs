//! SMS encoding and segment counting (3GPP TS 23.038 / 23.040).
//!
//! A message whose every character is in the GSM 7-bit default alphabet or
//! its extension table is sent as GSM-7: 160 septets in a single segment,
//! 153 per segment once it is split (the user data header takes 7). An
//! extension-table character (`{ } [ ] ~ \ | ^ €` and form feed) costs two
//! septets, and its escape and character never straddle a segment boundary.
//! Anything else (Chinese, Thai, Vietnamese diacritics, a curly quote) makes
//! the whole message UCS-2: 70 UTF-16 units in a single segment, 67 per
//! segment once split, a surrogate pair never split across segments.
//!
//! Cost: one pass over the text, no allocation.

use serde::{Deserialize, Serialize};

/// How a message goes over the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// The GSM 03.38 default alphabet (basic character set), as Unicode.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters reached through the escape to the extension table.
const GSM7_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

/// Septets one character costs in GSM-7, or `None` when it has no GSM-7 form.
fn gsm7_septets(c: char) -> Option<usize> {
    if c.is_ascii_alphanumeric() || c == ' ' {
        return Some(1);
    }
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding an SMS gateway will choose for `text`.
pub fn encoding(text: &str) -> SmsEncoding {
    if text.chars().all(|c| gsm7_septets(c).is_some()) {
        SmsEncoding::Gsm7
    } else {
        SmsEncoding::Ucs2
    }
}

/// How many segments `text` takes, with its encoding.
pub fn segments(text: &str) -> (SmsEncoding, usize) {
    let encoding = encoding(text);
    let unit = |c: char| match encoding {
        SmsEncoding::Gsm7 => gsm7_septets(c).unwrap_or(1),
        SmsEncoding::Ucs2 => c.len_utf16(),
    };
    let (single, multi) = match encoding {
        SmsEncoding::Gsm7 => (160, 153),
        SmsEncoding::Ucs2 => (70, 67),
    };
    let total: usize = text.chars().map(unit).sum();
    if total <= single {
        return (encoding, 1);
    }
    // Fill segments greedily: a character that does not fit whole starts
    // the next segment, as phones and gateways do.
    let mut count = 1;
    let mut used = 0;
    for c in text.chars() {
        let unit = unit(c);
        if used + unit > multi {
            count += 1;
            used = 0;
        }
        used += unit;
    }
    (encoding, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_boundaries() {
        assert_eq!(segments(&"a".repeat(160)), (SmsEncoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(161)), (SmsEncoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(306)), (SmsEncoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(307)), (SmsEncoding::Gsm7, 3));
        assert_eq!(segments(""), (SmsEncoding::Gsm7, 1));
    }

    #[test]
    fn extension_characters_count_twice_and_stay_whole() {
        // 80 euro signs are 160 septets: still one segment.
        assert_eq!(segments(&"€".repeat(80)), (SmsEncoding::Gsm7, 1));
        assert_eq!(
            segments(&format!("{}a", "€".repeat(80))),
            (SmsEncoding::Gsm7, 2)
        );
        // 152 plain septets then an escape pair: the pair moves to segment 2.
        let text = format!("{}[{}", "a".repeat(152), "b".repeat(150));
        assert_eq!(segments(&text), (SmsEncoding::Gsm7, 2));
        let text = format!("{}[{}", "a".repeat(152), "b".repeat(152));
        assert_eq!(segments(&text), (SmsEncoding::Gsm7, 3));
    }

    #[test]
    fn anything_outside_gsm7_switches_to_ucs2() {
        assert_eq!(encoding("Leave now"), SmsEncoding::Gsm7);
        assert_eq!(encoding("Ñandù ÄÖÜ äöü é è @£$¥"), SmsEncoding::Gsm7);
        assert_eq!(encoding("don’t"), SmsEncoding::Ucs2);
        assert_eq!(encoding("wait…"), SmsEncoding::Ucs2);
        assert_eq!(segments(&"土".repeat(70)), (SmsEncoding::Ucs2, 1));
        assert_eq!(segments(&"土".repeat(71)), (SmsEncoding::Ucs2, 2));
        assert_eq!(segments(&"土".repeat(134)), (SmsEncoding::Ucs2, 2));
        assert_eq!(segments(&"土".repeat(135)), (SmsEncoding::Ucs2, 3));
    }

    #[test]
    fn surrogate_pairs_are_not_split() {
        // 66 units then an emoji (2 units) does not fit in a 67-unit segment.
        let text = format!("{}😀{}", "土".repeat(66), "土".repeat(66));
        assert_eq!(segments(&text), (SmsEncoding::Ucs2, 3));
        let text = format!("{}😀{}", "土".repeat(65), "土".repeat(67));
        assert_eq!(segments(&text), (SmsEncoding::Ucs2, 2));
    }
}
