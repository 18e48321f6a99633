//! Checks that hold the layout described in `ARCHITECTURE.md`:
//!
//! - no module cycle inside any workspace crate (read from the `use` lines
//!   and `crate::`/`super::` paths of every non-test source file);
//! - every path `ARCHITECTURE.md` names exists, and every Architecture
//!   Invariant names the test or check that holds it;
//! - every non-test source file over 600 lines is listed there with a reason;
//! - only `store` declares the database client crates;
//! - every delivery is queued through the application's outbox, and only
//!   the application reads the alerts in force from ingest's lifecycle.
//!
//! These read source text only; they build nothing.

#[path = "architecture/modules.rs"]
mod modules;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut report = String::new();
    for krate in modules::workspace_crates(&repo()) {
        let graph = modules::ModuleGraph::read(&krate);
        for cycle in graph.cycles() {
            report.push_str(&format!("{}: {}\n", krate.name, cycle.describe()));
        }
    }
    assert!(
        report.is_empty(),
        "module cycles (each line: the modules in the cycle, then one import per step):\n{report}"
    );
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    // The checker above passes vacuously if it never sees an edge; this
    // feeds it a made-up crate with one sideways cycle and one that is
    // only a parent using its child.
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("http")).unwrap();
    fs::write(src.join("lib.rs"), "mod a;\nmod b;\nmod http;\nuse a::x;\n").unwrap();
    fs::write(src.join("a.rs"), "use crate::b::Thing;\npub fn x() {}\n").unwrap();
    fs::write(
        src.join("b.rs"),
        "pub struct Thing;\nfn f() { crate::http::routes::handler(); }\n",
    )
    .unwrap();
    fs::write(src.join("http/mod.rs"), "pub mod routes;\n").unwrap();
    fs::write(
        src.join("http/routes.rs"),
        "use crate::{a, b as _b};\npub fn handler() {}\n#[cfg(test)]\nmod tests {\n    use crate::b::Thing;\n}\n",
    )
    .unwrap();
    let krate = modules::Crate {
        name: "made-up".into(),
        src,
    };
    let graph = modules::ModuleGraph::read(&krate);
    let cycles: Vec<String> = graph.cycles().iter().map(|c| c.describe()).collect();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].starts_with("a -> b -> http -> a"),
        "{}",
        cycles[0]
    );
}

/// Paths in backquotes that look like repository paths.
fn named_paths(text: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 0 || part.contains(char::is_whitespace) || part.contains("::") {
            continue;
        }
        let looks_like_path = part.ends_with('/')
            || [
                ".rs", ".md", ".toml", ".json", ".sh", ".ftl", ".js", ".html", ".css",
            ]
            .iter()
            .any(|ext| part.ends_with(ext))
            || part.starts_with(".ci/");
        if looks_like_path && !part.starts_with("../") && !part.contains('*') {
            paths.insert(part.trim_end_matches('/').to_string());
        }
    }
    paths
}

fn architecture_text() -> String {
    fs::read_to_string(repo().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md at the root")
}

#[test]
fn every_path_architecture_md_names_exists() {
    let text = architecture_text();
    let paths = named_paths(&text);
    assert!(paths.len() > 20, "too few paths found: {paths:?}");
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| !repo().join(p.as_str()).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

/// The bullets that state an invariant, each as one string (a bullet runs
/// to the next bullet, heading or blank line).
fn invariants(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let starts_bullet =
            line.starts_with("- ") || line.starts_with('#') || line.trim().is_empty();
        if starts_bullet && let Some(done) = current.take() {
            found.push(done);
        }
        if line.starts_with("- ") && line.contains("**Architecture Invariant") {
            current = Some(line.to_string());
        } else if let Some(bullet) = current.as_mut() {
            bullet.push(' ');
            bullet.push_str(line.trim());
        }
    }
    found.extend(current);
    found
}

#[test]
fn every_invariant_names_what_holds_it() {
    let text = architecture_text();
    let invariants = invariants(&text);
    assert!(
        invariants.len() >= 8,
        "found {} invariants",
        invariants.len()
    );
    for bullet in invariants {
        let (_, held) = bullet
            .split_once("Held by")
            .unwrap_or_else(|| panic!("invariant names no test or check (\"Held by\"): {bullet}"));
        let named = named_paths(held);
        assert!(
            !named.is_empty(),
            "\"Held by\" names no file in backquotes: {bullet}"
        );
        for path in named {
            assert!(
                repo().join(&path).exists(),
                "{path} (named by: {bullet}) does not exist"
            );
        }
    }
}

fn count_lines_outside_tests(path: &Path) -> usize {
    let text = fs::read_to_string(path).unwrap_or_default();
    let cut = modules::strip_test_modules(&text);
    cut.lines().count()
}

#[test]
fn every_long_source_file_is_listed_with_its_reason() {
    let whole = architecture_text();
    // Listed in the "Long files" section itself: a mention elsewhere says
    // nothing about why the file is long.
    let text = whole
        .split("\n## Long files")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("ARCHITECTURE.md has a \"Long files\" section");
    let mut unlisted = Vec::new();
    for krate in modules::workspace_crates(&repo()) {
        for file in modules::source_files(&krate.src) {
            if count_lines_outside_tests(&file) <= 600 {
                continue;
            }
            let relative = file
                .strip_prefix(repo())
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            if !text.contains(&format!("`{relative}`")) {
                unlisted.push(relative);
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "source files over 600 lines not listed in ARCHITECTURE.md: {unlisted:?}"
    );
}

#[test]
fn only_store_declares_database_clients() {
    for krate in modules::workspace_crates(&repo()) {
        let manifest_path = krate.src.parent().unwrap().join("Cargo.toml");
        let manifest = fs::read_to_string(&manifest_path).unwrap();
        let value: toml::Table = manifest.parse().unwrap();
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = value.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for client in ["rusqlite", "redis"] {
                assert!(
                    krate.name == "store" || !deps.contains_key(client),
                    "{} declares {client} in [{section}]; only store may",
                    manifest_path.display()
                );
            }
        }
    }
}

/// The non-test source lines of the workspace's crates (other than
/// `skip`) that contain one of `calls`, as `path:line: text`, leaving out
/// the files under `allowed`.
fn calls_outside(calls: &[&str], skip: &[&str], allowed: &str) -> Vec<String> {
    let mut found = Vec::new();
    for krate in modules::workspace_crates(&repo()) {
        if skip.contains(&krate.name.as_str()) {
            continue;
        }
        for file in modules::source_files(&krate.src) {
            let relative = file
                .strip_prefix(repo())
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            if relative.starts_with(allowed) {
                continue;
            }
            let text = fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in modules::strip_test_modules(&text).lines().enumerate() {
                if calls.iter().any(|call| line.contains(call)) {
                    found.push(format!("{relative}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    found
}

/// One queuing policy: nothing but the outbox writes to the delivery
/// queue. (The notifier defines the queue and `store` implements it.)
#[test]
fn only_the_outbox_queues_deliveries() {
    let found = calls_outside(
        &[".enqueue(", ".enqueue_many("],
        &["notifier", "store"],
        "app/src/outbox.rs",
    );
    assert!(
        found.is_empty(),
        "deliveries queued around the outbox:\n{}",
        found.join("\n")
    );
}

/// One owner of "alerts in force": the lifecycle's list is read by the
/// application's `alerts` alone; routes and workers ask it. (Ingest keeps
/// the lifecycle.)
#[test]
fn only_the_application_reads_the_alerts_in_force() {
    let found = calls_outside(
        &[
            ".active()",
            ".active_with_authority(",
            "pipeline().referenced(",
            "pipeline.referenced(",
        ],
        &["ingest"],
        "app/src/alerts/",
    );
    assert!(
        found.is_empty(),
        "alerts in force read around the application:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_call_finder_finds_a_call() {
    // The two checks above pass vacuously if the finder sees nothing.
    let found = calls_outside(
        &[".enqueue_many("],
        &["notifier", "store"],
        "app/src/flow.rs",
    );
    assert!(
        found
            .iter()
            .any(|line| line.starts_with("app/src/outbox.rs:")),
        "{found:?}"
    );
}

/// Runtime, network and database crates: what a crate without I/O must
/// not use.
const RUNTIME_CRATES: [&str; 9] = [
    "tokio", "reqwest", "rumqttc", "rusqlite", "redis", "hyper", "axum", "lettre", "mio",
];

/// The engine does no I/O: it declares no runtime, network or database
/// crate of its own. (It links some through ingest and notifier, whose
/// lifecycle events and renderer it uses; what it calls is checked by
/// its having no way to name them.)
#[test]
fn the_engine_declares_no_runtime() {
    let manifest_path = repo().join("engine/Cargo.toml");
    let manifest: toml::Table = fs::read_to_string(&manifest_path).unwrap().parse().unwrap();
    let deps = manifest["dependencies"].as_table().expect("[dependencies]");
    assert!(
        deps.contains_key("matcher"),
        "is this the engine's manifest?"
    );
    for name in RUNTIME_CRATES {
        assert!(
            !deps.contains_key(name),
            "{} declares {name}",
            manifest_path.display()
        );
    }
}

/// The crates that must stay free of I/O link no runtime, network or
/// database crate (their normal dependencies, as cargo resolves them).
#[test]
fn library_crates_link_no_runtime() {
    const FORBIDDEN: [&str; 9] = RUNTIME_CRATES;
    for krate in ["cap", "matcher"] {
        if !repo().join(krate).join("Cargo.toml").is_file() {
            continue;
        }
        let output = std::process::Command::new(env!("CARGO"))
            .args([
                "tree", "--locked", "-e", "normal", "--prefix", "none", "-p", krate,
            ])
            .current_dir(repo())
            .output()
            .expect("cargo tree runs");
        assert!(
            output.status.success(),
            "cargo tree -p {krate}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let tree = String::from_utf8_lossy(&output.stdout);
        for line in tree.lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            assert!(
                !FORBIDDEN.contains(&name),
                "{krate} links {name} through its normal dependencies:\n{tree}"
            );
        }
    }
}
