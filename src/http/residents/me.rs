//! Registration, and everything residents do to their own data: read it,
//! change locale, devices and preferences, add and remove places, share a
//! location for a while, ask for a relay call, read their alerts and
//! inbox, and delete it all.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{CurrentLocation, NewAuditEntry, SubscriberRecord};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::residents::auth::{Resident, new_device_key, new_subscriber_id};
use crate::http::residents::body::ApiJson;
use crate::http::residents::places::{self, PlaceView};
use crate::http::residents::quota::SubscribeQuota;
use crate::http::residents::request::{
    self, LocationRequest, MAX_LOCATION_TTL_MINUTES, PatchRequest, PlaceRequest, RegisterRequest,
    RelayRequest,
};
use crate::schemas;
use crate::serve::state::AppState;

/// Inbox entries returned when no `limit` is given, and at most.
const INBOX_DEFAULT: usize = 50;
const INBOX_MAX: usize = 500;

#[derive(Serialize, ToSchema)]
struct Registered {
    /// Pseudonymous subscriber id.
    id: String,
    /// The device key (256 bits, base64url): shown once, stored only as
    /// its hash; send as `Authorization: Bearer <key>`.
    key: String,
    places: Vec<PlaceView>,
}

/// `POST /api/v1/subscribers`
#[utoipa::path(
    post,
    path = "/api/v1/subscribers",
    tag = "residents",
    operation_id = "register",
    summary = "Register a device",
    description = "Creates a subscriber and returns its device key, once. Places by address are geocoded (`address_not_found`, `address_ambiguous` with candidates in `details`), by point located (`outside_coverage`). Rate-limited per client address (`subscribe_per_minute`). Anyone may register.",
    request_body(content = RegisterRequest, content_type = "application/json"),
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 201, description = "Registered; the key is shown only now.", body = Registered),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: resident bodies are limited to 16 KiB.", body = ErrorBody),
        (status = 422, description = "`invalid_field` (a value not allowed; `field` names it), `address_not_found`, `address_ambiguous` (candidates in `details`), `outside_coverage`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many registrations from this address (`subscribe_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn register(
    _quota: SubscribeQuota,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<Response> {
    let locale = request::locale(&body.locale, "locale")?;
    let webhooks = state.config.channels.webhook_policy();
    let devices = request::devices(body.devices, "devices", &webhooks)?;
    let preferences = request::preferences(body.preferences.unwrap_or_default(), "preferences")?;
    let resolved = places::resolve_all(
        &body.places,
        &state.app.atlas,
        state.app.gazetteer.as_deref(),
    )?;
    let (key, key_hash) = new_device_key();
    let record = SubscriberRecord {
        id: new_subscriber_id(),
        created_at: state.app.clock.now(),
        key_hash,
        locale,
        devices,
        places: resolved.iter().map(|(p, _)| p.clone()).collect(),
        location: None,
        preferences,
        relay: None,
    };
    let record = state.app.subscribers.create(record).await?;
    state
        .residents
        .keys
        .insert(key_hash, record.id.clone(), state.app.clock.now());
    tracing::info!(subscriber = %record.id.0, places = record.places.len(), "subscriber registered");
    let places = resolved
        .iter()
        .map(|(p, precision)| PlaceView::of(p, &state.app.atlas, Some(precision)))
        .collect();
    let body = Registered {
        id: record.id.0,
        key,
        places,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Loads the authenticated resident's record (to read it; changes go
/// through [`edit`]).
async fn load(state: &AppState, resident: &Resident) -> ApiResult<SubscriberRecord> {
    state
        .app
        .storage
        .subscriber(&resident.id)
        .await?
        .ok_or_else(unknown_key)
}

/// Changes the authenticated resident's record through the one subscriber
/// write path (see [`app::subscribers`]); `change` returns whether
/// there is anything to write.
async fn edit(
    state: &AppState,
    resident: &Resident,
    change: impl FnOnce(&mut SubscriberRecord) -> ApiResult<bool>,
) -> ApiResult<SubscriberRecord> {
    state
        .app
        .subscribers
        .edit(&resident.id, change)
        .await?
        .ok_or_else(unknown_key)
}

/// A key whose subscriber is gone (deleted by another request meanwhile).
fn unknown_key() -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, "unknown device key")
}

/// The owner's own view of their record, personal data included.
fn view(record: &SubscriberRecord, state: &AppState) -> Value {
    let now = state.app.clock.now();
    let location = record
        .location
        .as_ref()
        .filter(|l| l.expires > now)
        .map(|l| json!({ "lon": l.lon, "lat": l.lat, "at": l.at, "expires": l.expires }));
    let p = &record.preferences;
    json!({
        "id": record.id.0,
        "created_at": record.created_at,
        "locale": record.locale,
        "devices": record.devices.iter().map(|d| json!({
            "channel": d.channel,
            "address": d.address.expose(),
            "has_secret": d.secret.is_some(),
        })).collect::<Vec<_>>(),
        "places": record.places.iter().map(|p| PlaceView::of(p, &state.app.atlas, None)).collect::<Vec<_>>(),
        "location": location,
        "preferences": {
            "kinds": p.kinds,
            "min_colour": p.min_colour,
            "min_intensity": p.min_intensity,
            "min_rainfall": p.min_rainfall,
            "languages": p.languages,
            "exercises": p.exercises,
            "quiet_hours": p.quiet_hours.as_ref().map(|(start, end)| json!({"start": start, "end": end})),
        },
        "relay": record.relay.as_ref().map(|r| json!({
            "name": r.name.expose(),
            "phone": r.phone.as_ref().map(|s| s.expose()),
            "note": r.note.as_ref().map(|s| s.expose()),
            "village": r.village,
        })),
    })
}

/// The body [`view`] writes, for the OpenAPI document.
#[derive(ToSchema)]
#[schema(as = Me, description = "A resident's own record, personal data included.")]
#[allow(
    dead_code,
    reason = "describes a body for the OpenAPI document; never built"
)]
struct MeBody {
    /// Pseudonymous subscriber id.
    id: String,
    created_at: chrono::DateTime<chrono::Utc>,
    locale: schemas::Locale,
    devices: Vec<schemas::DeviceView>,
    places: Vec<PlaceView>,
    /// Only while it has not expired.
    location: Option<schemas::Location>,
    preferences: schemas::Preferences,
    relay: Option<schemas::Relay>,
}

/// `GET /api/v1/me`
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "residents",
    operation_id = "showMe",
    summary = "My data, personal data included",
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 200, description = "The record", body = MeBody),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn show(resident: Resident, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let record = load(&state, &resident).await?;
    Ok(Json(view(&record, &state)))
}

/// `PATCH /api/v1/me`: replaces what is given.
#[utoipa::path(
    patch,
    path = "/api/v1/me",
    tag = "residents",
    operation_id = "updateMe",
    summary = "Change locale, devices or preferences",
    description = "Only the fields given change; `devices` replaces every device.",
    request_body(content = PatchRequest, content_type = "application/json"),
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 200, description = "The record after the change", body = MeBody),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: resident bodies are limited to 16 KiB.", body = ErrorBody),
        (status = 422, description = "`invalid_field`: a value not allowed; `field` names it.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn update(
    resident: Resident,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PatchRequest>,
) -> ApiResult<Json<Value>> {
    let locale = body
        .locale
        .as_deref()
        .map(|l| request::locale(l, "locale"))
        .transpose()?;
    let webhooks = state.config.channels.webhook_policy();
    let devices = body
        .devices
        .map(|d| request::devices(d, "devices", &webhooks))
        .transpose()?;
    let preferences = body
        .preferences
        .map(|p| request::preferences(p, "preferences"))
        .transpose()?;
    let record = edit(&state, &resident, |record| {
        if let Some(locale) = locale {
            record.locale = locale;
        }
        if let Some(devices) = devices {
            record.devices = devices;
        }
        if let Some(preferences) = preferences {
            record.preferences = preferences;
        }
        Ok(true)
    })
    .await?;
    Ok(Json(view(&record, &state)))
}

/// `DELETE /api/v1/me`: every trace of the person's data is erased; the
/// audit log keeps the pseudonymous id only.
#[utoipa::path(
    delete,
    path = "/api/v1/me",
    tag = "residents",
    operation_id = "deleteMe",
    summary = "Delete my account and every trace of my personal data",
    description = "Audited by pseudonymous id. The key no longer authenticates.",
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 204, description = "Deleted; the key no longer authenticates."),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn delete(resident: Resident, State(state): State<AppState>) -> ApiResult<StatusCode> {
    state.app.subscribers.delete(&resident.id).await?;
    state.residents.keys.remove(&resident.key_hash);
    let actor = format!("subscriber:{}", resident.id.0);
    state
        .app
        .storage
        .append_audit(NewAuditEntry {
            at: state.app.clock.now(),
            actor: actor.clone(),
            action: "subscriber.delete".into(),
            target: actor,
            detail: json!({}),
        })
        .await?;
    tracing::info!(subscriber = %resident.id.0, "subscriber deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/me/places`
#[utoipa::path(
    post,
    path = "/api/v1/me/places",
    tag = "residents",
    operation_id = "addPlace",
    summary = "Add a place (at most 10)",
    description = "By address (geocoded: `address_not_found`, `address_ambiguous` with candidates in `details`) or by point (located: `outside_coverage`). An eleventh place is refused with 409 `conflict`.",
    request_body(content = PlaceRequest, content_type = "application/json"),
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 201, description = "Added", body = PlaceView),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 409, description = "`conflict`: already 10 places.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: resident bodies are limited to 16 KiB.", body = ErrorBody),
        (status = 422, description = "`invalid_field`, `address_not_found`, `address_ambiguous` (candidates in `details`), `outside_coverage`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn add_place(
    resident: Resident,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PlaceRequest>,
) -> ApiResult<Response> {
    let mut view = None;
    edit(&state, &resident, |record| {
        let id = places::free_id(&record.places)
            .filter(|_| record.places.len() < request::MAX_PLACES)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Conflict,
                    format!("at most {} places; remove one first", request::MAX_PLACES),
                )
            })?;
        let (place, precision) = places::resolve(
            &body,
            id,
            &state.app.atlas,
            state.app.gazetteer.as_deref(),
            "",
        )?;
        view = Some(PlaceView::of(&place, &state.app.atlas, Some(precision)));
        record.places.push(place);
        Ok(true)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `DELETE /api/v1/me/places/{id}`
#[utoipa::path(
    delete,
    path = "/api/v1/me/places/{id}",
    tag = "residents",
    operation_id = "removePlace",
    summary = "Remove a place",
    description = "Refused with 409 `conflict` (field `relay`) when the resident's relay request is for this place's village and no other place lies there: withdraw or move the relay request first.",
    params(("id" = u8, Path, description = "Place id (0–254)")),
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such place.", body = ErrorBody),
        (status = 409, description = "`conflict` (field `relay`): the relay request needs this place's village.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn remove_place(
    resident: Resident,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: u8 = id.parse().map_err(|_| ApiError::not_found("place"))?;
    edit(&state, &resident, |record| {
        let before = record.places.len();
        record.places.retain(|p| p.id != id);
        if record.places.len() == before {
            return Err(ApiError::not_found("place"));
        }
        // The relay need must keep a place in its village. Refused rather
        // than withdrawn quietly: a person who still needs a call must not
        // drop off the chief's list by tidying their places.
        if let Some(need) = &record.relay
            && !record
                .places
                .iter()
                .any(|p| p.village.as_deref() == Some(need.village.as_str()))
        {
            return Err(ApiError::field(
                ErrorCode::Conflict,
                "relay",
                "your relay request is for this place's village; withdraw or move it first",
            ));
        }
        Ok(true)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/me/location`: the latest point replaces any earlier one.
#[utoipa::path(
    put,
    path = "/api/v1/me/location",
    tag = "residents",
    operation_id = "shareLocation",
    summary = "Share my current location for a while",
    description = "Kept until `expires` (at most a day), then forgotten; replaces any earlier point. The point must lie in a village (`outside_coverage`).",
    request_body(content = LocationRequest, content_type = "application/json"),
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 200, description = "Kept until `expires`; replaces any earlier point.", body = schemas::Location),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: resident bodies are limited to 16 KiB.", body = ErrorBody),
        (status = 422, description = "`invalid_field` (coordinates, `ttl_minutes`), `outside_coverage`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn share_location(
    resident: Resident,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LocationRequest>,
) -> ApiResult<Json<Value>> {
    let (lon, lat) = request::coordinates(body.lon, body.lat, "")?;
    if !(1..=MAX_LOCATION_TTL_MINUTES).contains(&body.ttl_minutes) {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "ttl_minutes",
            format!("between 1 and {MAX_LOCATION_TTL_MINUTES} minutes"),
        ));
    }
    let village = places::locate(&state.app.atlas, lon, lat, "")?;
    let now = state.app.clock.now();
    let expires = now + Duration::minutes(i64::from(body.ttl_minutes));
    edit(&state, &resident, |record| {
        record.location = Some(CurrentLocation {
            lon,
            lat,
            at: now,
            expires,
        });
        Ok(true)
    })
    .await?;
    Ok(Json(
        json!({ "lon": lon, "lat": lat, "village": village, "at": now, "expires": expires }),
    ))
}

/// `DELETE /api/v1/me/location`
#[utoipa::path(
    delete,
    path = "/api/v1/me/location",
    tag = "residents",
    operation_id = "stopLocation",
    summary = "Stop sharing my location",
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn stop_location(
    resident: Resident,
    State(state): State<AppState>,
) -> ApiResult<StatusCode> {
    // A stale entry in the expiry schedule is harmless: the sweep finds no
    // location and moves on.
    edit(&state, &resident, |record| {
        Ok(record.location.take().is_some())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/me/relay`: someone the village chief should phone or visit,
/// in the village of one of the person's places.
#[utoipa::path(
    put,
    path = "/api/v1/me/relay",
    tag = "residents",
    operation_id = "setRelay",
    summary = "Ask the village chief to phone or visit",
    description = "Puts the resident on the relay list of a village where they have a place: its chief sees the name, phone and note while an alert touching the village is in force.",
    request_body(content = RelayRequest, content_type = "application/json"),
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 200, description = "Kept", body = schemas::Relay),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: resident bodies are limited to 16 KiB.", body = ErrorBody),
        (status = 422, description = "`invalid_field`: a value not allowed (hidden characters, lengths, a village without a place of yours); `field` names it.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn set_relay(
    resident: Resident,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RelayRequest>,
) -> ApiResult<Json<Value>> {
    let (name, phone, note) = request::relay(&body)?;
    let record = edit(&state, &resident, |record| {
        // A relay need names a village where the person has a place: nobody
        // can put a name on another village's list.
        let village = match body.village {
        Some(code) => record
            .places
            .iter()
            .filter_map(|p| p.village.as_deref())
            .find(|v| *v == code)
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::field(
                    ErrorCode::InvalidField,
                    "village",
                    "must be the village code of one of your places; add the place first",
                )
            })?,
        None => record
            .places
            .iter()
            .find_map(|p| p.village.clone())
            .ok_or_else(|| {
                ApiError::field(
                    ErrorCode::InvalidField,
                    "village",
                    "none of your places lies in a known village; add a place in the village first",
                )
            })?,
    };
        record.relay = Some(request::relay_need(name, phone, note, village));
        Ok(true)
    })
    .await?;
    Ok(Json(view(&record, &state)["relay"].clone()))
}

/// `DELETE /api/v1/me/relay`
#[utoipa::path(
    delete,
    path = "/api/v1/me/relay",
    tag = "residents",
    operation_id = "clearRelay",
    summary = "Withdraw the relay request",
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn clear_relay(
    resident: Resident,
    State(state): State<AppState>,
) -> ApiResult<StatusCode> {
    edit(&state, &resident, |record| {
        Ok(record.relay.take().is_some())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct MyAlerts<'a, T> {
    alerts: &'a [T],
}

/// [`MyAlerts`] as it is written, for the OpenAPI document.
#[derive(ToSchema)]
#[schema(as = MyAlerts, description = "The alerts in force that reach the resident.")]
#[allow(
    dead_code,
    reason = "describes a body for the OpenAPI document; never built"
)]
struct MyAlertsBody {
    alerts: Vec<crate::schemas::MyAlert>,
}

/// `GET /api/v1/me/alerts`: the hot read; memory only, serialized straight
/// from the shared view.
#[utoipa::path(
    get,
    path = "/api/v1/me/alerts",
    tag = "residents",
    operation_id = "myAlerts",
    summary = "Alerts in force that reach me",
    description = "Read from memory, in the resident's language.",
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 200, description = "Current alerts", body = MyAlertsBody),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn alerts(resident: Resident, State(state): State<AppState>) -> Response {
    let alerts = state.app.alerts.for_subscriber(&resident.id);
    Json(MyAlerts { alerts: &alerts }).into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    // Read as text and checked here, so that a bad value is
    // `invalid_field` rather than a rejected query string.
    /// Entries at most.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500, default = 50)]
    limit: Option<String>,
}

/// `GET /api/v1/me/inbox?limit=N`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/me/inbox",
    tag = "residents",
    operation_id = "myInbox",
    summary = "Notices I was told, newest first",
    params(InboxQuery),
    security(("deviceKey" = [])),
    extensions(("x-roles" = json!(["resident"]))),
    responses(
        (status = 200, description = "Inbox", body = schemas::Inbox),
        (status = 401, description = "`unauthenticated`: no device key, or not a known one.", body = ErrorBody),
        (status = 422, description = "`invalid_field` (`limit`): not between 1 and 500.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests for this device (`resident_per_minute`), or too many unknown device keys from this address (`key_guesses_per_minute`).", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
pub async fn inbox(
    resident: Resident,
    State(state): State<AppState>,
    Query(query): Query<InboxQuery>,
) -> ApiResult<Json<Value>> {
    let limit = match query.limit.as_deref() {
        None => INBOX_DEFAULT,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=INBOX_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::field(
                    ErrorCode::InvalidField,
                    "limit",
                    format!("between 1 and {INBOX_MAX}"),
                )
            })?,
    };
    let entries = state.app.storage.inbox(&resident.id, limit).await?;
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            json!({
                "alert_id": notifier::notice::AlertVersion::id_of(&e.alert),
                "at": e.at,
                "kind": e.kind,
                "hazard": e.hazard,
                "colour": e.colour,
                "exercise": e.exercise,
                "title": e.title,
                "body": e.body,
                "expires": e.expires,
            })
        })
        .collect();
    Ok(Json(json!({ "entries": entries })))
}
