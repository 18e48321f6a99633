//! Subscribes to an MQTT topic whose messages are CAP documents.
//!
//! QoS 1 with a persistent session (stable client id, clean session off)
//! and manual acknowledgements: a message is acked only after the pipeline
//! has stored it, so a crash or an archive failure before that makes the
//! broker deliver it again. Duplicates from redelivery are caught by the
//! pipeline's dedupe. Connection errors are retried with backoff.
//!
//! Loss windows: a broker that drops its persistent sessions (restart
//! without persistence) loses what was queued for us while we were away.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::pipeline::Pipeline;
use crate::source::{MqttConfig, SourceId};

/// Keep-alive: short enough to notice a dead broker within a minute.
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// Requests (acks, subscribes) queued towards the event loop.
const REQUEST_CAPACITY: usize = 64;

/// Runs the subscription until shutdown.
pub async fn run(
    pipeline: Arc<Pipeline>,
    source: SourceId,
    config: MqttConfig,
    shutdown: CancellationToken,
) {
    run_with_backoff(pipeline, source, config, Backoff::default(), shutdown).await
}

/// [`run`] with explicit reconnect backoff (tests use milliseconds).
pub async fn run_with_backoff(
    pipeline: Arc<Pipeline>,
    source: SourceId,
    config: MqttConfig,
    mut backoff: Backoff,
    shutdown: CancellationToken,
) {
    let mut options = MqttOptions::new(&config.client_id, &config.host, config.port);
    options.set_keep_alive(KEEP_ALIVE);
    options.set_clean_session(false);
    options.set_manual_acks(true);
    let max = pipeline.limits().max_bytes;
    options.set_max_packet_size(max.saturating_add(1024), 64 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);

    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => break,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff.reset();
                tracing::info!(source = %source, topic = %config.topic, "MQTT connected");
                // Subscribing again on every connect is harmless with a
                // persistent session and needed when the broker lost it.
                if let Err(error) = client.subscribe(&config.topic, QoS::AtLeastOnce).await {
                    tracing::error!(source = %source, %error, "MQTT subscribe request failed");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                match pipeline.ingest(&source, &publish.payload).await {
                    Ok(report) => {
                        tracing::debug!(
                            source = %source,
                            accepted = report.accepted(),
                            rejected = report.rejected(),
                            "MQTT message ingested"
                        );
                        if let Err(error) = client.ack(&publish).await {
                            tracing::warn!(source = %source, %error, "MQTT ack not sent; the broker will redeliver");
                        }
                    }
                    Err(error) => {
                        // Not acked: the broker redelivers after reconnect.
                        tracing::error!(source = %source, %error, "MQTT message not stored; not acknowledged");
                    }
                }
            }
            Ok(_) => {}
            Err(error) => {
                let wait = backoff.next_delay();
                tracing::warn!(
                    source = %source,
                    %error,
                    retry_in_ms = wait.as_millis() as u64,
                    "MQTT connection error"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
    // Leave cleanly (the broker keeps the persistent session either way):
    // queue DISCONNECT and give the event loop a moment to send it.
    if client.try_disconnect().is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while eventloop.poll().await.is_ok() {}
        })
        .await;
    }
}
