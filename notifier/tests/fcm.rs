//! The FCM client against the local FCM HTTP v1 contract peer.

use std::time::Duration;

use notifier::Locale;
use notifier::channel::fcm::{FcmChannel, FcmConfig};
use notifier::channel::{Channel, Outcome};
use notifier::notice::{Address, DeviceToken};
use notifier::policy::Loudness;
use notifier::testing::fcm::{FcmContract, FcmFailure};
use notifier::testing::sample_delivery;

fn client(peer: &FcmContract) -> FcmChannel {
    let config = FcmConfig {
        base_url: peer.base_url.clone(),
        ..FcmConfig::default()
    };
    FcmChannel::new(peer.service_account(), config).unwrap()
}

fn to_device(token: &str) -> Address {
    Address::Fcm {
        token: DeviceToken::new(token),
    }
}

#[tokio::test]
async fn sends_a_schema_valid_message_with_a_signed_token() {
    let peer = FcmContract::start().await;
    let fcm = client(&peer);
    let delivery = sample_delivery("s-1", to_device("device-token-1"), Locale::Vi);
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    assert_eq!(peer.token_grants(), 1, "the access token is cached");
    assert_eq!(peer.rejected(), Vec::<String>::new());
    let accepted = peer.accepted();
    assert_eq!(accepted.len(), 2);
    let message = &accepted[0];
    assert_eq!(message["token"], "device-token-1");
    assert_eq!(message["android"]["priority"], "high");
    assert_eq!(message["apns"]["headers"]["apns-priority"], "10");
    assert_eq!(message["apns"]["headers"]["apns-push-type"], "alert");
    assert_eq!(message["apns"]["payload"]["aps"]["sound"], "default");
    assert_eq!(message["data"]["hazard"], "debris_flow");
    assert_eq!(message["data"]["locale"], "vi");
    let title = message["notification"]["title"].as_str().unwrap();
    assert!(title.starts_with("Cảnh báo lũ bùn đá mức ĐỎ"), "{title}");
    assert!(title.chars().count() <= 65);
}

#[tokio::test]
async fn silent_delivery_and_topics() {
    let peer = FcmContract::start().await;
    let fcm = client(&peer);
    let mut delivery = sample_delivery(
        "town-6500100",
        Address::FcmTopic {
            topic: "town-6500100".into(),
        },
        Locale::ZhTw,
    );
    delivery.loudness = Loudness::Silent;
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    let message = &peer.accepted()[0];
    assert_eq!(message["topic"], "town-6500100");
    assert!(message.get("token").is_none());
    assert_eq!(message["android"]["priority"], "normal");
    assert_eq!(message["apns"]["headers"]["apns-priority"], "5");
    assert!(message["apns"]["payload"]["aps"].get("sound").is_none());
    // A topic name FCM refuses is rejected for good, never retried.
    let bad = sample_delivery(
        "t",
        Address::FcmTopic {
            topic: "/topics/bad name".into(),
        },
        Locale::En,
    );
    assert!(
        matches!(fcm.send(&bad).await, Outcome::Rejected(reason) if reason.starts_with("INVALID_ARGUMENT"))
    );
}

#[tokio::test]
async fn unregistered_tokens_are_invalid_addresses() {
    let peer = FcmContract::start().await;
    let fcm = client(&peer);
    peer.unregister("stale-token");
    let delivery = sample_delivery("s-2", to_device("stale-token"), Locale::En);
    assert_eq!(fcm.send(&delivery).await, Outcome::InvalidAddress);
    assert!(peer.accepted().is_empty());
}

#[tokio::test]
async fn throttling_and_outages_are_retried_after_the_hint() {
    let peer = FcmContract::start().await;
    let fcm = client(&peer);
    let delivery = sample_delivery("s-3", to_device("device-token-3"), Locale::Th);
    peer.fail_next([
        FcmFailure::QuotaExceeded {
            retry_after_secs: 42,
        },
        FcmFailure::Unavailable {
            retry_after_secs: 7,
        },
        FcmFailure::Internal,
    ]);
    assert_eq!(
        fcm.send(&delivery).await,
        Outcome::Retry {
            after: Duration::from_secs(42)
        }
    );
    assert_eq!(
        fcm.send(&delivery).await,
        Outcome::Retry {
            after: Duration::from_secs(7)
        }
    );
    assert!(matches!(fcm.send(&delivery).await, Outcome::Retry { .. }));
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
}

#[tokio::test]
async fn a_revoked_token_is_refreshed() {
    let peer = FcmContract::start().await;
    let fcm = client(&peer);
    let delivery = sample_delivery("s-4", to_device("device-token-4"), Locale::Ja);
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    peer.fail_next([FcmFailure::Unauthenticated]);
    assert_eq!(
        fcm.send(&delivery).await,
        Outcome::Retry {
            after: Duration::ZERO
        }
    );
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    assert_eq!(peer.token_grants(), 2);
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let peer = FcmContract::start().await;
    // 301 s minus the 300 s refresh margin: due for refresh after one second.
    peer.set_token_lifetime(Duration::from_secs(301));
    let fcm = client(&peer);
    let delivery = sample_delivery("s-5", to_device("device-token-5"), Locale::Ko);
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    assert_eq!(peer.token_grants(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(fcm.send(&delivery).await, Outcome::Sent);
    assert_eq!(peer.token_grants(), 2);
}

#[tokio::test]
async fn a_wrong_key_is_refused_by_the_token_endpoint() {
    let peer = FcmContract::start().await;
    let mut account = peer.service_account();
    account.client_email = "someone-else@example".into();
    let fcm = FcmChannel::new(
        account,
        FcmConfig {
            base_url: peer.base_url.clone(),
            ..FcmConfig::default()
        },
    )
    .unwrap();
    let delivery = sample_delivery("s-6", to_device("device-token-6"), Locale::Id);
    assert!(matches!(fcm.send(&delivery).await, Outcome::Retry { .. }));
    assert_eq!(peer.token_grants(), 0);
    assert!(peer.accepted().is_empty());
}

/// A replay runs on the service's clock, set to the messages' own time:
/// the lifetime handed to FCM (Android TTL, APNs expiration) is reckoned
/// on it, not on the wall clock, by which the replayed alert expired long
/// ago and would go out with a TTL of zero.
#[tokio::test]
async fn the_lifetime_follows_the_service_clock() {
    let peer = FcmContract::start().await;
    let mut delivery = sample_delivery("s-1", to_device("device-token-1"), Locale::En);
    // An alert of last July that expires at 23:00 Taiwan time…
    let expires = chrono::DateTime::parse_from_rfc3339("2026-07-01T23:00:00+08:00").unwrap();
    delivery.facts.expires = Some(expires);
    // …replayed on a clock that reads 21:00 that day.
    let replay_now = expires.to_utc() - chrono::Duration::hours(2);
    let replayed = client(&peer).with_clock(std::sync::Arc::new(move || replay_now));
    let message = replayed.message_json(&delivery).unwrap();
    assert_eq!(message["android"]["ttl"], "7200s");
    let apns_expiration: i64 = message["apns"]["headers"]["apns-expiration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let in_two_hours = (chrono::Utc::now() + chrono::Duration::hours(2)).timestamp();
    assert!(
        (apns_expiration - in_two_hours).abs() <= 5,
        "APNs may drop it two hours from now: {apns_expiration} vs {in_two_hours}"
    );
    assert_eq!(replayed.send(&delivery).await, Outcome::Sent);
    assert_eq!(peer.rejected(), Vec::<String>::new());

    // On the wall clock the same alert is long over: nothing to keep.
    let message = client(&peer).message_json(&delivery).unwrap();
    assert_eq!(message["android"]["ttl"], "0s");
    // Without an expiry, the configured default.
    delivery.facts.expires = None;
    let message = client(&peer).message_json(&delivery).unwrap();
    assert_eq!(message["android"]["ttl"], format!("{}s", 24 * 3600));
}
