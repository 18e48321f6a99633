//! ESRI shapefiles as MOI publishes them: `.shp` + `.dbf` (+ `.prj`), in
//! TWD97 lon/lat (EPSG:3824) or TWD97 / TM2 zone 121 (EPSG:3826), told
//! apart by the `.prj`.
//!
//! TM2 is a Transverse Mercator on the GRS80 ellipsoid, central meridian
//! 121°E, scale 0.9999, false easting 250,000 m; proj4rs inverts it. TWD97
//! is tied to ITRF and agrees with WGS84 to well under a metre, so the
//! lon/lat are used as WGS84 without a datum shift.

use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use proj4rs::proj::Proj;
use shapefile::dbase::FieldValue;
use shapefile::{PolygonRing, Shape};

use super::RawFeature;
use crate::GeodataError;

/// The coordinate reference systems the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// Geographic lon/lat degrees (TWD97 EPSG:3824, WGS84).
    LonLat,
    /// TWD97 / TM2 zone 121 metres (EPSG:3826).
    Tm2,
}

/// PROJ string of EPSG:3826.
const TM2_PROJ: &str =
    "+proj=tmerc +lat_0=0 +lon_0=121 +k=0.9999 +x_0=250000 +y_0=0 +ellps=GRS80 +units=m +no_defs";
const LONLAT_PROJ: &str = "+proj=longlat +ellps=GRS80 +no_defs";

/// Reads the CRS from the text of a `.prj` (WKT).
pub fn crs_from_prj(wkt: &str) -> Result<Crs, String> {
    let w = wkt.to_ascii_lowercase().replace([' ', '"'], "");
    if !w.contains("projcs[") {
        return if w.contains("geogcs[") {
            Ok(Crs::LonLat)
        } else {
            Err("the .prj is neither GEOGCS nor PROJCS".into())
        };
    }
    let param = |name: &str| -> Option<f64> {
        let at = w.find(&format!("parameter[{name},"))?;
        let rest = &w[at + name.len() + 11..];
        rest[..rest.find(']')?].parse().ok()
    };
    let is_tm = w.contains("transverse_mercator");
    let fits = param("central_meridian") == Some(121.0)
        && param("false_easting") == Some(250000.0)
        && param("scale_factor").is_some_and(|k| (k - 0.9999).abs() < 1e-9)
        && param("false_northing").unwrap_or(0.0) == 0.0;
    if is_tm && fits {
        Ok(Crs::Tm2)
    } else {
        Err("projected CRS other than TWD97 / TM2 zone 121 (EPSG:3826)".into())
    }
}

/// Converts TWD97 / TM2 metres to lon/lat degrees.
pub struct Tm2ToLonLat {
    from: Proj,
    to: Proj,
}

impl Tm2ToLonLat {
    pub fn new() -> Result<Tm2ToLonLat, String> {
        let from =
            Proj::from_proj_string(TM2_PROJ).map_err(|e| format!("TM2 definition: {e:?}"))?;
        let to = Proj::from_proj_string(LONLAT_PROJ)
            .map_err(|e| format!("lon/lat definition: {e:?}"))?;
        Ok(Tm2ToLonLat { from, to })
    }

    /// (easting, northing) in metres → (lon, lat) in degrees.
    pub fn convert(&self, x: f64, y: f64) -> Result<(f64, f64), String> {
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(&self.from, &self.to, &mut p)
            .map_err(|e| format!("cannot convert TM2 ({x}, {y}): {e:?}"))?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }
}

fn sibling(path: &Path, ext: &str) -> PathBuf {
    path.with_extension(ext)
}

pub(super) fn decode(path: &Path) -> Result<Vec<RawFeature>, GeodataError> {
    let prj = sibling(path, "prj");
    let crs = match std::fs::read_to_string(&prj) {
        Ok(wkt) => crs_from_prj(&wkt).map_err(|e| GeodataError::parse(&prj, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(GeodataError::parse(
                path,
                "no .prj beside the shapefile: cannot tell TWD97 lon/lat from TM2",
            ));
        }
        Err(e) => return Err(GeodataError::io(&prj, e)),
    };
    let tm2 = match crs {
        Crs::Tm2 => Some(Tm2ToLonLat::new().map_err(|e| GeodataError::parse(path, e))?),
        Crs::LonLat => None,
    };
    let mut reader = shapefile::Reader::from_path(path)
        .map_err(|e| GeodataError::parse(path, format!("shapefile: {e}")))?;
    let mut out = Vec::new();
    for (i, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) =
            item.map_err(|e| GeodataError::parse(path, format!("record {i}: {e}")))?;
        let rings = match shape {
            Shape::Polygon(p) => p.into_inner(),
            Shape::NullShape => continue,
            other => {
                return Err(GeodataError::parse(
                    path,
                    format!(
                        "record {i}: {} shapes are not boundaries",
                        other.shapetype()
                    ),
                ));
            }
        };
        let mut converted = Vec::with_capacity(rings.len());
        for ring in rings {
            let outer = matches!(ring, PolygonRing::Outer(_));
            let coords = ring
                .into_inner()
                .into_iter()
                .map(|p| match &tm2 {
                    Some(t) => t.convert(p.x, p.y).map(|(x, y)| Coord { x, y }),
                    None => Ok(Coord { x: p.x, y: p.y }),
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| GeodataError::parse(path, format!("record {i}: {e}")))?;
            converted.push((outer, LineString(coords)));
        }
        let geometry = assemble(converted)
            .map_err(|e| GeodataError::parse(path, format!("record {i}: {e}")))?;
        let properties = record
            .into_iter()
            .filter_map(|(k, v)| field_text(v).map(|v| (k, v)))
            .collect();
        out.push(RawFeature {
            properties,
            geometry,
            origin: format!("{} record {i}", path.display()),
        });
    }
    Ok(out)
}

fn field_text(v: FieldValue) -> Option<String> {
    match v {
        FieldValue::Character(s) => s.map(|s| s.trim().to_string()),
        FieldValue::Numeric(Some(n)) => Some(n.to_string()),
        FieldValue::Integer(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Groups rings into polygons: each hole goes to the outer ring that
/// contains its first point (shapefiles do not promise holes follow their
/// outer ring).
fn assemble(rings: Vec<(bool, LineString<f64>)>) -> Result<MultiPolygon<f64>, String> {
    use geo::Contains;
    let mut polygons: Vec<Polygon<f64>> = rings
        .iter()
        .filter(|(outer, _)| *outer)
        .map(|(_, r)| Polygon::new(r.clone(), vec![]))
        .collect();
    for (_, hole) in rings.into_iter().filter(|(outer, _)| !*outer) {
        let Some(first) = hole.0.first().copied() else {
            continue;
        };
        let owner = polygons
            .iter_mut()
            .find(|p| p.contains(&first) || p.exterior().0.contains(&first))
            .ok_or("a hole lies in no outer ring")?;
        owner.interiors_push(hole);
    }
    Ok(MultiPolygon(polygons))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_crs_from_prj_text() {
        let tm2 = r#"PROJCS["TWD97 / TM2 zone 121",GEOGCS["TWD97",DATUM["Taiwan_Datum_1997",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",121],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",250000],PARAMETER["false_northing",0],UNIT["metre",1]]"#;
        assert_eq!(crs_from_prj(tm2), Ok(Crs::Tm2));
        let ll = r#"GEOGCS["TWD97",DATUM["Taiwan_Datum_1997",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#;
        assert_eq!(crs_from_prj(ll), Ok(Crs::LonLat));
        let tm119 = tm2.replace("central_meridian\",121", "central_meridian\",119");
        assert!(crs_from_prj(&tm119).is_err());
    }

    #[test]
    fn tm2_inverse_matches_known_points() {
        let t = Tm2ToLonLat::new().unwrap();
        // The false origin lies on the central meridian at the equator.
        let (lon, lat) = t.convert(250_000.0, 0.0).unwrap();
        assert!(
            (lon - 121.0).abs() < 1e-9 && lat.abs() < 1e-9,
            "{lon} {lat}"
        );
        // Reference values computed with the forward series of Snyder,
        // "Map Projections: A Working Manual" (USGS PP 1395, eqs. 8-9, 8-10),
        // GRS80, for Taipei 101, a point on the central meridian, and Kaohsiung.
        let cases = [
            ((306965.5326, 2769662.2237), (121.5645, 25.0340)),
            ((250000.0, 2655023.1250), (121.0, 24.0)),
            ((167748.6246, 2500211.7448), (120.2, 22.6)),
        ];
        for ((x, y), (elon, elat)) in cases {
            let (lon, lat) = t.convert(x, y).unwrap();
            assert!((lon - elon).abs() < 1e-6, "{x},{y}: lon {lon}");
            assert!((lat - elat).abs() < 1e-6, "{x},{y}: lat {lat}");
        }
    }
}
