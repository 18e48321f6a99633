//! Seismic intensity: reading CWA's notation and the per-area
//! `LocalMaxIntensity` parameters of CAP-EQ messages.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::model::{Info, NamedValue};

use super::Intensity;

/// The highest intensity observed in one area of an earthquake report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalIntensity {
    /// The area's geocode, as written (e.g. `Taiwan_Geocode_103` / `10015`).
    pub geocode: NamedValue,
    /// The area's name, quotes removed (e.g. `花蓮縣`).
    pub area_name: String,
    pub intensity: Intensity,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a seismic intensity (0級..7級, 5弱, 5強, 6弱, 6強, 5-, 5+, ...)")]
pub struct ParseIntensityError(pub String);

impl FromStr for Intensity {
    type Err = ParseIntensityError;

    /// Accepts CWA's notation (`4級`, `5弱`, `5強`, `6弱`, `6強`, `7級`),
    /// the ASCII forms (`4`, `5-`, `5+`, `5 lower`, `5 upper`) and
    /// full-width digits. Surrounding white space is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseIntensityError(s.to_owned());
        let text: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                other => other,
            })
            .collect();
        let mut chars = text.chars();
        let digit = chars.next().and_then(|c| c.to_digit(10)).ok_or_else(err)?;
        let rest = chars.as_str().trim().to_lowercase();
        let rest = rest.strip_suffix('級').unwrap_or(&rest).trim();
        let lower = matches!(rest, "弱" | "-" | "lower" | "l");
        let upper = matches!(rest, "強" | "+" | "upper" | "u");
        use Intensity::*;
        match (digit, rest.is_empty(), lower, upper) {
            (0, true, ..) => Ok(I0),
            (1, true, ..) => Ok(I1),
            (2, true, ..) => Ok(I2),
            (3, true, ..) => Ok(I3),
            (4, true, ..) => Ok(I4),
            (5, _, true, _) => Ok(I5Lower),
            (5, _, _, true) => Ok(I5Upper),
            (6, _, true, _) => Ok(I6Lower),
            (6, _, _, true) => Ok(I6Upper),
            (7, true, ..) => Ok(I7),
            _ => Err(err()),
        }
    }
}

impl Intensity {
    /// CWA's own notation, as residents know it.
    pub fn as_cwa(self) -> &'static str {
        use Intensity::*;
        match self {
            I0 => "0級",
            I1 => "1級",
            I2 => "2級",
            I3 => "3級",
            I4 => "4級",
            I5Lower => "5弱",
            I5Upper => "5強",
            I6Lower => "6弱",
            I6Upper => "6強",
            I7 => "7級",
        }
    }

    /// The ASCII form also used in JSON (`5-`, `5+`).
    pub fn as_str(self) -> &'static str {
        use Intensity::*;
        match self {
            I0 => "0",
            I1 => "1",
            I2 => "2",
            I3 => "3",
            I4 => "4",
            I5Lower => "5-",
            I5Upper => "5+",
            I6Lower => "6-",
            I6Upper => "6+",
            I7 => "7",
        }
    }
}

impl fmt::Display for Intensity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The per-area intensities of a CAP-EQ earthquake report, read from
/// `LocalMaxIntensity` parameters of the form
/// `4級;"花蓮縣";Taiwan_Geocode_103;10015;;;"CAP-EQ:1.0"`
/// (intensity; area name; geocode valueName; geocode value; ...).
/// Entries that do not have that shape are skipped with a debug log: one
/// malformed entry must not hide the others.
pub fn local_intensities(info: &Info) -> Vec<LocalIntensity> {
    info.parameter_values("LocalMaxIntensity")
        .filter_map(|value| {
            let parsed = parse_local_intensity(value);
            if parsed.is_none() {
                tracing::debug!(value, "LocalMaxIntensity entry skipped: unexpected shape");
            }
            parsed
        })
        .collect()
}

fn parse_local_intensity(value: &str) -> Option<LocalIntensity> {
    let mut fields = value.split(';').map(str::trim);
    let intensity = fields.next()?.parse().ok()?;
    let area_name = unquote(fields.next()?);
    let value_name = fields.next()?;
    let code = fields.next()?;
    if value_name.is_empty() || code.is_empty() {
        return None;
    }
    Some(LocalIntensity {
        geocode: NamedValue {
            value_name: value_name.to_owned(),
            value: code.to_owned(),
        },
        area_name: area_name.to_owned(),
        intensity,
    })
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Intensity::*;

    #[test]
    fn parses_cwa_and_ascii_forms() {
        for (text, expected) in [
            ("0級", I0),
            ("4級", I4),
            ("5弱", I5Lower),
            ("5強", I5Upper),
            ("6弱", I6Lower),
            ("6強", I6Upper),
            ("7級", I7),
            ("7", I7),
            ("5-", I5Lower),
            ("6+", I6Upper),
            (" 3 ", I3),
            ("５弱", I5Lower),
            ("5 lower", I5Lower),
            ("5弱級", I5Lower),
        ] {
            assert_eq!(text.parse::<Intensity>(), Ok(expected), "{text}");
        }
        for bad in ["", "5", "6", "8", "4弱", "7強", "級", "x", "55"] {
            assert!(bad.parse::<Intensity>().is_err(), "{bad}");
        }
    }

    #[test]
    fn both_notations_round_trip_and_order() {
        let all = [I0, I1, I2, I3, I4, I5Lower, I5Upper, I6Lower, I6Upper, I7];
        for i in all {
            assert_eq!(i.as_cwa().parse::<Intensity>(), Ok(i));
            assert_eq!(i.as_str().parse::<Intensity>(), Ok(i));
        }
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn local_intensity_entries() {
        let li = parse_local_intensity(r#"4級;"花蓮縣";Taiwan_Geocode_103;10015;;;"CAP-EQ:1.0""#)
            .unwrap();
        assert_eq!(li.intensity, I4);
        assert_eq!(li.area_name, "花蓮縣");
        assert_eq!(li.geocode.value_name, "Taiwan_Geocode_103");
        assert_eq!(li.geocode.value, "10015");
        assert_eq!(parse_local_intensity(r#"9級;"x";T;1"#), None);
        assert_eq!(parse_local_intensity(r#"4級;"x";;1"#), None);
        assert_eq!(parse_local_intensity("4級"), None);
    }
}
