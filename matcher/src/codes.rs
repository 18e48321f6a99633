//! Administrative codes and the one question the matcher asks about them.
//!
//! The matcher does not know where villages are; whoever wires it (the
//! binary, with geodata) implements [`AreaCodes`].

use std::fmt;

use geo::MultiPolygon;

/// A village (村里) by its 11-digit MOI VILLCODE (`64000130006`): the
/// 8-digit town code followed by a 3-digit serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VillageCode(u64);

/// A town (鄉鎮市區) by its 8-digit MOI TOWNCODE (`64000130`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TownCode(u32);

impl VillageCode {
    /// Parses exactly 11 ASCII digits (leading zeros are significant in
    /// writing but not in value, so `09020...` is kept).
    pub fn parse(s: &str) -> Option<VillageCode> {
        (s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok().map(VillageCode))
            .flatten()
    }

    pub fn town(self) -> TownCode {
        TownCode((self.0 / 1000) as u32)
    }
}

impl TownCode {
    /// Parses exactly 8 ASCII digits.
    pub fn parse(s: &str) -> Option<TownCode> {
        (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok().map(TownCode))
            .flatten()
    }
}

impl fmt::Display for VillageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:011}", self.0)
    }
}

impl fmt::Display for TownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08}", self.0)
    }
}

/// Why a geocode could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("unknown geocode kind {value_name:?}")]
    UnknownKind { value_name: String },
    #[error("no area has {value_name} code {value:?}")]
    UnknownCode { value_name: String, value: String },
}

/// Administrative areas as the matcher needs them.
pub trait AreaCodes {
    /// The villages a CAP `<geocode>` names (a town code names all its
    /// villages). Never `Ok` with an empty list for a code that names
    /// nothing: that is [`AreaCodeError::UnknownCode`].
    fn villages_for_geocode(
        &self,
        value_name: &str,
        value: &str,
    ) -> Result<Vec<VillageCode>, AreaCodeError>;

    /// The boundary of a village, if known.
    fn village_geometry(&self, code: VillageCode) -> Option<&MultiPolygon<f64>>;

    /// The boundary of a town, if known.
    fn town_geometry(&self, code: TownCode) -> Option<&MultiPolygon<f64>>;
}

/// An [`AreaCodes`] that knows no area: every geocode is an error. For
/// dry runs on polygons alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAreaCodes;

impl AreaCodes for NoAreaCodes {
    fn villages_for_geocode(
        &self,
        value_name: &str,
        value: &str,
    ) -> Result<Vec<VillageCode>, AreaCodeError> {
        Err(AreaCodeError::UnknownCode {
            value_name: value_name.to_owned(),
            value: value.to_owned(),
        })
    }

    fn village_geometry(&self, _code: VillageCode) -> Option<&MultiPolygon<f64>> {
        None
    }

    fn town_geometry(&self, _code: TownCode) -> Option<&MultiPolygon<f64>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_leading_zeros() {
        let v = VillageCode::parse("09020010001").unwrap();
        assert_eq!(v.to_string(), "09020010001");
        assert_eq!(v.town().to_string(), "09020010");
        assert_eq!(TownCode::parse("09020010"), Some(v.town()));
        assert_eq!(VillageCode::parse("0902001000"), None);
        assert_eq!(VillageCode::parse("0902001000x"), None);
    }
}
