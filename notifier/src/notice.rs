//! What the notifier is asked to say, and to whom.
//!
//! The service fills these from the matcher's recipient set and geodata's
//! names and shelters; the notifier never sees CAP or subscriber records.
//! Address types redact themselves in `Debug` so that a stray `{:?}` cannot
//! put a token, phone number or e-mail address into a log.

use std::collections::BTreeMap;
use std::fmt;

use cap::{Alert, Colour, HazardKind, MessageKey, MsgType, ResponseType, Severity, Urgency};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::locale::Locale;

/// Names one version of an alert: CAP's own `sender,identifier,sent` key.
/// An Update is a new version; delivery is once per version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertVersion(pub String);

impl From<&MessageKey> for AlertVersion {
    fn from(key: &MessageKey) -> Self {
        AlertVersion(key.to_string())
    }
}

impl AlertVersion {
    /// The id of this version in URLs: the first 16 hex digits of the
    /// SHA-256 of its text. Short, stable, and it does not put an
    /// agency's mailbox in every link.
    pub fn id(&self) -> String {
        AlertVersion::id_of(&self.0)
    }

    /// [`AlertVersion::id`] of a version kept as text (a stored inbox
    /// entry, a sent draft).
    pub fn id_of(version: &str) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(version.as_bytes());
        hex::encode(&digest[..8])
    }

    /// The version an expiry's all-clear is sent under: a message of its
    /// own, told once even though the alert's key was told before.
    pub fn expired(key: &MessageKey) -> AlertVersion {
        AlertVersion(format!("{key};expired"))
    }

    /// The version the relief steps after an alert are sent under.
    pub fn relief(key: &MessageKey) -> AlertVersion {
        AlertVersion(format!("{key}#relief"))
    }
}

impl fmt::Display for AlertVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which message template applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A warning people have not heard of yet.
    New,
    /// A changed warning (CAP `Update`): level, area or instruction.
    Update,
    /// The warning is over (CAP `Cancel`, or response type `AllClear`).
    AllClear,
    /// The warning is still in force at the person's place, but an Update
    /// lowered it below the level they asked to hear about: not "over",
    /// and nothing more is sent until it rises again or ends.
    Lowered,
    /// Where to get help after the event.
    Relief,
}

/// The nearest suitable open shelter for a recipient's place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShelterInfo {
    /// The shelter's name in the recipient's language (or the official name).
    pub name: String,
    /// Walking-relevant straight-line distance from the recipient's place.
    pub distance_m: u32,
}

/// One alert version as the notifier needs it: everything except who.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub alert: AlertVersion,
    pub hazard: HazardKind,
    pub colour: Colour,
    pub severity: Severity,
    pub urgency: Urgency,
    pub kind: NoticeKind,
    /// CAP status other than `Actual`: every message is marked as a drill.
    pub exercise: bool,
    /// The agency's instruction as written (usually Traditional Chinese).
    pub instruction_original: Option<String>,
    /// The agency's instruction in further languages, when the CAP message
    /// carried an `<info>` block in that language.
    pub instruction_by_locale: BTreeMap<Locale, String>,
    pub expires: Option<DateTime<FixedOffset>>,
    /// Where the full alert can be read.
    pub link: String,
    /// Set when the person is told of an alert that was already in force
    /// (they subscribed, added or moved a place, or shared a location
    /// inside it): the message says since when.
    #[serde(default)]
    pub in_force_since: Option<DateTime<FixedOffset>>,
}

impl Notice {
    /// The notice for one CAP alert version. Hazard kind and colour level
    /// are `cap::hazard`'s reading of the alert, passed in; the rest is taken from
    /// the alert: kind from `msgType` (and an `AllClear` response type),
    /// exercise from `status`, the most serious severity and urgency of its
    /// `<info>` blocks, and the instruction of each `<info>` by language.
    /// The original instruction is the Chinese block's (else the first's).
    /// `None` for messages that tell the public nothing (`Ack`, `Error`).
    pub fn from_alert(
        alert: &Alert,
        version: AlertVersion,
        hazard: HazardKind,
        colour: Colour,
        link: String,
    ) -> Option<Notice> {
        let all_clear = alert
            .infos
            .iter()
            .any(|i| i.response_types.contains(&ResponseType::AllClear));
        let kind = match alert.msg_type {
            MsgType::Cancel => NoticeKind::AllClear,
            _ if all_clear => NoticeKind::AllClear,
            MsgType::Alert => NoticeKind::New,
            MsgType::Update => NoticeKind::Update,
            MsgType::Ack | MsgType::Error => return None,
        };
        let primary = alert
            .infos
            .iter()
            .find(|i| Locale::from_language_tag(&i.language) == Some(Locale::ZhTw))
            .or_else(|| alert.infos.first());
        let mut instruction_by_locale = BTreeMap::new();
        for info in &alert.infos {
            if let (Some(locale), Some(text)) =
                (Locale::from_language_tag(&info.language), &info.instruction)
                && !text.trim().is_empty()
            {
                instruction_by_locale
                    .entry(locale)
                    .or_insert_with(|| text.trim().to_string());
            }
        }
        Some(Notice {
            alert: version,
            hazard,
            colour,
            severity: alert
                .infos
                .iter()
                .map(|i| i.severity)
                .max()
                .unwrap_or(Severity::Unknown),
            urgency: alert
                .infos
                .iter()
                .map(|i| i.urgency)
                .max()
                .unwrap_or(Urgency::Unknown),
            kind,
            exercise: !alert.status.is_real(),
            instruction_original: primary.and_then(|i| i.instruction.clone()),
            instruction_by_locale,
            expires: primary.and_then(|i| i.expires),
            link,
            in_force_since: None,
        })
    }

    /// Alerts that may interrupt quiet hours and jump the delivery queue.
    pub fn is_urgent(&self) -> bool {
        !self.exercise && (self.severity == Severity::Extreme || self.urgency == Urgency::Immediate)
    }
}

/// The part of a message that depends on the recipient's registered place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientPlace {
    /// The place's name in the recipient's language (village, town).
    pub name: String,
    pub shelter: Option<ShelterInfo>,
}

/// A pseudonymous subscriber id (random, e.g. `s_3f9c…`): never a phone
/// number or e-mail address, so logs, the audit log, deliveries and
/// metrics may carry it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriberId(pub String);

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a string newtype whose `Debug` shows only its length.
macro_rules! personal_data {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            /// The value itself, for the one place that must send it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<redacted {} chars>)"), self.0.chars().count())
            }
        }
    };
}

personal_data!(
    /// An FCM registration token.
    DeviceToken
);
personal_data!(
    /// A phone number in E.164 form (`+8869...`).
    PhoneNumber
);
personal_data!(
    /// An e-mail address.
    EmailAddress
);
personal_data!(
    /// A subscriber's webhook URL (may embed credentials in its path).
    WebhookUrl
);
personal_data!(
    /// A shared secret (webhook signing key).
    Secret
);

/// Where one channel reaches one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Address {
    /// A single device through FCM.
    Fcm {
        token: DeviceToken,
    },
    /// Every device subscribed to an FCM topic (e.g. a town's topic).
    FcmTopic {
        topic: String,
    },
    /// A device's own MQTT topic; `device` is the app's install id.
    Mqtt {
        device: String,
    },
    /// The retained per-area MQTT topic (`area` is a village or town code).
    MqttArea {
        area: String,
    },
    Email {
        to: EmailAddress,
    },
    Sms {
        to: PhoneNumber,
    },
    Webhook {
        url: WebhookUrl,
        secret: Secret,
    },
    /// Browsers watching the public alert page.
    Live,
}

impl Address {
    pub fn channel(&self) -> ChannelKind {
        match self {
            Address::Fcm { .. } | Address::FcmTopic { .. } => ChannelKind::Fcm,
            Address::Mqtt { .. } | Address::MqttArea { .. } => ChannelKind::Mqtt,
            Address::Email { .. } => ChannelKind::Email,
            Address::Sms { .. } => ChannelKind::Sms,
            Address::Webhook { .. } => ChannelKind::Webhook,
            Address::Live => ChannelKind::Live,
        }
    }
}

/// The delivery channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Fcm,
    Mqtt,
    Email,
    Sms,
    Webhook,
    Live,
}

impl ChannelKind {
    /// Whether the channel can deliver without sound. SMS cannot: during
    /// quiet hours it waits for their end instead.
    pub fn can_be_silent(self) -> bool {
        self != ChannelKind::Sms
    }

    pub const ALL: [ChannelKind; 6] = [
        ChannelKind::Fcm,
        ChannelKind::Mqtt,
        ChannelKind::Email,
        ChannelKind::Sms,
        ChannelKind::Webhook,
        ChannelKind::Live,
    ];

    /// The channel named `text` (as [`ChannelKind::as_str`] writes it).
    pub fn parse(text: &str) -> Option<Self> {
        ChannelKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Fcm => "fcm",
            ChannelKind::Mqtt => "mqtt",
            ChannelKind::Email => "email",
            ChannelKind::Sms => "sms",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Live => "live",
        }
    }
}

/// One person to notify: who (pseudonymously), in which language, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub subscriber: SubscriberId,
    pub locale: Locale,
    pub addresses: Vec<Address>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_personal_data() {
        let recipient = Recipient {
            subscriber: SubscriberId("s-1".into()),
            locale: Locale::Vi,
            addresses: vec![
                Address::Fcm {
                    token: DeviceToken::new("fcm-token-abcdef"),
                },
                Address::Sms {
                    to: PhoneNumber::new("+886912345678"),
                },
                Address::Email {
                    to: EmailAddress::new("lan@example.org"),
                },
                Address::Webhook {
                    url: WebhookUrl::new("https://hooks.example.org/secret-path"),
                    secret: Secret::new("hunter2"),
                },
            ],
        };
        let shown = format!("{recipient:?}");
        for secret in [
            "abcdef",
            "912345678",
            "lan@example",
            "secret-path",
            "hunter2",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked into {shown}");
        }
        assert!(
            shown.contains("PhoneNumber(<redacted 13 chars>)"),
            "{shown}"
        );
    }

    fn info(language: &str, instruction: Option<&str>, severity: Severity) -> cap::Info {
        cap::Info {
            language: language.into(),
            categories: vec![cap::Category::Geo],
            event: "debris flow".into(),
            response_types: vec![ResponseType::Evacuate],
            urgency: Urgency::Expected,
            severity,
            certainty: cap::Certainty::Likely,
            audience: None,
            event_codes: vec![],
            effective: None,
            onset: None,
            expires: chrono::DateTime::parse_from_rfc3339("2026-11-22T18:00:00+08:00").ok(),
            sender_name: None,
            headline: None,
            description: None,
            instruction: instruction.map(str::to_string),
            web: None,
            contact: None,
            parameters: vec![],
            resources: vec![],
            areas: vec![],
        }
    }

    #[test]
    fn notices_read_kind_exercise_and_instructions_from_the_alert() {
        let mut alert = Alert {
            cap_version: cap::CapVersion::V1_2,
            identifier: "DF-1".into(),
            sender: "agency@example".into(),
            sent: chrono::DateTime::parse_from_rfc3339("2026-11-22T08:00:00+08:00").unwrap(),
            status: cap::Status::Exercise,
            msg_type: MsgType::Update,
            source: None,
            scope: cap::Scope::Public,
            restriction: None,
            addresses: vec![],
            codes: vec![],
            note: None,
            references: vec![],
            incidents: vec![],
            infos: vec![
                info("en-US", Some("Evacuate now."), Severity::Severe),
                info("zh-TW", Some("請立即撤離。"), Severity::Extreme),
                info("vi", Some("  "), Severity::Severe),
            ],
        };
        let version = AlertVersion("v1".into());
        let link = "https://alerts.example/a/1".to_string();
        let notice = Notice::from_alert(
            &alert,
            version.clone(),
            HazardKind::DebrisFlow,
            Colour::Red,
            link.clone(),
        )
        .unwrap();
        assert_eq!(notice.kind, NoticeKind::Update);
        assert!(notice.exercise);
        assert_eq!(notice.severity, Severity::Extreme);
        assert_eq!(notice.instruction_original.as_deref(), Some("請立即撤離。"));
        assert_eq!(
            notice
                .instruction_by_locale
                .get(&Locale::En)
                .map(String::as_str),
            Some("Evacuate now.")
        );
        assert!(
            !notice.instruction_by_locale.contains_key(&Locale::Vi),
            "blank instructions are ignored"
        );
        alert.msg_type = MsgType::Cancel;
        let cancel = Notice::from_alert(
            &alert,
            version.clone(),
            HazardKind::DebrisFlow,
            Colour::Red,
            link.clone(),
        );
        assert_eq!(cancel.map(|n| n.kind), Some(NoticeKind::AllClear));
        alert.msg_type = MsgType::Ack;
        assert!(
            Notice::from_alert(&alert, version, HazardKind::DebrisFlow, Colour::Red, link)
                .is_none()
        );
    }

    #[test]
    fn urgency_ignores_exercises() {
        let mut notice = crate::testing_notice();
        notice.severity = Severity::Extreme;
        assert!(notice.is_urgent());
        notice.exercise = true;
        assert!(!notice.is_urgent());
    }
}
