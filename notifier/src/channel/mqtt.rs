//! MQTT (3.1.1) through a broker, QoS 1.
//!
//! Two kinds of topic: `{prefix}/device/{device}` carries one app
//! install's own messages (not retained: a device that was away gets them
//! from the broker's persistent session or through FCM); and
//! `{prefix}/area/{code}` carries the current alert for a village or town,
//! retained, so a device that subscribes later still sees what is in force.
//!
//! A send completes when the broker's PUBACK arrives ([`Outcome::Sent`]), or
//! ends as [`Outcome::Retry`] when it does not within the ack timeout. QoS 1
//! is at-least-once: after a reconnect the broker may see a publish twice;
//! devices drop duplicates by the alert version in the payload.
//!
//! Not yet supported: TLS to the broker (plain TCP, e.g. on a private
//! network or through a local TLS-terminating proxy).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::{Mutex, oneshot};

use super::{Channel, Delivery, Outcome, SendFuture};
use crate::notice::{Address, ChannelKind};
use crate::render::Budgets;

const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// MQTT settings.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    /// Topic prefix, e.g. `hazardline`.
    pub prefix: String,
    pub ack_timeout: Duration,
    pub budgets: Budgets,
    /// QoS 1 publishes on the wire awaiting PUBACK (rumqttc's default is
    /// 100); a fan-out pipelines up to this many.
    pub inflight: u16,
}

#[derive(Default)]
struct Acks {
    /// Publishes handed to the client, waiting for their packet id.
    queued: VecDeque<oneshot::Sender<()>>,
    /// Publishes on the wire, by packet id, waiting for PUBACK.
    in_flight: HashMap<u16, oneshot::Sender<()>>,
}

pub struct MqttChannel {
    client: AsyncClient,
    config: MqttConfig,
    acks: Arc<Mutex<Acks>>,
    /// Serializes "queue the waiter, hand over the publish" so the event
    /// loop pairs packet ids with waiters in order.
    order: Mutex<()>,
    event_loop: tokio::task::JoinHandle<()>,
}

impl MqttChannel {
    /// Connects (lazily: the event loop connects and reconnects by itself).
    pub fn connect(config: MqttConfig) -> Self {
        let mut options = MqttOptions::new(&config.client_id, &config.host, config.port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_inflight(config.inflight.max(1));
        let (client, mut event_loop) = AsyncClient::new(options, 1024);
        let acks: Arc<Mutex<Acks>> = Arc::default();
        let loop_acks = acks.clone();
        let event_loop = tokio::spawn(async move {
            loop {
                match event_loop.poll().await {
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                        let mut acks = loop_acks.lock().await;
                        // A retransmission reuses its packet id: keep its waiter.
                        if !acks.in_flight.contains_key(&pkid)
                            && let Some(waiter) = acks.queued.pop_front()
                        {
                            acks.in_flight.insert(pkid, waiter);
                        }
                    }
                    Ok(Event::Incoming(Packet::PubAck(ack))) => {
                        if let Some(waiter) = loop_acks.lock().await.in_flight.remove(&ack.pkid) {
                            let _ = waiter.send(());
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "mqtt connection lost; reconnecting");
                        tokio::time::sleep(RECONNECT_PAUSE).await;
                    }
                }
            }
        });
        MqttChannel {
            client,
            config,
            acks,
            order: Mutex::new(()),
            event_loop,
        }
    }

    /// The topic and retain flag for an address.
    pub fn topic(&self, address: &Address) -> Option<(String, bool)> {
        match address {
            Address::Mqtt { device } => {
                Some((format!("{}/device/{device}", self.config.prefix), false))
            }
            Address::MqttArea { area } => {
                Some((format!("{}/area/{area}", self.config.prefix), true))
            }
            _ => None,
        }
    }

    async fn send_once(&self, delivery: &Delivery) -> Outcome {
        let Some((topic, retain)) = self.topic(&delivery.address) else {
            return Outcome::Rejected("not an MQTT address".into());
        };
        let mut payload = super::webhook::payload(delivery);
        let push = delivery.message.push(&self.config.budgets);
        payload["push_title"] = push.title.into();
        payload["push_body"] = push.body.into();
        let Ok(bytes) = serde_json::to_vec(&payload) else {
            return Outcome::Rejected("payload does not serialize".into());
        };
        let (done, acked) = oneshot::channel();
        {
            let _order = self.order.lock().await;
            self.acks.lock().await.queued.push_back(done);
            if let Err(error) = self
                .client
                .publish(topic, QoS::AtLeastOnce, retain, bytes)
                .await
            {
                self.acks.lock().await.queued.pop_back();
                tracing::warn!(%error, "mqtt publish not queued");
                return Outcome::Retry {
                    after: RECONNECT_PAUSE,
                };
            }
        }
        match tokio::time::timeout(self.config.ack_timeout, acked).await {
            Ok(Ok(())) => Outcome::Sent,
            _ => Outcome::Retry {
                after: RECONNECT_PAUSE,
            },
        }
    }
}

impl Drop for MqttChannel {
    fn drop(&mut self) {
        self.event_loop.abort();
    }
}

impl Channel for MqttChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Mqtt
    }

    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a> {
        Box::pin(self.send_once(delivery))
    }
}
