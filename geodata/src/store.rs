//! The compact atlas file: what `hazardline geodata import` writes and the
//! service loads at start.
//!
//! Layout: the 8 magic bytes `HZLGEO\r\n`, a little-endian `u32` format
//! version, then a postcard body. Coordinates are quantized to 1e-7 degree
//! (about 1 cm, far below the sources' precision) and delta-encoded per
//! area, so postcard's zigzag varints store most steps in 2–3 bytes. Any
//! change to the body bumps [`FORMAT_VERSION`]; an older file is refused
//! with a message telling the operator to re-import.

use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::{Deserialize, Serialize};

use crate::GeodataError;
use crate::codes::Level;
use crate::model::{Area, CodeEntry};

const MAGIC: &[u8; 8] = b"HZLGEO\r\n";
/// Version of the body layout below.
pub const FORMAT_VERSION: u32 = 1;
/// Coordinate quantum in degrees.
const SCALE: f64 = 1e7;

#[derive(Serialize, Deserialize)]
struct Body {
    areas: Vec<PackedArea>,
    codes: Vec<CodeEntry>,
}

#[derive(Serialize, Deserialize)]
struct PackedArea {
    level: Level,
    code: String,
    county_code: String,
    town_code: Option<String>,
    name: String,
    name_en: Option<String>,
    label: Option<(i32, i32)>,
    /// Number of rings of each polygon (exterior first).
    rings_per_polygon: Vec<u32>,
    /// Number of points of each ring (closed rings, last point included).
    points_per_ring: Vec<u32>,
    /// x, y deltas from the previous point of the area (first from 0, 0).
    deltas: Vec<i32>,
}

fn quantize(v: f64) -> i32 {
    (v * SCALE).round() as i32
}

fn pack(area: &Area) -> PackedArea {
    let mut rings_per_polygon = Vec::with_capacity(area.geometry.0.len());
    let mut points_per_ring = Vec::new();
    let mut deltas = Vec::new();
    let (mut px, mut py) = (0i32, 0i32);
    for polygon in &area.geometry.0 {
        rings_per_polygon.push(1 + polygon.interiors().len() as u32);
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            points_per_ring.push(ring.0.len() as u32);
            for c in &ring.0 {
                let (x, y) = (quantize(c.x), quantize(c.y));
                deltas.push(x.wrapping_sub(px));
                deltas.push(y.wrapping_sub(py));
                (px, py) = (x, y);
            }
        }
    }
    PackedArea {
        level: area.level,
        code: area.code.clone(),
        county_code: area.county_code.clone(),
        town_code: area.town_code.clone(),
        name: area.name.clone(),
        name_en: area.name_en.clone(),
        label: area.label_point.map(|c| (quantize(c.x), quantize(c.y))),
        rings_per_polygon,
        points_per_ring,
        deltas,
    }
}

fn unpack(p: PackedArea, path: &Path) -> Result<Area, GeodataError> {
    let corrupt = |detail: String| GeodataError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let total_points: u64 = p.points_per_ring.iter().map(|&n| u64::from(n)).sum();
    let total_rings: u64 = p.rings_per_polygon.iter().map(|&n| u64::from(n)).sum();
    if total_points * 2 != p.deltas.len() as u64 || total_rings != p.points_per_ring.len() as u64 {
        return Err(corrupt(format!("area {}: ring counts disagree", p.code)));
    }
    let mut deltas = p.deltas.chunks_exact(2);
    let mut ring_lens = p.points_per_ring.iter();
    let (mut x, mut y) = (0i32, 0i32);
    let mut next_ring = |n: u32| -> LineString<f64> {
        let mut coords = Vec::with_capacity(n as usize);
        for d in deltas.by_ref().take(n as usize) {
            x = x.wrapping_add(d[0]);
            y = y.wrapping_add(d[1]);
            coords.push(Coord {
                x: f64::from(x) / SCALE,
                y: f64::from(y) / SCALE,
            });
        }
        LineString(coords)
    };
    let mut polygons = Vec::with_capacity(p.rings_per_polygon.len());
    for &rings in &p.rings_per_polygon {
        let mut ls = Vec::with_capacity(rings as usize);
        for _ in 0..rings {
            let n = *ring_lens
                .next()
                .ok_or_else(|| corrupt(format!("area {}: missing ring", p.code)))?;
            ls.push(next_ring(n));
        }
        let mut it = ls.into_iter();
        let exterior = it
            .next()
            .ok_or_else(|| corrupt(format!("area {}: polygon without rings", p.code)))?;
        polygons.push(Polygon::new(exterior, it.collect()));
    }
    Ok(Area {
        level: p.level,
        code: p.code,
        county_code: p.county_code,
        town_code: p.town_code,
        name: p.name,
        name_en: p.name_en,
        geometry: MultiPolygon(polygons),
        label_point: p.label.map(|(x, y)| Coord {
            x: f64::from(x) / SCALE,
            y: f64::from(y) / SCALE,
        }),
    })
}

/// Encodes areas and code entries into the file format.
pub fn encode<'a>(
    areas: impl Iterator<Item = &'a Area>,
    codes: &[CodeEntry],
) -> Result<Vec<u8>, GeodataError> {
    let body = Body {
        areas: areas.map(pack).collect(),
        codes: codes.to_vec(),
    };
    let mut out = Vec::with_capacity(1 << 20);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let encoded = postcard::to_allocvec(&body).map_err(|e| GeodataError::Corrupt {
        path: "<memory>".into(),
        detail: format!("cannot encode: {e}"),
    })?;
    out.extend_from_slice(&encoded);
    Ok(out)
}

/// Decodes the file format; `path` only names the source in errors.
pub fn decode(bytes: &[u8], path: &Path) -> Result<(Vec<Area>, Vec<CodeEntry>), GeodataError> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(GeodataError::NotGeodataFile {
            path: path.to_path_buf(),
            expected: "HZLGEO\\r\\n",
        });
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&bytes[8..12]);
    let found = u32::from_le_bytes(version);
    if found != FORMAT_VERSION {
        return Err(GeodataError::FormatVersion {
            path: path.to_path_buf(),
            found,
            expected: FORMAT_VERSION,
        });
    }
    let body: Body = postcard::from_bytes(&bytes[12..]).map_err(|e| GeodataError::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let areas = body
        .areas
        .into_iter()
        .map(|p| unpack(p, path))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((areas, body.codes))
}
