//! Village chiefs' relay lists: for each alert in force that touches one of
//! the chief's villages, the residents there who asked to be phoned or
//! visited, with the chief's acknowledgement per person; and a printable
//! page of one list.
//!
//! A chief sees only their own villages' lists: names and phone numbers of
//! other villages never leave the store for them. Acknowledgements and
//! dismissals are audited by pseudonymous id only (outcome, no note: a note
//! may name someone).
//!
//! A list holds only people with a place in the village (the residents' API
//! refuses other relay requests; entries stored before that rule are left
//! out here). A chief may dismiss an entry: the person's relay need is
//! removed, as if they had withdrawn it. Everything a person typed is shown
//! through [`staff_text::shown`]: hidden characters removed and flagged.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{RelayAck, SubscriberId, SubscriberRecord};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::engine::relay::villages_covered;
use crate::engine::{alert_id, alert_key};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::extract::JsonBody;
use crate::http::staff::auth::{Chief, Principal};
use crate::serve::audit;
use crate::serve::staff_text;
use crate::serve::state::AppState;

const OUTCOMES: [&str; 4] = ["reached", "no_answer", "needs_help", "moved_away"];
const MAX_NOTE_CHARS: usize = 500;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lists))
        .routes(routes!(acknowledge))
        .routes(routes!(dismiss))
        .routes(routes!(print))
}

/// One (alert, village) list the chief may work.
struct ListKey {
    alert: cap::Alert,
    id: String,
    village: String,
}

/// Alerts in force touching the chief's villages, one entry per village.
fn chief_lists(state: &AppState, chief: &Principal) -> Vec<ListKey> {
    let mut lists = Vec::new();
    for alert in state.app.alerts.in_force() {
        let Ok(villages) = villages_covered(&state.app.atlas, &alert) else {
            continue;
        };
        let id = alert_id(&alert_key(&alert));
        for village in villages.into_iter().filter(|v| chief.may_act_in(v)) {
            lists.push(ListKey {
                alert: alert.clone(),
                id: id.clone(),
                village,
            });
        }
    }
    lists
}

/// Whether `record` is on `village`'s list: a relay need there and a
/// place in the village.
fn on_list(record: &SubscriberRecord, village: &str) -> bool {
    record
        .relay
        .as_ref()
        .is_some_and(|need| need.village == village)
        && record
            .places
            .iter()
            .any(|p| p.village.as_deref() == Some(village))
}

/// Residents on a relay list, by village.
async fn people_by_village(state: &AppState) -> ApiResult<BTreeMap<String, Vec<SubscriberRecord>>> {
    let mut by_village: BTreeMap<String, Vec<SubscriberRecord>> = BTreeMap::new();
    for subscriber in state.app.storage.all_subscribers().await? {
        if let Some(need) = &subscriber.relay
            && on_list(&subscriber, &need.village)
        {
            by_village
                .entry(need.village.clone())
                .or_default()
                .push(subscriber);
        }
    }
    Ok(by_village)
}

/// The latest acknowledgement per person.
fn latest_acks(acks: Vec<RelayAck>) -> BTreeMap<SubscriberId, RelayAck> {
    let mut latest: BTreeMap<SubscriberId, RelayAck> = BTreeMap::new();
    for ack in acks {
        match latest.get(&ack.person) {
            Some(seen) if seen.at > ack.at => {}
            _ => {
                latest.insert(ack.person.clone(), ack);
            }
        }
    }
    latest
}

fn person_json(record: &SubscriberRecord, ack: Option<&RelayAck>) -> Value {
    let need = record.relay.as_ref();
    let name = need.map(|n| staff_text::shown(n.name.expose()));
    let note = need
        .and_then(|n| n.note.as_ref())
        .map(|n| staff_text::shown(n.expose()));
    let ack_note = ack.and_then(|a| a.note.as_deref()).map(staff_text::shown);
    let flagged = [&name, &note, &ack_note]
        .iter()
        .any(|t| t.as_ref().is_some_and(|t| t.flagged));
    json!({
        "person": record.id,
        "name": name.map(|t| t.text),
        "phone": need.and_then(|n| n.phone.as_ref()).map(|p| p.expose()),
        "note": note.map(|t| t.text),
        "hidden_characters_removed": flagged,
        "locale": record.locale,
        "ack": ack.map(|a| json!({ "outcome": a.outcome, "at": a.at, "note": ack_note.map(|t| t.text) })),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/relay",
    tag = "chiefs",
    operation_id = "relayLists",
    summary = "My villages' relay lists (village chiefs)",
    description = "Village chiefs only: for each alert in force touching one of the chief's villages, the residents there who asked to be phoned or visited, with the chief's latest acknowledgement. Only the chief's own villages.",
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["village_chief"]))),
    responses(
        (status = 200, description = "Lists", body = crate::schemas::RelayLists),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: village chiefs only.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn lists(State(state): State<AppState>, Chief(chief): Chief) -> ApiResult<Json<Value>> {
    let keys = chief_lists(&state, &chief);
    let people = people_by_village(&state).await?;
    let mut out = Vec::new();
    for key in keys {
        let acks = latest_acks(state.app.storage.relay_acks(&key.id, &key.village).await?);
        let residents: Vec<Value> = people
            .get(&key.village)
            .map(|list| {
                list.iter()
                    .map(|r| person_json(r, acks.get(&r.id)))
                    .collect()
            })
            .unwrap_or_default();
        let headline = key
            .alert
            .infos
            .first()
            .and_then(|i| i.headline.as_deref())
            .map(|h| staff_text::shown(h).text);
        out.push(json!({
            "alert_id": key.id,
            "headline": headline,
            "exercise": key.alert.status != cap::Status::Actual,
            "village": key.village,
            "village_name": state.app.atlas.area(&key.village).map(|a| state.app.atlas.full_name(a)),
            "people": residents,
        }));
    }
    Ok(Json(json!({ "lists": out })))
}

/// The list (alert in force, village) if the chief may work it.
fn find_list(state: &AppState, chief: &Principal, id: &str, village: &str) -> ApiResult<ListKey> {
    if !chief.may_act_in(village) {
        return Err(ApiError::forbidden("this village is not yours"));
    }
    chief_lists(state, chief)
        .into_iter()
        .find(|k| k.id == id && k.village == village)
        .ok_or_else(|| ApiError::not_found("relay list"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AckRequest {
    /// Pseudonymous subscriber id, as listed.
    #[schema(value_type = String)]
    person: SubscriberId,
    #[schema(value_type = crate::schemas::Outcome)]
    outcome: String,
    /// At most 500 characters, no invisible or direction-changing
    /// characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    note: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/relay/{alert_id}/{village}/ack",
    tag = "chiefs",
    operation_id = "relayAck",
    summary = "Acknowledge one person (village chiefs)",
    description = "Records the outcome of the chief's call or visit. Audited by pseudonymous id and outcome (never the note).",
    params(("alert_id" = String, Path, description = "Alert id"), ("village" = String, Path, description = "MOI village code")),
    request_body(content = AckRequest, content_type = "application/json"),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["village_chief"]))),
    responses(
        (status = 200, description = "Recorded", body = crate::schemas::Acknowledged),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: village chiefs only, of this village; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such list in force for this chief, or (field `person`) the person is not on it.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over `server.body_limit` (64 KiB by default).", body = ErrorBody),
        (status = 422, description = "`invalid_field`: `outcome` not one of the four, or `note` too long or with hidden characters.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn acknowledge(
    State(state): State<AppState>,
    Chief(chief): Chief,
    Path((id, village)): Path<(String, String)>,
    JsonBody(request): JsonBody<AckRequest>,
) -> ApiResult<Json<Value>> {
    let list = find_list(&state, &chief, &id, &village)?;
    if !OUTCOMES.contains(&request.outcome.as_str()) {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "outcome",
            format!("one of {}", OUTCOMES.join(", ")),
        ));
    }
    if let Some(note) = &request.note {
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "note",
                format!("at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        staff_text::refuse_hidden(note, "note")?;
    }
    let listed = state
        .app
        .storage
        .subscriber(&request.person)
        .await?
        .is_some_and(|s| on_list(&s, &list.village));
    if !listed {
        return Err(ApiError::field(
            ErrorCode::NotFound,
            "person",
            "no such person on this list",
        ));
    }
    let ack = RelayAck {
        alert: list.id.clone(),
        village: list.village.clone(),
        person: request.person.clone(),
        chief: chief.id().clone(),
        at: state.app.clock.now(),
        outcome: request.outcome.clone(),
        note: request.note.filter(|n| !n.trim().is_empty()),
    };
    state.app.storage.put_relay_ack(&ack).await?;
    audit::record(
        &state,
        &chief.id().0,
        "relay.ack",
        &request.person.0,
        json!({ "alert_id": list.id, "village": list.village, "outcome": request.outcome }),
    )
    .await?;
    Ok(Json(
        json!({ "person": ack.person, "outcome": ack.outcome, "at": ack.at }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DismissRequest {
    /// Pseudonymous subscriber id, as listed.
    #[schema(value_type = String)]
    person: SubscriberId,
}

/// `POST /api/v1/relay/{alert_id}/{village}/dismiss`: takes someone off
/// the village's list (a name the chief does not know, a duplicate, a
/// prank) by removing their relay need.
#[utoipa::path(
    post,
    path = "/api/v1/relay/{alert_id}/{village}/dismiss",
    tag = "chiefs",
    operation_id = "relayDismiss",
    summary = "Dismiss one person from the village's list (village chiefs)",
    description = "Removes the person's relay need, as if they had withdrawn it (they see it gone and may ask again). Audited as `relay.dismiss` by pseudonymous id. 404 `not_found` (field `person`) when the person is not on this list.",
    params(("alert_id" = String, Path, description = "Alert id"), ("village" = String, Path, description = "MOI village code")),
    request_body(content = DismissRequest, content_type = "application/json"),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["village_chief"]))),
    responses(
        (status = 200, description = "Dismissed", body = crate::schemas::Dismissed),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: village chiefs only, of this village; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such list in force for this chief, or (field `person`) the person is not on it.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over `server.body_limit` (64 KiB by default).", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn dismiss(
    State(state): State<AppState>,
    Chief(chief): Chief,
    Path((id, village)): Path<(String, String)>,
    JsonBody(request): JsonBody<DismissRequest>,
) -> ApiResult<Json<Value>> {
    let list = find_list(&state, &chief, &id, &village)?;
    let listed = state
        .app
        .storage
        .subscriber(&request.person)
        .await?
        .is_some_and(|s| on_list(&s, &list.village));
    if !listed
        || !crate::http::residents::dismiss_relay(&state, &request.person, &list.village).await?
    {
        return Err(ApiError::field(
            ErrorCode::NotFound,
            "person",
            "no such person on this list",
        ));
    }
    audit::record(
        &state,
        &chief.id().0,
        "relay.dismiss",
        &request.person.0,
        json!({ "alert_id": list.id, "village": list.village }),
    )
    .await?;
    tracing::info!(subscriber = %request.person.0, village = %list.village, "relay entry dismissed");
    Ok(Json(json!({ "person": request.person, "dismissed": true })))
}

fn ack_status(outcome: &str) -> Option<notifier::relay::AckStatus> {
    use notifier::relay::AckStatus;
    match outcome {
        "reached" => Some(AckStatus::Reached),
        "no_answer" => Some(AckStatus::NotReached),
        "needs_help" => Some(AckStatus::NeedsHelp),
        // Gone from the address: for the list, the same as evacuated.
        "moved_away" => Some(AckStatus::Evacuated),
        _ => None,
    }
}

#[utoipa::path(
    get,
    path = "/relay/{alert_id}/{village}/print",
    tag = "chiefs",
    operation_id = "relayPrint",
    summary = "Printable relay list (village chiefs)",
    description = "The list as an HTML page to print (not cached). Audited.",
    params(("alert_id" = String, Path, description = "Alert id"), ("village" = String, Path, description = "MOI village code")),
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["village_chief"]))),
    responses(
        (status = 200, description = "HTML page", content_type = "text/html", body = String),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: village chiefs only, of this village.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such list in force for this chief.", body = ErrorBody),
        (status = 500, description = "`internal`: the page templates could not be read.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn print(
    State(state): State<AppState>,
    Chief(chief): Chief,
    Path((id, village)): Path<(String, String)>,
) -> ApiResult<Response> {
    use notifier::relay::{Acknowledgement, RelayEntry, RelayList, Resident};
    let list = find_list(&state, &chief, &id, &village)?;
    let people = people_by_village(&state).await?;
    let acks = latest_acks(
        state
            .app
            .storage
            .relay_acks(&list.id, &list.village)
            .await?,
    );
    let area = state.app.atlas.area(&list.village);
    let village_name = area
        .map(|a| state.app.atlas.full_name(a))
        .unwrap_or_default();
    let town_code = area.and_then(|a| a.town_code.clone()).unwrap_or_default();
    let entries = people
        .get(&list.village)
        .into_iter()
        .flatten()
        .filter_map(|record| {
            let need = record.relay.as_ref()?;
            let resident = Resident {
                subscriber: notifier::notice::SubscriberId(record.id.0.clone()),
                // Cleaned; the flag is on the list in the API and the page.
                name: staff_text::shown(need.name.expose()).text,
                phone: notifier::notice::PhoneNumber::new(
                    need.phone.as_ref().map(|p| p.expose()).unwrap_or(""),
                ),
                // The store keeps no street address for relay (the village
                // is the address a chief works from).
                address: String::new(),
                locale: notifier::Locale::from_language_tag(&record.locale)
                    .unwrap_or(notifier::Locale::ZhTw),
                needs: Vec::new(),
                village_code: list.village.clone(),
                village_name: village_name.clone(),
                town_code: town_code.clone(),
            };
            let ack = acks.get(&record.id).and_then(|a| {
                ack_status(&a.outcome).map(|status| Acknowledgement { status, at: a.at })
            });
            Some(RelayEntry {
                resident,
                ack,
                escalated_at: None,
            })
        })
        .collect();
    let relay_list = RelayList {
        alert: notifier::notice::AlertVersion::from(&alert_key(&list.alert)),
        village_code: list.village.clone(),
        village_name,
        town_code,
        issued_at: list.alert.sent.with_timezone(&chrono::Utc),
        entries,
    };
    let renderer = notifier::render::shipped().map_err(|error| {
        tracing::error!(%error, "templates unreadable");
        ApiError::new(ErrorCode::Internal, "the printable list is unavailable")
    })?;
    let html = relay_list.to_html(renderer, notifier::Locale::ZhTw);
    audit::record(
        &state,
        &chief.id().0,
        "relay.print",
        &list.village,
        json!({ "alert_id": list.id }),
    )
    .await?;
    Ok((
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}
