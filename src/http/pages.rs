//! The web pages: the resident page (`/`), the issuer console (`/console`),
//! the village chiefs' relay lists (`/chief`) and their static assets under
//! `/assets/`. Everything is embedded in the binary from `web/assets/` at
//! compile time, so the service needs no files beside it and fetches nothing
//! at run time (no CDN, no map tiles).
//!
//! Every answer carries a Content-Security-Policy that allows only this
//! origin and no inline script, so a string that slipped into a page can
//! never run. Pages and our own scripts are revalidated on each load (ETag),
//! so a new binary's pages and scripts are never mixed with old cached
//! ones; the vendored map library changes only with its version and is
//! cached for a day.

use std::hash::{DefaultHasher, Hasher};
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::serve::state::AppState;

/// This origin only; no inline script or style elements; no plugins; the
/// pages may not be framed (clickjacking) nor post forms elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// Pages and our scripts: always revalidate (cheap 304 when unchanged).
const CACHE_REVALIDATE: &str = "no-cache";
/// Vendored libraries: their content changes only with their version.
const CACHE_VENDOR: &str = "public, max-age=86400";

/// One embedded file.
struct Asset {
    /// Path below `web/assets/`.
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/assets/", $path)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every file the pages use. A file missing from `web/assets/` fails the
/// build, so a page can never refer to an asset that is not served.
static ASSETS: &[Asset] = &[
    asset!("resident.html", HTML),
    asset!("console.html", HTML),
    asset!("chief.html", HTML),
    asset!("app.css", CSS),
    asset!("icon.svg", "image/svg+xml"),
    asset!("api.js", JS),
    asset!("format.js", JS),
    asset!("resident.js", JS),
    asset!("console.js", JS),
    asset!("console-map.js", JS),
    asset!("chief.js", JS),
    asset!("vendor/leaflet/leaflet.js", JS),
    asset!("vendor/leaflet/leaflet.css", CSS),
    asset!("vendor/leaflet/images/layers.png", "image/png"),
    asset!("vendor/leaflet/images/layers-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-shadow.png", "image/png"),
];

/// The routes of the pages and their assets.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resident_page))
        .routes(routes!(console_page))
        .routes(routes!(chief_page))
        .routes(routes!(asset))
}

#[utoipa::path(
    get,
    path = "/",
    tag = "pages",
    operation_id = "residentPage",
    summary = "Resident page",
    description = "Subscribe, places, alerts and inbox.",
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "HTML (revalidated with its ETag: 304 when unchanged)", content_type = "text/html", body = String),
        (status = 304, description = "Not modified (`If-None-Match` matched the ETag)"),
    ),
)]
async fn resident_page(headers: HeaderMap) -> Response {
    serve("resident.html", &headers)
}

#[utoipa::path(
    get,
    path = "/console",
    tag = "pages",
    operation_id = "consolePage",
    summary = "Issuer console",
    description = "Compose, approve, send and follow alerts; shelters; accounts and audit log for operators.",
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "HTML (revalidated with its ETag: 304 when unchanged)", content_type = "text/html", body = String),
        (status = 304, description = "Not modified (`If-None-Match` matched the ETag)"),
    ),
)]
async fn console_page(headers: HeaderMap) -> Response {
    serve("console.html", &headers)
}

#[utoipa::path(
    get,
    path = "/chief",
    tag = "pages",
    operation_id = "chiefPage",
    summary = "Village chief's relay page",
    description = "The relay lists of the chief's villages.",
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "HTML (revalidated with its ETag: 304 when unchanged)", content_type = "text/html", body = String),
        (status = 304, description = "Not modified (`If-None-Match` matched the ETag)"),
    ),
)]
async fn chief_page(headers: HeaderMap) -> Response {
    serve("chief.html", &headers)
}

#[utoipa::path(
    get,
    path = "/assets/{*path}",
    tag = "pages",
    operation_id = "asset",
    summary = "Static assets (no CDN at run time)",
    description = "The pages' scripts, styles, icons and the vendored map library, embedded in the binary. Our own files are revalidated (ETag); vendored ones are cached for a day. Pages are not served under /assets/.",
    params(("path" = String, Path, description = "Asset path below `web/assets/`, e.g. `app.css`, `vendor/leaflet/leaflet.js`")),
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "The asset, with its content type"),
        (status = 304, description = "Not modified (`If-None-Match` matched the ETag)"),
        (status = 404, description = "`not_found`: no such asset.", body = ErrorBody),
    ),
)]
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // Only the pages are served under their own names, not under /assets/.
    if path.ends_with(".html") {
        return ApiError::not_found("asset").into_response();
    }
    serve(&path, &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some((index, asset)) = ASSETS.iter().enumerate().find(|(_, a)| a.path == path) else {
        return ApiError::not_found("asset").into_response();
    };
    let etag = &etags()[index];
    let cache = if asset.path.starts_with("vendor/") {
        CACHE_VENDOR
    } else {
        CACHE_REVALIDATE
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if matches_etag(request, etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (StatusCode::OK, headers, asset.body).into_response()
}

/// `If-None-Match` holds this ETag (or `*`).
fn matches_etag(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(value) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    value
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// One strong ETag per asset, in `ASSETS` order: a hash of its bytes,
/// computed once on first use.
fn etags() -> &'static [HeaderValue] {
    static ETAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let mut hasher = DefaultHasher::new();
                hasher.write(asset.body);
                let tag = format!("\"{:016x}-{:x}\"", hasher.finish(), asset.body.len());
                // Hex digits and quotes are always a valid header value.
                HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\""))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_path_is_unique_and_has_a_body() {
        let mut paths: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), ASSETS.len());
        assert!(ASSETS.iter().all(|a| !a.body.is_empty()));
    }

    #[test]
    fn content_type_follows_the_extension() {
        for asset in ASSETS {
            let expected = match asset.path.rsplit('.').next() {
                Some("html") => HTML,
                Some("css") => CSS,
                Some("js") => JS,
                Some("png") => "image/png",
                Some("svg") => "image/svg+xml",
                other => panic!("no content type for {other:?}"),
            };
            assert_eq!(asset.content_type, expected, "{}", asset.path);
        }
    }

    /// The CSP forbids inline script, so no page may carry one: every
    /// `<script>` must load a file, and no element an `on…=` handler.
    #[test]
    fn pages_have_no_inline_script_and_load_only_embedded_files() {
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".html")) {
            let html = std::str::from_utf8(asset.body).expect("pages are UTF-8");
            for script in html.split("<script").skip(1) {
                let tag_end = script.find('>').expect("closed tag");
                assert!(
                    script[..tag_end].contains("src="),
                    "{}: inline <script>",
                    asset.path
                );
                assert!(
                    script[tag_end + 1..].trim_start().starts_with("</script>"),
                    "{}: script with a body",
                    asset.path
                );
            }
            assert!(!html.contains(" onclick="), "{}", asset.path);
            assert!(!html.contains("<style"), "{}", asset.path);
            assert!(!html.contains("http://") && !html.contains("https://"));
            for reference in html.split("\"/assets/").skip(1) {
                let path = &reference[..reference.find('"').expect("closed attribute")];
                assert!(
                    ASSETS.iter().any(|a| a.path == path),
                    "{} refers to /assets/{path}, which is not embedded",
                    asset.path
                );
            }
        }
    }

    #[test]
    fn an_unchanged_asset_answers_not_modified() {
        let first = serve("app.css", &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].clone();
        let mut request = HeaderMap::new();
        request.insert(header::IF_NONE_MATCH, etag);
        let second = serve("app.css", &request);
        assert_eq!(second.status(), StatusCode::NOT_MODIFIED);
        let mut stale = HeaderMap::new();
        stale.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"old\""));
        assert_eq!(serve("app.css", &stale).status(), StatusCode::OK);
    }

    #[test]
    fn unknown_assets_and_pages_under_assets_are_not_found() {
        assert_eq!(
            serve("nope.js", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            serve("../Cargo.toml", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn every_answer_carries_the_security_headers() {
        let response = serve("console.js", &HeaderMap::new());
        let headers = response.headers();
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'self'"));
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::CONTENT_TYPE], JS);
        assert_eq!(headers[header::CACHE_CONTROL], CACHE_REVALIDATE);
        let vendor = serve("vendor/leaflet/leaflet.js", &HeaderMap::new());
        assert_eq!(vendor.headers()[header::CACHE_CONTROL], CACHE_VENDOR);
    }
}
