//! SMS through an HTTP gateway speaking Twilio's Messages API: `POST
//! {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form fields
//! `To`, `From`, `Body`, HTTP basic auth. Many gateways (and Twilio itself)
//! speak this contract; the base URL is configurable.
//!
//! The text is cut to a segment budget before sending (see
//! [`crate::render::Message::sms`]), so one alert never costs more than the
//! operator allowed per person.
//!
//! Loss: 201 means the gateway queued it; carrier delivery is not confirmed.

use std::time::Duration;

use serde::Deserialize;

use super::{Channel, Delivery, Outcome, SendFuture, retry_after};
use crate::notice::{Address, ChannelKind, Secret};
use crate::render::Budgets;

const DEFAULT_RETRY: Duration = Duration::from_secs(10);

/// SMS gateway settings.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// `https://api.twilio.com` or the gateway's own base URL.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: Secret,
    /// The sender number or alphanumeric sender id.
    pub from: String,
    pub budgets: Budgets,
    pub request_timeout: Duration,
}

/// The gateway's error body.
#[derive(Debug, Deserialize)]
struct GatewayError {
    code: Option<u32>,
    #[serde(default)]
    message: String,
}

pub struct SmsChannel {
    http: reqwest::Client,
    url: String,
    config: SmsConfig,
}

impl SmsChannel {
    pub fn new(config: SmsConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            config.base_url.trim_end_matches('/'),
            config.account_sid
        );
        Ok(SmsChannel { http, url, config })
    }

    async fn send_once(&self, delivery: &Delivery) -> Outcome {
        let Address::Sms { to } = &delivery.address else {
            return Outcome::Rejected("not an SMS address".into());
        };
        let text = delivery.message.sms(&self.config.budgets);
        let response = self
            .http
            .post(&self.url)
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose()),
            )
            .form(&[
                ("To", to.expose()),
                ("From", self.config.from.as_str()),
                ("Body", text.text.as_str()),
            ])
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(error = %error.without_url(), "sms gateway request failed");
                return Outcome::Retry {
                    after: DEFAULT_RETRY,
                };
            }
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Outcome::Sent;
        }
        let hint = retry_after(response.headers());
        let error: Option<GatewayError> = response.json().await.ok();
        let code = error.as_ref().and_then(|e| e.code);
        match (status, code) {
            // Invalid number, not a mobile number, unsubscribed (STOP),
            // unreachable destination: this number will not get SMS.
            (_, Some(21211 | 21614 | 21610 | 21612 | 21408)) => Outcome::InvalidAddress,
            (429, _) | (_, Some(20429)) => Outcome::Retry {
                after: hint.unwrap_or(DEFAULT_RETRY),
            },
            (500..=599, _) => Outcome::Retry {
                after: hint.unwrap_or(DEFAULT_RETRY),
            },
            _ => Outcome::Rejected(format!(
                "HTTP {status} code {}: {}",
                code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                error.map(|e| e.message).unwrap_or_default()
            )),
        }
    }
}

impl Channel for SmsChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a> {
        Box::pin(self.send_once(delivery))
    }
}
