//! Where a resident's place is: an address geocoded, or a point located in
//! its village. Never a silent guess: an ambiguous address is refused with
//! the candidates, a point outside every village is refused.

use geodata::geocoder::{Gazetteer, Geocoded, Precision, geocode};
use geodata::{Atlas, GeodataError};
use serde::Serialize;
use store::{PlaceRecord, Sensitive};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::http::residents::request::{self, MAX_ADDRESS_CHARS, MAX_PLACES, PlaceRequest};

/// The place id reserved for a traveller's shared location, so the matcher
/// sees it as one more place and it never collides with a registered one.
pub const LOCATION_PLACE_ID: u8 = u8::MAX;

/// A place as the API shows it to its owner.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Place)]
pub struct PlaceView {
    /// Place id, 0–254.
    pub id: u8,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// MOI village code.
    pub village: Option<String>,
    pub town: Option<String>,
    pub county: Option<String>,
    /// Names of the village, town and county (their Chinese names).
    pub village_name: Option<String>,
    pub town_name: Option<String>,
    pub county_name: Option<String>,
    /// How the point was found: `address`, `village`, `town` (geocoded) or
    /// `point` (given). Only known when the place is added.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(address|village|town|point)$")]
    pub precision: Option<&'static str>,
}

impl PlaceView {
    pub fn of(place: &PlaceRecord, atlas: &Atlas, precision: Option<&'static str>) -> PlaceView {
        let village = place.village.as_deref().and_then(|v| atlas.area(v));
        let town = village
            .and_then(|v| v.town_code.as_deref())
            .and_then(|t| atlas.area(t));
        let county = village.and_then(|v| atlas.area(&v.county_code));
        PlaceView {
            id: place.id,
            label: place.label.expose().to_string(),
            address: place.address.as_ref().map(|a| a.expose().to_string()),
            lon: place.lon,
            lat: place.lat,
            village: place.village.clone(),
            town: village.and_then(|v| v.town_code.clone()),
            county: village.map(|v| v.county_code.clone()),
            village_name: village.map(|v| v.name.clone()),
            town_name: town.map(|t| t.name.clone()),
            county_name: county.map(|c| c.name.clone()),
            precision,
        }
    }
}

/// The lowest id not yet used by `places` (the location's id excluded).
pub fn free_id(places: &[PlaceRecord]) -> Option<u8> {
    (0..LOCATION_PLACE_ID).find(|id| places.iter().all(|p| p.id != *id))
}

/// Resolves one requested place; `field` is its JSON path with a trailing
/// dot (`places[2].`) or empty.
pub fn resolve(
    request: &PlaceRequest,
    id: u8,
    atlas: &Atlas,
    gazetteer: Option<&Gazetteer>,
    field: &str,
) -> Result<(PlaceRecord, &'static str), ApiError> {
    let label = request::label(request.label(), &format!("{field}label"))?;
    match request {
        PlaceRequest::Address { address, .. } => {
            let at = format!("{field}address");
            let address = request::text(address, &at, MAX_ADDRESS_CHARS)?;
            let found = geocode_checked(atlas, gazetteer, &address, &at)?;
            Ok((
                PlaceRecord {
                    id,
                    label: Sensitive(label),
                    address: Some(Sensitive(address)),
                    lon: found.lon,
                    lat: found.lat,
                    village: found.village_code,
                },
                precision_name(found.precision),
            ))
        }
        PlaceRequest::Point { lon, lat, .. } => {
            let (lon, lat) = request::coordinates(*lon, *lat, field)?;
            let village = locate(atlas, lon, lat, field)?;
            Ok((
                PlaceRecord {
                    id,
                    label: Sensitive(label),
                    address: None,
                    lon,
                    lat,
                    village: Some(village),
                },
                "point",
            ))
        }
    }
}

/// Geocodes `address` with the API's refusals (`address_not_found`,
/// `address_ambiguous` with candidates) blamed on `field`.
pub fn geocode_checked(
    atlas: &Atlas,
    gazetteer: Option<&Gazetteer>,
    address: &str,
    field: &str,
) -> Result<Geocoded, ApiError> {
    geocode(atlas, gazetteer, address).map_err(|e| geocode_error(e, field))
}

/// The village code of a point, or `outside_coverage`.
pub fn locate(atlas: &Atlas, lon: f64, lat: f64, field: &str) -> Result<String, ApiError> {
    atlas
        .locate(lon, lat)
        .map(|l| l.village_code().to_string())
        .ok_or_else(|| {
            let at = if field.is_empty() {
                "lon"
            } else {
                field.trim_end_matches('.')
            };
            ApiError::field(
                ErrorCode::OutsideCoverage,
                at,
                "the point lies outside every village this service covers",
            )
        })
}

/// Resolves a whole list (registration), at most [`MAX_PLACES`].
pub fn resolve_all(
    requests: &[PlaceRequest],
    atlas: &Atlas,
    gazetteer: Option<&Gazetteer>,
) -> Result<Vec<(PlaceRecord, &'static str)>, ApiError> {
    if requests.len() > MAX_PLACES {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "places",
            format!("at most {MAX_PLACES} places"),
        ));
    }
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| resolve(r, i as u8, atlas, gazetteer, &format!("places[{i}].")))
        .collect()
}

fn precision_name(precision: Precision) -> &'static str {
    match precision {
        Precision::Address => "address",
        Precision::Village => "village",
        Precision::Town => "town",
    }
}

/// Geodata's errors name the address typed; the API's must not (it is
/// personal data), so only the kind of failure and candidates (place names
/// from the atlas, public) are returned.
fn geocode_error(error: GeodataError, field: &str) -> ApiError {
    match error {
        GeodataError::Ambiguous {
            level, candidates, ..
        } => ApiError::field(
            ErrorCode::AddressAmbiguous,
            field,
            format!("the {level} name matches several places; add the county or town"),
        )
        .with_details(
            candidates
                .into_iter()
                .map(|c| serde_json::json!({ "candidate": c }))
                .collect(),
        ),
        GeodataError::NameNotFound { level, .. } => ApiError::field(
            ErrorCode::AddressNotFound,
            field,
            format!("no {level} of that name"),
        ),
        _ => ApiError::field(
            ErrorCode::AddressNotFound,
            field,
            "the address names no known county, town or village",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(a: &str) -> PlaceRequest {
        PlaceRequest::Address {
            label: "Home".into(),
            address: a.into(),
        }
    }

    #[test]
    fn addresses_points_and_their_refusals() {
        let atlas = geodata::demo::atlas();
        let (place, precision) =
            resolve(&address("霧島縣雲港鎮海安里中山路7號"), 3, &atlas, None, "").unwrap();
        assert_eq!(place.id, 3);
        assert_eq!(place.village.as_deref(), Some("99000010002"));
        assert_eq!(precision, "village");
        let view = PlaceView::of(&place, &atlas, None);
        assert_eq!(view.town.as_deref(), Some("99000010"));
        assert_eq!(view.county.as_deref(), Some("99000"));

        let e = resolve(&address("東區朝陽里"), 0, &atlas, None, "places[1].").unwrap_err();
        assert_eq!(e.code, ErrorCode::AddressAmbiguous);
        assert_eq!(e.field.as_deref(), Some("places[1].address"));
        assert_eq!(e.details.len(), 2);
        assert!(!e.message.contains("朝陽"));

        let e = resolve(&address("霧島縣不存在鄉"), 0, &atlas, None, "").unwrap_err();
        assert_eq!(e.code, ErrorCode::AddressNotFound);

        let point = PlaceRequest::Point {
            label: "Work".into(),
            lon: 123.05,
            lat: 23.05,
        };
        let (place, precision) = resolve(&point, 0, &atlas, None, "").unwrap();
        assert_eq!(precision, "point");
        assert!(place.village.is_some());
        let sea = PlaceRequest::Point {
            label: "Sea".into(),
            lon: 121.5,
            lat: 25.0,
        };
        let e = resolve(&sea, 0, &atlas, None, "places[0].").unwrap_err();
        assert_eq!(e.code, ErrorCode::OutsideCoverage);
        assert_eq!(e.field.as_deref(), Some("places[0]"));
    }

    #[test]
    fn ids_reuse_gaps_and_never_take_the_locations() {
        let atlas = geodata::demo::atlas();
        let mut places = Vec::new();
        for i in 0..3 {
            let (p, _) = resolve(&address("霧島縣雲港鎮海安里"), i, &atlas, None, "").unwrap();
            places.push(p);
        }
        places.remove(1);
        assert_eq!(free_id(&places), Some(1));
        assert!(free_id(&places) != Some(LOCATION_PLACE_ID));
    }
}
