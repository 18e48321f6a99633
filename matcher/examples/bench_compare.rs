//! Compares the per-area outputs of the benchmark engines: checks that
//! every engine matched exactly the same number of places in every area,
//! and prints per-class median / max / total query times and the ratios
//! to the first engine, as Markdown. Exits 1 on any disagreement.
//!
//! ```text
//! bench_compare --areas areas.geojson --engine matcher=m.jsonl --engine grid=g.jsonl --engine postgis=p.jsonl
//! ```
//! Each engine file holds one JSON line per area, in area order,
//! `{"id", "matched", "micros"}`, then one summary object.

use std::collections::BTreeMap;

use matcher::areas_geojson::parse_areas;
use serde_json::Value;

struct Engine {
    name: String,
    rows: Vec<(Value, u64, u64)>,
    summary: Value,
}

fn read_engine(spec: &str) -> Result<Engine, String> {
    let (name, path) = spec
        .split_once('=')
        .ok_or(format!("--engine {spec}: expected NAME=FILE"))?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows = Vec::new();
    let mut summary = Value::Null;
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
        match (
            v.get("matched").and_then(Value::as_u64),
            v.get("micros").and_then(Value::as_u64),
        ) {
            (Some(m), Some(us)) => rows.push((v["id"].clone(), m, us)),
            _ => summary = v,
        }
    }
    Ok(Engine {
        name: name.to_owned(),
        rows,
        summary,
    })
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    if v.is_empty() { 0 } else { v[v.len() / 2] }
}

fn fmt_us(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{us} µs")
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("bench_compare: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let mut areas_path = None;
    let mut engines = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--areas", Some(p)) => areas_path = Some(p),
            ("--engine", Some(e)) => engines.push(read_engine(&e)?),
            _ => return Err(format!("bad argument {flag}")),
        }
    }
    let areas_path = areas_path.ok_or("--areas is required")?;
    let text = std::fs::read_to_string(&areas_path).map_err(|e| format!("{areas_path}: {e}"))?;
    let areas = parse_areas(&text).map_err(|e| e.to_string())?;
    if engines.is_empty() {
        return Err("no --engine".into());
    }
    let mut agree = true;
    for e in &engines {
        if e.rows.len() != areas.len() {
            eprintln!(
                "{}: {} results for {} areas",
                e.name,
                e.rows.len(),
                areas.len()
            );
            agree = false;
        }
    }
    let mut disagreements = 0;
    for (i, area) in areas.iter().enumerate() {
        let counts: Vec<Option<u64>> = engines.iter().map(|e| e.rows.get(i).map(|r| r.1)).collect();
        let ids_ok = engines
            .iter()
            .all(|e| e.rows.get(i).is_some_and(|r| r.0 == area.id));
        if !ids_ok || counts.iter().any(|c| *c != counts[0]) {
            agree = false;
            disagreements += 1;
            if disagreements <= 20 {
                let detail: Vec<String> = engines
                    .iter()
                    .zip(&counts)
                    .map(|(e, c)| format!("{}={c:?}", e.name))
                    .collect();
                eprintln!(
                    "DISAGREE area {} ({}): {}",
                    area.id,
                    area.class.as_deref().unwrap_or("?"),
                    detail.join(" ")
                );
            }
        }
    }

    let mut classes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let order = ["village", "town", "county", "corridor", "circle", "country"];
    for (i, a) in areas.iter().enumerate() {
        classes
            .entry(a.class.clone().unwrap_or_else(|| "area".into()))
            .or_default()
            .push(i);
    }
    let mut names: Vec<&String> = classes.keys().collect();
    names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(order.len()));

    let first = &engines[0].name;
    println!(
        "| class | areas | places matched | engine | median | max | total | median ×{first} | total ×{first} |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|");
    for class in names {
        let idx = &classes[class];
        let matched: u64 = idx
            .iter()
            .filter_map(|&i| engines[0].rows.get(i))
            .map(|r| r.1)
            .sum();
        let stats: Vec<(u64, u64, u64)> = engines
            .iter()
            .map(|e| {
                let mut us: Vec<u64> = idx
                    .iter()
                    .filter_map(|&i| e.rows.get(i))
                    .map(|r| r.2)
                    .collect();
                let total = us.iter().sum();
                let max = us.iter().copied().max().unwrap_or(0);
                (median(&mut us), max, total)
            })
            .collect();
        for (e, s) in engines.iter().zip(&stats) {
            let ratio = |a: u64, b: u64| {
                if b == 0 {
                    "–".to_owned()
                } else {
                    format!("{:.1}", a as f64 / b as f64)
                }
            };
            println!(
                "| {class} | {} | {matched} | {} | {} | {} | {} | {} | {} |",
                idx.len(),
                e.name,
                fmt_us(s.0),
                fmt_us(s.1),
                fmt_us(s.2),
                ratio(s.0, stats[0].0),
                ratio(s.2, stats[0].2)
            );
        }
    }
    println!();
    println!("| engine | places | load | index build | query total | index bytes/place | more |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for e in &engines {
        let s = &e.summary;
        let places = s["places"].as_f64().unwrap_or(0.0);
        let per_place = |k: &str| {
            s[k].as_f64()
                .map_or("–".into(), |b| format!("{:.1}", b / places.max(1.0)))
        };
        let mut more = Vec::new();
        if s.get("matcher_bytes").is_some() {
            more.push(format!(
                "whole matcher {} B/place",
                per_place("matcher_bytes")
            ));
        }
        if let Some(kb) = s["peak_rss_kb"].as_f64() {
            more.push(format!("peak RSS {:.0} MiB", kb / 1024.0));
        }
        if let Some(t) = s["threads"].as_u64() {
            more.push(format!("{t} thread(s)"));
        }
        if let Some(x) = s["client_ms"].as_u64() {
            more.push(format!("client wall {x} ms"));
        }
        println!(
            "| {} | {} | {} ms | {} ms | {} ms | {} | {} |",
            e.name,
            s["places"],
            s["load_ms"],
            s["index_ms"],
            s["query_ms"],
            per_place("index_bytes"),
            more.join(", ")
        );
    }
    if agree {
        println!(
            "\nAll {} engines agree on all {} areas.",
            engines.len(),
            areas.len()
        );
    } else {
        println!("\nENGINES DISAGREE on {disagreements} area(s).");
    }
    Ok(agree)
}
