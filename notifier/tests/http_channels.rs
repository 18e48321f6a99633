//! SMS, webhook and live channels against real peers on loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use notifier::Locale;
use notifier::channel::live::LiveChannel;
use notifier::channel::sms::{SmsChannel, SmsConfig};
use notifier::channel::webhook::{SIGNATURE_HEADER, WebhookChannel, verify};
use notifier::channel::{Channel, Outcome};
use notifier::notice::{Address, PhoneNumber, Secret, WebhookUrl};
use notifier::outbound::OutboundPolicy;
use notifier::render::Budgets;
use notifier::testing::sample_delivery;
use notifier::testing::sms::{SmsContract, SmsFailure};

fn sms_client(peer: &SmsContract, segments: usize) -> SmsChannel {
    SmsChannel::new(SmsConfig {
        base_url: peer.base_url.clone(),
        account_sid: peer.account_sid.clone(),
        auth_token: Secret::new(peer.auth_token.clone()),
        from: "Hazardline".into(),
        budgets: Budgets {
            sms_segments: segments,
            ..Budgets::default()
        },
        request_timeout: Duration::from_secs(5),
    })
    .unwrap()
}

#[tokio::test]
async fn sms_is_sent_within_its_segment_budget() {
    let peer = SmsContract::start().await;
    let sms = sms_client(&peer, 2);
    let to = Address::Sms {
        to: PhoneNumber::new("+886912000001"),
    };
    for locale in [Locale::En, Locale::Th] {
        let delivery = sample_delivery("s-1", to.clone(), locale);
        assert_eq!(sms.send(&delivery).await, Outcome::Sent);
    }
    let sent = peer.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].to, "+886912000001");
    assert_eq!(sent[0].from, "Hazardline");
    for message in &sent {
        let (_, segments) = notifier::render::sms::segments(&message.body);
        assert!(segments <= 2, "{} segments: {}", segments, message.body);
        assert!(
            message.body.contains("https://alerts.example/a/DF-TEST-1"),
            "{}",
            message.body
        );
    }
}

#[tokio::test]
async fn sms_errors_map_to_outcomes() {
    let peer = SmsContract::start().await;
    let sms = sms_client(&peer, 3);
    peer.mark_invalid("+886900000000");
    let bad = sample_delivery(
        "s-2",
        Address::Sms {
            to: PhoneNumber::new("+886900000000"),
        },
        Locale::En,
    );
    assert_eq!(sms.send(&bad).await, Outcome::InvalidAddress);
    let good = sample_delivery(
        "s-3",
        Address::Sms {
            to: PhoneNumber::new("+886912000003"),
        },
        Locale::Id,
    );
    peer.fail_next([
        SmsFailure::TooManyRequests {
            retry_after_secs: 5,
        },
        SmsFailure::Unavailable,
    ]);
    assert_eq!(
        sms.send(&good).await,
        Outcome::Retry {
            after: Duration::from_secs(5)
        }
    );
    assert!(matches!(sms.send(&good).await, Outcome::Retry { .. }));
    assert_eq!(sms.send(&good).await, Outcome::Sent);
    // Wrong credentials are the operator's problem, not the number's.
    let wrong = SmsChannel::new(SmsConfig {
        base_url: peer.base_url.clone(),
        account_sid: peer.account_sid.clone(),
        auth_token: Secret::new("wrong"),
        from: "Hazardline".into(),
        budgets: Budgets::default(),
        request_timeout: Duration::from_secs(5),
    })
    .unwrap();
    assert!(
        matches!(wrong.send(&good).await, Outcome::Rejected(reason) if reason.contains("20003"))
    );
}

type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

async fn webhook_receiver(status: StatusCode) -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    #[expect(
        clippy::disallowed_methods,
        reason = "a stand-in webhook receiver, not the service's API"
    )]
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push((headers, body.to_vec()));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// A webhook channel whose operator allows receivers on loopback (where
/// the tests' receivers listen).
fn loopback_webhooks() -> WebhookChannel {
    let policy = OutboundPolicy::allowing(&["127.0.0.1"]).unwrap();
    WebhookChannel::new(Duration::from_secs(5), policy).unwrap()
}

fn webhook_to(url: &str) -> Address {
    Address::Webhook {
        url: WebhookUrl::new(url),
        secret: Secret::new("shared-secret-0123"),
    }
}

#[tokio::test]
async fn webhooks_to_internal_addresses_are_refused_before_any_request() {
    let (url, received) = webhook_receiver(StatusCode::NO_CONTENT).await;
    let port = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let channel = WebhookChannel::new(Duration::from_secs(5), OutboundPolicy::default()).unwrap();
    for internal in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://2130706433:{port}/hook"),
        format!("http://0x7f000001:{port}/hook"),
        format!("http://0177.0.0.1:{port}/hook"),
        format!("http://0.0.0.0:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/hook".to_string(),
        "http://192.168.1.1/hook".to_string(),
        "http://100.64.0.1/hook".to_string(),
        "http://[fd00::1]/hook".to_string(),
        "http://[fe80::1]/hook".to_string(),
        "http://[64:ff9b::7f00:1]/hook".to_string(),
        "ftp://hooks.example.org/hook".to_string(),
    ] {
        let outcome = channel
            .send(&sample_delivery("s-6", webhook_to(&internal), Locale::En))
            .await;
        assert_eq!(outcome, Outcome::InvalidAddress, "{internal}");
    }
    assert!(
        received.lock().unwrap().is_empty(),
        "an internal receiver was reached"
    );
}

#[tokio::test]
async fn webhooks_follow_no_redirect() {
    let (target, received) = webhook_receiver(StatusCode::NO_CONTENT).await;
    #[expect(
        clippy::disallowed_methods,
        reason = "a stand-in redirecting server, not the service's API"
    )]
    let redirect = Router::new().route(
        "/hook",
        post(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [(axum::http::header::LOCATION, target)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirect).await });
    let outcome = loopback_webhooks()
        .send(&sample_delivery("s-7", webhook_to(&url), Locale::En))
        .await;
    assert!(
        matches!(&outcome, Outcome::Rejected(reason) if reason.contains("302")),
        "{outcome:?}"
    );
    assert!(
        received.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn webhooks_are_signed_json() {
    let (url, received) = webhook_receiver(StatusCode::NO_CONTENT).await;
    let channel = loopback_webhooks();
    let address = Address::Webhook {
        url: WebhookUrl::new(url),
        secret: Secret::new("shared-secret"),
    };
    let delivery = sample_delivery("s-4", address, Locale::Fil);
    assert_eq!(channel.send(&delivery).await, Outcome::Sent);
    let (headers, body) = received.lock().unwrap().remove(0);
    let signature = headers.get(SIGNATURE_HEADER).unwrap().to_str().unwrap();
    assert!(verify(b"shared-secret", signature, &body));
    assert!(!verify(b"other-secret", signature, &body));
    let mut tampered = body.clone();
    tampered[0] = b' ';
    assert!(!verify(b"shared-secret", signature, &tampered));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["hazard"], "debris_flow");
    assert_eq!(json["locale"], "fil");
    assert!(json["title"].as_str().unwrap().contains("PULA"));
}

#[tokio::test]
async fn webhook_failures_map_to_outcomes() {
    let channel = loopback_webhooks();
    for (status, expected_retry) in [
        (StatusCode::SERVICE_UNAVAILABLE, true),
        (StatusCode::GONE, false),
    ] {
        let (url, _) = webhook_receiver(status).await;
        let address = Address::Webhook {
            url: WebhookUrl::new(url),
            secret: Secret::new("s"),
        };
        let outcome = channel
            .send(&sample_delivery("s-5", address, Locale::En))
            .await;
        if expected_retry {
            assert!(matches!(outcome, Outcome::Retry { .. }), "{outcome:?}");
        } else {
            assert_eq!(outcome, Outcome::InvalidAddress);
        }
    }
}

#[tokio::test]
async fn live_feed_reaches_every_watcher() {
    let live = LiveChannel::new(16);
    let mut first = live.subscribe();
    let mut second = live.subscribe();
    let delivery = sample_delivery("public", Address::Live, Locale::ZhTw);
    assert_eq!(live.send(&delivery).await, Outcome::Sent);
    for watcher in [&mut first, &mut second] {
        let event = watcher.recv().await.unwrap();
        assert_eq!(event.title, "土石流紅色警戒：Xinyi");
        assert!(!event.exercise);
    }
}
