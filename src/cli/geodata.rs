//! `hazardline geodata`: import boundary data, reverse geocode points,
//! geocode addresses, resolve CAP geocodes.
//!
//! Every command takes `--geodata FILE` (a compact atlas written by
//! `import`); without it the embedded fictional demo region is used.
//! Exit codes: 0 success, 1 an input could not be placed or resolved,
//! 2 usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use geodata::Atlas;
use serde_json::json;

#[derive(Debug, Args)]
pub struct GeodataArgs {
    #[command(subcommand)]
    command: GeodataCommand,
}

#[derive(Debug, Subcommand)]
enum GeodataCommand {
    /// Build a compact atlas file from boundary files (TopoJSON, GeoJSON,
    /// shapefile) and Taiwan_Geocode code tables (JSON).
    Import(ImportArgs),
    /// Reverse geocode points to village, town and county codes.
    Locate(LocateArgs),
    /// Geocode a Taiwan address (Chinese or English form) to a village and
    /// a point.
    Geocode(GeocodeArgs),
    /// Resolve a CAP geocode (valueName + value) to MOI village codes.
    Resolve(ResolveArgs),
}

#[derive(Debug, Args)]
struct GeocodeArgs {
    #[command(flatten)]
    atlas: AtlasArg,
    /// Address points CSV (`address,lon,lat`) for address precision.
    #[arg(long)]
    gazetteer: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    /// The address.
    address: String,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// Output file (compact atlas).
    #[arg(long)]
    out: PathBuf,
    /// An earlier atlas: report what changed against it and how its
    /// village codes map to the new ones.
    #[arg(long)]
    previous: Option<PathBuf>,
    /// Print the import report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Boundary files and code tables, in any order.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct AtlasArg {
    /// Compact atlas file; the embedded demo region when absent.
    #[arg(long)]
    geodata: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["point", "points"]))]
struct LocateArgs {
    #[command(flatten)]
    atlas: AtlasArg,
    /// One point, `LON,LAT` (WGS84 degrees).
    #[arg(long, allow_hyphen_values = true)]
    point: Option<String>,
    /// A CSV file with the header `id,lon,lat`.
    #[arg(long)]
    points: Option<PathBuf>,
    /// One JSON object per point, in input order.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ResolveArgs {
    #[command(flatten)]
    atlas: AtlasArg,
    /// Geocode table, e.g. Taiwan_Geocode_103.
    value_name: String,
    /// Code of that table: county, town or village.
    value: String,
    #[arg(long)]
    json: bool,
}

pub fn run(args: GeodataArgs) -> ExitCode {
    match args.command {
        GeodataCommand::Import(a) => import(a),
        GeodataCommand::Locate(a) => locate(a),
        GeodataCommand::Geocode(a) => geocode(a),
        GeodataCommand::Resolve(a) => resolve(a),
    }
}

fn geocode(args: GeocodeArgs) -> ExitCode {
    let atlas = match load_atlas(&args.atlas) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let gazetteer = match &args.gazetteer {
        Some(path) => match geodata::geocoder::Gazetteer::from_csv(&atlas, path) {
            Ok((g, skipped)) => {
                if skipped > 0 {
                    eprintln!(
                        "gazetteer: {skipped} rows skipped (no road and number, or outside the atlas)"
                    );
                }
                Some(g)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    match geodata::geocoder::geocode(&atlas, gazetteer.as_ref(), &args.address) {
        Ok(g) => {
            let a = &g.address;
            if args.json {
                print_json(&json!({
                    "input": args.address,
                    "components": {
                        "county": a.county, "town": a.town, "village": a.village,
                        "neighborhood": a.neighborhood, "road": a.road, "section": a.section,
                        "lane": a.lane, "alley": a.alley, "number": a.number, "floor": a.floor,
                    },
                    "county_code": g.county_code,
                    "town_code": g.town_code,
                    "village_code": g.village_code,
                    "lon": g.lon,
                    "lat": g.lat,
                    "precision": g.precision,
                }));
            } else {
                println!(
                    "{}\t{}\t{:.6},{:.6}\t{:?}",
                    g.village_code.as_deref().unwrap_or(&g.town_code),
                    a,
                    g.lon,
                    g.lat,
                    g.precision
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if args.json {
                print_json(&json!({
                    "input": args.address,
                    "error": e.to_string(),
                    "candidates": e.candidates(),
                }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(1)
        }
    }
}

fn load_atlas(arg: &AtlasArg) -> Result<Atlas, ExitCode> {
    match &arg.geodata {
        Some(path) => Atlas::load(path).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }),
        None => Ok(geodata::demo::atlas()),
    }
}

fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

fn import(args: ImportArgs) -> ExitCode {
    let previous = match &args.previous {
        Some(p) => match Atlas::load(p) {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let started = std::time::Instant::now();
    let mut progress = |line: &str| eprintln!("[{:6.1} s] {line}", started.elapsed().as_secs_f64());
    let (atlas, report) = match geodata::import::import_paths(&args.paths, &mut progress) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = atlas.save(&args.out) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wrote {} ({size} bytes) in {:.1} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    let changes = previous.map(|old| geodata::diff::compare(&old, &atlas));
    if args.json {
        print_json(&json!({ "report": report, "changes": changes }));
    } else {
        for fix in report
            .geometry_fixes
            .iter()
            .filter(|f| f.unrepaired.is_some())
        {
            println!("unrepaired geometry: {} {:?}", fix.code, fix.unrepaired);
        }
        for u in &report.unmatched_codes {
            println!(
                "no area for {} {} {}: {}",
                u.table, u.code, u.fullname, u.reason
            );
        }
        for w in &report.warnings {
            println!("warning: {w}");
        }
        if let Some(c) = &changes {
            println!("{}", c.summary());
        }
    }
    ExitCode::SUCCESS
}

fn locate(args: LocateArgs) -> ExitCode {
    let atlas = match load_atlas(&args.atlas) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let points = match (&args.point, &args.points) {
        (Some(p), _) => match geodata::points::parse_lon_lat(p) {
            Some((lon, lat)) => vec![(None, lon, lat)],
            None => {
                eprintln!("error: --point must be LON,LAT, got {p:?}");
                return ExitCode::from(2);
            }
        },
        (None, Some(path)) => match read_points(path) {
            Ok(p) => p,
            Err(code) => return code,
        },
        (None, None) => return ExitCode::from(2),
    };
    let mut all_placed = true;
    for (id, lon, lat) in points {
        let loc = atlas.locate(lon, lat);
        all_placed &= loc.is_some();
        if args.json {
            print_json(&json!({
                "id": id,
                "county_code": loc.map(|l| l.county_code().to_string()),
                "town_code": loc.map(|l| l.town_code().to_string()),
                "village_code": loc.map(|l| l.village_code().to_string()),
                "village_name": loc.map(|l| l.village.name.clone()),
                "snapped": loc.is_some_and(|l| l.snapped),
            }));
        } else {
            let label = id.unwrap_or_else(|| format!("{lon},{lat}"));
            match loc {
                Some(l) => println!(
                    "{label}\t{}\t{}{}",
                    l.village_code(),
                    atlas.full_name(l.village),
                    if l.snapped {
                        format!("\t(snapped, {:.0} m)", l.distance_m)
                    } else {
                        String::new()
                    }
                ),
                None => println!("{label}\toutside Taiwan"),
            }
        }
    }
    if all_placed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read_points(path: &Path) -> Result<Vec<(Option<String>, f64, f64)>, ExitCode> {
    geodata::points::read_points_csv(path)
        .map(|ps| ps.into_iter().map(|p| (Some(p.id), p.lon, p.lat)).collect())
        .map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(1)
        })
}

fn resolve(args: ResolveArgs) -> ExitCode {
    let atlas = match load_atlas(&args.atlas) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match atlas.resolve_geocode(&args.value_name, &args.value) {
        Ok(r) => {
            if args.json {
                print_json(&json!({
                    "value_name": args.value_name,
                    "value": r.value,
                    "level": r.level,
                    "name": r.name,
                    "moi_code": r.moi_code,
                    "villages": r.villages,
                }));
            } else {
                println!(
                    "{} {} → {} {} ({}), {} villages",
                    args.value_name,
                    r.value,
                    r.level,
                    r.name,
                    r.moi_code,
                    r.villages.len()
                );
                for v in &r.villages {
                    println!("  {v}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if args.json {
                print_json(&json!({
                    "value_name": args.value_name,
                    "value": args.value,
                    "error": e.to_string(),
                }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(1)
        }
    }
}
