//! Reading dry-run areas: a GeoJSON (RFC 7946) FeatureCollection of
//! Polygon and MultiPolygon features, each with `properties.id`.

use geo::{LineString, MultiPolygon, Polygon};
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
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
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
    let root: Value = serde_json::from_str(text)?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(shape_error("root", "expected a FeatureCollection"));
    }
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| shape_error("root", "`features` is not an array"))?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let at = format!("features[{i}]");
            let props = f.get("properties");
            let id = props
                .and_then(|p| p.get("id"))
                .cloned()
                .ok_or_else(|| shape_error(&at, "no properties.id"))?;
            let class = props
                .and_then(|p| p.get("class"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let geometry = f
                .get("geometry")
                .ok_or_else(|| shape_error(&at, "no geometry"))?;
            let shape = parse_geometry(geometry, &format!("{at}.geometry"))?;
            Ok(AreaFeature { id, class, shape })
        })
        .collect()
}

/// Parses a GeoJSON Polygon or MultiPolygon geometry object.
pub fn parse_geometry(geometry: &Value, at: &str) -> Result<MultiPolygon<f64>, GeoJsonError> {
    let coords = geometry
        .get("coordinates")
        .ok_or_else(|| shape_error(at, "no coordinates"))?;
    match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => Ok(MultiPolygon::new(vec![polygon(coords, at)?])),
        Some("MultiPolygon") => {
            let parts = coords
                .as_array()
                .ok_or_else(|| shape_error(at, "coordinates are not an array"))?;
            let polygons = parts
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("{at}.coordinates[{i}]")))
                .collect::<Result<_, _>>()?;
            Ok(MultiPolygon::new(polygons))
        }
        other => Err(shape_error(
            at,
            format!("geometry type {other:?} is not Polygon or MultiPolygon"),
        )),
    }
}

fn polygon(value: &Value, at: &str) -> Result<Polygon<f64>, GeoJsonError> {
    let rings = value
        .as_array()
        .ok_or_else(|| shape_error(at, "a polygon is an array of rings"))?;
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

fn ring(value: &Value, at: &str) -> Result<LineString<f64>, GeoJsonError> {
    let positions = value
        .as_array()
        .ok_or_else(|| shape_error(at, "a ring is an array of positions"))?;
    if positions.len() < 4 {
        return Err(shape_error(at, "a ring needs at least four positions"));
    }
    let coords = positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let xy = p.as_array().filter(|a| a.len() >= 2);
            match xy.map(|a| (a[0].as_f64(), a[1].as_f64())) {
                Some((Some(x), Some(y))) if x.is_finite() && y.is_finite() => Ok((x, y)),
                _ => Err(shape_error(
                    format!("{at}[{i}]"),
                    "not a [lon, lat] position",
                )),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LineString::from(coords))
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
        assert!(err.contains("features[0].geometry[0][2]"), "{err}");
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
