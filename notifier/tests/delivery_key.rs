//! The delivery queue's idempotency key: one delivery per alert version,
//! subscriber and device, stored with the device only as a keyed tag.

use notifier::Locale;
use notifier::channel::Delivery;
use notifier::notice::{Address, AlertVersion, DeviceToken, EmailAddress, PhoneNumber};
use notifier::queue::memory::MemoryQueue;
use notifier::queue::{DeliveryKey, DeliveryQueue, QueueConfig, Sealer};
use notifier::testing::sample_delivery;
use notifier::testing::sealer::KeySealer;
use sha2::Digest as _;

const TOKEN_A: &str = "fcm-token-phone-a-7f3e91";
const TOKEN_B: &str = "fcm-token-phone-b-0c44d2";
const PHONE: &str = "+886912345678";

fn to_token(token: &str) -> Address {
    Address::Fcm {
        token: DeviceToken::new(token),
    }
}

fn to_phone() -> Address {
    Address::Sms {
        to: PhoneNumber::new(PHONE),
    }
}

fn for_subscriber(address: Address) -> Delivery {
    sample_delivery("s_two_phones", address, Locale::ZhTw)
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn each_device_of_a_subscriber_is_queued_once() {
    let queue = MemoryQueue::new(QueueConfig::default());
    let a = for_subscriber(to_token(TOKEN_A));
    let b = for_subscriber(to_token(TOKEN_B));
    assert_ne!(DeliveryKey::of(&a), DeliveryKey::of(&b));
    assert!(queue.enqueue(a.clone()).await.unwrap());
    assert!(
        queue.enqueue(b.clone()).await.unwrap(),
        "the second phone is not a repeat of the first"
    );
    assert!(!queue.enqueue(a.clone()).await.unwrap(), "queued twice");
    assert!(!queue.enqueue(b.clone()).await.unwrap(), "queued twice");
    let jobs = queue
        .claim("w1", 10, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().any(|job| job.delivery.address == a.address));
    assert!(jobs.iter().any(|job| job.delivery.address == b.address));
}

#[test]
fn the_stored_key_names_the_device_by_a_keyed_tag_only() {
    let sealer = KeySealer::new([3; 32]);
    for (address, secret) in [
        (to_token(TOKEN_A), TOKEN_A),
        (to_phone(), PHONE),
        (
            Address::Email {
                to: EmailAddress::new("lan@example.org"),
            },
            "lan@example.org",
        ),
    ] {
        let key = DeliveryKey::of(&for_subscriber(address));
        let stored = key.stored(&sealer);
        assert!(!stored.contains(secret), "{stored}");
        // Nor a plain hash of it, which trying every phone number undoes.
        for plain in [
            secret.to_string(),
            format!("fcm:{secret}"),
            format!("sms:{secret}"),
        ] {
            let digest = hex(&sha2::Sha256::digest(plain.as_bytes()));
            assert!(!stored.contains(&digest[..32]), "{stored}");
        }
        assert!(!format!("{key:?}").contains(secret), "{key:?}");
    }
}

#[test]
fn the_stored_key_is_channel_subscriber_tag_alert() {
    let sealer = KeySealer::new([3; 32]);
    let mut delivery = for_subscriber(to_phone());
    // The alert version may hold the separator itself: it comes last.
    delivery.facts.alert = AlertVersion("cwa@example,DF|1,2026-11-22T08:00:00+08:00".into());
    let stored = DeliveryKey::of(&delivery).stored(&sealer);
    let parts: Vec<&str> = stored.splitn(4, '|').collect();
    assert_eq!(parts[0], "sms");
    assert_eq!(parts[1], "s_two_phones");
    assert_eq!(parts[2].len(), 32);
    assert!(
        parts[2]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(parts[3], delivery.facts.alert.0);
    // Stable under one key: the same delivery finds its record again.
    assert_eq!(stored, DeliveryKey::of(&delivery).stored(&sealer));
}

#[test]
fn tags_differ_by_device_and_by_key() {
    let one = KeySealer::new([3; 32]);
    let other = KeySealer::new([4; 32]);
    let a = DeliveryKey::of(&for_subscriber(to_token(TOKEN_A)));
    let b = DeliveryKey::of(&for_subscriber(to_token(TOKEN_B)));
    assert_ne!(a.stored(&one), b.stored(&one));
    assert_ne!(a.stored(&one), a.stored(&other));
    assert_ne!(
        one.tag("queue:device", TOKEN_A.as_bytes()),
        other.tag("queue:device", TOKEN_A.as_bytes())
    );
}
