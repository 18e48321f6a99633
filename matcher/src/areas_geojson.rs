//! Reading dry-run areas: a GeoJSON (RFC 7946) FeatureCollection of
//! Polygon and MultiPolygon features, each with `properties.id`.
//!
//! The `geojson` crate reads the document; this module only picks the
//! features' ids and shapes and checks what a matcher area needs (rings of
//! at least four finite positions), naming the feature and ring at fault.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use geojson::{FeatureCollection, GeometryValue, PolygonType};
use serde_json::Value;

/// One area of the collection, in file order.
#[derive(Debug, Clone)]
pub struct AreaFeature {
    /// `properties.id` exactly as given (any JSON type).
    pub id: Value,
    /// `properties.class` when it is a string (benchmark workloads).
    pub class: Option<String>,
    pub shape: MultiPolygon<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum GeoJsonError {
    /// Not a GeoJSON FeatureCollection (the message names line and column).
    #[error("not a GeoJSON FeatureCollection: {0}")]
    Document(#[from] geojson::Error),
    #[error("{at}: {problem}")]
    Shape { at: String, problem: String },
}

fn shape_error(at: impl Into<String>, problem: impl Into<String>) -> GeoJsonError {
    GeoJsonError::Shape {
        at: at.into(),
        problem: problem.into(),
    }
}

/// Parses a FeatureCollection of (Multi)Polygons.
pub fn parse_areas(text: &str) -> Result<Vec<AreaFeature>, GeoJsonError> {
    let collection: FeatureCollection = text.parse()?;
    collection
        .features
        .into_iter()
        .enumerate()
        .map(|(i, feature)| {
            let at = format!("features[{i}]");
            let id = feature
                .property("id")
                .cloned()
                .ok_or_else(|| shape_error(&at, "no properties.id"))?;
            let class = feature
                .property("class")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let geometry = feature
                .geometry
                .ok_or_else(|| shape_error(&at, "no geometry"))?;
            let shape = shape_of(&geometry.value, &format!("{at}.geometry"))?;
            Ok(AreaFeature { id, class, shape })
        })
        .collect()
}

/// Parses a GeoJSON Polygon or MultiPolygon geometry object given as JSON.
pub fn parse_geometry(geometry: &Value, at: &str) -> Result<MultiPolygon<f64>, GeoJsonError> {
    let geometry: geojson::Geometry = serde_json::from_value(geometry.clone())
        .map_err(|e| shape_error(at, format!("not a GeoJSON geometry: {e}")))?;
    shape_of(&geometry.value, at)
}

fn shape_of(value: &GeometryValue, at: &str) -> Result<MultiPolygon<f64>, GeoJsonError> {
    match value {
        GeometryValue::Polygon { coordinates: rings } => {
            Ok(MultiPolygon::new(vec![polygon(rings, at)?]))
        }
        GeometryValue::MultiPolygon { coordinates: parts } => {
            let polygons = parts
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("{at}.coordinates[{i}]")))
                .collect::<Result<_, _>>()?;
            Ok(MultiPolygon::new(polygons))
        }
        other => Err(shape_error(
            at,
            format!(
                "geometry type {} is not Polygon or MultiPolygon",
                other.type_name()
            ),
        )),
    }
}

fn polygon(rings: &PolygonType, at: &str) -> Result<Polygon<f64>, GeoJsonError> {
    let mut rings = rings
        .iter()
        .enumerate()
        .map(|(i, r)| ring(r, &format!("{at}[{i}]")));
    let exterior = rings
        .next()
        .ok_or_else(|| shape_error(at, "a polygon needs an exterior ring"))??;
    let holes = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

fn ring(positions: &[geojson::Position], at: &str) -> Result<LineString<f64>, GeoJsonError> {
    if positions.len() < 4 {
        return Err(shape_error(at, "a ring needs at least four positions"));
    }
    let coords = positions
        .iter()
        .enumerate()
        .map(|(i, p)| match p.as_slice() {
            [x, y, ..] if x.is_finite() && y.is_finite() => Ok(Coord { x: *x, y: *y }),
            _ => Err(shape_error(
                format!("{at}[{i}]"),
                "not a finite [lon, lat] position",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LineString::new(coords))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_polygons_and_multipolygons_with_any_id() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":7,"class":"village"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
          {"type":"Feature","properties":{"id":"x"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]],[[2.1,2.1],[2.2,2.1],[2.2,2.2],[2.1,2.1]]]]}}
        ]}"#;
        let areas = parse_areas(text).unwrap();
        assert_eq!(areas[0].id, serde_json::json!(7));
        assert_eq!(areas[0].class.as_deref(), Some("village"));
        assert_eq!(areas[1].id, serde_json::json!("x"));
        assert_eq!(areas[1].shape.0.len(), 2);
        assert_eq!(areas[1].shape.0[1].interiors().len(), 1);
    }

    #[test]
    fn errors_say_where() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],["a",1],[0,0]]]}}]}"#;
        let err = parse_areas(text).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}"#;
        let err = parse_areas(text).unwrap_err().to_string();
        assert!(
            err.contains("features[0].geometry[0]: a ring needs at least four"),
            "{err}"
        );
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
        assert!(
            parse_areas(text)
                .unwrap_err()
                .to_string()
                .contains("no properties.id")
        );
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":1},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#;
        assert!(parse_areas(text).unwrap_err().to_string().contains("Point"));
    }
}
