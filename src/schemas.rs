//! The shapes of response bodies that handlers build as JSON values
//! (`json!`), and of the few types that live in library crates, for the
//! OpenAPI document; and the closed sets of words (languages, hazards,
//! colours, roles, …) that requests carry as strings and the handlers
//! check. Nothing serializes these types: each one says where its body is
//! written, and must be kept in step with it. The enums derive
//! `Serialize` only so that their serde names are the documented ones.
//!
//! Library types (`store::Role`, `store::AuditEntry`, notifier's shelter
//! and live event) are described here rather than given a `ToSchema`
//! derive in their crates: that would put the documentation library into
//! crates that have no HTTP API, for four small types.
//!
//! Shapes that hold one of the API's own types (a place, an account, an
//! alert) live beside that type's users instead (`residents::me`,
//! `auth`): this module imports nothing from the service, so that any
//! module may name its types.

#![allow(
    dead_code,
    reason = "describes bodies for the OpenAPI document; never built"
)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// One of the eight supported languages; other spellings of the same
/// language (`zh-Hant-TW`, `tl`) are accepted and stored in this form.
#[derive(Serialize, ToSchema)]
pub enum Locale {
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en")]
    En,
    #[serde(rename = "ja")]
    Ja,
    #[serde(rename = "ko")]
    Ko,
    #[serde(rename = "th")]
    Th,
    #[serde(rename = "vi")]
    Vi,
    #[serde(rename = "fil")]
    Fil,
    #[serde(rename = "id")]
    Id,
}

/// A hazard kind (cap's classification).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    Rainfall,
    Flood,
    DebrisFlow,
    Earthquake,
    Typhoon,
    Thunderstorm,
    Tsunami,
    Heat,
    Cold,
    Fog,
    Wind,
    Other,
}

/// Warning colour, least to most severe.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Green,
    Yellow,
    Orange,
    Red,
}

/// Seismic intensity on Taiwan's scale.
#[derive(Serialize, ToSchema)]
pub enum Intensity {
    #[serde(rename = "0")]
    I0,
    #[serde(rename = "1")]
    I1,
    #[serde(rename = "2")]
    I2,
    #[serde(rename = "3")]
    I3,
    #[serde(rename = "4")]
    I4,
    #[serde(rename = "5-")]
    I5Weak,
    #[serde(rename = "5+")]
    I5Strong,
    #[serde(rename = "6-")]
    I6Weak,
    #[serde(rename = "6+")]
    I6Strong,
    #[serde(rename = "7")]
    I7,
}

/// Rainfall warning levels, least to most.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rainfall {
    Heavy,
    ExtremelyHeavy,
    Torrential,
    ExtremelyTorrential,
}

/// CAP severity.
#[derive(Serialize, ToSchema)]
pub enum Severity {
    Extreme,
    Severe,
    Moderate,
    Minor,
    Unknown,
}

/// CAP urgency.
#[derive(Serialize, ToSchema)]
pub enum Urgency {
    Immediate,
    Expected,
    Future,
    Past,
    Unknown,
}

/// CAP certainty.
#[derive(Serialize, ToSchema)]
pub enum Certainty {
    Observed,
    Likely,
    Possible,
    Unlikely,
    Unknown,
}

/// A delivery channel.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Fcm,
    Mqtt,
    Email,
    Sms,
    Webhook,
}

// Describes `store::Role`.
/// An account's role.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Issuer,
    Supervisor,
    VillageChief,
    Operator,
}

// ---- Residents (src/http/residents/me.rs) ----

// Written by `me::view`.
/// A device as its owner sees it: the secret itself is
/// never shown.
#[derive(ToSchema)]
pub struct DeviceView {
    channel: Channel,
    address: String,
    has_secret: bool,
}

/// Quiet hours, Taiwan time; may wrap past midnight.
#[derive(ToSchema)]
pub struct QuietHours {
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    start: String,
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    end: String,
}

// Written by `me::view`.
/// Stored preferences.
#[derive(ToSchema)]
pub struct Preferences {
    /// Empty: every hazard.
    kinds: Vec<Hazard>,
    min_colour: Option<Colour>,
    min_intensity: Option<Intensity>,
    min_rainfall: Option<Rainfall>,
    languages: Vec<Locale>,
    /// Also receive exercises and tests.
    exercises: bool,
    quiet_hours: Option<QuietHours>,
}

// Written by `me::share_location`, `me::view`.
/// A shared location.
#[derive(ToSchema)]
pub struct Location {
    lon: f64,
    lat: f64,
    /// MOI village code of the point; only when it is shared.
    village: Option<String>,
    at: DateTime<Utc>,
    /// The point is forgotten then.
    expires: DateTime<Utc>,
}

// Written by `me::view`.
/// A relay request as kept.
#[derive(ToSchema)]
pub struct Relay {
    name: String,
    phone: Option<String>,
    note: Option<String>,
    /// MOI village code: the list of this village's chief.
    village: String,
}

// ---- The console's compose form (`app::compose`), read by `issuers::create_draft` ----
// Each mirrors its namesake in `app::compose` field for field, with the
// same serde attributes, so that the document says what the form accepts.

/// The area of a composed alert: exactly one of the three shapes.
#[derive(serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct AreaInput {
    /// `[[lon, lat], …]`; closed automatically when the last point differs.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Vec<f64>>>)]
    polygon: Option<Vec<[f64; 2]>>,
    /// MOI county (5), town (8) or village (11) codes.
    #[serde(default)]
    codes: Option<Vec<String>>,
    #[serde(default)]
    circle: Option<CircleInput>,
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CircleInput {
    lon: f64,
    lat: f64,
    radius_km: f64,
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextInput {
    headline: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    instruction: Option<String>,
}

/// The console's compose form (`POST /api/v1/drafts`).
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposeRequest {
    /// `rainfall`, `flood`, `debris_flow`, `earthquake`, … (cap's hazard kinds).
    #[schema(value_type = Hazard)]
    hazard: String,
    /// The event as people call it; defaults to the hazard's Chinese name.
    #[serde(default)]
    event: Option<String>,
    area: AreaInput,
    #[schema(value_type = Severity)]
    severity: String,
    #[schema(value_type = Urgency)]
    urgency: String,
    #[schema(value_type = Certainty)]
    certainty: String,
    /// `green`, `yellow`, `orange`, `red`.
    #[serde(default)]
    #[schema(value_type = Option<Colour>)]
    colour: Option<String>,
    /// Language tag → texts; `zh-TW` is required.
    texts: std::collections::BTreeMap<String, TextInput>,
    expires: chrono::DateTime<chrono::FixedOffset>,
    #[serde(default)]
    exercise: bool,
    /// Alert id of the alert this one updates.
    #[serde(default)]
    references: Option<String>,
}

// Describes `app::alerts::MyAlert`, written by `me::alerts`.
/// One alert as its subscriber sees it, in their language.
#[derive(ToSchema)]
pub struct MyAlert {
    /// Short id for URLs (`{alert_id}` in the staff API's paths).
    alert_id: String,
    /// CAP key `sender,identifier,sent`.
    alert: String,
    /// `new`, `update`, `lowered` (still in force, below the level the
    /// person asked to hear about) or `all_clear` (ended).
    kind: String,
    /// The alert ended for this person: `title` and `body` are its
    /// all-clear. Shown until the all-clear has reached one of their
    /// devices (at most a day).
    ended: bool,
    hazard: Hazard,
    colour: Colour,
    exercise: bool,
    title: String,
    body: String,
    /// The subscriber's own place the alert is about.
    place: String,
    /// The nearest open shelter, when the alert calls for one.
    shelter: Option<NearestShelter>,
    expires: Option<chrono::DateTime<chrono::FixedOffset>>,
}

// Describes notifier's `ShelterInfo`, in `MyAlert::shelter`.
/// The nearest open shelter.
#[derive(ToSchema)]
pub struct NearestShelter {
    /// The shelter's name in the recipient's language (or the official
    /// name).
    name: String,
    /// Straight-line distance from the recipient's place, in metres.
    distance_m: u32,
}

/// Kinds of notice in the inbox.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    New,
    Update,
    /// Still in force, lowered below the level the person asked for.
    Lowered,
    AllClear,
    Relief,
    Correction,
}

// Written by `me::inbox`.
/// One notice a resident was told.
#[derive(ToSchema)]
pub struct InboxEntry {
    alert_id: String,
    at: DateTime<Utc>,
    kind: NoticeKind,
    hazard: Hazard,
    colour: Colour,
    exercise: bool,
    title: String,
    body: String,
    expires: Option<DateTime<Utc>>,
}

/// `GET /api/v1/me/inbox`, newest first.
#[derive(ToSchema)]
pub struct Inbox {
    entries: Vec<InboxEntry>,
}

// ---- Public reads (src/http/residents/public.rs) ----

// Written by `public::alerts`.
/// Area names of an alert, cut after 20.
#[derive(ToSchema)]
pub struct AreaNames {
    names: Vec<String>,
    /// Names left out.
    more: u64,
}

// Written by `public::alerts`.
/// One alert in force, public summary.
#[derive(ToSchema)]
pub struct PublicAlert {
    alert_id: String,
    sender: String,
    sent: DateTime<Utc>,
    /// CAP msgType: `Alert`, `Update`, …
    msg_type: String,
    hazard: Hazard,
    colour: Colour,
    exercise: bool,
    /// Language of `event` and `headline`: the one asked for with `lang`
    /// when the alert has it, else its first.
    language: Option<String>,
    event: Option<String>,
    headline: Option<String>,
    expires: Option<DateTime<Utc>>,
    areas: AreaNames,
}

/// `GET /api/v1/alerts`.
#[derive(ToSchema)]
pub struct PublicAlerts {
    alerts: Vec<PublicAlert>,
}

// Describes notifier's `LiveEvent`.
/// One `notice` event of `GET /api/v1/alerts/live`, as JSON.
#[derive(ToSchema)]
pub struct LiveEvent {
    /// CAP key `sender,identifier,sent`.
    alert: String,
    locale: String,
    title: String,
    text: String,
    link: String,
    exercise: bool,
}

/// An administrative area's code and names.
#[derive(ToSchema)]
pub struct AreaName {
    code: String,
    name: String,
    name_en: Option<String>,
}

/// How a geocoded point was found.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GeocodePrecision {
    Address,
    Village,
    Town,
}

// Written by `public::geocode`.
/// A place an address was found at.
#[derive(ToSchema)]
pub struct GeocodeCandidate {
    county: Option<AreaName>,
    town: Option<AreaName>,
    village: Option<AreaName>,
    lon: f64,
    lat: f64,
    precision: GeocodePrecision,
}

/// `GET /api/v1/geocode`.
#[derive(ToSchema)]
pub struct GeocodeResult {
    candidates: Vec<GeocodeCandidate>,
}

/// Administrative levels.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    County,
    Town,
    Village,
}

// Written by `public::areas`.
/// A boundary's properties.
#[derive(ToSchema)]
pub struct AreaProperties {
    code: String,
    name: String,
    name_en: Option<String>,
    level: Level,
}

/// The GeoJSON `type` of a feature.
#[derive(Serialize, ToSchema)]
pub enum FeatureType {
    Feature,
}

/// The GeoJSON `type` of a collection.
#[derive(Serialize, ToSchema)]
pub enum FeatureCollectionType {
    FeatureCollection,
}

/// One area as a GeoJSON feature.
#[derive(ToSchema)]
pub struct AreaFeature {
    #[schema(rename = "type")]
    kind: FeatureType,
    properties: AreaProperties,
    /// GeoJSON MultiPolygon (RFC 7946).
    #[schema(value_type = Object)]
    geometry: serde_json::Value,
}

/// `GET /api/v1/geo/areas`: a GeoJSON FeatureCollection.
#[derive(ToSchema)]
pub struct AreaCollection {
    #[schema(rename = "type")]
    kind: FeatureCollectionType,
    features: Vec<AreaFeature>,
}

// ---- Staff (src/http/staff/auth.rs, audit_log.rs) ----

// Describes `store::AuditEntry`.
/// One entry of the audit log.
#[derive(ToSchema)]
pub struct AuditEntry {
    /// Sequence number, from 1.
    seq: u64,
    at: DateTime<Utc>,
    /// Account id, `subscriber:<id>`, or `system`.
    actor: String,
    /// `login`, `account.create`, `draft.send`, `relay.ack`, …
    action: String,
    target: String,
    /// What the action was about; never personal data.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
    /// Hex SHA-256 over the previous entry's hash and this entry: editing
    /// or removing any entry breaks the chain.
    hash: String,
}

/// `GET /api/v1/audit`: entries after `after`, oldest first.
#[derive(ToSchema)]
pub struct AuditPage {
    entries: Vec<AuditEntry>,
}

// ---- Issuers (src/http/staff/issuers.rs) ----

// Written by `issuers::preview_json`.
/// A village a draft would reach.
#[derive(ToSchema)]
pub struct PreviewVillage {
    /// MOI village code, or `unknown` for subscribers outside every village.
    code: String,
    name: Option<String>,
    count: u64,
}

/// Residents on relay lists in the alert's villages.
#[derive(ToSchema)]
pub struct PreviewRelay {
    villages: u64,
    people: u64,
}

// Written by `issuers::preview_json`.
/// Who a draft would reach.
#[derive(ToSchema)]
pub struct Preview {
    total: u64,
    villages: Vec<PreviewVillage>,
    /// Deliveries per channel.
    channels: BTreeMap<String, u64>,
    relay: PreviewRelay,
}

/// States of a draft.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    AwaitingApproval,
    Approved,
    Sent,
    Rejected,
    Withdrawn,
}

/// Why a draft needs a second person's approval.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalReason {
    Extreme,
    LargeArea,
}

// Written by `issuers::draft_json`.
/// A draft.
#[derive(ToSchema)]
pub struct Draft {
    id: String,
    state: DraftState,
    /// Account id of its author.
    author: String,
    created: DateTime<Utc>,
    approval_reason: Option<ApprovalReason>,
    /// Account id of the approving supervisor.
    approved_by: Option<String>,
    /// Once sent.
    alert_id: Option<String>,
    exercise: bool,
    /// CAP msgType: `Alert`, `Update`, `Cancel`.
    msg_type: String,
    /// Villages the area touches.
    villages: u64,
    cap_xml: String,
    /// Who it would reach; only on a single unsent draft, not in lists.
    preview: Option<Preview>,
}

/// `GET /api/v1/drafts`: newest first.
#[derive(ToSchema)]
pub struct Drafts {
    drafts: Vec<Draft>,
}

// Written by `issuers::send`.
/// A draft sent.
#[derive(ToSchema)]
pub struct Sent {
    alert_id: String,
    /// CAP key `sender,identifier,sent` of the message.
    key: String,
}

// Written by `issuers::end_alert`.
/// A cancel or correction sent.
#[derive(ToSchema)]
pub struct Ended {
    /// Id of the message sent.
    alert_id: String,
    /// Id of the alert it ends.
    ends: String,
}

// Written by `issuers::recovery`.
/// Recovery steps sent.
#[derive(ToSchema)]
pub struct RecoverySent {
    alert_id: String,
    /// People told.
    people: u64,
    /// Deliveries queued.
    queued: u64,
}

/// Deliveries of an alert by outcome.
#[derive(ToSchema)]
pub struct Deliveries {
    queued: u64,
    sent: u64,
    failed: u64,
    invalid_address: u64,
}

/// Relay acknowledgements of an alert.
#[derive(ToSchema)]
pub struct RelayProgress {
    people: u64,
    acknowledged: u64,
}

// Written by `issuers::progress`.
/// `GET /api/v1/alerts/{alert_id}/progress`.
#[derive(ToSchema)]
pub struct Progress {
    alert_id: String,
    deliveries: Deliveries,
    relay: RelayProgress,
}

// Written by `issuers::list_shelters`.
/// A shelter and its status.
#[derive(ToSchema)]
pub struct Shelter {
    id: String,
    name: String,
    lon: f64,
    lat: f64,
    capacity: Option<u64>,
    village: Option<String>,
    /// Unknown until opened or closed through the API.
    open: Option<bool>,
    changed_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/shelters`: the shelters in the caller's jurisdiction.
#[derive(ToSchema)]
pub struct Shelters {
    shelters: Vec<Shelter>,
}

// Written by `issuers::set_shelter`.
/// A shelter opened or closed.
#[derive(ToSchema)]
pub struct ShelterStatus {
    id: String,
    open: bool,
    changed_at: DateTime<Utc>,
}

// ---- Village chiefs (src/http/chiefs.rs) ----

/// Outcomes a chief records.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Reached,
    NoAnswer,
    NeedsHelp,
    MovedAway,
}

/// The chief's latest acknowledgement of a person.
#[derive(ToSchema)]
pub struct RelayAck {
    outcome: Outcome,
    at: DateTime<Utc>,
    note: Option<String>,
}

// Written by `chiefs::person_json`.
/// One person on a relay list.
#[derive(ToSchema)]
pub struct RelayPerson {
    /// Pseudonymous subscriber id.
    person: String,
    name: Option<String>,
    phone: Option<String>,
    note: Option<String>,
    /// Invisible or direction-changing characters were removed from the
    /// name or a note before showing them (text stored before such
    /// characters were refused).
    hidden_characters_removed: bool,
    locale: String,
    ack: Option<RelayAck>,
}

/// One (alert, village) list.
#[derive(ToSchema)]
pub struct RelayList {
    alert_id: String,
    headline: Option<String>,
    exercise: bool,
    village: String,
    village_name: Option<String>,
    people: Vec<RelayPerson>,
}

/// `GET /api/v1/relay`. Only residents with a place in the village are
/// listed; names and notes never carry invisible or direction-changing
/// characters.
#[derive(ToSchema)]
pub struct RelayLists {
    lists: Vec<RelayList>,
}

// Written by `chiefs::acknowledge`.
/// An acknowledgement recorded.
#[derive(ToSchema)]
pub struct Acknowledged {
    person: String,
    outcome: Outcome,
    at: DateTime<Utc>,
}

// Written by `chiefs::dismiss`.
/// A person dismissed.
#[derive(ToSchema)]
pub struct Dismissed {
    person: String,
    dismissed: bool,
}

// ---- Operators (src/http/ops.rs) ----

/// `GET /healthz`.
#[derive(ToSchema)]
pub struct Health {
    /// `ok`.
    status: String,
}

/// Why the service is not ready: `check` is `store`, `engine`, `feed`,
/// `queue` or `heartbeat`; a feed names its `source`.
#[derive(ToSchema)]
pub struct NotReady {
    check: String,
    source: Option<String>,
    reason: String,
}

// Written by `ops::readyz`.
/// `GET /readyz`.
#[derive(ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: String,
    /// Only when not ready.
    reasons: Option<Vec<NotReady>>,
}
