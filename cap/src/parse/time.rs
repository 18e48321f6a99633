//! CAP date-times.
//!
//! CAP 1.2 (§3.3.2) requires `YYYY-MM-DDThh:mm:ss±hh:mm`, with UTC written
//! `-00:00`, and says alphabetic zone designators such as `Z` MUST NOT be
//! used; CAP 1.0 and 1.1 use `xs:dateTime`, which allows `Z` and fractions.
//!
//! What we accept, and why:
//! - the exact CAP 1.2 form: silently;
//! - `Z` for UTC, or fractional seconds: accepted with a [`Leniency`] that
//!   callers record as a warning. The instant is unambiguous, and refusing
//!   a real warning over the spelling of UTC would help nobody;
//! - no zone at all: refused ([`DateTimeError::MissingZone`]). The instant
//!   is unknown (whose local time?), and an alert's validity window must
//!   never be guessed;
//! - anything else (bad field values such as month 13 included): refused.

use chrono::DateTime;

use crate::model::Timestamp;

/// A tolerated deviation from the CAP 1.2 form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leniency {
    /// `Z` written for UTC instead of `-00:00`.
    ZuluDesignator,
    /// Fractional seconds, which the CAP 1.2 pattern does not allow.
    FractionalSeconds,
}

impl std::fmt::Display for Leniency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Leniency::ZuluDesignator => "\"Z\" read as UTC (CAP 1.2 requires \"-00:00\")",
            Leniency::FractionalSeconds => "fractional seconds accepted (not in CAP 1.2 form)",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateTimeError {
    #[error("{0:?} has no time zone (CAP requires e.g. \"+08:00\" or \"-00:00\")")]
    MissingZone(String),
    #[error("{0:?} is not a date-time of the form YYYY-MM-DDThh:mm:ss+hh:mm")]
    Invalid(String),
}

/// Parses a CAP date-time (already trimmed).
///
/// ```
/// use cap::parse::time::parse_datetime;
/// let (t, leniency) = parse_datetime("2024-04-22T18:11:17+08:00").unwrap();
/// assert_eq!(t.to_rfc3339(), "2024-04-22T18:11:17+08:00");
/// assert!(leniency.is_none());
/// ```
pub fn parse_datetime(text: &str) -> Result<(Timestamp, Option<Leniency>), DateTimeError> {
    let bytes = text.as_bytes();
    if is_strict_form(bytes) {
        return DateTime::parse_from_rfc3339(text)
            .map(|t| (t, None))
            .map_err(|_| DateTimeError::Invalid(text.to_owned()));
    }
    // Lenient forms must still have the CAP shape up to the seconds, with
    // an upper-case 'T' (RFC 3339 would also take a space or 't').
    if bytes.len() < 19 || !is_date_time_prefix(&bytes[..19]) {
        return Err(DateTimeError::Invalid(text.to_owned()));
    }
    let tail = &text[19..];
    let (fraction, zone) = split_fraction(tail);
    if zone.is_empty() {
        return Err(DateTimeError::MissingZone(text.to_owned()));
    }
    let leniency = if zone == "Z" {
        Some(Leniency::ZuluDesignator)
    } else if !is_offset(zone.as_bytes()) {
        return Err(DateTimeError::Invalid(text.to_owned()));
    } else if !fraction.is_empty() {
        Some(Leniency::FractionalSeconds)
    } else {
        None
    };
    if fraction == "." {
        return Err(DateTimeError::Invalid(text.to_owned()));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| (t, leniency))
        .map_err(|_| DateTimeError::Invalid(text.to_owned()))
}

pub use crate::model::format_datetime;

/// `\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d`, the CAP 1.2 pattern.
fn is_strict_form(b: &[u8]) -> bool {
    b.len() == 25 && is_date_time_prefix(&b[..19]) && is_offset(&b[19..])
}

fn is_date_time_prefix(b: &[u8]) -> bool {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    b.len() == 19
        && b.iter().zip(SHAPE).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            other => c == other,
        })
}

fn is_offset(b: &[u8]) -> bool {
    b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b':'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
}

/// Splits `.123+08:00` into (`.123`, `+08:00`).
fn split_fraction(tail: &str) -> (&str, &str) {
    match tail.strip_prefix('.') {
        Some(rest) => {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            tail.split_at(1 + digits)
        }
        None => ("", tail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_cap_form_including_minus_zero() {
        let (t, l) = parse_datetime("2002-05-24T16:49:00-00:00").unwrap();
        assert_eq!(t.offset().local_minus_utc(), 0);
        assert_eq!(l, None);
        assert_eq!(format_datetime(&t), "2002-05-24T16:49:00+00:00");
    }

    /// Expected outcome: the leniency, or the error constructor.
    type Expected = Result<Option<Leniency>, fn(String) -> DateTimeError>;

    #[test]
    fn table() {
        use DateTimeError::*;
        let cases: &[(&str, Expected)] = &[
            ("2024-04-22T18:11:17+08:00", Ok(None)),
            ("2024-04-22T18:11:17Z", Ok(Some(Leniency::ZuluDesignator))),
            (
                "2024-04-22T18:11:17.250+08:00",
                Ok(Some(Leniency::FractionalSeconds)),
            ),
            ("2024-04-22T18:11:17", Err(MissingZone)),
            ("2024-04-22T18:11:17.5", Err(MissingZone)),
            ("2024-04-22 18:11:17+08:00", Err(Invalid)),
            ("2024-04-22t18:11:17+08:00", Err(Invalid)),
            ("2024-13-22T18:11:17+08:00", Err(Invalid)),
            ("2024-02-30T18:11:17+08:00", Err(Invalid)),
            ("2024-04-22T18:11:17+0800", Err(Invalid)),
            ("2024-04-22T18:11:17.+08:00", Err(Invalid)),
            ("2024-04-22T18:11:17 PDT", Err(Invalid)),
            ("", Err(Invalid)),
            ("二〇二四", Err(Invalid)),
        ];
        for (text, expected) in cases {
            let got = parse_datetime(text);
            match expected {
                Ok(l) => assert_eq!(got.map(|(_, l)| l).as_ref(), Ok(l), "{text}"),
                Err(make) => assert_eq!(got, Err(make(text.to_string())), "{text}"),
            }
        }
    }
}
