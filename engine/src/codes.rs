//! The matcher's view of administrative areas, answered by geodata.

use geo::MultiPolygon;
use geodata::Atlas;
use matcher::codes::{AreaCodeError, AreaCodes, TownCode, VillageCode};

/// [`AreaCodes`] backed by a geodata [`Atlas`].
pub struct AtlasCodes<'a> {
    atlas: &'a Atlas,
}

impl<'a> AtlasCodes<'a> {
    pub fn new(atlas: &'a Atlas) -> Self {
        AtlasCodes { atlas }
    }
}

impl AreaCodes for AtlasCodes<'_> {
    fn villages_for_geocode(
        &self,
        value_name: &str,
        value: &str,
    ) -> Result<Vec<VillageCode>, AreaCodeError> {
        let resolved =
            self.atlas
                .resolve_geocode(value_name, value)
                .map_err(|error| match error {
                    geodata::GeodataError::UnknownScheme { .. } => AreaCodeError::UnknownKind {
                        value_name: value_name.to_owned(),
                    },
                    _ => AreaCodeError::UnknownCode {
                        value_name: value_name.to_owned(),
                        value: value.to_owned(),
                    },
                })?;
        // Geodata promises MOI village codes; one that does not parse would
        // be a broken atlas, and silently dropping it would shrink the area.
        resolved
            .villages
            .iter()
            .map(|code| {
                VillageCode::parse(code).ok_or_else(|| AreaCodeError::UnknownCode {
                    value_name: value_name.to_owned(),
                    value: value.to_owned(),
                })
            })
            .collect()
    }

    fn village_geometry(&self, code: VillageCode) -> Option<&MultiPolygon<f64>> {
        self.atlas.village_geometry(&code.to_string())
    }

    fn town_geometry(&self, code: TownCode) -> Option<&MultiPolygon<f64>> {
        self.atlas.town_geometry(&code.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_town_code_names_all_its_villages() {
        let atlas = geodata::demo::atlas();
        let codes = AtlasCodes::new(&atlas);
        let villages = codes
            .villages_for_geocode("Taiwan_Geocode_103", "9900002")
            .unwrap();
        assert_eq!(villages.len(), 4);
        assert!(
            villages
                .iter()
                .all(|v| v.to_string().starts_with("99000020"))
        );
        assert!(codes.village_geometry(villages[0]).is_some());
        assert!(codes.town_geometry(villages[0].town()).is_some());
    }

    #[test]
    fn unknown_code_is_an_error_not_an_empty_area() {
        let atlas = geodata::demo::atlas();
        let codes = AtlasCodes::new(&atlas);
        assert!(matches!(
            codes.villages_for_geocode("Taiwan_Geocode_103", "9900009"),
            Err(AreaCodeError::UnknownCode { .. })
        ));
        assert!(matches!(
            codes.villages_for_geocode("NoSuchTable", "1"),
            Err(AreaCodeError::UnknownKind { .. })
        ));
    }
}
