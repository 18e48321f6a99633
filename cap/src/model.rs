//! The normalized alert model: what every other crate sees of a CAP message.
//!
//! Field names follow CAP 1.2 (`msgType` → `msg_type`). Values are kept as
//! the agency wrote them where interpretation belongs downstream (geocodes,
//! parameters); enumerations and date-times are typed because every consumer
//! needs them typed and a wrong reading here (a `Test` taken as `Actual`) is
//! the costliest mistake the system can make.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// A CAP date-time: always with its zone, as the spec requires.
pub type Timestamp = DateTime<FixedOffset>;

/// Writes a date-time in the CAP 1.2 form (`-00:00` never `Z`).
pub fn format_datetime(t: &Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The CAP version a message declared through its XML namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CapVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
    #[serde(rename = "1.2")]
    V1_2,
}

/// One CAP `<alert>`, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub cap_version: CapVersion,
    pub identifier: String,
    pub sender: String,
    pub sent: Timestamp,
    pub status: Status,
    pub msg_type: MsgType,
    pub source: Option<String>,
    pub scope: Scope,
    pub restriction: Option<String>,
    /// `<addresses>` split on white space, double-quoted names kept whole.
    pub addresses: Vec<String>,
    pub codes: Vec<String>,
    pub note: Option<String>,
    pub references: Vec<Reference>,
    /// `<incidents>` split like `addresses`.
    pub incidents: Vec<String>,
    pub infos: Vec<Info>,
}

/// The key CAP itself uses to name a message: `sender,identifier,sent`.
/// Every crate names an alert by it; [`MessageKey::of`] is the one place
/// it is made from a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageKey {
    pub sender: String,
    pub identifier: String,
    /// `sent` exactly as written, so keys compare the way references name them.
    pub sent: String,
}

/// One entry of `<references>`: an earlier message this one updates or cancels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub sender: String,
    pub identifier: String,
    /// As written in the reference (agencies are not consistent about zones).
    pub sent_raw: String,
    pub sent: Option<Timestamp>,
}

impl MessageKey {
    /// The key of `alert`: the one place a message's identity is written
    /// (`sent` in CAP 1.2's own form, the way references name it).
    pub fn of(alert: &Alert) -> MessageKey {
        MessageKey {
            sender: alert.sender.clone(),
            identifier: alert.identifier.clone(),
            sent: format_datetime(&alert.sent),
        }
    }
}

/// `sender,identifier,sent`, as CAP's `<references>` lists a message.
impl std::fmt::Display for MessageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{},{}", self.sender, self.identifier, self.sent)
    }
}

/// `sender,identifier,sent` as the reference wrote it: one entry of
/// `<references>`.
impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{},{}", self.sender, self.identifier, self.sent_raw)
    }
}

impl Reference {
    /// The reference an Update or Cancel of `alert` writes.
    pub fn to(alert: &Alert) -> Reference {
        let key = MessageKey::of(alert);
        Reference {
            sender: key.sender,
            identifier: key.identifier,
            sent_raw: key.sent,
            sent: Some(alert.sent),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Actual,
    Exercise,
    System,
    Test,
    Draft,
}

impl Status {
    /// Only `Actual` messages may reach the public as real alerts; every other
    /// status goes down the exercise path.
    pub fn is_real(self) -> bool {
        self == Status::Actual
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MsgType {
    Alert,
    Update,
    Cancel,
    Ack,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Public,
    Restricted,
    Private,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    Geo,
    Met,
    Safety,
    Security,
    Rescue,
    Fire,
    Health,
    Env,
    Transport,
    Infra,
    #[serde(rename = "CBRNE")]
    Cbrne,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseType {
    Shelter,
    Evacuate,
    Prepare,
    Execute,
    Avoid,
    Monitor,
    Assess,
    AllClear,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Urgency {
    Unknown,
    Past,
    Future,
    Expected,
    Immediate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    Unknown,
    Minor,
    Moderate,
    Severe,
    Extreme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Certainty {
    Unknown,
    Unlikely,
    Possible,
    Likely,
    Observed,
}

/// A `valueName` / `value` pair (eventCode, parameter, geocode), kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NamedValue {
    pub value_name: String,
    pub value: String,
}

/// One `<info>` block: the alert in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// As written; defaults to `en-US` when absent, as the spec says.
    pub language: String,
    pub categories: Vec<Category>,
    pub event: String,
    pub response_types: Vec<ResponseType>,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub audience: Option<String>,
    pub event_codes: Vec<NamedValue>,
    pub effective: Option<Timestamp>,
    pub onset: Option<Timestamp>,
    pub expires: Option<Timestamp>,
    pub sender_name: Option<String>,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub web: Option<String>,
    pub contact: Option<String>,
    pub parameters: Vec<NamedValue>,
    pub resources: Vec<Resource>,
    pub areas: Vec<Area>,
}

impl Info {
    /// The language tag in lower case, for comparisons (`Zh-TW` = `zh-tw`).
    pub fn language_key(&self) -> String {
        self.language.to_ascii_lowercase()
    }

    /// Values of every parameter named `name`, in document order.
    pub fn parameter_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.parameters
            .iter()
            .filter(move |p| p.value_name == name)
            .map(|p| p.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub resource_desc: String,
    pub mime_type: Option<String>,
    pub size: Option<u64>,
    pub uri: Option<String>,
    /// Base64 content embedded in the message, as written.
    pub deref_uri: Option<String>,
    pub digest: Option<String>,
}

/// One `<area>`. Geocodes are kept exactly as given; resolving them to
/// places is geodata's and the matcher's job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub area_desc: String,
    pub polygons: Vec<Polygon>,
    pub circles: Vec<Circle>,
    pub geocodes: Vec<NamedValue>,
    /// Feet above mean sea level, as CAP defines it.
    pub altitude: Option<f64>,
    pub ceiling: Option<f64>,
}

/// A WGS84 point. CAP writes `lat,lon`; the model names both so that no
/// consumer has to remember the order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

/// A closed ring: first point equals last, at least four points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon {
    pub points: Vec<Point>,
}

/// A circle; a radius of 0 means the centre point only (earthquake epicentres).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Circle {
    pub center: Point,
    pub radius_km: f64,
}
