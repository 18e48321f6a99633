//! Firebase Cloud Messaging, HTTP v1 API.
//!
//! Authentication: the service account's RS256 key signs a JWT assertion,
//! exchanged at the account's `token_uri` for an OAuth2 access token. The
//! token is cached and refreshed [`TOKEN_REFRESH_MARGIN`] before it expires,
//! and dropped at once when FCM answers 401.
//!
//! Sending: `POST {base}/v1/projects/{project}/messages:send` with one
//! message to a registration token or a topic. Errors are read from Google's
//! documented body (`error.details[].errorCode` of type `FcmError`):
//! `UNREGISTERED` / `SENDER_ID_MISMATCH` → [`Outcome::InvalidAddress`];
//! `INVALID_ARGUMENT` → [`Outcome::Rejected`], never retried;
//! `QUOTA_EXCEEDED` (429), `UNAVAILABLE` (503), `INTERNAL` (500) →
//! [`Outcome::Retry`] honouring `Retry-After`.
//!
//! A project-wide rate limiter keeps us below FCM's quota (600,000 messages
//! per minute per project) so a national fan-out does not trip throttling.
//!
//! Loss: FCM accepted ≠ device displayed. Once FCM answers 200 the message
//! is FCM's to deliver (stored up to the TTL, the alert's expiry).

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{
    Channel, Delivery, Outcome, SendFuture, ServiceClock, retry_after, time_to_live, wall_clock,
};
use crate::notice::{Address, ChannelKind};
use crate::policy::Loudness;
use crate::render::Budgets;

/// The OAuth2 scope FCM requires.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's production endpoint.
pub const DEFAULT_BASE_URL: &str = "https://fcm.googleapis.com";
/// Refresh this long before expiry, so no request carries a token that
/// expires in flight.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// 500,000 per minute: a sixth below the default 600,000 quota, leaving room
/// for other senders on the project (admin console, topic management).
pub const DEFAULT_RATE_PER_MINUTE: u32 = 500_000;
/// Wait before retrying when FCM throttles or fails without `Retry-After`.
const DEFAULT_RETRY: Duration = Duration::from_secs(10);

/// A Google service account key file (the JSON downloaded from the console).
#[derive(Clone, Deserialize, Serialize)]
pub struct ServiceAccount {
    pub project_id: String,
    pub private_key_id: Option<String>,
    pub private_key: String,
    pub client_email: String,
    pub token_uri: String,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// FCM client settings.
#[derive(Debug, Clone)]
pub struct FcmConfig {
    /// `https://fcm.googleapis.com`; a local contract server in tests.
    pub base_url: String,
    /// Overrides the service account's `token_uri`.
    pub token_uri: Option<String>,
    pub rate_per_minute: u32,
    pub budgets: Budgets,
    /// Android notification channel for alerts that sound / that do not.
    pub android_channel_audible: String,
    pub android_channel_silent: String,
    /// Message lifetime when the alert has no expiry.
    pub default_ttl: Duration,
    pub request_timeout: Duration,
}

impl Default for FcmConfig {
    fn default() -> Self {
        FcmConfig {
            base_url: DEFAULT_BASE_URL.into(),
            token_uri: None,
            rate_per_minute: DEFAULT_RATE_PER_MINUTE,
            budgets: Budgets::default(),
            android_channel_audible: "alerts".into(),
            android_channel_silent: "alerts_quiet".into(),
            default_ttl: Duration::from_secs(24 * 3600),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the FCM client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FcmSetupError {
    #[error("service account JSON: {0}")]
    ServiceAccount(#[from] serde_json::Error),
    #[error("service account private_key is not an RSA PEM key: {0}")]
    Key(jsonwebtoken::errors::Error),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

struct CachedToken {
    value: String,
    refresh_at: Instant,
}

/// The FCM HTTP v1 channel.
pub struct FcmChannel {
    http: reqwest::Client,
    account: ServiceAccount,
    key: EncodingKey,
    token_uri: String,
    send_url: String,
    config: FcmConfig,
    token: Mutex<Option<CachedToken>>,
    limiter: DefaultDirectRateLimiter,
    /// The service's clock, which messages' lifetimes are reckoned on.
    clock: ServiceClock,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// Google's error body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorStatus,
}

#[derive(Debug, Deserialize)]
struct ErrorStatus {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Value>,
}

/// Why no access token could be had.
enum TokenError {
    /// Worth retrying (network, 5xx from the token endpoint).
    Transient(String),
    /// Will not fix itself (bad key, revoked account).
    Permanent(String),
}

impl FcmChannel {
    pub fn new(account: ServiceAccount, config: FcmConfig) -> Result<Self, FcmSetupError> {
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(FcmSetupError::Key)?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()?;
        let token_uri = config
            .token_uri
            .clone()
            .unwrap_or_else(|| account.token_uri.clone());
        let send_url = format!(
            "{}/v1/projects/{}/messages:send",
            config.base_url.trim_end_matches('/'),
            account.project_id
        );
        let rate = NonZeroU32::new(config.rate_per_minute).unwrap_or(NonZeroU32::MIN);
        // Bursts of at most one second's worth: a fan-out starting at full
        // speed must not spend a minute's quota in its first instant.
        let burst = NonZeroU32::new(rate.get() / 60).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::direct(Quota::per_minute(rate).allow_burst(burst));
        Ok(FcmChannel {
            http,
            account,
            key,
            token_uri,
            send_url,
            config,
            token: Mutex::new(None),
            limiter,
            clock: wall_clock(),
        })
    }

    /// Reckons messages' lifetimes on `clock`, the service's own (the
    /// wall clock until this is called).
    pub fn with_clock(mut self, clock: ServiceClock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the client from a service account key file's JSON text.
    pub fn from_json(service_account_json: &str, config: FcmConfig) -> Result<Self, FcmSetupError> {
        FcmChannel::new(serde_json::from_str(service_account_json)?, config)
    }

    async fn access_token(&self) -> Result<String, TokenError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let iat = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: &self.account.client_email,
            scope: FCM_SCOPE,
            aud: &self.token_uri,
            iat,
            exp: iat + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.account.private_key_id.clone();
        let assertion = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| TokenError::Permanent(format!("signing the assertion: {e}")))?;
        let response = self
            .http
            .post(&self.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &assertion),
            ])
            .send()
            .await
            .map_err(|e| TokenError::Transient(format!("token endpoint: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let reason = format!(
                "token endpoint answered {status}: {}",
                body.chars().take(200).collect::<String>()
            );
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                TokenError::Transient(reason)
            } else {
                TokenError::Permanent(reason)
            });
        }
        let token: TokenResponse = response
            .json()
            .await
            .map_err(|e| TokenError::Transient(format!("token response: {e}")))?;
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(TOKEN_REFRESH_MARGIN);
        *cached = Some(CachedToken {
            value: token.access_token.clone(),
            refresh_at: Instant::now() + lifetime,
        });
        tracing::debug!(expires_in = token.expires_in, "fcm access token refreshed");
        Ok(token.access_token)
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    /// The `message` object FCM receives for `delivery`.
    pub fn message_json(&self, delivery: &Delivery) -> Option<Value> {
        let target = match &delivery.address {
            Address::Fcm { token } => json!({ "token": token.expose() }),
            Address::FcmTopic { topic } => json!({ "topic": topic }),
            _ => return None,
        };
        let push = delivery.message.push(&self.config.budgets);
        let facts = &delivery.facts;
        let audible = delivery.loudness == Loudness::Audible;
        let ttl = time_to_live(facts.expires, (self.clock)(), self.config.default_ttl).as_secs();
        // APNs wants the moment it may drop the message, on its own (real)
        // clock: now plus the same lifetime.
        let apns_expiration = chrono::Utc::now().timestamp().saturating_add_unsigned(ttl);
        let mut message = json!({
            "notification": { "title": push.title, "body": push.body },
            "data": {
                "alert": facts.alert.0,
                "hazard": facts.hazard.as_str(),
                "colour": facts.colour.as_str(),
                "kind": serde_json::to_value(facts.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                "exercise": facts.exercise.to_string(),
                "link": facts.link,
                "locale": delivery.message.locale.tag(),
                "expires": facts.expires.map(|e| e.to_rfc3339()).unwrap_or_default(),
            },
            "android": {
                "priority": if audible { "high" } else { "normal" },
                "ttl": format!("{ttl}s"),
                "collapse_key": facts.alert.0,
                "notification": {
                    "channel_id": if audible { &self.config.android_channel_audible } else { &self.config.android_channel_silent },
                    "notification_priority": if audible { "PRIORITY_MAX" } else { "PRIORITY_LOW" },
                    "default_sound": audible,
                },
            },
            "apns": {
                "headers": {
                    "apns-priority": if audible { "10" } else { "5" },
                    "apns-push-type": "alert",
                    "apns-expiration": apns_expiration.to_string(),
                },
                "payload": {
                    "aps": {
                        "alert": { "title": push.title, "body": push.body },
                        "interruption-level": if audible { "time-sensitive" } else { "passive" },
                    }
                },
            },
        });
        if audible {
            message["apns"]["payload"]["aps"]["sound"] = json!("default");
        }
        if let (Some(object), Some(target)) = (message.as_object_mut(), target.as_object()) {
            for (k, v) in target {
                object.insert(k.clone(), v.clone());
            }
        }
        Some(message)
    }

    async fn send_once(&self, delivery: &Delivery) -> Outcome {
        let Some(message) = self.message_json(delivery) else {
            return Outcome::Rejected("not an FCM address".into());
        };
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(TokenError::Transient(reason)) => {
                tracing::warn!(%reason, "fcm token unavailable");
                return Outcome::Retry {
                    after: DEFAULT_RETRY,
                };
            }
            Err(TokenError::Permanent(reason)) => {
                tracing::error!(%reason, "fcm credentials refused");
                return Outcome::Retry {
                    after: DEFAULT_RETRY,
                };
            }
        };
        self.limiter.until_ready().await;
        let response = match self
            .http
            .post(&self.send_url)
            .bearer_auth(token)
            .json(&json!({ "message": message }))
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(error = %error.without_url(), "fcm request failed");
                return Outcome::Retry {
                    after: DEFAULT_RETRY,
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return Outcome::Sent;
        }
        let hint = retry_after(response.headers());
        let body: Option<ErrorBody> = response.json().await.ok();
        if status.as_u16() == 401 {
            // Revoked or expired early: fetch a new token and try again soon.
            self.forget_token().await;
            return Outcome::Retry {
                after: Duration::ZERO,
            };
        }
        classify(status.as_u16(), body.as_ref(), hint)
    }
}

/// Maps an FCM error answer to an outcome.
fn classify(status: u16, body: Option<&ErrorBody>, hint: Option<Duration>) -> Outcome {
    let error_code = body.and_then(|b| {
        b.error.details.iter().find_map(|d| {
            let is_fcm = d.get("@type").and_then(Value::as_str)
                == Some("type.googleapis.com/google.firebase.fcm.v1.FcmError");
            is_fcm
                .then(|| d.get("errorCode").and_then(Value::as_str))
                .flatten()
        })
    });
    let code = error_code
        .or(body.map(|b| b.error.status.as_str()))
        .unwrap_or("");
    let message = body.map(|b| b.error.message.as_str()).unwrap_or("");
    match code {
        "UNREGISTERED" | "SENDER_ID_MISMATCH" => Outcome::InvalidAddress,
        "QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL" | "RESOURCE_EXHAUSTED" => Outcome::Retry {
            after: hint.unwrap_or(DEFAULT_RETRY),
        },
        "INVALID_ARGUMENT" | "THIRD_PARTY_AUTH_ERROR" | "PERMISSION_DENIED" => {
            Outcome::Rejected(format!("{code}: {message}"))
        }
        _ if status == 429 || status >= 500 => Outcome::Retry {
            after: hint.unwrap_or(DEFAULT_RETRY),
        },
        _ => Outcome::Rejected(format!("HTTP {status} {code}: {message}")),
    }
}

impl Channel for FcmChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Fcm
    }

    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a> {
        Box::pin(self.send_once(delivery))
    }
}
