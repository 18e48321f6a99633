//! GeoJSON (RFC 7946) FeatureCollection / Feature with Polygon or
//! MultiPolygon geometries, WGS84 lon/lat.

use std::path::Path;

use geo::{Geometry, MultiPolygon};

use super::RawFeature;
use crate::GeodataError;

pub(super) fn decode(text: &str, path: &Path) -> Result<Vec<RawFeature>, GeodataError> {
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e| GeodataError::parse(path, format!("GeoJSON: {e}")))?;
    let features = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => {
            return Err(GeodataError::parse(
                path,
                "a bare GeoJSON geometry has no properties to name it",
            ));
        }
    };
    let mut out = Vec::with_capacity(features.len());
    for (i, feature) in features.into_iter().enumerate() {
        let origin = format!("{} feature {i}", path.display());
        let Some(geometry) = feature.geometry else {
            continue;
        };
        let geometry: Geometry<f64> = geometry
            .try_into()
            .map_err(|e| GeodataError::parse(path, format!("feature {i}: {e}")))?;
        let geometry = match geometry {
            Geometry::Polygon(p) => MultiPolygon(vec![p]),
            Geometry::MultiPolygon(mp) => mp,
            _ => continue,
        };
        let properties =
            super::string_properties(feature.properties.map(serde_json::Value::Object).as_ref());
        out.push(RawFeature {
            properties,
            geometry,
            origin,
        });
    }
    Ok(out)
}
