//! The emergency offices' API: drafts (composed or submitted as CAP),
//! preview, a second person's approval, send, cancel, one-step correction
//! of a false alarm, recovery steps, delivery progress and shelters.
//!
//! Every route names the roles that may call it through its extractor, and
//! every alert touched is checked against the caller's jurisdiction: each
//! village the alert's areas touch must lie in one of the caller's county
//! or town codes. Alerts leave through ingest's issuer source, so the
//! archive, the lifecycle and the engine treat them as any feed message.
//! Every action is written to the audit log.
//!
//! Who may change an alert (Update, Cancel, correction, recovery) is
//! decided in [`acting_authority`]: the office that sent it, or a
//! supervisor whose jurisdiction covers its whole area (the message then
//! joins that office's chain); never an alert from an agency feed. Offices
//! send as `<office>@<sender domain>`, never as a login name.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use cap::{Alert, MessageKey, MsgType, Reference, Severity};
use ingest::authority::Authority;
use ingest::feed::issuer::{SubmitOutcome, submit};
use notifier::notice::AlertVersion;
use serde::Deserialize;
use serde_json::{Value, json};
use store::{Draft, DraftId, DraftState, Role, ShelterStatus};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::engine::preview::UNKNOWN_VILLAGE;
use crate::engine::relay::villages_covered;
use crate::engine::{alert_id, alert_key};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::extract::{CapBody, JsonBody};
use crate::http::staff::auth::{Issuer, Principal, Supervisor};
use crate::serve::audit;
use crate::serve::state::AppState;
use app::compose::{self, Authoring, ComposeRequest, Ending, Message};
use app::ids::new_id;

/// Approval thresholds and the sender domain, as configured.
#[derive(Debug, Clone)]
pub struct IssuerSettings {
    /// Issuer messages are sent as `<office>@<sender_domain>`.
    pub sender_domain: String,
    /// Areas larger than this (km², summed over the villages touched) need
    /// a supervisor's approval.
    pub approval_area_km2: f64,
    /// As do areas touching more villages than this.
    pub approval_villages: usize,
}

/// Areas touching more villages than this need a supervisor's approval,
/// whatever their size: a town's worth of villages is a large warning even
/// where villages are small (Taipei's are well under 1 km²).
pub const APPROVAL_VILLAGES: usize = 50;

pub fn settings(state: &AppState) -> IssuerSettings {
    let issuers = &state.config.issuers;
    IssuerSettings {
        sender_domain: issuers.sender_domain.clone(),
        approval_area_km2: issuers.approval_area_km2,
        approval_villages: APPROVAL_VILLAGES,
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_draft, list_drafts))
        .routes(routes!(get_draft))
        .routes(routes!(get_preview))
        .routes(routes!(approve))
        .routes(routes!(send))
        .routes(routes!(cancel))
        .routes(routes!(correct))
        .routes(routes!(recovery))
        .routes(routes!(progress))
        .routes(routes!(list_shelters))
        .routes(routes!(open_shelter))
        .routes(routes!(close_shelter))
}

/// The routes that take a CAP document as their body. They read it up to
/// `server.cap_body_limit` themselves ([`CapBody`]), so the router keeps
/// them outside the JSON API's body limits.
pub fn cap_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_draft_from_cap))
}

fn authoring(state: &AppState, principal: &Principal) -> Authoring {
    Authoring {
        sender: format!(
            "{}@{}",
            principal.account.office_name(),
            settings(state).sender_domain
        ),
        sender_name: principal.account.display_name.clone(),
        now: state.app.clock.now(),
    }
}

/// The villages `alert` touches, all of which must lie in the caller's
/// jurisdiction.
pub fn check_jurisdiction(
    state: &AppState,
    principal: &Principal,
    alert: &Alert,
) -> ApiResult<BTreeSet<String>> {
    let villages = villages_covered(&state.app.atlas, alert)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "area", e.to_string()))?;
    if villages.is_empty() {
        return Err(ApiError::field(
            ErrorCode::OutsideCoverage,
            "area",
            "the area touches no village",
        ));
    }
    let outside: Vec<Value> = villages
        .iter()
        .filter(|v| !principal.may_act_in(v))
        .take(20)
        .map(|v| json!(v))
        .collect();
    if !outside.is_empty() {
        return Err(
            ApiError::forbidden("the area reaches villages outside your jurisdiction")
                .with_details(outside),
        );
    }
    Ok(villages)
}

/// Why a second person must approve, if one must.
fn approval_reason(state: &AppState, alert: &Alert, villages: &BTreeSet<String>) -> Option<String> {
    use geo::ChamberlainDuquetteArea;
    let settings = settings(state);
    if alert.infos.iter().any(|i| i.severity == Severity::Extreme) {
        return Some("extreme".to_owned());
    }
    let area_km2: f64 = villages
        .iter()
        .filter_map(|code| state.app.atlas.area(code))
        .map(|v| v.geometry.chamberlain_duquette_unsigned_area() / 1e6)
        .sum();
    (villages.len() > settings.approval_villages || area_km2 > settings.approval_area_km2)
        .then(|| "large_area".to_owned())
}

/// The alert in force with this id, and the authority that owns it.
fn active_alert(state: &AppState, id: &str) -> ApiResult<(Alert, Authority)> {
    state
        .app
        .alerts
        .in_force_by_id(id)
        .ok_or_else(|| ApiError::not_found("alert in force"))
}

/// The authority of the caller's own office.
fn own_authority(state: &AppState, principal: &Principal) -> Authority {
    Authority::office(&authoring(state, principal).sender)
}

/// Whose chain a message by `principal` changing `alert` (owned by
/// `owner`) joins, or why they may not change it. The rule: the owning
/// office may; a supervisor may act for another office when its
/// jurisdiction covers the alert's whole area; an agency feed's alert is
/// changed only by that agency.
fn acting_authority(
    state: &AppState,
    principal: &Principal,
    owner: &Authority,
    alert: &Alert,
) -> ApiResult<Authority> {
    if !owner.is_office() {
        return Err(ApiError::forbidden(
            "this alert was issued by an agency feed; only that agency can change it",
        ));
    }
    let own = own_authority(state, principal);
    if *owner == own {
        return Ok(own);
    }
    if principal.role() == Role::Supervisor {
        check_jurisdiction(state, principal, alert)?;
        return Ok(owner.clone());
    }
    Err(ApiError::forbidden(
        "this alert belongs to another office; only that office, or a supervisor whose jurisdiction covers its whole area, can change it",
    ))
}

/// An alert in force the caller may update, cancel or correct, the
/// villages it touches and the authority a change of it is sent under.
fn changeable_alert(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<(Alert, BTreeSet<String>, Authority)> {
    let (alert, owner) = active_alert(state, id)?;
    let authority = acting_authority(state, principal, &owner, &alert)?;
    let villages = check_jurisdiction(state, principal, &alert)?;
    Ok((alert, villages, authority))
}

fn reference_text(reference: &Reference) -> String {
    format!(
        "{},{},{}",
        reference.sender, reference.identifier, reference.sent_raw
    )
}

/// The authority a message by `principal` is sent under: its own office's
/// for a new alert and for references to alerts not received (kept for
/// that office only), the referenced chain's when the caller may change it.
/// A refusal names the reference.
fn authority_for_message(
    state: &AppState,
    principal: &Principal,
    alert: &Alert,
) -> ApiResult<Authority> {
    let own = own_authority(state, principal);
    if !matches!(alert.msg_type, MsgType::Update | MsgType::Cancel) {
        return Ok(own);
    }
    let mut chain: Option<Authority> = None;
    for reference in &alert.references {
        for (target, owner) in state.app.alerts.referenced(reference) {
            let acting = acting_authority(state, principal, &owner, &target).map_err(|e| {
                ApiError::field(
                    ErrorCode::Forbidden,
                    "references",
                    format!("reference {}: {}", reference_text(reference), e.message),
                )
                .with_details(vec![json!({ "reference": reference_text(reference) })])
            })?;
            if chain.as_ref().is_some_and(|c| *c != acting) {
                return Err(ApiError::field(
                    ErrorCode::InvalidField,
                    "references",
                    "a message may change the alerts of one office only",
                )
                .with_details(vec![json!({ "reference": reference_text(reference) })]));
            }
            chain = Some(acting);
        }
    }
    Ok(chain.unwrap_or(own))
}

async fn preview_json(
    state: &AppState,
    alert: &Alert,
    villages: &BTreeSet<String>,
) -> ApiResult<Value> {
    let to_match = alert.clone();
    let preview = state
        .app
        .engine
        .run(move |engine| engine.preview(&to_match))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the engine is not running"))?
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "area", e.to_string()))?;
    let village_rows: Vec<Value> = preview
        .villages
        .iter()
        .map(|(code, count)| {
            let name = (code != UNKNOWN_VILLAGE)
                .then(|| {
                    state
                        .app
                        .atlas
                        .area(code)
                        .map(|a| state.app.atlas.full_name(a))
                })
                .flatten();
            json!({ "code": code, "name": name, "count": count })
        })
        .collect();
    let (relay_villages, relay_people) = relay_counts(state, villages).await?;
    Ok(json!({
        "total": preview.total,
        "villages": village_rows,
        "channels": preview.channels,
        "relay": { "villages": relay_villages, "people": relay_people },
    }))
}

/// Villages with at least one resident on a relay list, and those people.
async fn relay_counts(state: &AppState, villages: &BTreeSet<String>) -> ApiResult<(usize, usize)> {
    let mut with_people = BTreeSet::new();
    let mut people = 0;
    for subscriber in state.app.storage.all_subscribers().await? {
        if let Some(need) = &subscriber.relay
            && villages.contains(&need.village)
        {
            with_people.insert(need.village.clone());
            people += 1;
        }
    }
    Ok((with_people.len(), people))
}

async fn draft_json(state: &AppState, draft: &Draft, with_preview: bool) -> ApiResult<Value> {
    let alert = compose::read_one(draft.cap_xml.as_bytes())?;
    let villages = villages_covered(&state.app.atlas, &alert).unwrap_or_default();
    let preview = if with_preview && draft.state != DraftState::Sent {
        Some(preview_json(state, &alert, &villages).await?)
    } else {
        None
    };
    Ok(json!({
        "id": draft.id,
        "state": draft.state,
        "author": draft.author,
        "created": draft.created,
        "approval_reason": draft.approval_reason,
        "approved_by": draft.approved_by,
        "alert_id": draft.sent_alert.as_deref().map(AlertVersion::id_of),
        "exercise": alert.status != cap::Status::Actual,
        "msg_type": format!("{:?}", alert.msg_type),
        "villages": villages.len(),
        "cap_xml": draft.cap_xml,
        "preview": preview,
    }))
}

/// Stores a new draft of `alert` written by `principal`.
async fn new_draft(
    state: &AppState,
    principal: &Principal,
    xml: String,
    alert: &Alert,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let villages = check_jurisdiction(state, principal, alert)?;
    let reason = approval_reason(state, alert, &villages);
    let draft = Draft {
        id: DraftId(new_id("d")),
        author: principal.id().clone(),
        created: state.app.clock.now(),
        state: if reason.is_some() {
            DraftState::AwaitingApproval
        } else {
            DraftState::Approved
        },
        cap_xml: xml,
        approval_reason: reason,
        approved_by: None,
        sent_alert: None,
        office: Some(principal.account.office_name().to_owned()),
    };
    state.app.storage.put_draft(&draft).await?;
    audit::record(
        state,
        &principal.id().0,
        "draft.create",
        &draft.id.0,
        json!({
            "identifier": alert.identifier,
            "msg_type": format!("{:?}", alert.msg_type),
            "exercise": alert.status != cap::Status::Actual,
            "villages": villages.len(),
            "approval_reason": draft.approval_reason,
        }),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(draft_json(state, &draft, true).await?),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/drafts",
    tag = "drafts",
    operation_id = "compose",
    summary = "Compose an alert (issuers, supervisors)",
    description = "Issuers and supervisors. The draft is CAP 1.2 from the office (`<office>@<sender domain>`). It waits for a second person's approval when it is Extreme or covers a large area (`approval_reason`); otherwise it may be sent at once. Refused (`forbidden`) outside the issuer's jurisdiction. `references` makes it an Update of an alert in force the caller may change.",
    request_body(content = crate::schemas::ComposeRequest, content_type = "application/json"),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 201, description = "Draft with preview", body = crate::schemas::Draft),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only, within their jurisdiction; an alert of another office or a feed cannot be updated; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: the alert `references` names is not in force.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over `server.body_limit` (64 KiB by default).", body = ErrorBody),
        (status = 422, description = "`invalid_field`: a value not allowed (hazard, area, texts, expiry …); `field` names it. `cap_rejected`: the message fails CAP validation (violations in `details`).", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the engine failed; retry later.", body = ErrorBody),
    ),
)]
async fn create_draft(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    JsonBody(request): JsonBody<ComposeRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let updates = match &request.references {
        Some(id) => Some(changeable_alert(&state, &principal, id)?.0),
        None => None,
    };
    let who = authoring(&state, &principal);
    let (xml, alert) =
        compose::compose(&state.app.atlas, &request, &who, updates.as_ref())?.to_checked_xml()?;
    new_draft(&state, &principal, xml, &alert).await
}

#[utoipa::path(
    post,
    path = "/api/v1/drafts/cap",
    tag = "drafts",
    operation_id = "submitCap",
    summary = "Submit CAP XML as a draft (issuers, supervisors)",
    description = "Body up to `server.cap_body_limit` (1 MiB by default), as `application/cap+xml`, `application/xml` or `text/xml`; a document in another declared encoding (Big5, Latin-1) is decoded and kept as UTF-8. Its sender must be the caller's office (`invalid_field`, `sender`). `cap_rejected` lists the violations in `details`.",
    request_body(content((String = "application/cap+xml"), (String = "application/xml"), (String = "text/xml"))),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 201, description = "Draft", body = crate::schemas::Draft),
        (status = 400, description = "`malformed_request`: not sent as CAP XML.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only, within their jurisdiction; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: an alert it references is not in force.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the document is over `server.cap_body_limit`.", body = ErrorBody),
        (status = 422, description = "`cap_rejected` (violations in `details`), `invalid_field`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the engine failed; retry later.", body = ErrorBody),
    ),
)]
async fn create_draft_from_cap(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    headers: HeaderMap,
    CapBody(body): CapBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(
        essence,
        "application/cap+xml" | "application/xml" | "text/xml"
    ) {
        return Err(ApiError::new(
            ErrorCode::MalformedRequest,
            "send CAP XML as application/cap+xml or application/xml",
        ));
    }
    let alert = compose::read_one(&body)?;
    let own_sender = authoring(&state, &principal).sender;
    if alert.sender != own_sender {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "sender",
            format!("messages you submit are sent as {own_sender}"),
        ));
    }
    // Refused now rather than when sent: a reference to another office's
    // or a feed's alert.
    authority_for_message(&state, &principal, &alert)?;
    let xml = upload_text(&body)?;
    new_draft(&state, &principal, xml, &alert).await
}

/// An uploaded CAP document as the UTF-8 text a draft keeps. One declared
/// in another encoding (Big5, Latin-1) is decoded by ingest's reader, which
/// refuses bytes that do not decode rather than replacing them, and its
/// declaration is rewritten to UTF-8 so that the draft reads back the same.
fn upload_text(body: &[u8]) -> ApiResult<String> {
    if let Ok(text) = std::str::from_utf8(body) {
        return Ok(text.to_owned());
    }
    let document = cap::parse_document(body, &cap::Limits::default())
        .map_err(|e| ApiError::new(ErrorCode::CapRejected, format!("not a CAP document: {e}")))?;
    let text = document.text();
    let body = match text.strip_prefix("<?xml") {
        Some(rest) => match rest.find("?>") {
            Some(end) => &rest[end + 2..],
            None => text,
        },
        None => text,
    };
    Ok(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"))
}

async fn load_draft(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<(Draft, Alert)> {
    let draft = state
        .app
        .storage
        .draft(&DraftId(id.to_owned()))
        .await?
        .ok_or_else(|| ApiError::not_found("draft"))?;
    let alert = compose::read_one(draft.cap_xml.as_bytes())?;
    // A draft outside the caller's jurisdiction is not theirs to see.
    check_jurisdiction(state, principal, &alert).map_err(|e| match e.code {
        ErrorCode::Forbidden => ApiError::not_found("draft"),
        _ => e,
    })?;
    Ok((draft, alert))
}

/// The office a draft was written for (for drafts stored before offices
/// existed: its author's).
async fn draft_office(state: &AppState, draft: &Draft) -> ApiResult<String> {
    if let Some(office) = &draft.office {
        return Ok(office.clone());
    }
    Ok(state
        .app
        .storage
        .account(&draft.author)
        .await?
        .map(|a| a.office_name().to_owned())
        .unwrap_or_default())
}

#[utoipa::path(
    get,
    path = "/api/v1/drafts",
    tag = "drafts",
    operation_id = "listDrafts",
    summary = "Recent drafts in the caller's jurisdiction (issuers, supervisors)",
    description = "The office's latest 100 drafts whose area lies in the caller's jurisdiction, without previews.",
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Newest first", body = crate::schemas::Drafts),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn list_drafts(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
) -> ApiResult<Json<Value>> {
    let mut rows = Vec::new();
    let office = principal.account.office_name();
    for draft in state.app.storage.office_drafts(office, 100).await? {
        let Ok(alert) = compose::read_one(draft.cap_xml.as_bytes()) else {
            continue;
        };
        if check_jurisdiction(&state, &principal, &alert).is_ok() {
            rows.push(draft_json(&state, &draft, false).await?);
        }
    }
    Ok(Json(json!({ "drafts": rows })))
}

#[utoipa::path(
    get,
    path = "/api/v1/drafts/{id}",
    tag = "drafts",
    operation_id = "draft",
    summary = "A draft (issuers, supervisors)",
    description = "With its preview unless sent. Drafts outside the caller's jurisdiction are not disclosed (404).",
    params(("id" = String, Path, description = "Draft id")),
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Draft", body = crate::schemas::Draft),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such draft in the caller's jurisdiction.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the engine failed; retry later.", body = ErrorBody),
    ),
)]
async fn get_draft(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (draft, _) = load_draft(&state, &principal, &id).await?;
    Ok(Json(draft_json(&state, &draft, true).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/drafts/{id}/preview",
    tag = "drafts",
    operation_id = "preview",
    summary = "Who a draft would reach (issuers, supervisors)",
    description = "Subscribers per village and channel, and the people on relay lists, were it sent now. Drafts outside the caller's jurisdiction are not disclosed (404).",
    params(("id" = String, Path, description = "Draft id")),
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Counts", body = crate::schemas::Preview),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such draft in the caller's jurisdiction.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the engine failed; retry later.", body = ErrorBody),
    ),
)]
async fn get_preview(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, alert) = load_draft(&state, &principal, &id).await?;
    let villages = villages_covered(&state.app.atlas, &alert).unwrap_or_default();
    Ok(Json(preview_json(&state, &alert, &villages).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/drafts/{id}/approve",
    tag = "drafts",
    operation_id = "approve",
    summary = "Approve a draft (a supervisor other than its author)",
    description = "Supervisors only, and never the draft's author. Audited.",
    params(("id" = String, Path, description = "Draft id")),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["supervisor"]))),
    responses(
        (status = 200, description = "Approved", body = crate::schemas::Draft),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: supervisors only, and not the draft's author; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such draft in the caller's jurisdiction.", body = ErrorBody),
        (status = 409, description = "`conflict`: the draft is not awaiting approval.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn approve(
    State(state): State<AppState>,
    Supervisor(principal): Supervisor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (mut draft, _) = load_draft(&state, &principal, &id).await?;
    if draft.author == *principal.id() {
        return Err(ApiError::forbidden(
            "a second person must approve: you wrote this draft",
        ));
    }
    if draft.state != DraftState::AwaitingApproval {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this draft is not awaiting approval",
        ));
    }
    draft.state = DraftState::Approved;
    draft.approved_by = Some(principal.id().clone());
    state.app.storage.put_draft(&draft).await?;
    audit::record(
        &state,
        &principal.id().0,
        "draft.approve",
        &draft.id.0,
        json!({ "author": draft.author, "reason": draft.approval_reason }),
    )
    .await?;
    Ok(Json(draft_json(&state, &draft, false).await?))
}

/// Takes a message through ingest's issuer source under `authority`; its
/// key when accepted.
async fn submit_message(
    state: &AppState,
    xml: &str,
    authority: &Authority,
) -> ApiResult<MessageKey> {
    let outcome = submit(
        state.app.alerts.pipeline(),
        xml.as_bytes(),
        state.app.alerts.issuer_source(),
        Some(authority),
    )
    .await
    .map_err(|error| {
        tracing::error!(%error, "issuer submission could not be archived");
        ApiError::new(
            ErrorCode::Unavailable,
            "the alert archive is unavailable; retry",
        )
    })?;
    match outcome {
        SubmitOutcome::Accepted { keys } => keys
            .first()
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "nothing was accepted")),
        SubmitOutcome::Rejected { reasons, .. }
            if reasons.iter().any(|(r, _)| r == "reference_not_allowed") =>
        {
            Err(ApiError::field(
                ErrorCode::Forbidden,
                "references",
                "the message names an alert of another authority",
            )
            .with_details(
                reasons
                    .into_iter()
                    .map(|(reason, detail)| json!({ "reason": reason, "detail": detail }))
                    .collect(),
            ))
        }
        SubmitOutcome::Rejected { reasons, .. } => {
            Err(
                ApiError::new(ErrorCode::CapRejected, "ingest refused the message").with_details(
                    reasons
                        .into_iter()
                        .map(|(reason, detail)| json!({ "reason": reason, "detail": detail }))
                        .collect(),
                ),
            )
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/drafts/{id}/send",
    tag = "drafts",
    operation_id = "send",
    summary = "Send a draft (issuers, supervisors of its office)",
    description = "Only the draft's office sends it, once approved when it needed approval. It enters the pipeline like any feed message: archived, matched, delivered. Audited.",
    params(("id" = String, Path, description = "Draft id")),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Sent", body = crate::schemas::Sent),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors of the draft's office only, within their jurisdiction; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such draft in the caller's jurisdiction.", body = ErrorBody),
        (status = 409, description = "`conflict`: awaiting approval, or already sent or withdrawn.", body = ErrorBody),
        (status = 422, description = "`cap_rejected`: the pipeline refused the message (reasons in `details`).", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the alert archive failed; retry.", body = ErrorBody),
    ),
)]
async fn send(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (mut draft, alert) = load_draft(&state, &principal, &id).await?;
    // A draft goes out under its own office's name, sent by that office.
    if draft_office(&state, &draft).await? != principal.account.office_name() {
        return Err(ApiError::forbidden(
            "this draft belongs to another office; only that office can send it",
        ));
    }
    match draft.state {
        DraftState::Approved => {}
        DraftState::AwaitingApproval => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "a supervisor other than the author must approve this draft first ({})",
                    draft.approval_reason.as_deref().unwrap_or("rule")
                ),
            ));
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "this draft was already sent or withdrawn",
            ));
        }
    }
    let villages = check_jurisdiction(&state, &principal, &alert)?;
    let authority = authority_for_message(&state, &principal, &alert)?;
    let key = submit_message(&state, &draft.cap_xml, &authority).await?;
    let id = alert_id(&key);
    draft.state = DraftState::Sent;
    draft.sent_alert = Some(key.to_string());
    state.app.storage.put_draft(&draft).await?;
    audit::record(
        &state,
        &principal.id().0,
        "alert.send",
        &id,
        json!({
            "draft": draft.id,
            "msg_type": format!("{:?}", alert.msg_type),
            "exercise": alert.status != cap::Status::Actual,
            "villages": villages.len(),
            "approved_by": draft.approved_by,
        }),
    )
    .await?;
    tracing::info!(alert = %id, draft = %draft.id.0, "issuer alert sent");
    Ok(Json(json!({ "alert_id": id, "key": key.to_string() })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    /// Why, for the people told (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: String,
}

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct CorrectRequest {
    /// What to tell the people who were told (at most 500 characters);
    /// default: a standard correction text.
    #[serde(default)]
    #[schema(max_length = 500)]
    text: Option<String>,
}

/// Most characters of free text an office may add to a cancel or
/// correction: it must fit the short channels.
const MAX_NOTE_CHARS: usize = 500;

async fn end_alert(
    state: &AppState,
    principal: &Principal,
    id: &str,
    ending: Ending,
    action: &str,
) -> ApiResult<Json<Value>> {
    let (alert, villages, authority) = changeable_alert(state, principal, id)?;
    let who = authoring(state, principal);
    let message: Message = compose::ending(&alert, &ending, &who)?;
    let (xml, _) = message.to_checked_xml()?;
    let key = submit_message(state, &xml, &authority).await?;
    let message_id = alert_id(&key);
    // Kept as a sent draft so that its progress can be followed like any
    // message sent from here.
    let record = Draft {
        id: DraftId(new_id("d")),
        author: principal.id().clone(),
        created: who.now,
        state: DraftState::Sent,
        cap_xml: xml,
        approval_reason: None,
        approved_by: None,
        sent_alert: Some(key.to_string()),
        office: Some(principal.account.office_name().to_owned()),
    };
    state.app.storage.put_draft(&record).await?;
    audit::record(
        state,
        &principal.id().0,
        action,
        id,
        json!({ "message": message_id, "villages": villages.len() }),
    )
    .await?;
    Ok(Json(json!({ "alert_id": message_id, "ends": id })))
}

#[utoipa::path(
    post,
    path = "/api/v1/alerts/{alert_id}/cancel",
    tag = "alerts",
    operation_id = "cancel",
    summary = "Cancel an alert (issuers, supervisors)",
    description = "Sends a CAP Cancel to the people told. The office that sent the alert may, or a supervisor whose jurisdiction covers its whole area; never an agency feed's alert. Audited.",
    params(("alert_id" = String, Path, description = "Alert id: the first 16 hex digits of the SHA-256 of `sender,identifier,sent`")),
    request_body(content = CancelRequest, content_type = "application/json"),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Cancelled", body = crate::schemas::Ended),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the alert's office, nor a supervisor covering its area; or a feed's alert; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such alert in force.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over `server.body_limit` (64 KiB by default).", body = ErrorBody),
        (status = 422, description = "`invalid_field` (`reason`): longer than 500 characters, or the message would not be valid CAP; `cap_rejected`: the pipeline refused it (reasons in `details`).", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the alert archive failed; retry.", body = ErrorBody),
    ),
)]
async fn cancel(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CancelRequest>,
) -> ApiResult<Json<Value>> {
    if request.reason.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "reason",
            format!("at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    end_alert(
        &state,
        &principal,
        &id,
        Ending::Cancel {
            reason: request.reason,
        },
        "alert.cancel",
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/alerts/{alert_id}/correct",
    tag = "alerts",
    operation_id = "correct",
    summary = "Correct a false alarm: the same people, one step (issuers, supervisors)",
    description = "Cancels the alert and tells everyone who was told that it was a false alarm. Who may: as for cancel. Audited.",
    params(("alert_id" = String, Path, description = "Alert id: the first 16 hex digits of the SHA-256 of `sender,identifier,sent`")),
    request_body(content = Option<CorrectRequest>, content_type = "application/json"),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Correction sent", body = crate::schemas::Ended),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the alert's office, nor a supervisor covering its area; or a feed's alert; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such alert in force.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over `server.body_limit` (64 KiB by default).", body = ErrorBody),
        (status = 422, description = "`invalid_field` (`text`): longer than 500 characters, or the message would not be valid CAP; `cap_rejected`: the pipeline refused it (reasons in `details`).", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the alert archive failed; retry.", body = ErrorBody),
    ),
)]
async fn correct(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CorrectRequest>,
) -> ApiResult<Json<Value>> {
    if request
        .text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "text",
            format!("at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    end_alert(
        &state,
        &principal,
        &id,
        Ending::Correction { text: request.text },
        "alert.correct",
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/alerts/{alert_id}/recovery",
    tag = "alerts",
    operation_id = "recovery",
    summary = "Declare recovery: relief steps to those told (issuers, supervisors)",
    description = "Tells everyone who was told about the alert what to do now that it is over. Who may: as for cancel. Audited.",
    params(("alert_id" = String, Path, description = "Alert id: the first 16 hex digits of the SHA-256 of `sender,identifier,sent`")),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Sent", body = crate::schemas::RecoverySent),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the alert's office, nor a supervisor covering its area; or a feed's alert; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such alert.", body = ErrorBody),
        (status = 500, description = "`internal`: the relief messages could not be composed.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store, the engine or the delivery queue failed; retry.", body = ErrorBody),
    ),
)]
async fn recovery(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    // Recovery follows the end of the event: the alert may be in force or
    // already cancelled or expired (the engine remembers who it told).
    let (alert, owner) = known_alert(&state, &id).await?;
    acting_authority(&state, &principal, &owner, &alert)?;
    let villages = check_jurisdiction(&state, &principal, &alert)?;
    let sent = state.app.send_relief(&alert).await?;
    let (told, queued) = (sent.people, sent.queued);
    audit::record(
        &state,
        &principal.id().0,
        "alert.recovery",
        &id,
        json!({ "people": told, "queued": queued, "villages": villages.len() }),
    )
    .await?;
    Ok(Json(
        json!({ "alert_id": id, "people": told, "queued": queued }),
    ))
}

/// The alert (in force, or sent from a draft here) with this id, and its
/// owner (for one no longer in force: the office that sent it).
async fn known_alert(state: &AppState, id: &str) -> ApiResult<(Alert, Authority)> {
    state
        .app
        .alerts
        .find(id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))
}

#[utoipa::path(
    get,
    path = "/api/v1/alerts/{alert_id}/progress",
    tag = "alerts",
    operation_id = "progress",
    summary = "Delivery and acknowledgement progress (issuers, supervisors)",
    description = "Deliveries by outcome and relay acknowledgements of an alert in the caller's jurisdiction.",
    params(("alert_id" = String, Path, description = "Alert id: the first 16 hex digits of the SHA-256 of `sender,identifier,sent`")),
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Counts", body = crate::schemas::Progress),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only, within their jurisdiction.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such alert.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the delivery queue failed; retry.", body = ErrorBody),
    ),
)]
async fn progress(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (alert, _) = known_alert(&state, &id).await?;
    let villages = check_jurisdiction(&state, &principal, &alert)?;
    let version = AlertVersion::from(&alert_key(&alert));
    let counts = state
        .app
        .storage
        .queue()
        .alert_status(&version)
        .await
        .map_err(|error| {
            tracing::error!(%error, "queue status unavailable");
            ApiError::new(ErrorCode::Unavailable, "the delivery queue is unavailable")
        })?;
    let (_, people) = relay_counts(&state, &villages).await?;
    let mut acknowledged = BTreeSet::new();
    for village in &villages {
        for ack in state.app.storage.relay_acks(&id, village).await? {
            acknowledged.insert(ack.person);
        }
    }
    Ok(Json(json!({
        "alert_id": id,
        "deliveries": {
            "queued": counts.pending,
            "sent": counts.sent,
            "failed": counts.failed,
            "invalid_address": counts.invalid_address,
        },
        "relay": { "people": people, "acknowledged": acknowledged.len() },
    })))
}

#[utoipa::path(
    get,
    path = "/api/v1/shelters",
    tag = "shelters",
    operation_id = "shelters",
    summary = "Shelters and their status (issuers, supervisors)",
    description = "The shelters in villages of the caller's jurisdiction.",
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Shelters", body = crate::schemas::Shelters),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the engine failed; retry later.", body = ErrorBody),
    ),
)]
async fn list_shelters(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
) -> ApiResult<Json<Value>> {
    let shelters = state
        .app
        .engine
        .run(|engine| engine.shelter_list())
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the engine is not running"))?;
    let statuses = state.app.storage.shelter_statuses().await?;
    let rows: Vec<Value> = shelters
        .into_iter()
        .filter(|s| {
            s.village
                .as_deref()
                .is_some_and(|v| principal.may_act_in(v))
        })
        .map(|s| {
            let status = statuses.iter().find(|st| st.shelter == s.id);
            json!({
                "id": s.id, "name": s.name, "lon": s.lon, "lat": s.lat,
                "capacity": s.capacity, "village": s.village,
                "open": status.map(|st| st.open),
                "changed_at": status.map(|st| st.at),
            })
        })
        .collect();
    Ok(Json(json!({ "shelters": rows })))
}

async fn set_shelter(
    state: AppState,
    principal: Principal,
    id: String,
    open: bool,
) -> ApiResult<Json<Value>> {
    let shelter_id = id.clone();
    let shelter = state
        .app
        .engine
        .run(move |engine| {
            engine
                .shelter_list()
                .into_iter()
                .find(|s| s.id == shelter_id)
        })
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the engine is not running"))?
        .ok_or_else(|| ApiError::not_found("shelter"))?;
    if !shelter
        .village
        .as_deref()
        .is_some_and(|v| principal.may_act_in(v))
    {
        return Err(ApiError::forbidden(
            "the shelter is outside your jurisdiction",
        ));
    }
    let status = ShelterStatus {
        shelter: id.clone(),
        open,
        changed_by: principal.id().clone(),
        at: state.app.clock.now(),
    };
    state.app.storage.put_shelter_status(&status).await?;
    let shelter_id = id.clone();
    state
        .app
        .engine
        .run(move |engine| engine.set_shelter_open(&shelter_id, open))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the engine is not running"))?;
    audit::record(
        &state,
        &principal.id().0,
        if open {
            "shelter.open"
        } else {
            "shelter.close"
        },
        &id,
        json!({}),
    )
    .await?;
    Ok(Json(
        json!({ "id": id, "open": open, "changed_at": status.at }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/shelters/{id}/open",
    tag = "shelters",
    operation_id = "openShelter",
    summary = "Open a shelter (issuers, supervisors)",
    description = "Alerts name the nearest open shelter from now on. Audited.",
    params(("id" = String, Path, description = "Shelter id")),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Opened", body = crate::schemas::ShelterStatus),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only, within their jurisdiction; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such shelter.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the engine failed; retry later.", body = ErrorBody),
    ),
)]
async fn open_shelter(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_shelter(state, principal, id, true).await
}

#[utoipa::path(
    post,
    path = "/api/v1/shelters/{id}/close",
    tag = "shelters",
    operation_id = "closeShelter",
    summary = "Close a shelter (issuers, supervisors)",
    description = "Alerts no longer name it. Audited.",
    params(("id" = String, Path, description = "Shelter id")),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor"]))),
    responses(
        (status = 200, description = "Closed", body = crate::schemas::ShelterStatus),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: issuers and supervisors only, within their jurisdiction; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such shelter.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store or the engine failed; retry later.", body = ErrorBody),
    ),
)]
async fn close_shelter(
    State(state): State<AppState>,
    Issuer(principal): Issuer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_shelter(state, principal, id, false).await
}
