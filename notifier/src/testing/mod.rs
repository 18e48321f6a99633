//! Contract peers for tests, end-to-end tests and benchmarks (feature
//! `testing`): local HTTP servers that speak the providers' documented
//! contracts, strictly enough that a client passing against them is right
//! about the wire format, and scriptable to answer with the documented
//! failures.
//!
//! - [`fcm`]: FCM HTTP v1 (OAuth2 token endpoint verifying the RS256
//!   assertion, `messages:send` validating the message schema).
//! - [`sms`]: the Twilio Messages API as SMS gateways speak it.
//! - [`smtp`]: a minimal SMTP server.
//! - [`mosquitto`]: a private Mosquitto broker process.
//! - [`redis_server`]: a private Redis server with AOF.
//! - [`sealer`]: a queue [`crate::queue::Sealer`] under a key of its own.

pub mod fcm;
pub mod mosquitto;
pub mod redis_server;
pub mod sealer;
pub mod sms;
pub mod smtp;

use std::collections::BTreeMap;

use crate::Locale;
use crate::channel::{AlertFacts, Delivery};
use crate::notice::{
    Address, AlertVersion, Notice, NoticeKind, RecipientPlace, ShelterInfo, SubscriberId,
};
use crate::policy::Loudness;
use crate::render::Renderer;

/// A debris-flow red warning for Xinyi village, expiring in a day.
pub fn sample_notice() -> Notice {
    Notice {
        alert: AlertVersion("cwa@example,DF-TEST-1,2026-11-22T08:00:00+08:00".into()),
        hazard: cap::HazardKind::DebrisFlow,
        colour: cap::Colour::Red,
        severity: cap::Severity::Severe,
        urgency: cap::Urgency::Immediate,
        kind: NoticeKind::New,
        exercise: false,
        instruction_original: Some("請立即撤離至避難處所。".into()),
        instruction_by_locale: BTreeMap::from([(
            Locale::ZhTw,
            "請立即撤離至避難處所。".to_string(),
        )]),
        expires: Some((chrono::Utc::now() + chrono::Duration::hours(24)).fixed_offset()),
        link: "https://alerts.example/a/DF-TEST-1".into(),
        in_force_since: None,
    }
}

/// [`sample_notice`] rendered for `subscriber` in `locale`, to `address`.
pub fn sample_delivery(subscriber: &str, address: Address, locale: Locale) -> Delivery {
    let notice = sample_notice();
    let place = RecipientPlace {
        name: "Xinyi".into(),
        shelter: Some(ShelterInfo {
            name: "Xinyi Elementary School".into(),
            distance_m: 640,
        }),
    };
    let renderer = Renderer::new().expect("shipped templates load");
    let message = renderer
        .render(&notice, &place, locale)
        .expect("sample renders");
    Delivery {
        subscriber: SubscriberId(subscriber.into()),
        address,
        facts: AlertFacts::from(&notice),
        message,
        loudness: Loudness::Audible,
        not_before: None,
    }
}
