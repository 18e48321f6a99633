//! notifier: tells people about an alert, in their language, once.
//!
//! Given what to say (a [`Notice`]: one alert version, already matched) and
//! to whom (a [`Recipient`]: pseudonymous id, locale, channel addresses),
//! the notifier renders a plain-language message per locale within each
//! channel's budget, queues one delivery per alert version, subscriber and
//! channel in a durable queue, and hands it to the channel that delivers it.
//!
//! It is not a matcher (it never decides who is warned), it never sees CAP
//! XML, and it keeps no subscriber records: addresses arrive with each job.
//! It knows no database: the queue it writes to is a trait the `store`
//! crate implements.
//!
//! Modules:
//! - [`locale`]: the eight supported locales.
//! - [`notice`]: input types ([`Notice`], [`Recipient`], redacted addresses).
//! - [`render`]: Fluent templates, length budgets, SMS segment counting.
//! - [`policy`]: coalescing of repeated alerts, quiet hours.
//! - [`fanout`]: a notice and a recipient become deliveries.
//! - [`queue`]: the delivery queue's port (the `DeliveryQueue` trait, its
//!   types, payload sealing) and the worker step that drains it; the
//!   durable queues (SQLite, Redis Streams) are in the `store` crate.
//! - [`channel`]: the [`channel::Channel`] trait and one client per
//!   protocol (FCM HTTP v1, MQTT, SMTP, SMS gateway, webhook, live feed).
//! - [`outbound`]: where requests to URLs people give us may go (public
//!   addresses, or the operator's allow-list).
//! - [`relay`]: relay lists for village chiefs, with acknowledgements.
//! - [`relief`]: the relief-step catalogue.
//! - `testing` (feature `testing`): contract peers and local servers for
//!   tests and benchmarks.

pub mod channel;
pub mod fanout;
pub mod locale;
pub mod notice;
pub mod outbound;
pub mod policy;
pub mod queue;
pub mod relay;
pub mod relief;
pub mod render;
#[cfg(feature = "testing")]
pub mod testing;

pub use locale::Locale;
pub use notice::{
    Address, AlertVersion, ChannelKind, Notice, NoticeKind, Recipient, RecipientPlace, ShelterInfo,
    SubscriberId,
};
pub use render::{Budgets, Message, RenderError, Renderer};

/// A debris-flow red warning for unit tests.
#[cfg(test)]
pub(crate) fn testing_notice() -> Notice {
    use chrono::DateTime;
    Notice {
        alert: AlertVersion("cwa@example,DF-1,2026-11-22T08:00:00+08:00".into()),
        hazard: cap::HazardKind::DebrisFlow,
        colour: cap::Colour::Red,
        severity: cap::Severity::Severe,
        urgency: cap::Urgency::Expected,
        kind: NoticeKind::New,
        exercise: false,
        instruction_original: Some("請立即撤離至避難處所。".into()),
        instruction_by_locale: [(Locale::ZhTw, "請立即撤離至避難處所。".to_string())].into(),
        expires: DateTime::parse_from_rfc3339("2026-11-22T06:00:00Z").ok(),
        link: "https://alerts.example/a/DF-1".into(),
        in_force_since: None,
    }
}
