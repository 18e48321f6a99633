//! The MQTT worker against a real mosquitto broker started on a free port.

mod sources_support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ingest::clock::ManualClock;
use ingest::feed::backoff::Backoff;
use ingest::feed::{Pipeline, PipelineConfig, mqtt};
use ingest::lifecycle::LifecycleEvent;
use ingest::signature::TrustedKeys;
use ingest::source::{MqttConfig, SourceId, SourceTrust};
use ingest::store::{AlertArchive, MemoryArchive, Verdict};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use sources_support::{cap_xml, utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn mosquitto_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("mosquitto"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    })
}

struct Broker {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_broker() -> Option<Broker> {
    let Some(binary) = mosquitto_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "mosquitto is required in CI (apt-get install mosquitto)"
        );
        eprintln!("mosquitto not found on PATH or in /usr/sbin: skipping");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    )
    .unwrap();
    let child = Command::new(binary)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let broker = Broker {
        child,
        port,
        _dir: dir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(broker);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mosquitto did not start listening on {port}");
}

/// Publishes with QoS 1 and waits for the broker's PUBACK.
async fn publish(port: u16, topic: &str, payload: String) {
    let mut options = MqttOptions::new("test-publisher", "127.0.0.1", port);
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    client
        .publish(topic, QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await.unwrap() {
                break;
            }
        }
    })
    .await
    .unwrap();
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
}

fn cap(sender: &str, identifier: &str) -> String {
    cap_xml(
        sender,
        identifier,
        "2024-04-22T14:57:47+08:00",
        "Alert",
        "",
        "2024-04-22T18:00:00+08:00",
    )
}

async fn next_event(rx: &mut mpsc::Receiver<LifecycleEvent>) -> LifecycleEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("event within 10 s")
        .expect("channel open")
}

#[tokio::test]
async fn cap_over_mqtt_is_ingested_and_queued_messages_survive_a_disconnect() {
    let Some(broker) = start_broker().await else {
        return;
    };
    let archive = Arc::new(MemoryArchive::new());
    let (tx, mut events) = mpsc::channel(16);
    let source = SourceId::new("cwa-mqtt");
    let trust = SourceTrust::new(
        source.clone(),
        vec!["*@cwa.gov.tw".parse().unwrap()],
        false,
        TrustedKeys::default(),
    );
    let pipeline = Arc::new(
        Pipeline::new(
            ManualClock::shared(utc("2024-04-22T15:00:00+08:00")),
            archive.clone(),
            vec![trust],
            tx,
            PipelineConfig::default(),
        )
        .await
        .unwrap(),
    );
    let config = MqttConfig {
        host: "127.0.0.1".into(),
        port: broker.port,
        topic: "cap/cwa/#".into(),
        client_id: "hazardline-ingest-test".into(),
    };
    let backoff = || Backoff::new(Duration::from_millis(50), Duration::from_millis(500));
    let start = |shutdown: CancellationToken| {
        tokio::spawn(mqtt::run_with_backoff(
            pipeline.clone(),
            source.clone(),
            config.clone(),
            backoff(),
            shutdown,
        ))
    };

    let shutdown = CancellationToken::new();
    let worker = start(shutdown.clone());
    // Wait for the subscription: publish until the first one comes through.
    let mut first = None;
    for attempt in 0..50 {
        publish(broker.port, "cap/cwa/rain", cap("weather@cwa.gov.tw", "M1")).await;
        if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
            first = Some(e);
            break;
        }
        assert!(attempt < 49, "worker never subscribed");
    }
    assert!(matches!(first, Some(LifecycleEvent::New(a)) if a.identifier == "M1"));

    // Another sender of the same source cancelling M1: another authority,
    // so refused and stored with its reason; M1 stays in force.
    publish(
        broker.port,
        "cap/cwa/rain",
        cap_xml(
            "cwasoc@cwa.gov.tw",
            "M1-FORGED-CANCEL",
            "2024-04-22T15:01:00+08:00",
            "Cancel",
            "weather@cwa.gov.tw,M1,2024-04-22T14:57:47+08:00",
            "2024-04-22T18:00:00+08:00",
        ),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while archive.count(Verdict::Rejected).await.unwrap() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the forged Cancel is archived");
    assert_eq!(
        archive.rejected(1).await.unwrap()[0].reason.as_deref(),
        Some("reference_not_allowed")
    );
    assert_eq!(pipeline.active().len(), 1, "M1 is still in force");
    let already_rejected = archive.count(Verdict::Rejected).await.unwrap();

    // An unlisted sender over the same topic: stored as rejected.
    publish(
        broker.port,
        "cap/cwa/rain",
        cap("someone@example.com", "M2"),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while archive.count(Verdict::Rejected).await.unwrap() == already_rejected {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(
        archive.rejected(1).await.unwrap()[0].reason.as_deref(),
        Some("sender_not_allowed")
    );

    // Stop the worker; a message published meanwhile waits in the broker's
    // persistent session and arrives when the worker comes back.
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    publish(broker.port, "cap/cwa/quake", cap("cwasoc@cwa.gov.tw", "M3")).await;
    let shutdown = CancellationToken::new();
    let worker = start(shutdown.clone());
    let event = next_event(&mut events).await;
    assert!(
        matches!(&event, LifecycleEvent::New(a) if a.identifier == "M3"),
        "{event:?}"
    );
    shutdown.cancel();
    worker.await.unwrap();
    // M1 may have been published more than once while waiting for the
    // subscription: the duplicates were caught, one row each.
    assert_eq!(archive.count(Verdict::Accepted).await.unwrap(), 2);
}
