//! The plain baseline of the matcher benchmark: a uniform grid over the
//! points, a walk over the cells under the area's bounding box, a bbox
//! test and an exact banded ray cast for every point found there. No tree,
//! no node classification. Output as `hazardline match --json`.
//!
//! ```text
//! bench_grid --places places.csv --areas areas.geojson
//! ```

use std::io::Write;
use std::time::Instant;

use matcher::areas_geojson::parse_areas;
use matcher::bbox::Bbox;
use matcher::places_csv::parse_points;
use matcher::polygon::PreparedPolygon;
use serde_json::json;

/// Points bucketed into `cols × rows` cells (about 16 points per cell).
struct Grid {
    bbox: Bbox,
    cols: usize,
    rows: usize,
    cell_w: f64,
    cell_h: f64,
    start: Vec<u32>,
    points: Vec<[f64; 2]>,
}

impl Grid {
    fn build(points: &[[f64; 2]]) -> Grid {
        let mut bbox = Bbox::EMPTY;
        for p in points {
            bbox.extend(p[0], p[1]);
        }
        let side = ((points.len() / 16).max(1) as f64).sqrt().ceil() as usize;
        let (cols, rows) = (side, side);
        let cell_w = (bbox.max_x - bbox.min_x).max(1e-12) / cols as f64;
        let cell_h = (bbox.max_y - bbox.min_y).max(1e-12) / rows as f64;
        let mut grid = Grid {
            bbox,
            cols,
            rows,
            cell_w,
            cell_h,
            start: vec![0; cols * rows + 1],
            points: Vec::new(),
        };
        let cells: Vec<usize> = points.iter().map(|p| grid.cell(p[0], p[1])).collect();
        for &c in &cells {
            grid.start[c + 1] += 1;
        }
        for i in 0..cols * rows {
            grid.start[i + 1] += grid.start[i];
        }
        let mut fill = grid.start.clone();
        grid.points = vec![[0.0; 2]; points.len()];
        for (p, &c) in points.iter().zip(&cells) {
            grid.points[fill[c] as usize] = *p;
            fill[c] += 1;
        }
        grid
    }

    fn col(&self, x: f64) -> usize {
        (((x - self.bbox.min_x) / self.cell_w).max(0.0) as usize).min(self.cols - 1)
    }

    fn row(&self, y: f64) -> usize {
        (((y - self.bbox.min_y) / self.cell_h).max(0.0) as usize).min(self.rows - 1)
    }

    fn cell(&self, x: f64, y: f64) -> usize {
        self.row(y) * self.cols + self.col(x)
    }

    fn count(&self, polygon: &PreparedPolygon) -> usize {
        let b = polygon.bbox();
        if !b.intersects(&self.bbox) {
            return 0;
        }
        let mut n = 0;
        for row in self.row(b.min_y)..=self.row(b.max_y) {
            let (c0, c1) = (
                row * self.cols + self.col(b.min_x),
                row * self.cols + self.col(b.max_x),
            );
            let (lo, hi) = (self.start[c0] as usize, self.start[c1 + 1] as usize);
            for &[x, y] in &self.points[lo..hi] {
                if b.contains_point(x, y) && polygon.covers(x, y) {
                    n += 1;
                }
            }
        }
        n
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_grid: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run() -> Result<(), String> {
    let mut places = None;
    let mut areas = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--places" => places = args.next(),
            "--areas" => areas = args.next(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let (Some(places), Some(areas)) = (places, areas) else {
        return Err("usage: bench_grid --places PLACES.csv --areas AREAS.geojson".into());
    };
    let t = Instant::now();
    let bytes = std::fs::read(&places).map_err(|e| format!("{places}: {e}"))?;
    let points = parse_points(&bytes).map_err(|e| format!("{places}: {e}"))?;
    drop(bytes);
    let text = std::fs::read_to_string(&areas).map_err(|e| format!("{areas}: {e}"))?;
    let areas = parse_areas(&text).map_err(|e| format!("{areas}: {e}"))?;
    let load_ms = t.elapsed().as_millis();
    let t = Instant::now();
    let grid = Grid::build(&points);
    let index_ms = t.elapsed().as_millis();
    let index_bytes = grid.points.len() * 16 + grid.start.len() * 4;
    drop(points);
    let t = Instant::now();
    let mut lines = Vec::new();
    for area in &areas {
        let start = Instant::now();
        let polygon = PreparedPolygon::new(&area.shape);
        let matched = grid.count(&polygon);
        lines.push(
            json!({"id": area.id, "matched": matched, "micros": start.elapsed().as_micros()}),
        );
    }
    let query_ms = t.elapsed().as_millis();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let io = |e: std::io::Error| e.to_string();
    for l in lines {
        writeln!(out, "{l}").map_err(io)?;
    }
    writeln!(
        out,
        "{}",
        json!({"places": grid.points.len(), "load_ms": load_ms, "index_ms": index_ms, "query_ms": query_ms, "index_bytes": index_bytes, "threads": 1})
    )
    .map_err(io)?;
    out.flush().map_err(io)
}
