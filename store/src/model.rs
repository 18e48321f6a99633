//! The records the service keeps. Fields holding personal data are
//! [`Sensitive`]: their `Debug` shows only a length, and backends seal them
//! before writing.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Personal data in the clear, in memory only. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive(pub String);

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sensitive({} bytes)", self.0.len())
    }
}

impl Sensitive {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// SHA-256 of a bearer secret (device key, session token): what is stored
/// and looked up, never the secret itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyHash(pub [u8; 32]);

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(..)")
    }
}

/// The one subscriber id type, the notifier's: deliveries, records, the
/// audit log and metrics all name a person by it.
pub use notifier::notice::SubscriberId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriberRecord {
    pub id: SubscriberId,
    pub created_at: DateTime<Utc>,
    /// Hash of the device key the app presents as its bearer token.
    pub key_hash: KeyHash,
    /// BCP 47 tag of the language messages are written in (`zh-TW`, `en`, …).
    pub locale: String,
    pub devices: Vec<Device>,
    pub places: Vec<PlaceRecord>,
    /// The latest shared location of a traveller, if they opted in.
    pub location: Option<CurrentLocation>,
    pub preferences: PreferencesRecord,
    /// Someone a village chief should phone or visit (no smartphone).
    pub relay: Option<RelayNeed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChannel {
    Fcm,
    Mqtt,
    Email,
    Sms,
    Webhook,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub channel: DeviceChannel,
    /// FCM registration token, MQTT device id, e-mail address, phone number
    /// (E.164) or webhook URL.
    pub address: Sensitive,
    /// Webhook signing secret, when the channel is a webhook.
    pub secret: Option<Sensitive>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceRecord {
    /// Stable within the subscriber (0..=255).
    pub id: u8,
    /// What the person calls it ("Home", "阿嬤家").
    pub label: Sensitive,
    /// The address as typed, when the place was added by address.
    pub address: Option<Sensitive>,
    pub lon: f64,
    pub lat: f64,
    /// MOI village code the point lies in, when known.
    pub village: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentLocation {
    pub lon: f64,
    pub lat: f64,
    pub at: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// Preferences as stored (strings, so the store needs no other crate's
/// enums); the service converts them to the matcher's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PreferencesRecord {
    /// Hazard kinds (`earthquake`, `rainfall`, …); empty means all.
    pub kinds: Vec<String>,
    pub min_colour: Option<String>,
    pub min_intensity: Option<String>,
    pub min_rainfall: Option<String>,
    pub languages: Vec<String>,
    pub exercises: bool,
    /// `HH:MM` start and end, Taiwan time.
    pub quiet_hours: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayNeed {
    pub name: Sensitive,
    pub phone: Option<Sensitive>,
    pub village: String,
    /// "wheelchair", "hard of hearing", … as the person or family wrote it.
    pub note: Option<Sensitive>,
}

/// One notice told to a subscriber, for their inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub subscriber: SubscriberId,
    /// `sender,identifier,sent` of the alert version.
    pub alert: String,
    pub at: DateTime<Utc>,
    /// `new`, `update`, `all_clear`, `relief`, `correction`.
    pub kind: String,
    pub hazard: String,
    pub colour: String,
    pub exercise: bool,
    pub title: String,
    pub body: String,
    pub expires: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Composes, previews, sends, updates and cancels alerts in its
    /// jurisdiction; opens and closes shelters.
    Issuer,
    /// An issuer who may also approve another issuer's draft.
    Supervisor,
    /// Works the relay lists of their villages.
    VillageChief,
    /// Runs the service: accounts, audit log, backups; sends no alerts.
    Operator,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// County or town codes an issuer may act in; village codes a chief
    /// holds. Empty for operators.
    pub jurisdiction: Vec<String>,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub disabled: bool,
    /// The emergency office an issuer or supervisor sends for: its alerts
    /// carry `<office>@<sender domain>` and belong to the office, so any of
    /// its staff may change them and no other office may. None for chiefs
    /// and operators, and for accounts stored before offices existed (see
    /// [`Account::office_name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
}

impl Account {
    /// The office this account sends for. Accounts stored before offices
    /// existed sent as their username, so that stays their office and the
    /// alerts they sent stay theirs.
    pub fn office_name(&self) -> &str {
        self.office.as_deref().unwrap_or(&self.username)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token_hash: KeyHash,
    pub account: AccountId,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// Sent back by forms in a header or field; compared on every unsafe
    /// request.
    pub csrf_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DraftId(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    AwaitingApproval,
    Approved,
    Sent,
    Rejected,
    Withdrawn,
}

/// An alert composed in the console (or submitted as CAP) before it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub id: DraftId,
    pub author: AccountId,
    pub created: DateTime<Utc>,
    pub state: DraftState,
    /// The CAP message that will be sent, as XML.
    pub cap_xml: String,
    /// Why a second person must approve (`extreme`, `large_area`), if so.
    pub approval_reason: Option<String>,
    pub approved_by: Option<AccountId>,
    /// Key of the alert once sent.
    pub sent_alert: Option<String>,
    /// The office the author wrote it for: drafts are listed per office.
    /// None for drafts stored before offices existed; the store files
    /// those under their author's office when it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShelterStatus {
    pub shelter: String,
    pub open: bool,
    pub changed_by: AccountId,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayAck {
    pub alert: String,
    pub village: String,
    /// The resident's pseudonymous id.
    pub person: SubscriberId,
    pub chief: AccountId,
    pub at: DateTime<Utc>,
    /// `reached`, `no_answer`, `needs_help`, `moved_away`.
    pub outcome: String,
    pub note: Option<String>,
}

/// An audit entry to append: who did what to what. `target` and `detail`
/// name people only by pseudonymous id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    /// Account id, `subscriber:<id>`, or `system`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    /// Hex SHA-256 over the previous entry's hash and this entry: editing
    /// or removing any entry breaks the chain.
    pub hash: String,
}

/// What one person was last told of one alert in force: the engine's
/// record, kept so that a restart or a second instance tells the same
/// people the same things (no repeat, no all-clear forgotten). It holds no
/// personal data: a pseudonymous id, a place number and digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToldRecord {
    /// The place (index into the person's places) the message named.
    pub place: u8,
    /// Digest of the facts of the alert they read (level, instruction,
    /// expiry, …).
    pub unit: u64,
    /// Digest of which of their places were inside, and how.
    pub places: u64,
    pub at: DateTime<Utc>,
    /// They were told it was lowered below their threshold.
    pub lowered: bool,
}

/// One change to the told records, applied as one atomic write: the
/// records of the alerts that ended go, and entries of the alert in force
/// are written (added, or replacing the same person's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToldChange {
    /// Keys (`sender,identifier,sent`) of alerts that ended or were
    /// replaced.
    pub ended: Vec<String>,
    /// The alert in force the entries belong to.
    pub alert: Option<String>,
    pub entries: Vec<(SubscriberId, ToldRecord)>,
}

impl ToldChange {
    pub fn is_empty(&self) -> bool {
        self.ended.is_empty() && self.entries.is_empty()
    }
}

/// Every told record, by alert key.
pub type ToldRecords = std::collections::BTreeMap<String, Vec<(SubscriberId, ToldRecord)>>;
