//! Webhooks: a JSON POST to the subscriber's own URL (a community radio, a
//! building's PA system, a chat bot), signed so the receiver can tell it
//! came from us.
//!
//! Signature: header [`SIGNATURE_HEADER`] = `t=<unix seconds>,v1=<hex>` where
//! `<hex>` is HMAC-SHA256 over `"<t>.<body>"` with the subscriber's secret.
//! Including the timestamp lets receivers refuse replays.
//!
//! Loss: a 2xx means the receiver took it; what it does next is its own.
//!
//! Where requests may go: [`crate::outbound`]. The URL is checked again
//! before every send (it may have been stored before the rules were
//! tightened), names are resolved through the guarded resolver, and a
//! redirect is not followed: a `3xx` is a failed delivery.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{Channel, Delivery, Outcome, SendFuture, retry_after};
use crate::notice::{Address, ChannelKind};
use crate::outbound::{OutboundError, OutboundPolicy};

pub const SIGNATURE_HEADER: &str = "X-Hazardline-Signature";
const DEFAULT_RETRY: Duration = Duration::from_secs(30);

/// `t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">`.
pub fn signature(secret: &[u8], unix_time: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(unix_time.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={unix_time},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Checks a signature header against `body`, as a receiver would.
pub fn verify(secret: &[u8], header: &str, body: &[u8]) -> bool {
    let mut time = None;
    let mut given = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => time = t.parse::<i64>().ok(),
            Some(("v1", v)) => given = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(time), Some(given)) = (time, given) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(time.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The JSON document a webhook receives.
pub fn payload(delivery: &Delivery) -> serde_json::Value {
    let m = &delivery.message;
    json!({
        "alert": delivery.facts.alert.0,
        "hazard": delivery.facts.hazard,
        "colour": delivery.facts.colour,
        "kind": delivery.facts.kind,
        "exercise": delivery.facts.exercise,
        "urgent": delivery.facts.urgent,
        "loudness": delivery.loudness,
        "expires": delivery.facts.expires.map(|e| e.to_rfc3339()),
        "link": delivery.facts.link,
        "locale": m.locale,
        "title": m.full_title(),
        "text": m.full_text(),
        "instruction": m.instruction,
        "instruction_original": m.original,
    })
}

pub struct WebhookChannel {
    http: reqwest::Client,
    policy: OutboundPolicy,
}

impl WebhookChannel {
    /// A channel that posts only where `policy` allows.
    pub fn new(request_timeout: Duration, policy: OutboundPolicy) -> Result<Self, reqwest::Error> {
        Ok(WebhookChannel {
            http: policy.client(request_timeout)?,
            policy,
        })
    }

    async fn send_once(&self, delivery: &Delivery) -> Outcome {
        let Address::Webhook { url, secret } = &delivery.address else {
            return Outcome::Rejected("not a webhook address".into());
        };
        // An address refused by the rules is dead, not worth a retry.
        let url = match self.policy.check_url(url.expose()) {
            Ok(url) => url,
            Err(error) => {
                tracing::warn!(%error, "webhook URL refused");
                return Outcome::InvalidAddress;
            }
        };
        let body = match serde_json::to_vec(&payload(delivery)) {
            Ok(body) => body,
            Err(error) => return Outcome::Rejected(format!("payload: {error}")),
        };
        let now = chrono::Utc::now().timestamp();
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature(secret.expose().as_bytes(), now, &body),
            )
            .body(body)
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => Outcome::Sent,
            // Redirects are not followed: the target could be internal.
            Ok(response) if response.status().is_redirection() => Outcome::Rejected(format!(
                "receiver answered HTTP {} (redirects are not followed)",
                response.status().as_u16()
            )),
            Ok(response) => {
                let status = response.status().as_u16();
                match status {
                    404 | 410 => Outcome::InvalidAddress,
                    408 | 429 | 500..=599 => Outcome::Retry {
                        after: retry_after(response.headers()).unwrap_or(DEFAULT_RETRY),
                    },
                    _ => Outcome::Rejected(format!("receiver answered HTTP {status}")),
                }
            }
            // Never log the URL: it is the subscriber's.
            Err(error) if error.is_builder() => Outcome::InvalidAddress,
            Err(error) if refused_by_resolver(&error) => {
                Outcome::Rejected(OutboundError::ResolvesInternal.to_string())
            }
            Err(error) => {
                tracing::warn!(error = %error.without_url(), "webhook request failed");
                Outcome::Retry {
                    after: DEFAULT_RETRY,
                }
            }
        }
    }
}

/// Whether the guarded resolver refused the host (its error is somewhere
/// in the chain of sources).
fn refused_by_resolver(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.downcast_ref::<OutboundError>().is_some() {
            return true;
        }
        source = current.source();
    }
    false
}

impl Channel for WebhookChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a> {
        Box::pin(self.send_once(delivery))
    }
}
