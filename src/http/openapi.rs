//! The OpenAPI 3.1 document of every route, served at `/openapi.json`.
//!
//! It is generated, not written: each handler carries a `#[utoipa::path]`
//! annotation (method, path, tag, parameters, body, every status it
//! answers, security, the roles admitted as `x-roles`), and each route
//! group registers its handlers with `routes!`, which routes a handler by
//! its annotation. [`crate::http::routes`] merges the groups; the server routes
//! what it returns and [`document`] is built from the same function, so a
//! route cannot be served without being documented. `clippy.toml` forbids
//! registering a route any other way.
//!
//! The tests below read the router: every documented path and method is
//! answered, and every other method on those paths is refused with 405.
//! They also take one pass through the API (a resident, an operator, an
//! issuer sending an alert) and check that each answer's status is
//! documented and its body fits the documented schema: many bodies are
//! built with `json!` and described apart from the code that writes them
//! (`crate::schemas`).

use std::sync::OnceLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, Paths,
};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::schemas::LiveEvent;
use crate::serve::state::AppState;

/// What every reader needs before the operations: the errors' shape and
/// codes, body limits, rate limits.
const ABOUT: &str = "Disaster alerts for Taiwan: residents subscribe; emergency offices issue; village chiefs relay; operators run it.\n\n\
Errors are JSON `{\"error\":{\"code\",\"message\",\"field\"?,\"details\"?}}` (schema `Error`); `code` is stable. Codes and statuses: `malformed_request` 400, `invalid_field` 422, `address_not_found` 422, `address_ambiguous` 422, `outside_coverage` 422, `unauthenticated` 401, `forbidden` 403, `csrf_rejected` 403, `not_found` 404, `method_not_allowed` 405, `conflict` 409, `cap_rejected` 422, `payload_too_large` 413, `rate_limited` 429, `unavailable` 503, `internal` 500. Every error has this shape, those raised before a handler runs included (a bad query string names the parameter in `field`; no error message repeats a submitted value). Bodies are limited in size (`payload_too_large`, 413): resident routes 16 KiB, other JSON routes `server.body_limit`, CAP uploads `server.cap_body_limit`. Public and resident routes are rate-limited per client (`rate_limited`, 429, with `Retry-After`).\n\n\
Each operation lists the roles admitted in `x-roles`: `anyone`, `resident` (a device key), or staff roles `issuer`, `supervisor`, `village_chief`, `operator`. Staff objects outside the caller's jurisdiction are refused, or not disclosed at all (404).";

/// The document's frame: info, tags, security schemes and the `Error`
/// schema. The route groups add the operations.
pub fn base() -> OpenApi {
    let tag = |name: &str, description: &str| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    };
    let components = ComponentsBuilder::new()
        .schema(ErrorBody::name(), ErrorBody::schema())
        // Named by the live feed's description: its events are text.
        .schema(LiveEvent::name(), LiveEvent::schema())
        .security_scheme(
            "deviceKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The device key returned once by POST /api/v1/subscribers.",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::http::staff::auth::SESSION_COOKIE,
                "From POST /api/v1/auth/login.",
            ))),
        )
        .security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The login's csrf_token; required with the session cookie on every unsafe method.",
            ))),
        )
        .security_scheme(
            "apiToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "API token of an account (a login with `bearer`), for machine clients (no CSRF).",
                    ))
                    .build(),
            ),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(env!("CARGO_PKG_NAME"))
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(ABOUT))
                .license(Some(
                    LicenseBuilder::new()
                        .name(env!("CARGO_PKG_LICENSE"))
                        .identifier(Some(env!("CARGO_PKG_LICENSE")))
                        .build(),
                ))
                .build(),
        )
        .tags(Some([
            tag("residents", "A resident's own data, by device key."),
            tag("public", "What anyone may read, rate-limited per client."),
            tag("auth", "Staff login and sessions."),
            tag("drafts", "Composing, approving and sending alerts."),
            tag("alerts", "Changing and following alerts sent."),
            tag("shelters", "Opening and closing shelters."),
            tag("chiefs", "Village chiefs' relay lists."),
            tag("operators", "Accounts and the audit log."),
            tag("ops", "Health, readiness, metrics and this document."),
            tag("pages", "The web pages and their assets."),
        ]))
        .components(Some(components))
        .build()
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(serve_document))
}

/// The document as served, built once from [`crate::http::routes`]: the same
/// routes the server registers.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // The body limit is no part of the document.
        let (_, openapi) =
            crate::http::routes(crate::serve::config::DEFAULT_BODY_LIMIT).split_for_parts();
        let openapi = finish(openapi);
        openapi.to_json().unwrap_or_else(|error| {
            // A document of strings and maps always serializes; should it
            // not, the route still answers JSON.
            tracing::error!(%error, "the OpenAPI document could not be written");
            "{}".to_owned()
        })
    })
}

/// What `routes!` leaves in axum's form: a catch-all `{*name}` is
/// OpenAPI's `{name}`.
fn finish(mut openapi: OpenApi) -> OpenApi {
    let mut paths = Paths::new();
    for (path, item) in std::mem::take(&mut openapi.paths.paths) {
        paths.paths.insert(path.replace("{*", "{"), item);
    }
    paths.extensions = openapi.paths.extensions.take();
    openapi.paths = paths;
    openapi
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "ops",
    operation_id = "openapi",
    summary = "This document",
    description = "The OpenAPI 3.1 document of every route, generated from the handlers (cached for five minutes).",
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object),
    ),
)]
async fn serve_document() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        document(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;
    use crate::error::ErrorCode;
    use crate::run::{self, ServeOptions};
    use crate::serve::config::ServeConfig;

    fn doc() -> Value {
        serde_json::from_str(document()).expect("the document is JSON")
    }

    /// Every operation: (path, method, operation).
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                if [
                    "get", "put", "post", "delete", "patch", "head", "options", "trace",
                ]
                .contains(&method.as_str())
                {
                    out.push((path.clone(), method.clone(), operation.clone()));
                }
            }
        }
        out
    }

    /// A documented path with example values for its parameters: values
    /// for which no handler answers 404 to an anonymous caller (they are
    /// refused for want of credentials before anything is looked up).
    fn concrete(path: &str) -> String {
        path.replace("{path}", "app.css")
            .replace("{alert_id}", "0123456789abcdef")
            .replace("{village}", "99000010001")
            .replace("{id}", "1")
    }

    /// The server's router over a demo service (ephemeral store).
    async fn served() -> axum::Router {
        served_with_state().await.0
    }

    async fn served_with_state() -> (axum::Router, crate::serve::AppState) {
        let config = ServeConfig::load(None, Vec::new()).expect("the default configuration");
        let options = ServeOptions {
            demo: true,
            ..ServeOptions::default()
        };
        let service = run::build(config, &options)
            .await
            .expect("the demo service builds");
        let state = service.state.clone();
        (crate::http::router(state.clone()), state)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_route_is_documented_read_from_the_router() {
        let doc = doc();
        let router = served().await;
        let methods = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ];
        let documented: BTreeSet<(String, String)> = operations(&doc)
            .into_iter()
            .map(|(path, method, _)| (path, method.to_uppercase()))
            .collect();
        let paths: BTreeSet<&String> = documented.iter().map(|(p, _)| p).collect();
        assert!(paths.len() >= 40, "only {} paths documented", paths.len());
        let mut wrong = Vec::new();
        for path in paths {
            let uri = concrete(path);
            assert!(!uri.contains('{'), "no example value for {path}");
            for method in &methods {
                let request = Request::builder()
                    .method(method.clone())
                    .uri(&uri)
                    .body(Body::empty())
                    .expect("a request");
                let status = router
                    .clone()
                    .oneshot(request)
                    .await
                    .expect("the router answers")
                    .status();
                let is_documented = documented.contains(&(path.clone(), method.to_string()));
                let routed =
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED;
                if is_documented && !routed {
                    wrong.push(format!("{method} {uri}: documented, answered {status}"));
                }
                if !is_documented && status != StatusCode::METHOD_NOT_ALLOWED {
                    wrong.push(format!("{method} {uri}: undocumented, answered {status}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));

        // A path nobody documented is not routed at all.
        let request = Request::builder()
            .uri("/api/v1/undocumented")
            .body(Body::empty())
            .expect("a request");
        let status = router.oneshot(request).await.expect("answers").status();
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn the_document_is_served_as_built() {
        // The handler needs no state.
        let response = serve_document().await.into_response();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        assert_eq!(body, document().as_bytes());
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
    fn the_document_is_openapi_3_1_of_this_package() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], env!("CARGO_PKG_NAME"));
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        for scheme in ["deviceKey", "session", "csrf", "apiToken"] {
            assert!(
                doc["components"]["securitySchemes"][scheme].is_object(),
                "{scheme}"
            );
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = doc();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 50, "only {} references", all.len());
        for r in all {
            let pointer = r.strip_prefix('#').expect("a local reference");
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
    }

    #[test]
    fn every_error_code_is_listed_in_the_error_schema() {
        let doc = doc();
        let listed = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
            ["code"]["enum"]
            .as_array()
            .expect("Error lists the codes as an enum")
            .clone();
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
        // Adding a code breaks this match: add it to `codes` too.
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
            let name = serde_json::to_value(code).expect("a code serializes");
            assert!(listed.contains(&name), "{name} not in the Error schema");
            let about = doc["info"]["description"].as_str().unwrap_or("");
            let status = code.status().as_u16();
            assert!(
                about.contains(&format!("`{}` {status}", name.as_str().unwrap_or(""))),
                "{name} {status} not in the document's description"
            );
        }
        assert_eq!(listed.len(), codes.len());
    }

    #[test]
    fn every_operation_is_described() {
        let doc = doc();
        let tags: BTreeSet<&str> = doc["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        let roles = [
            "anyone",
            "resident",
            "issuer",
            "supervisor",
            "village_chief",
            "operator",
        ];
        let mut ids = BTreeSet::new();
        for (path, method, op) in operations(&doc) {
            let at = format!("{method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{at}: no success"
            );
            let tag = op["tags"][0].as_str().unwrap_or("");
            assert!(tags.contains(tag), "{at}: tag {tag:?} not declared");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{at}: no summary"
            );
            assert!(
                ids.insert(op["operationId"].as_str().unwrap_or("").to_owned()),
                "{at}: operationId missing or not unique"
            );
            let admitted = op["x-roles"].as_array().expect("x-roles");
            assert!(!admitted.is_empty(), "{at}: x-roles empty");
            for role in admitted {
                assert!(
                    roles.contains(&role.as_str().unwrap_or("")),
                    "{at}: unknown role {role}"
                );
            }
            // Who is admitted and how they prove it agree.
            let anyone = admitted.iter().any(|r| r == "anyone");
            assert_eq!(op["security"].is_array(), !anyone, "{at}: security");
            // Every refusal has the API's error shape, with its codes said
            // (but /readyz's 503, which lists the reasons it is not ready).
            for (status, response) in responses {
                let readiness = path == "/readyz" && status == "503";
                if (status.starts_with('4') || status.starts_with('5')) && !readiness {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error",
                        "{at} {status}"
                    );
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| d.contains('`')),
                        "{at} {status}: the description names no error code"
                    );
                }
            }
        }
    }

    #[test]
    fn catch_all_paths_are_documented_in_openapi_form() {
        let doc = doc();
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.keys().all(|p| !p.contains('*')));
        let asset = &paths["/assets/{path}"]["get"];
        assert_eq!(asset["parameters"][0]["name"], "path");
    }

    #[test]
    fn the_documented_limits_are_the_enforced_ones() {
        use crate::http::residents::request::{
            MAX_ADDRESS_CHARS, MAX_DEVICES, MAX_LABEL_CHARS, MAX_LOCATION_TTL_MINUTES, MAX_PLACES,
            MAX_RELAY_NAME_CHARS, MAX_RELAY_NOTE_CHARS,
        };
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let n = |v: &Value| v.as_u64().map(|n| n as usize);
        let register = &schemas["RegisterRequest"]["properties"];
        assert_eq!(n(&register["devices"]["maxItems"]), Some(MAX_DEVICES));
        assert_eq!(n(&register["places"]["maxItems"]), Some(MAX_PLACES));
        let location = &schemas["LocationRequest"]["properties"];
        assert_eq!(
            location["ttl_minutes"]["maximum"].as_u64(),
            Some(u64::from(MAX_LOCATION_TTL_MINUTES))
        );
        let relay = &schemas["RelayRequest"]["properties"];
        assert_eq!(n(&relay["name"]["maxLength"]), Some(MAX_RELAY_NAME_CHARS));
        assert_eq!(n(&relay["note"]["maxLength"]), Some(MAX_RELAY_NOTE_CHARS));
        let by_address = &schemas["PlaceRequest"]["oneOf"][0]["properties"];
        assert_eq!(n(&by_address["label"]["maxLength"]), Some(MAX_LABEL_CHARS));
        assert_eq!(
            n(&by_address["address"]["maxLength"]),
            Some(MAX_ADDRESS_CHARS)
        );
    }

    /// Where `value` departs from `schema` (properties unknown to it,
    /// required ones missing, values outside an enum, wrong types).
    fn departures(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        if let Some(r) = schema["$ref"].as_str() {
            let target = doc
                .pointer(r.trim_start_matches('#'))
                .expect("a resolving reference");
            return departures(doc, target, value, at, out);
        }
        if let Some(options) = schema["oneOf"].as_array() {
            let fits = options.iter().any(|option| {
                let mut found = Vec::new();
                departures(doc, option, value, at, &mut found);
                found.is_empty()
            });
            if !fits {
                out.push(format!("{at}: fits no oneOf option: {value}"));
            }
            return;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            out.push(format!("{at}: {value} not in the enum"));
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let type_fits = types.is_empty()
            || types.contains(&kind)
            || (kind == "integer" && types.contains(&"number"));
        if !type_fits {
            out.push(format!("{at}: a {kind}, documented as {types:?}"));
            return;
        }
        match value {
            Value::Object(map) => {
                let properties = schema["properties"].as_object();
                if let Some(properties) = properties {
                    for (key, item) in map {
                        match properties.get(key) {
                            Some(s) => departures(doc, s, item, &format!("{at}.{key}"), out),
                            None => out.push(format!("{at}.{key}: not documented")),
                        }
                    }
                }
                for key in schema["required"].as_array().into_iter().flatten() {
                    if let Some(key) = key.as_str()
                        && !map.contains_key(key)
                    {
                        out.push(format!("{at}.{key}: required, missing"));
                    }
                }
                if let Some(values) = schema["additionalProperties"].as_object() {
                    for (key, item) in map {
                        let values = Value::Object(values.clone());
                        departures(doc, &values, item, &format!("{at}.{key}"), out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    departures(doc, &schema["items"], item, &format!("{at}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    /// Sends a request to the router and checks the answer against the
    /// document: its status is documented for the operation, and a JSON
    /// body fits the documented schema. Returns the status and body.
    struct Caller<'a> {
        router: &'a axum::Router,
        doc: &'a Value,
        departures: Vec<String>,
        checked: usize,
    }

    impl Caller<'_> {
        async fn call(
            &mut self,
            method: Method,
            template: &str,
            uri: &str,
            bearer: Option<&str>,
            body: Option<Value>,
        ) -> (StatusCode, Value) {
            let mut request = Request::builder().method(method.clone()).uri(uri);
            if let Some(token) = bearer {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let request = match body {
                Some(body) => request
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string())),
                None => request.body(Body::empty()),
            }
            .expect("a request");
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router answers");
            let status = response.status();
            let is_json = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("json"));
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body");
            let body: Value = if is_json && !bytes.is_empty() {
                serde_json::from_slice(&bytes).expect("a JSON body")
            } else {
                Value::Null
            };
            let at = format!("{method} {template} {status}");
            let documented = &self.doc["paths"][template][method.as_str().to_lowercase()]["responses"]
                [status.as_str()];
            if documented.is_null() {
                self.departures
                    .push(format!("{at}: status not documented: {body}"));
            } else if is_json {
                let content = documented["content"]
                    .as_object()
                    .and_then(|c| c.values().next())
                    .map(|c| c["schema"].clone())
                    .unwrap_or(Value::Null);
                departures(self.doc, &content, &body, &at, &mut self.departures);
            }
            self.checked += 1;
            (status, body)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_fit_their_documented_status_and_body() {
        let doc = doc();
        let (router, state) = served_with_state().await;
        let mut c = Caller {
            router: &router,
            doc: &doc,
            departures: Vec::new(),
            checked: 0,
        };
        use Method as M;

        // Public and operator reads.
        c.call(M::GET, "/healthz", "/healthz", None, None).await;
        c.call(M::GET, "/readyz", "/readyz", None, None).await;
        c.call(
            M::GET,
            "/api/v1/alerts",
            "/api/v1/alerts?lang=en",
            None,
            None,
        )
        .await;
        let areas = "/api/v1/geo/areas";
        c.call(M::GET, areas, "/api/v1/geo/areas?parent=99000", None, None)
            .await;
        c.call(M::GET, "/api/v1/geocode", "/api/v1/geocode", None, None)
            .await;

        // A resident, by the key registration returns.
        let atlas = geodata::demo::atlas();
        let village = atlas
            .villages()
            .iter()
            .find(|v| v.code.starts_with("99000010"))
            .expect("a demo village");
        let point = village.label_point.expect("a label point");
        let place = json!({"label": "home", "lon": point.x, "lat": point.y});
        let registration = json!({"locale": "en", "places": [place]});
        let (status, registered) = c
            .call(
                M::POST,
                "/api/v1/subscribers",
                "/api/v1/subscribers",
                None,
                Some(registration),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let key = registered["key"].as_str().expect("a key").to_owned();
        let key = Some(key.as_str());
        c.call(M::GET, "/api/v1/me", "/api/v1/me", key, None).await;
        let patch = json!({"preferences": {"kinds": ["flood"], "quiet_hours": {"start": "22:00", "end": "07:00"}}});
        c.call(M::PATCH, "/api/v1/me", "/api/v1/me", key, Some(patch))
            .await;
        let second = json!({"label": "work", "lon": point.x, "lat": point.y});
        c.call(
            M::POST,
            "/api/v1/me/places",
            "/api/v1/me/places",
            key,
            Some(second),
        )
        .await;
        let share = json!({"lon": point.x, "lat": point.y, "ttl_minutes": 30});
        c.call(
            M::PUT,
            "/api/v1/me/location",
            "/api/v1/me/location",
            key,
            Some(share),
        )
        .await;
        let relay = json!({"name": "Chen", "phone": "+886912345678", "note": "upstairs"});
        c.call(
            M::PUT,
            "/api/v1/me/relay",
            "/api/v1/me/relay",
            key,
            Some(relay),
        )
        .await;
        c.call(M::GET, "/api/v1/me", "/api/v1/me", key, None).await;
        c.call(M::GET, "/api/v1/me/alerts", "/api/v1/me/alerts", key, None)
            .await;
        c.call(M::GET, "/api/v1/me/inbox", "/api/v1/me/inbox", key, None)
            .await;
        let place = "/api/v1/me/places/{id}";
        c.call(M::DELETE, place, "/api/v1/me/places/9", key, None)
            .await;
        c.call(M::DELETE, place, "/api/v1/me/places/1", key, None)
            .await;
        let bad = json!({"lon": 500.0, "lat": point.y, "ttl_minutes": 30});
        c.call(
            M::PUT,
            "/api/v1/me/location",
            "/api/v1/me/location",
            key,
            Some(bad),
        )
        .await;

        // Staff: an operator (bootstrapped), an issuer they create.
        let password = "correct horse battery staple";
        crate::http::staff::auth::bootstrap_operator(
            state.app.storage.as_ref(),
            &state.logins.pool,
            &format!("root:{password}"),
        )
        .await
        .expect("an operator");
        let login =
            |username: &str| json!({"username": username, "password": password, "bearer": true});
        let (status, session) = c
            .call(
                M::POST,
                "/api/v1/auth/login",
                "/api/v1/auth/login",
                None,
                Some(login("root")),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        let operator = session["token"].as_str().expect("a token").to_owned();
        let operator = Some(operator.as_str());
        c.call(M::GET, "/api/v1/auth/me", "/api/v1/auth/me", operator, None)
            .await;
        let issuer = json!({"username": "issuer-a", "password": password, "role": "issuer", "jurisdiction": ["99000"], "office": "office-a"});
        c.call(
            M::POST,
            "/api/v1/accounts",
            "/api/v1/accounts",
            operator,
            Some(issuer),
        )
        .await;
        c.call(
            M::GET,
            "/api/v1/accounts",
            "/api/v1/accounts",
            operator,
            None,
        )
        .await;
        c.call(
            M::GET,
            "/api/v1/audit",
            "/api/v1/audit?limit=5",
            operator,
            None,
        )
        .await;
        c.call(M::GET, "/api/v1/drafts", "/api/v1/drafts", operator, None)
            .await;
        let (status, session) = c
            .call(
                M::POST,
                "/api/v1/auth/login",
                "/api/v1/auth/login",
                None,
                Some(login("issuer-a")),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        let issuer = session["token"].as_str().expect("a token").to_owned();
        let issuer = Some(issuer.as_str());
        let form = json!({
            "hazard": "flood", "area": {"codes": ["99000010"]},
            "severity": "Severe", "urgency": "Immediate", "certainty": "Likely",
            "colour": "orange",
            "texts": {"zh-TW": {"headline": "測試", "instruction": "請留意"}},
            "expires": "2099-01-01T00:00:00+08:00", "exercise": true,
        });
        let (status, draft) = c
            .call(
                M::POST,
                "/api/v1/drafts",
                "/api/v1/drafts",
                issuer,
                Some(form),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{draft}");
        let id = draft["id"].as_str().expect("a draft id").to_owned();
        c.call(M::GET, "/api/v1/drafts", "/api/v1/drafts", issuer, None)
            .await;
        let one = format!("/api/v1/drafts/{id}");
        c.call(M::GET, "/api/v1/drafts/{id}", &one, issuer, None)
            .await;
        let preview = format!("/api/v1/drafts/{id}/preview");
        c.call(
            M::GET,
            "/api/v1/drafts/{id}/preview",
            &preview,
            issuer,
            None,
        )
        .await;
        let approve = format!("/api/v1/drafts/{id}/approve");
        c.call(
            M::POST,
            "/api/v1/drafts/{id}/approve",
            &approve,
            issuer,
            None,
        )
        .await;
        let (_, shelters) = c
            .call(M::GET, "/api/v1/shelters", "/api/v1/shelters", issuer, None)
            .await;
        if let Some(shelter) = shelters["shelters"][0]["id"].as_str() {
            let open = format!("/api/v1/shelters/{shelter}/open");
            c.call(M::POST, "/api/v1/shelters/{id}/open", &open, issuer, None)
                .await;
        }
        let send = format!("/api/v1/drafts/{id}/send");
        let (status, sent) = c
            .call(M::POST, "/api/v1/drafts/{id}/send", &send, issuer, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let alert = sent["alert_id"].as_str().expect("an alert id").to_owned();
        let progress = format!("/api/v1/alerts/{alert}/progress");
        c.call(
            M::GET,
            "/api/v1/alerts/{alert_id}/progress",
            &progress,
            issuer,
            None,
        )
        .await;
        let recovery = format!("/api/v1/alerts/{alert}/recovery");
        c.call(
            M::POST,
            "/api/v1/alerts/{alert_id}/recovery",
            &recovery,
            issuer,
            None,
        )
        .await;
        let correct = format!("/api/v1/alerts/{alert}/correct");
        c.call(
            M::POST,
            "/api/v1/alerts/{alert_id}/correct",
            &correct,
            issuer,
            Some(json!({})),
        )
        .await;
        c.call(
            M::POST,
            "/api/v1/alerts/{alert_id}/correct",
            &correct,
            issuer,
            Some(json!({})),
        )
        .await;
        c.call(M::GET, "/api/v1/relay", "/api/v1/relay", issuer, None)
            .await;
        c.call(M::DELETE, "/api/v1/me", "/api/v1/me", key, None)
            .await;

        assert!(c.checked >= 30, "only {} answers checked", c.checked);
        assert!(
            c.departures.is_empty(),
            "answers that depart from the document:\n{}",
            c.departures.join("\n")
        );
    }

    #[test]
    fn the_body_check_finds_departures() {
        let doc = json!({"components": {"schemas": {"A": {
            "type": "object",
            "required": ["n"],
            "properties": {"n": {"type": "integer"}, "c": {"type": "string", "enum": ["x"]}},
        }}}});
        let schema = json!({"$ref": "#/components/schemas/A"});
        let mut found = Vec::new();
        departures(&doc, &schema, &json!({"n": 1, "c": "x"}), "", &mut found);
        assert!(found.is_empty(), "{found:?}");
        departures(
            &doc,
            &schema,
            &json!({"c": "y", "extra": true}),
            "",
            &mut found,
        );
        assert_eq!(found.len(), 3, "{found:?}");
        found.clear();
        departures(&doc, &schema, &json!({"n": "one"}), "", &mut found);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn the_documented_words_are_accepted() {
        use crate::http::residents::request::{self, PreferencesRequest};
        let doc = doc();
        let words = |name: &str| -> Vec<String> {
            doc["components"]["schemas"][name]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} is an enum"))
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        for tag in words("Locale") {
            // Accepted, and already in the form it is stored in.
            assert_eq!(request::locale(&tag, "locale").ok(), Some(tag.clone()));
        }
        let accepted = |preferences: PreferencesRequest| {
            request::preferences(preferences, "preferences").is_ok()
        };
        for kind in words("Hazard") {
            let kinds = vec![kind.clone()];
            assert!(
                accepted(PreferencesRequest {
                    kinds,
                    ..Default::default()
                }),
                "{kind}"
            );
        }
        for colour in words("Colour") {
            let min_colour = Some(colour.clone());
            assert!(
                accepted(PreferencesRequest {
                    min_colour,
                    ..Default::default()
                }),
                "{colour}"
            );
        }
        for intensity in words("Intensity") {
            let min_intensity = Some(intensity.clone());
            assert!(
                accepted(PreferencesRequest {
                    min_intensity,
                    ..Default::default()
                }),
                "{intensity}"
            );
        }
        for rainfall in words("Rainfall") {
            let min_rainfall = Some(rainfall.clone());
            assert!(
                accepted(PreferencesRequest {
                    min_rainfall,
                    ..Default::default()
                }),
                "{rainfall}"
            );
        }
        assert_eq!(words("Rainfall"), request::RAINFALL_LEVELS);
    }
}
