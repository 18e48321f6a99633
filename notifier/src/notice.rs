//! What the notifier is asked to say, and to whom.
//!
//! The service fills these from the matcher's recipient set and geodata's
//! names and shelters; the notifier never sees CAP or subscriber records.
//! Address types redact themselves in `Debug` so that a stray `{:?}` cannot
//! put a token, phone number or e-mail address into a log.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use ingest::{Colour, HazardKind, MessageKey, Severity, Urgency};
use serde::{Deserialize, Serialize};

use crate::locale::Locale;

/// Names one version of an alert: CAP's own `sender,identifier,sent` key.
/// An Update is a new version; delivery is once per version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertVersion(pub String);

impl From<&MessageKey> for AlertVersion {
    fn from(key: &MessageKey) -> Self {
        AlertVersion(format!("{},{},{}", key.sender, key.identifier, key.sent))
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
}

impl Notice {
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

/// A pseudonymous subscriber id: never a phone number or e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

    #[test]
    fn urgency_ignores_exercises() {
        let mut notice = crate::testing_notice();
        notice.severity = Severity::Extreme;
        assert!(notice.is_urgent());
        notice.exercise = true;
        assert!(!notice.is_urgent());
    }
}
