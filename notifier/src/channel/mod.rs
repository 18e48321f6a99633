//! Outbound delivery: one [`Channel`] trait, one file per protocol.
//!
//! A channel takes one [`Delivery`] (who, where, what, how loudly) and says
//! what happened as an [`Outcome`]. Channels never retry on their own: the
//! delivery queue owns retries, so a crash between attempts loses nothing.
//! Only this module tree knows the providers' wire formats (FCM's JSON, the
//! SMS gateway's form fields, MQTT topics).
//!
//! - [`fcm`]: Firebase Cloud Messaging HTTP v1.
//! - [`mqtt`]: an MQTT broker, QoS 1.
//! - [`email`]: e-mail over SMTP.
//! - [`sms`]: an HTTP SMS gateway speaking Twilio's Messages API.
//! - [`webhook`]: signed JSON POSTs to subscribers' own endpoints.
//! - [`live`]: an in-process broadcast feeding the web page's live view.

pub mod email;
pub mod fcm;
pub mod live;
pub mod mqtt;
pub mod sms;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use cap::{Colour, HazardKind};
use chrono::{DateTime, FixedOffset, Utc};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::notice::{Address, AlertVersion, ChannelKind, Notice, NoticeKind, SubscriberId};
use crate::policy::Loudness;
use crate::render::Message;

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the provider or peer.
    Sent,
    /// Try again, not before `after` (the provider's `Retry-After` when it
    /// gave one).
    Retry { after: Duration },
    /// The address is dead (unregistered token, unknown number): the caller
    /// should disable it. Never retried.
    InvalidAddress,
    /// The provider refused this message for good. Never retried.
    Rejected(String),
}

/// The future a channel's `send` returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One way of reaching people.
pub trait Channel: Send + Sync {
    fn kind(&self) -> ChannelKind;

    /// Attempts one delivery. Must not panic and must not log personal data.
    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a>;
}

/// What a channel needs to know about the alert besides the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertFacts {
    pub alert: AlertVersion,
    pub hazard: HazardKind,
    pub colour: Colour,
    pub kind: NoticeKind,
    pub exercise: bool,
    pub urgent: bool,
    pub expires: Option<DateTime<FixedOffset>>,
    pub link: String,
}

impl From<&Notice> for AlertFacts {
    fn from(notice: &Notice) -> Self {
        AlertFacts {
            alert: notice.alert.clone(),
            hazard: notice.hazard,
            colour: notice.colour,
            kind: notice.kind,
            exercise: notice.exercise,
            urgent: notice.is_urgent(),
            expires: notice.expires,
            link: notice.link.clone(),
        }
    }
}

/// One message to one address: the unit the queue stores and channels send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub subscriber: SubscriberId,
    pub address: Address,
    pub facts: AlertFacts,
    pub message: Message,
    pub loudness: Loudness,
    /// Not to be sent before this time: an SMS (which always rings) held
    /// until the subscriber's quiet hours end.
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
}

impl Delivery {
    pub fn channel(&self) -> ChannelKind {
        self.address.channel()
    }
}

/// The service's clock as a channel reads it. It is not always the wall
/// clock: the demo and a replay of past messages run on a clock set to the
/// messages' own time.
pub type ServiceClock = std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock, for a channel whose service has no clock of its own.
pub fn wall_clock() -> ServiceClock {
    std::sync::Arc::new(Utc::now)
}

/// How long a message about an alert stays worth delivering: until the
/// alert's expiry, reckoned on the service's clock (zero once it has
/// passed), or `default` for an alert without one. The one rule for every
/// lifetime a channel hands a provider (FCM's Android TTL, the APNs
/// expiration it forwards).
pub fn time_to_live(
    expires: Option<DateTime<FixedOffset>>,
    now: DateTime<Utc>,
    default: Duration,
) -> Duration {
    match expires {
        Some(expires) => (expires.to_utc() - now).to_std().unwrap_or(Duration::ZERO),
        None => default,
    }
}

/// How long to wait before attempt `attempt` (1 = first retry): exponential
/// from `base`, capped at `cap`, never earlier than the provider's hint, with
/// up to 50% random jitter so that throttled workers do not return in step.
pub fn backoff(attempt: u32, hint: Duration, base: Duration, cap: Duration) -> Duration {
    let exponential = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(cap);
    let floor = exponential.max(hint);
    let jitter = rand::rng().random_range(0.0..0.5);
    floor + floor.mul_f64(jitter)
}

/// Seconds from an HTTP `Retry-After` header (delta-seconds form; the date
/// form is rare from the providers we speak to and is treated as absent).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_hints() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(60);
        for _ in 0..50 {
            let first = backoff(1, Duration::ZERO, base, cap);
            assert!(first >= base && first <= base.mul_f64(1.5), "{first:?}");
            let fifth = backoff(5, Duration::ZERO, base, cap);
            assert!(fifth >= Duration::from_secs(16) && fifth <= Duration::from_secs(24));
            let late = backoff(30, Duration::ZERO, base, cap);
            assert!(late >= cap && late <= cap.mul_f64(1.5));
            let hinted = backoff(1, Duration::from_secs(30), base, cap);
            assert!(hinted >= Duration::from_secs(30), "{hinted:?}");
        }
    }
}
