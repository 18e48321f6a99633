//! A local SMS gateway speaking the Twilio Messages API contract:
//! `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP basic
//! auth (account SID : auth token) and form fields `To`, `From`, `Body`;
//! 201 with the message resource on success; errors as
//! `{"code", "message", "more_info", "status"}`.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

/// An SMS accepted by the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    pub to: String,
    pub from: String,
    pub body: String,
}

/// A failure the peer answers with instead of accepting a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsFailure {
    /// 429, error 20429, with `Retry-After`.
    TooManyRequests { retry_after_secs: u64 },
    /// 503 without a body the client can read.
    Unavailable,
}

#[derive(Default)]
struct Peer {
    sent: Vec<SentSms>,
    invalid: HashSet<String>,
    failures: VecDeque<SmsFailure>,
}

struct Shared {
    account_sid: String,
    auth_token: String,
    peer: Mutex<Peer>,
}

/// A running SMS gateway peer on 127.0.0.1.
pub struct SmsContract {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl SmsContract {
    pub async fn start() -> SmsContract {
        let account_sid = "AC00000000000000000000000000000001".to_string();
        let auth_token = "test-auth-token".to_string();
        let shared = Arc::new(Shared {
            account_sid: account_sid.clone(),
            auth_token: auth_token.clone(),
            peer: Mutex::new(Peer::default()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base_url = format!("http://{}", listener.local_addr().expect("local addr"));
        #[expect(
            clippy::disallowed_methods,
            reason = "a stand-in SMS gateway, not the service's API"
        )]
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(create_message),
            )
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SmsContract {
            base_url,
            account_sid,
            auth_token,
            shared,
            server,
        }
    }

    fn peer(&self) -> MutexGuard<'_, Peer> {
        self.shared.peer.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn sent(&self) -> Vec<SentSms> {
        self.peer().sent.clone()
    }

    /// Makes `number` answer error 21211 (invalid 'To' number).
    pub fn mark_invalid(&self, number: &str) {
        self.peer().invalid.insert(number.to_string());
    }

    pub fn fail_next(&self, failures: impl IntoIterator<Item = SmsFailure>) {
        self.peer().failures.extend(failures);
    }
}

impl Drop for SmsContract {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Deserialize)]
struct CreateMessage {
    #[serde(rename = "To")]
    to: Option<String>,
    #[serde(rename = "From")]
    from: Option<String>,
    #[serde(rename = "Body")]
    body: Option<String>,
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

async fn create_message(
    State(shared): State<Arc<Shared>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CreateMessage>,
) -> Response {
    let authorised = basic_auth(&headers).is_some_and(|(user, password)| {
        user == shared.account_sid && password == shared.auth_token
    });
    if !authorised || sid != shared.account_sid {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let mut peer = shared.peer.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(failure) = peer.failures.pop_front() {
        return match failure {
            SmsFailure::TooManyRequests { retry_after_secs } => {
                let mut response =
                    twilio_error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
                if let Ok(value) = retry_after_secs.to_string().parse() {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            SmsFailure::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable").into_response()
            }
        };
    }
    let (Some(to), Some(from), Some(body)) = (form.to, form.from, form.body) else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To', 'From' and 'Body' are required.",
        );
    };
    if !is_e164(&to) || peer.invalid.contains(&to) {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            "The 'To' number is not a valid phone number.",
        );
    }
    if body.is_empty() || body.chars().count() > 1600 {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    let (_, segments) = crate::render::sms::segments(&body);
    peer.sent.push(SentSms {
        to: to.clone(),
        from: from.clone(),
        body: body.clone(),
    });
    let sid = format!("SM{:032}", peer.sent.len());
    let resource = json!({
        "sid": sid, "account_sid": shared.account_sid, "to": to, "from": from, "body": body,
        "status": "queued", "num_segments": segments.to_string(),
    });
    (StatusCode::CREATED, Json(resource)).into_response()
}
