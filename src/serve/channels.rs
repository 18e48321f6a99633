//! The delivery channels the configuration names (the live feed always),
//! each wrapped to count its outcomes per channel.

use std::sync::Arc;
use std::time::Duration;

use ingest::clock::SharedClock;
use notifier::channel::live::LiveChannel;
use notifier::channel::{Channel, Delivery, Outcome as SendOutcome, SendFuture};
use notifier::notice::ChannelKind;
use notifier::queue::dispatch::Channels;

use crate::serve::config::ServeConfig;
use crate::serve::metrics::Metrics;
use crate::serve::startup::{StartError, start_error};

pub fn build_channels(
    config: &ServeConfig,
    live: Arc<LiveChannel>,
    metrics: Arc<Metrics>,
    clock: SharedClock,
) -> Result<Channels, StartError> {
    use notifier::channel::{email, fcm, mqtt, sms, webhook};
    let mut list: Vec<Arc<dyn Channel>> = vec![live];
    let c = &config.channels;
    if let Some(settings) = &c.mqtt {
        list.push(Arc::new(mqtt::MqttChannel::connect(mqtt::MqttConfig {
            host: settings.host.clone(),
            port: settings.port,
            client_id: settings.client_id.clone(),
            prefix: settings.prefix.clone(),
            ack_timeout: Duration::from_secs(10),
            budgets: Default::default(),
            inflight: 100,
        })));
    }
    if let Some(settings) = &c.fcm {
        let json = std::fs::read_to_string(&settings.service_account)
            .map_err(|e| start_error("channels.fcm.service_account", e))?;
        let mut fcm_config = fcm::FcmConfig::default();
        if let Some(url) = &settings.base_url {
            fcm_config.base_url = url.clone();
        }
        fcm_config.token_uri = settings.token_uri.clone();
        if let Some(rate) = settings.rate_per_minute {
            fcm_config.rate_per_minute = rate;
        }
        list.push(Arc::new(
            fcm::FcmChannel::from_json(&json, fcm_config)
                .map_err(|e| start_error("channels.fcm", e))?
                .with_clock(service_clock(&clock)),
        ));
    }
    if let Some(settings) = &c.email {
        let security = match settings.security.as_str() {
            "none" => email::SmtpSecurity::None,
            "starttls" => email::SmtpSecurity::StartTls,
            "tls" => email::SmtpSecurity::Tls,
            _ => {
                return Err(start_error(
                    "channels.email.security",
                    "use none, starttls or tls",
                ));
            }
        };
        let credentials = match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => Some((
                user.clone(),
                notifier::notice::Secret::new(password.clone()),
            )),
            _ => None,
        };
        list.push(Arc::new(
            email::EmailChannel::new(email::EmailConfig {
                host: settings.host.clone(),
                port: settings.port,
                security,
                credentials,
                from: settings.from.clone(),
                budgets: Default::default(),
                timeout: Duration::from_secs(20),
            })
            .map_err(|e| start_error("channels.email", e))?,
        ));
    }
    if let Some(settings) = &c.sms {
        list.push(Arc::new(
            sms::SmsChannel::new(sms::SmsConfig {
                base_url: settings.base_url.clone(),
                account_sid: settings.account_sid.clone(),
                auth_token: notifier::notice::Secret::new(settings.auth_token.clone()),
                from: settings.from.clone(),
                budgets: Default::default(),
                request_timeout: Duration::from_secs(10),
            })
            .map_err(|e| start_error("channels.sms", e))?,
        ));
    }
    if let Some(settings) = &c.webhook {
        list.push(Arc::new(
            webhook::WebhookChannel::new(
                Duration::from_secs(settings.timeout_secs),
                settings.allow.clone(),
            )
            .map_err(|e| start_error("channels.webhook", e))?,
        ));
    }
    Ok(list.into_iter().fold(Channels::new(), |channels, channel| {
        channels.with(Arc::new(Counted {
            inner: channel,
            metrics: metrics.clone(),
        }))
    }))
}

/// A channel that counts its outcomes (`hazardline_deliveries_total`).
struct Counted {
    inner: Arc<dyn Channel>,
    metrics: Arc<Metrics>,
}

impl Channel for Counted {
    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }

    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a> {
        Box::pin(async move {
            let outcome = self.inner.send(delivery).await;
            let label = match &outcome {
                SendOutcome::Sent => "sent",
                SendOutcome::Retry { .. } => "retry",
                SendOutcome::InvalidAddress => "invalid_address",
                SendOutcome::Rejected(_) => "rejected",
            };
            self.metrics.attempt(self.inner.kind().as_str(), label);
            outcome
        })
    }
}

/// The service's clock as the channels read it (a replay or the demo runs
/// on its own time; lifetimes handed to providers follow it).
fn service_clock(clock: &SharedClock) -> notifier::channel::ServiceClock {
    let clock = clock.clone();
    Arc::new(move || clock.now())
}
