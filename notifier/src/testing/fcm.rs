//! A local FCM HTTP v1 peer.
//!
//! The token endpoint verifies the JWT assertion's RS256 signature against
//! the test service account's public key, its audience, issuer, scope and
//! lifetime, and hands out short opaque access tokens. `messages:send`
//! checks the bearer token, the project, and the message schema (exactly one
//! target; string-only `data`; known Android priorities; APNs headers as
//! strings; the 4096-byte payload limit), then answers as FCM does:
//! `{"name": "projects/…/messages/…"}` or Google's documented error body.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::channel::fcm::{FCM_SCOPE, ServiceAccount};

/// A failure the peer answers with instead of accepting a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FcmFailure {
    /// 429 `QUOTA_EXCEEDED`, with `Retry-After`.
    QuotaExceeded { retry_after_secs: u64 },
    /// 503 `UNAVAILABLE`, with `Retry-After`.
    Unavailable { retry_after_secs: u64 },
    /// 500 `INTERNAL`.
    Internal,
    /// 401: the access token is no longer accepted.
    Unauthenticated,
}

#[derive(Default)]
struct Peer {
    accepted: Vec<Value>,
    /// Whether `accepted` keeps each message (off for million-message runs).
    keep_messages: bool,
    /// Accepted messages by `target|alert` (token or topic, `data.alert`).
    received: HashMap<String, u32>,
    total_received: u64,
    rejected: Vec<String>,
    token_grants: usize,
    access_tokens: HashSet<String>,
    unregistered: HashSet<String>,
    failures: VecDeque<FcmFailure>,
    token_lifetime_secs: u64,
}

struct Shared {
    project: String,
    client_email: String,
    token_uri: String,
    decoding_key: DecodingKey,
    peer: Mutex<Peer>,
    /// The number of accepted messages, for waiting without polling.
    total: tokio::sync::watch::Sender<u64>,
}

/// A running FCM contract peer on 127.0.0.1.
pub struct FcmContract {
    pub base_url: String,
    shared: Arc<Shared>,
    private_key_pem: String,
    server: tokio::task::JoinHandle<()>,
}

/// One RSA key per test process: generating one takes a while, and the key
/// never leaves memory.
fn test_key() -> &'static (String, String) {
    static KEY: OnceLock<(String, String)> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rsa::rand_core::OsRng;
        let private = RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
        let private_pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 PEM")
            .to_string();
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("SPKI PEM");
        (private_pem, public_pem)
    })
}

impl FcmContract {
    /// Starts a peer for project `hazardline-test` on a free loopback port.
    pub async fn start() -> FcmContract {
        let (private_pem, public_pem) = test_key().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let base_url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            project: "hazardline-test".into(),
            client_email: "notifier@hazardline-test.iam.gserviceaccount.example".into(),
            token_uri: format!("{base_url}/token"),
            decoding_key: DecodingKey::from_rsa_pem(public_pem.as_bytes()).expect("public key"),
            total: tokio::sync::watch::Sender::new(0),
            peer: Mutex::new(Peer {
                keep_messages: true,
                token_lifetime_secs: 3599,
                ..Peer::default()
            }),
        });
        #[expect(
            clippy::disallowed_methods,
            reason = "a stand-in FCM server, not the service's API"
        )]
        let app = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FcmContract {
            base_url,
            shared,
            private_key_pem: private_pem,
            server,
        }
    }

    /// The service account a client should use against this peer.
    pub fn service_account(&self) -> ServiceAccount {
        ServiceAccount {
            project_id: self.shared.project.clone(),
            private_key_id: Some("test-key-1".into()),
            private_key: self.private_key_pem.clone(),
            client_email: self.shared.client_email.clone(),
            token_uri: self.shared.token_uri.clone(),
        }
    }

    fn peer(&self) -> MutexGuard<'_, Peer> {
        self.shared.peer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Messages accepted so far (the `message` objects).
    pub fn accepted(&self) -> Vec<Value> {
        self.peer().accepted.clone()
    }

    /// Stops keeping accepted message bodies (only counts are kept), for
    /// runs of millions of messages.
    pub fn keep_messages(&self, keep: bool) {
        self.peer().keep_messages = keep;
    }

    /// Accepted messages in all, duplicates included.
    pub fn total_received(&self) -> u64 {
        self.peer().total_received
    }

    /// Distinct `(target, alert)` pairs accepted: one per delivery key of
    /// the FCM channel (target = token or topic, alert = `data.alert`).
    pub fn distinct_received(&self) -> usize {
        self.peer().received.len()
    }

    /// How often the message for `target` (a token or topic) about `alert`
    /// was accepted.
    pub fn received_count(&self, target: &str, alert: &str) -> u32 {
        self.peer()
            .received
            .get(&format!("{target}|{alert}"))
            .copied()
            .unwrap_or(0)
    }

    /// Targets accepted more than once, with their counts.
    pub fn duplicates(&self) -> Vec<(String, u32)> {
        self.peer()
            .received
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    }

    /// Watches the number of accepted messages (changes on every accept).
    pub fn watch_total(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.total.subscribe()
    }

    /// Why messages were refused as `INVALID_ARGUMENT`.
    pub fn rejected(&self) -> Vec<String> {
        self.peer().rejected.clone()
    }

    /// How many access tokens were granted.
    pub fn token_grants(&self) -> usize {
        self.peer().token_grants
    }

    /// The lifetime (`expires_in`) of tokens granted from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.peer().token_lifetime_secs = lifetime.as_secs();
    }

    /// Makes `token` answer 404 `UNREGISTERED` from now on.
    pub fn unregister(&self, token: &str) {
        self.peer().unregistered.insert(token.to_string());
    }

    /// Answers the next sends with these failures, in order.
    pub fn fail_next(&self, failures: impl IntoIterator<Item = FcmFailure>) {
        self.peer().failures.extend(failures);
    }
}

impl Drop for FcmContract {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    assertion: String,
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    scope: String,
    iat: u64,
    exp: u64,
}

async fn token(State(shared): State<Arc<Shared>>, Form(request): Form<TokenRequest>) -> Response {
    let invalid = |description: String| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": description})),
        )
            .into_response()
    };
    if request.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return invalid(format!("unsupported grant_type {}", request.grant_type));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[shared.token_uri.as_str()]);
    validation.set_issuer(&[shared.client_email.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = match jsonwebtoken::decode::<AssertionClaims>(
        &request.assertion,
        &shared.decoding_key,
        &validation,
    ) {
        Ok(data) => data.claims,
        Err(error) => return invalid(format!("assertion: {error}")),
    };
    if claims.scope.split(' ').all(|s| s != FCM_SCOPE) {
        return invalid(format!("scope {} lacks firebase.messaging", claims.scope));
    }
    if claims.exp.saturating_sub(claims.iat) > 3600 {
        return invalid("assertion lifetime over one hour".into());
    }
    let mut peer = shared.peer.lock().unwrap_or_else(|e| e.into_inner());
    peer.token_grants += 1;
    let access_token = format!("ya29.test-{}", peer.token_grants);
    peer.access_tokens.insert(access_token.clone());
    Json(json!({"access_token": access_token, "expires_in": peer.token_lifetime_secs, "token_type": "Bearer"}))
        .into_response()
}

/// Google's error body, as documented for the HTTP v1 API.
fn google_error(
    status: StatusCode,
    name: &str,
    error_code: Option<&str>,
    message: &str,
) -> Response {
    let details: Vec<Value> = error_code
        .map(|code| json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}))
        .into_iter()
        .collect();
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": name, "details": details}});
    (status, Json(body)).into_response()
}

fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(value) = seconds.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn send(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Parsed and checked before taking the lock, so that concurrent
    // requests are checked in parallel; answered in the documented order.
    let parsed = match serde_json::from_slice::<Value>(&body) {
        Ok(request) => validate(request).map_err(|reason| (reason, Some("INVALID_ARGUMENT"))),
        Err(error) => Err((format!("Invalid JSON payload received. {error}"), None)),
    };
    let mut peer = shared.peer.lock().unwrap_or_else(|e| e.into_inner());
    if !peer.access_tokens.contains(bearer) {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            None,
            "Request had invalid authentication credentials.",
        );
    }
    if project != shared.project {
        return google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            Some("SENDER_ID_MISMATCH"),
            "wrong project",
        );
    }
    if let Some(failure) = peer.failures.pop_front() {
        return match failure {
            FcmFailure::QuotaExceeded { retry_after_secs } => with_retry_after(
                google_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RESOURCE_EXHAUSTED",
                    Some("QUOTA_EXCEEDED"),
                    "Quota exceeded.",
                ),
                retry_after_secs,
            ),
            FcmFailure::Unavailable { retry_after_secs } => with_retry_after(
                google_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "UNAVAILABLE",
                    Some("UNAVAILABLE"),
                    "Unavailable.",
                ),
                retry_after_secs,
            ),
            FcmFailure::Internal => google_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                Some("INTERNAL"),
                "Internal error.",
            ),
            FcmFailure::Unauthenticated => {
                peer.access_tokens.clear();
                google_error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    None,
                    "Invalid credentials.",
                )
            }
        };
    }
    let message = match parsed {
        Ok(message) => message,
        Err((reason, error_code)) => {
            peer.rejected.push(reason.clone());
            return google_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                error_code,
                &reason,
            );
        }
    };
    if let Some(token) = message.get("token").and_then(Value::as_str)
        && peer.unregistered.contains(token)
    {
        return google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            Some("UNREGISTERED"),
            "Requested entity was not found.",
        );
    }
    let target = message
        .get("token")
        .or_else(|| message.get("topic"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let alert = message
        .pointer("/data/alert")
        .and_then(Value::as_str)
        .unwrap_or("");
    *peer
        .received
        .entry(format!("{target}|{alert}"))
        .or_default() += 1;
    peer.total_received += 1;
    let total = peer.total_received;
    if peer.keep_messages {
        peer.accepted.push(message);
    }
    drop(peer);
    shared.total.send_replace(total);
    let name = format!("projects/{}/messages/0:{total}", shared.project);
    Json(json!({ "name": name })).into_response()
}

/// Checks a request body against the v1 `Message` schema; returns the message.
fn validate(mut request: Value) -> Result<Value, String> {
    check(&request)?;
    // `check` saw a `message` object; taken out rather than cloned.
    Ok(request
        .get_mut("message")
        .map(Value::take)
        .unwrap_or_default())
}

fn check(request: &Value) -> Result<(), String> {
    let object = request.as_object().ok_or("request body is not an object")?;
    for key in object.keys() {
        if key != "message" && key != "validate_only" {
            return Err(format!("Unknown name \"{key}\": Cannot find field."));
        }
    }
    let message = object
        .get("message")
        .and_then(Value::as_object)
        .ok_or("message is required")?;
    const FIELDS: &[&str] = &[
        "name",
        "data",
        "notification",
        "android",
        "webpush",
        "apns",
        "fcm_options",
        "token",
        "topic",
        "condition",
    ];
    for key in message.keys() {
        if !FIELDS.contains(&key.as_str()) {
            return Err(format!(
                "Unknown name \"{key}\" at 'message': Cannot find field."
            ));
        }
    }
    let targets = ["token", "topic", "condition"]
        .iter()
        .filter(|t| message.contains_key(**t))
        .count();
    if targets != 1 {
        return Err("exactly one of token, topic or condition is required".into());
    }
    if let Some(token) = message.get("token") {
        let token = token.as_str().ok_or("message.token must be a string")?;
        if token.is_empty() {
            return Err("The registration token is not a valid FCM registration token".into());
        }
    }
    if let Some(topic) = message.get("topic") {
        let topic = topic.as_str().ok_or("message.topic must be a string")?;
        let valid = !topic.is_empty()
            && !topic.starts_with("/topics/")
            && topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~%".contains(c));
        if !valid {
            return Err(format!("Invalid topic name {topic:?}"));
        }
    }
    if let Some(notification) = message.get("notification") {
        let notification = notification
            .as_object()
            .ok_or("message.notification must be an object")?;
        for (key, value) in notification {
            if !["title", "body", "image"].contains(&key.as_str()) || !value.is_string() {
                return Err(format!("Invalid value at 'message.notification.{key}'"));
            }
        }
    }
    if let Some(data) = message.get("data") {
        let data = data.as_object().ok_or("message.data must be a map")?;
        for (index, (key, value)) in data.iter().enumerate() {
            if !value.is_string() {
                return Err(format!(
                    "Invalid value at 'message.data[{index}].value' (TYPE_STRING), {value}"
                ));
            }
            if key == "from" || key.starts_with("google") || key.starts_with("gcm") {
                return Err(format!("Invalid data key {key:?}: reserved"));
            }
        }
    }
    if let Some(android) = message.get("android") {
        let android = android
            .as_object()
            .ok_or("message.android must be an object")?;
        if let Some(priority) = android.get("priority") {
            let valid = ["high", "normal", "HIGH", "NORMAL"]
                .iter()
                .any(|p| Some(*p) == priority.as_str());
            if !valid {
                return Err(format!(
                    "Invalid value at 'message.android.priority', {priority}"
                ));
            }
        }
        if let Some(ttl) = android.get("ttl") {
            let ok = ttl
                .as_str()
                .and_then(|t| t.strip_suffix('s'))
                .is_some_and(|secs| {
                    secs.parse::<f64>()
                        .is_ok_and(|s| (0.0..=2_419_200.0).contains(&s))
                });
            if !ok {
                return Err(format!("Invalid value at 'message.android.ttl', {ttl}"));
            }
        }
    }
    if let Some(apns) = message.get("apns") {
        let apns = apns.as_object().ok_or("message.apns must be an object")?;
        if let Some(headers) = apns.get("headers") {
            let headers = headers
                .as_object()
                .ok_or("message.apns.headers must be a map")?;
            for (key, value) in headers {
                if !value.is_string() {
                    return Err(format!(
                        "Invalid value at 'message.apns.headers[{key}]' (TYPE_STRING)"
                    ));
                }
            }
            if let Some(priority) = headers.get("apns-priority").and_then(Value::as_str)
                && !["5", "10", "1"].contains(&priority)
            {
                return Err(format!("Invalid apns-priority {priority}"));
            }
        }
        if let Some(payload) = apns.get("payload")
            && !payload.get("aps").is_some_and(Value::is_object)
        {
            return Err("apns.payload must contain an aps dictionary".into());
        }
    }
    let size = serde_json::to_vec(message)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > 4096 {
        return Err(format!("Message is too big: {size} bytes"));
    }
    Ok(())
}
