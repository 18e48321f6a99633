//! Point lists for batch reverse geocoding: CSV with the header `id,lon,lat`.

use std::path::Path;

use crate::GeodataError;

/// One input point.
#[derive(Debug, Clone, PartialEq)]
pub struct InputPoint {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
}

/// Reads `id,lon,lat` rows (header required, extra columns ignored).
/// A row whose lon or lat is not a number is an error naming its line.
pub fn read_points_csv(path: &Path) -> Result<Vec<InputPoint>, GeodataError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| GeodataError::parse(path, e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| GeodataError::parse(path, e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                GeodataError::parse(
                    path,
                    format!("missing column {name:?} (header must be id,lon,lat)"),
                )
            })
    };
    let (id, lon, lat) = (column("id")?, column("lon")?, column("lat")?);
    let mut points = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| GeodataError::parse(path, format!("line {line}: {e}")))?;
        let number = |col: usize, what: &str| -> Result<f64, GeodataError> {
            row.get(col)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    GeodataError::parse(path, format!("line {line}: {what} is not a number"))
                })
        };
        points.push(InputPoint {
            id: row.get(id).unwrap_or_default().to_string(),
            lon: number(lon, "lon")?,
            lat: number(lat, "lat")?,
        });
    }
    Ok(points)
}

/// Parses `LON,LAT`.
pub fn parse_lon_lat(text: &str) -> Option<(f64, f64)> {
    let (lon, lat) = text.split_once(',')?;
    let lon: f64 = lon.trim().parse().ok()?;
    let lat: f64 = lat.trim().parse().ok()?;
    (lon.is_finite() && lat.is_finite()).then_some((lon, lat))
}
