//! MQTT against a private Mosquitto broker; e-mail against a local SMTP server.

use std::time::Duration;

use notifier::Locale;
use notifier::channel::email::{EmailChannel, EmailConfig, SmtpSecurity};
use notifier::channel::mqtt::{MqttChannel, MqttConfig};
use notifier::channel::{Channel, Outcome};
use notifier::notice::{Address, EmailAddress};
use notifier::render::Budgets;
use notifier::testing::mosquitto::Mosquitto;
use notifier::testing::sample_delivery;
use notifier::testing::smtp::SmtpServer;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

async fn next_publish(event_loop: &mut rumqttc::EventLoop) -> rumqttc::Publish {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(Event::Incoming(Packet::Publish(publish))) = event_loop.poll().await {
                return publish;
            }
        }
    })
    .await
    .expect("a publish within 5 s")
}

async fn subscriber(port: u16, id: &str, topic: &str) -> rumqttc::EventLoop {
    let (client, mut event_loop) = AsyncClient::new(MqttOptions::new(id, "127.0.0.1", port), 16);
    client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    // Drive the loop until the broker confirms the subscription.
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(Event::Incoming(Packet::SubAck(_))) = event_loop.poll().await {
                return;
            }
        }
    })
    .await
    .unwrap();
    std::mem::forget(client);
    event_loop
}

#[tokio::test]
async fn mqtt_device_and_retained_area_topics() {
    let Some(broker) = Mosquitto::start() else {
        eprintln!("mosquitto not installed: skipping the MQTT test");
        return;
    };
    let channel = MqttChannel::connect(MqttConfig {
        host: "127.0.0.1".into(),
        port: broker.port,
        client_id: "notifier-test".into(),
        prefix: "hazardline".into(),
        ack_timeout: Duration::from_secs(5),
        budgets: Budgets::default(),
        inflight: 100,
    });
    let mut device = subscriber(broker.port, "device-1", "hazardline/device/install-1").await;
    let delivery = sample_delivery(
        "s-1",
        Address::Mqtt {
            device: "install-1".into(),
        },
        Locale::Ko,
    );
    assert_eq!(channel.send(&delivery).await, Outcome::Sent);
    let publish = next_publish(&mut device).await;
    assert_eq!(publish.topic, "hazardline/device/install-1");
    assert!(!publish.retain);
    let json: serde_json::Value = serde_json::from_slice(&publish.payload).unwrap();
    assert_eq!(
        json["alert"],
        "cwa@example,DF-TEST-1,2026-11-22T08:00:00+08:00"
    );
    assert!(json["push_title"].as_str().unwrap().contains("토석류"));

    // The area message is retained: a device subscribing later still gets it.
    let area = sample_delivery(
        "area",
        Address::MqttArea {
            area: "6500100-001".into(),
        },
        Locale::ZhTw,
    );
    assert_eq!(channel.send(&area).await, Outcome::Sent);
    let mut late = subscriber(broker.port, "device-2", "hazardline/area/+").await;
    let publish = next_publish(&mut late).await;
    assert_eq!(publish.topic, "hazardline/area/6500100-001");
    assert!(publish.retain);
}

#[tokio::test]
async fn mqtt_without_a_broker_asks_for_a_retry() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let channel = MqttChannel::connect(MqttConfig {
        host: "127.0.0.1".into(),
        port,
        client_id: "notifier-test-2".into(),
        prefix: "hazardline".into(),
        ack_timeout: Duration::from_millis(300),
        budgets: Budgets::default(),
        inflight: 100,
    });
    let delivery = sample_delivery(
        "s-1",
        Address::Mqtt {
            device: "install-1".into(),
        },
        Locale::En,
    );
    assert!(matches!(
        channel.send(&delivery).await,
        Outcome::Retry { .. }
    ));
}

fn email_channel(port: u16) -> EmailChannel {
    EmailChannel::new(EmailConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        credentials: None,
        from: "Hazardline <alerts@hazardline.example>".into(),
        budgets: Budgets::default(),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

#[tokio::test]
async fn email_is_delivered_with_subject_and_original() {
    let server = SmtpServer::start().await;
    let channel = email_channel(server.port);
    let to = Address::Email {
        to: EmailAddress::new("lan@resident.example"),
    };
    assert_eq!(
        channel.send(&sample_delivery("s-1", to, Locale::Vi)).await,
        Outcome::Sent
    );
    let mail = &server.received()[0];
    assert_eq!(mail.from, "alerts@hazardline.example");
    assert_eq!(mail.to, vec!["lan@resident.example".to_string()]);
    assert!(mail.data.contains("Subject: =?utf-8?"), "{}", mail.data);
    let (headers, body) = mail.data.split_once("\r\n\r\n").unwrap();
    let body = if headers.contains("Content-Transfer-Encoding: base64") {
        use base64::Engine as _;
        let compact: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap(),
        )
        .unwrap()
    } else {
        body.to_string()
    }
    .replace("\r\n", "\n");
    assert!(
        body.contains("Cảnh báo lũ bùn đá mức ĐỎ tại Xinyi."),
        "{body}"
    );
    assert!(
        body.contains("Nguyên văn của cơ quan:\n請立即撤離至避難處所。"),
        "{body}"
    );
    assert!(
        body.contains("https://alerts.example/a/DF-TEST-1"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_mailboxes_are_invalid_addresses() {
    let server = SmtpServer::start().await;
    let channel = email_channel(server.port);
    let to = Address::Email {
        to: EmailAddress::new("unknown@resident.example"),
    };
    assert_eq!(
        channel.send(&sample_delivery("s-2", to, Locale::En)).await,
        Outcome::InvalidAddress
    );
    let malformed = Address::Email {
        to: EmailAddress::new("not an address"),
    };
    assert_eq!(
        channel
            .send(&sample_delivery("s-3", malformed, Locale::En))
            .await,
        Outcome::InvalidAddress
    );
    assert!(server.received().is_empty());
    // No relay listening: try again later.
    drop(server);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let channel = email_channel(closed);
    let to = Address::Email {
        to: EmailAddress::new("lan@resident.example"),
    };
    assert!(matches!(
        channel.send(&sample_delivery("s-4", to, Locale::En)).await,
        Outcome::Retry { .. }
    ));
}
