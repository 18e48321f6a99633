//! The OpenAPI 3.1 document of every route (`openapi.json` beside this
//! file), served at `/openapi.json`.
//!
//! It is written by hand, as the contract the route groups implement; the
//! tests below keep it honest: every route any group registers
//! (`.route("…", get(…).post(…))` in `src/serve/`) must be documented with
//! its methods, every `$ref` must resolve, and every [`ErrorCode`] must be
//! listed. The end-to-end tests check the other direction (every
//! documented route is answered).

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;

use super::state::AppState;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        DOCUMENT,
    )
}

/// The routes registered in Rust source text: `(path, method)` pairs from
/// every `.route("path", get(…).post(…))` call. Axum's `{*rest}` becomes
/// OpenAPI's `{rest}`.
pub fn routes_in_source(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(".route(") {
        rest = &rest[start + ".route(".len()..];
        // The path must be the first argument, a string literal.
        let open = rest.len() - rest.trim_start().len();
        if !rest[open..].starts_with('"') {
            continue;
        }
        let Some(len) = rest[open + 1..].find('"') else {
            break;
        };
        let path = rest[open + 1..open + 1 + len].replace("{*", "{");
        // The method router: up to the parenthesis closing `.route(`.
        let mut depth = 1usize;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &rest[open + 1 + len..end];
        for method in ["get", "post", "put", "patch", "delete", "head"] {
            let used = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0 || {
                    let before = call.as_bytes()[i - 1];
                    !(before.is_ascii_alphanumeric() || before == b'_')
                }
            });
            if used {
                found.push((path.clone(), method.to_string()));
            }
        }
        rest = &rest[end.min(rest.len())..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::error::ErrorCode;
    use serde_json::Value;

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
    }

    #[test]
    fn every_route_in_the_source_is_documented_with_its_methods() {
        let doc = document();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/serve");
        let mut files = Vec::new();
        let mut pending = vec![dir];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    // This file's tests hold example routes.
                    && !path.ends_with("openapi.rs")
                {
                    files.push(path);
                }
            }
        }
        let mut missing = Vec::new();
        let mut seen = 0;
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for (path, method) in routes_in_source(&source) {
                seen += 1;
                if doc["paths"][&path][&method].is_null() {
                    missing.push(format!(
                        "{} {path} ({})",
                        method.to_uppercase(),
                        file.display()
                    ));
                }
            }
        }
        assert!(seen >= 15, "only {seen} routes found: is the scan broken?");
        assert!(
            missing.is_empty(),
            "undocumented routes:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn the_source_scan_finds_paths_and_methods() {
        let source = r#"
            Router::new()
                .route("/a/{id}", get(show).delete(remove))
                .route("/assets/{*path}", get(asset))
                .route("/b", post(handlers::post_thing)) // target(…) is no method
        "#;
        let found = routes_in_source(source);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|(p, m)| (p.as_str(), m.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("/a/{id}", "get"),
                ("/a/{id}", "delete"),
                ("/assets/{path}", "get"),
                ("/b", "post")
            ]
        );
    }

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        out.extend(v.as_str());
                    } else {
                        refs(v, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn references_resolve_and_every_error_code_is_listed() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let pointer = r.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
        let listed = &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
            ["enum"];
        let codes = [
            ErrorCode::MalformedRequest,
            ErrorCode::InvalidField,
            ErrorCode::AddressNotFound,
            ErrorCode::AddressAmbiguous,
            ErrorCode::OutsideCoverage,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::CsrfRejected,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Conflict,
            ErrorCode::CapRejected,
            ErrorCode::PayloadTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ];
        // Adding a code breaks this match: add it to `codes` and the document.
        for code in codes {
            match code {
                ErrorCode::MalformedRequest
                | ErrorCode::InvalidField
                | ErrorCode::AddressNotFound
                | ErrorCode::AddressAmbiguous
                | ErrorCode::OutsideCoverage
                | ErrorCode::Unauthenticated
                | ErrorCode::Forbidden
                | ErrorCode::CsrfRejected
                | ErrorCode::NotFound
                | ErrorCode::MethodNotAllowed
                | ErrorCode::Conflict
                | ErrorCode::CapRejected
                | ErrorCode::PayloadTooLarge
                | ErrorCode::RateLimited
                | ErrorCode::Unavailable
                | ErrorCode::Internal => {}
            }
            let name = serde_json::to_value(code).unwrap();
            assert!(
                listed.as_array().unwrap().contains(&name),
                "{name} not in the document"
            );
        }
        // Every operation says what it answers.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {path} has no responses"
                );
            }
        }
    }
}
