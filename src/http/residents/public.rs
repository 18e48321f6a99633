//! What anyone may read without an account: the alerts in force, the live
//! feed of public notices, address lookup, and administrative boundaries
//! for maps. Rate-limited per client; nothing here names a person.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use cap::hazard::classify;
use futures_util::Stream;
use geo::MultiPolygon;
use geodata::codes::Level;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::residents::places::geocode_checked;
use crate::http::residents::quota::PublicQuota;
use crate::http::residents::request::{self, MAX_ADDRESS_CHARS};
use crate::serve::state::AppState;

/// Area names listed per alert before the list is cut (the map shows all).
const AREA_NAMES_MAX: usize = 20;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// Preferred language of the headline (`en`, `zh-TW`, …).
    lang: Option<String>,
}

/// `GET /api/v1/alerts`: every alert in force.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "public",
    extensions(("x-roles" = json!(["anyone"]))),
    operation_id = "publicAlerts",
    summary = "Alerts in force",
    description = "Every alert in force, as a public summary: no account needed. Rate-limited per client address (`public_per_minute`).",
    params(AlertsQuery),
    responses(
        (status = 200, description = "Public summaries", body = crate::schemas::PublicAlerts),
        (status = 429, description = "`rate_limited`: too many requests from this client.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
    ),
)]
pub async fn alerts(
    _quota: PublicQuota,
    State(state): State<AppState>,
    Query(query): Query<AlertsQuery>,
) -> Json<Value> {
    let wanted = query
        .lang
        .as_deref()
        .and_then(notifier::Locale::from_language_tag);
    let alerts: Vec<Value> = state
        .app
        .alerts
        .in_force()
        .iter()
        .map(|alert| {
            let class = classify(alert);
            let info = wanted
                .and_then(|w| {
                    alert
                        .infos
                        .iter()
                        .find(|i| notifier::Locale::from_language_tag(&i.language) == Some(w))
                })
                .or_else(|| alert.infos.first());
            let mut areas: Vec<&str> = alert
                .infos
                .iter()
                .flat_map(|i| i.areas.iter().map(|a| a.area_desc.as_str()))
                .collect();
            areas.sort_unstable();
            areas.dedup();
            let more = areas.len().saturating_sub(AREA_NAMES_MAX);
            areas.truncate(AREA_NAMES_MAX);
            json!({
                "alert_id": crate::engine::alert_id(&crate::engine::alert_key(alert)),
                "sender": alert.sender,
                "sent": alert.sent,
                "msg_type": alert.msg_type,
                "hazard": class.hazard,
                "colour": class.colour,
                "exercise": class.exercise,
                "language": info.map(|i| i.language.as_str()),
                "event": info.map(|i| i.event.as_str()),
                "headline": info.and_then(|i| i.headline.as_deref()),
                "expires": alert.infos.iter().filter_map(|i| i.expires).max(),
                "areas": { "names": areas, "more": more },
            })
        })
        .collect();
    Json(json!({ "alerts": alerts }))
}

/// `GET /api/v1/alerts/live`: public notices as server-sent events, one
/// `notice` event each (JSON). A client that lags loses events and gets a
/// `lagged` event: it should reload `/api/v1/alerts`.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/live",
    tag = "public",
    extensions(("x-roles" = json!(["anyone"]))),
    operation_id = "liveAlerts",
    summary = "Live public notices (server-sent events)",
    description = "Each public notice as a `notice` event whose data is a `LiveEvent` (JSON). A client that falls behind loses events and gets a `lagged` event (`{\"missed\": n}`): it should reload /api/v1/alerts. Rate-limited per client address (`public_per_minute`).",
    responses(
        (status = 200, description = "`notice` events (JSON LiveEvent); `lagged` when events were missed: reload /api/v1/alerts.",
            content_type = "text/event-stream", body = String),
        (status = 429, description = "`rate_limited`: too many requests from this client.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
    ),
)]
pub async fn live(
    _quota: PublicQuota,
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.app.live.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(notice) => Event::default()
                .event("notice")
                .json_data(&notice)
                .unwrap_or_else(|_| Event::default().event("lagged").data("{}")),
            Err(broadcast::error::RecvError::Lagged(missed)) => Event::default()
                .event("lagged")
                .data(json!({ "missed": missed }).to_string()),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), receiver))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GeocodeQuery {
    // Optional to the query-string reader so that its absence is
    // `invalid_field` naming `address`; required in effect.
    /// Taiwanese address.
    #[param(required = true, max_length = 200)]
    address: Option<String>,
}

/// `GET /api/v1/geocode?address=...`
#[utoipa::path(
    get,
    path = "/api/v1/geocode",
    tag = "public",
    extensions(("x-roles" = json!(["anyone"]))),
    operation_id = "geocode",
    summary = "Look up an address",
    description = "Geocodes a Taiwanese address: never a silent guess. Unknown: `address_not_found`; several places: `address_ambiguous` with the candidates in `details`; missing or longer than 200 characters: `invalid_field`. Rate-limited per client address (`public_per_minute`).",
    params(GeocodeQuery),
    responses(
        (status = 200, description = "The place found", body = crate::schemas::GeocodeResult),
        (status = 422, description = "`invalid_field`, `address_not_found`, `address_ambiguous` (candidates in `details`).", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests from this client.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
    ),
)]
pub async fn geocode(
    _quota: PublicQuota,
    State(state): State<AppState>,
    Query(query): Query<GeocodeQuery>,
) -> ApiResult<Json<Value>> {
    let address = query.address.as_deref().ok_or_else(|| {
        ApiError::field(
            ErrorCode::InvalidField,
            "address",
            "give the address to look up",
        )
    })?;
    let address = request::text(address, "address", MAX_ADDRESS_CHARS)?;
    let found = geocode_checked(
        &state.app.atlas,
        state.app.gazetteer.as_deref(),
        &address,
        "address",
    )?;
    let name = |code: Option<&str>| {
        code.and_then(|c| state.app.atlas.area(c))
            .map(|a| json!({ "code": a.code, "name": a.name, "name_en": a.name_en }))
    };
    Ok(Json(json!({
        "candidates": [{
            "county": name(Some(&found.county_code)),
            "town": name(Some(&found.town_code)),
            "village": name(found.village_code.as_deref()),
            "lon": found.lon,
            "lat": found.lat,
            "precision": found.precision,
        }]
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreasQuery {
    /// County or town code; none: the counties.
    parent: Option<String>,
}

/// `GET /api/v1/geo/areas?parent=CODE`: the counties, or the towns of a
/// county, or the villages of a town, as a GeoJSON FeatureCollection.
#[utoipa::path(
    get,
    path = "/api/v1/geo/areas",
    tag = "public",
    extensions(("x-roles" = json!(["anyone"]))),
    operation_id = "areas",
    summary = "Administrative boundaries",
    description = "The counties, or the towns of a county, or the villages of a town, as a GeoJSON FeatureCollection for maps. Rate-limited per client address (`public_per_minute`).",
    params(AreasQuery),
    responses(
        (status = 200, description = "Counties, or the towns of a county, or the villages of a town",
            content_type = "application/geo+json", body = crate::schemas::AreaCollection),
        (status = 404, description = "`not_found`: no area has this code.", body = ErrorBody),
        (status = 422, description = "`invalid_field` (`parent`): villages have no smaller areas.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests from this client.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
    ),
)]
pub async fn areas(
    _quota: PublicQuota,
    State(state): State<AppState>,
    Query(query): Query<AreasQuery>,
) -> ApiResult<Response> {
    let atlas = &state.app.atlas;
    let children: Vec<&geodata::model::Area> = match query.parent.as_deref() {
        None => atlas.counties().iter().collect(),
        Some(code) => {
            let parent = atlas
                .area(code)
                .ok_or_else(|| ApiError::not_found("area"))?;
            match parent.level {
                Level::County => atlas.towns_within(&parent.code).iter().collect(),
                Level::Town => atlas
                    .villages()
                    .iter()
                    .filter(|v| v.town_code.as_deref() == Some(parent.code.as_str()))
                    .collect(),
                _ => {
                    return Err(ApiError::field(
                        ErrorCode::InvalidField,
                        "parent",
                        "villages have no smaller areas",
                    ));
                }
            }
        }
    };
    let features: Vec<Value> = children
        .iter()
        .map(|a| {
            json!({
                "type": "Feature",
                "properties": {
                    "code": a.code,
                    "name": a.name,
                    "name_en": a.name_en,
                    "level": a.level,
                },
                "geometry": geometry(&a.geometry),
            })
        })
        .collect();
    let body = json!({ "type": "FeatureCollection", "features": features });
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response())
}

/// A MultiPolygon as RFC 7946 GeoJSON geometry.
fn geometry(shape: &MultiPolygon<f64>) -> Value {
    let ring =
        |r: &geo::LineString<f64>| -> Vec<[f64; 2]> { r.0.iter().map(|c| [c.x, c.y]).collect() };
    let polygons: Vec<Vec<Vec<[f64; 2]>>> = shape
        .0
        .iter()
        .map(|p| {
            std::iter::once(ring(p.exterior()))
                .chain(p.interiors().iter().map(ring))
                .collect()
        })
        .collect();
    json!({ "type": "MultiPolygon", "coordinates": polygons })
}
