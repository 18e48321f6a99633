//! The API's errors: an HTTP status, a stable machine-readable code and a
//! message naming what is wrong and where. Clients switch on `code`, never
//! on the message. Every code is listed in [`ErrorCode`] and in the OpenAPI
//! document.
//!
//! [`json_errors`] wraps the whole router so that errors raised outside
//! the handlers (axum's extractor rejections, the body-limit layer's 413,
//! an unknown route or method) have the same shape.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Stable error codes. Adding one is fine; renaming one breaks clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(description = "Stable machine-readable code; clients switch on it.")]
pub enum ErrorCode {
    /// The body is not valid JSON / form data, or a field has the wrong type.
    MalformedRequest,
    /// A field is present and well-formed but its value is not allowed.
    InvalidField,
    /// The address could not be geocoded (unknown or ambiguous).
    AddressNotFound,
    AddressAmbiguous,
    /// The point is outside every administrative area.
    OutsideCoverage,
    /// No or bad credentials.
    Unauthenticated,
    /// Authenticated, but this role or jurisdiction may not do this.
    Forbidden,
    /// Missing or wrong CSRF token on a form submission.
    CsrfRejected,
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The resource is in a state that does not allow this (e.g. sending an
    /// unapproved draft).
    Conflict,
    /// The CAP message was refused (trust, validation); details listed.
    CapRejected,
    PayloadTooLarge,
    RateLimited,
    /// A backend (store, queue) failed; retry later.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MalformedRequest => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidField
            | ErrorCode::AddressNotFound
            | ErrorCode::AddressAmbiguous
            | ErrorCode::OutsideCoverage
            | ErrorCode::CapRejected => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::CsrfRejected => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `{"error": {"code": "...", "message": "...", "field": "...", "details": [...]}}`
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    description = "What is wrong: a stable code, a message and, when one is to blame, the field."
)]
pub struct ApiError {
    // Inline, without a description of its own, so that the `Error`
    // schema lists the codes as a plain enum.
    #[schema(inline)]
    pub code: ErrorCode,
    /// For people; may change.
    pub message: String,
    /// JSON path of the field to blame, e.g. `devices[0].address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Further items: CAP violations, address candidates (`{candidate}`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

/// Every error response's body, as [`ApiError`]'s `IntoResponse` writes it.
/// Only the OpenAPI document uses this type (as the schema `Error`); the
/// body itself is written from the error in place, without a copy.
#[derive(ToSchema)]
#[schema(
    as = Error,
    description = "Every error answer's body; `error.code` is stable, clients switch on it."
)]
pub struct ErrorBody {
    #[schema(inline)]
    pub error: ApiError,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            field: None,
            details: Vec::new(),
        }
    }

    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(code, message)
        }
    }

    pub fn with_details(mut self, details: Vec<serde_json::Value>) -> ApiError {
        self.details = details;
        self
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(ErrorCode::NotFound, format!("no such {what}"))
    }
}

impl From<store::StoreError> for ApiError {
    fn from(error: store::StoreError) -> ApiError {
        // The store's message may name backend details; log it, return a
        // generic one.
        tracing::error!(%error, "storage failure");
        ApiError::new(
            ErrorCode::Unavailable,
            "storage is unavailable; retry later",
        )
    }
}

// The application's errors, as the API answers them. Each says which code
// a client sees; backend details are logged, never returned.

impl From<app::subscribers::ConvertError> for ApiError {
    fn from(error: app::subscribers::ConvertError) -> ApiError {
        use app::subscribers::ConvertError;
        match error {
            ConvertError::Invalid { field, reason } => {
                ApiError::field(ErrorCode::InvalidField, &field, reason)
            }
            ConvertError::OutsideCoverage { field, reason } => {
                ApiError::field(ErrorCode::OutsideCoverage, &field, reason)
            }
            ConvertError::Catalogues => ApiError::new(ErrorCode::Internal, error.to_string()),
        }
    }
}

impl From<app::subscribers::SubscriberError> for ApiError {
    fn from(error: app::subscribers::SubscriberError) -> ApiError {
        use app::subscribers::SubscriberError;
        match error {
            SubscriberError::Invalid(error) => error.into(),
            SubscriberError::NotIndexed => ApiError::new(ErrorCode::Internal, error.to_string()),
            SubscriberError::EngineStopped => {
                ApiError::new(ErrorCode::Unavailable, error.to_string())
            }
            SubscriberError::Store(error) => error.into(),
        }
    }
}

impl From<app::compose::ComposeError> for ApiError {
    fn from(error: app::compose::ComposeError) -> ApiError {
        use app::compose::ComposeError;
        match error {
            ComposeError::Invalid { field, reason } => {
                ApiError::field(ErrorCode::InvalidField, &field, reason)
            }
            ComposeError::NotCap { reason, violations } => {
                ApiError::new(ErrorCode::CapRejected, reason).with_details(
                    violations
                        .iter()
                        .map(|v| serde_json::json!({"path": v.path, "rule": v.rule, "message": v.message}))
                        .collect(),
                )
            }
            ComposeError::Catalogues(_) => ApiError::new(ErrorCode::Internal, error.to_string()),
        }
    }
}

impl From<app::engine_task::EngineStopped> for ApiError {
    fn from(_: app::engine_task::EngineStopped) -> ApiError {
        ApiError::new(ErrorCode::Unavailable, "the engine is not running; retry")
    }
}

impl From<app::outbox::OutboxError> for ApiError {
    fn from(error: app::outbox::OutboxError) -> ApiError {
        tracing::error!(%error, "deliveries not queued");
        ApiError::new(
            ErrorCode::Unavailable,
            "the delivery queue is unavailable; retry",
        )
    }
}

impl From<app::relief::ReliefError> for ApiError {
    fn from(error: app::relief::ReliefError) -> ApiError {
        use app::relief::ReliefError;
        match error {
            ReliefError::EngineStopped(error) => error.into(),
            ReliefError::Engine(_) => ApiError::new(ErrorCode::Internal, error.to_string()),
            ReliefError::Outbox(error) => error.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        (status, Json(serde_json::json!({ "error": self }))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The error for a JSON body serde refused at `path` (`items[1].n`; `.`
/// for the whole body). Serde's own message is not returned: for a wrong
/// value it quotes the value (`invalid type: string "…"`), which may be
/// personal data. Only a field name from an unknown-field error is kept
/// (a key of the request, never a value).
pub fn json_body_error(path: &str, error: &serde_json::Error) -> ApiError {
    let what = match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "the body is not well-formed JSON"
        }
        _ => "a field is missing, unknown or of the wrong type",
    };
    let message = match unknown_field(&error.to_string()) {
        Some(name) => format!("unknown field {name}"),
        None => what.to_string(),
    };
    if path == "." || path.is_empty() {
        ApiError::new(ErrorCode::MalformedRequest, message)
    } else {
        ApiError::field(ErrorCode::MalformedRequest, path, message)
    }
}

/// The field name of serde's "unknown field `x`, expected …".
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let name = rest.split('`').next()?;
    // Named back only when it looks like a field name: anything else may be
    // a value pasted into a key, and an error never echoes what was sent.
    let looks_like_field = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (name.len() <= 40 && looks_like_field).then(|| format!("`{name}`"))
}

/// How much of a plain-text error body is read to find the parameter at
/// fault: axum's rejection texts are one short line.
const PLAIN_ERROR_READ: usize = 4096;

/// Middleware: an error response that is not already the API's JSON (an
/// axum rejection, the body-limit layer's 413, a 404 or 405 from routing)
/// is replaced by the API's error with the same status. The original text
/// is never passed on: a query-string rejection quotes the value.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, PLAIN_ERROR_READ)
        .await
        .unwrap_or_default();
    let error = plain_error(status, &String::from_utf8_lossy(&text));
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(CONTENT_LENGTH);
    let (_, json) = error.into_response().into_parts();
    let mut out = Response::from_parts(parts, json);
    out.headers_mut().insert(
        CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    out
}

/// The API's error for a plain-text error response of `status`.
fn plain_error(status: StatusCode, text: &str) -> ApiError {
    const QUERY: &str = "Failed to deserialize query string: ";
    if let Some(rest) = text.strip_prefix(QUERY) {
        let message = "a query parameter is missing, unknown or of the wrong type";
        // serde's path comes first (`limit: invalid digit …`); only a
        // plausible parameter name is kept, never what follows it.
        return match rest.split_once(": ").map(|(path, _)| path) {
            Some(path) if is_parameter_name(path) => {
                ApiError::field(ErrorCode::MalformedRequest, path, message)
            }
            _ => ApiError::new(ErrorCode::MalformedRequest, message),
        };
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            (ErrorCode::PayloadTooLarge, "the request body is too large")
        }
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route or resource"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this route does not take this method",
        ),
        StatusCode::UNAUTHORIZED => (ErrorCode::Unauthenticated, "authentication required"),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "not allowed"),
        StatusCode::CONFLICT => (
            ErrorCode::Conflict,
            "the resource is in a state that does not allow this",
        ),
        StatusCode::TOO_MANY_REQUESTS => (ErrorCode::RateLimited, "too many requests"),
        StatusCode::SERVICE_UNAVAILABLE => (ErrorCode::Unavailable, "unavailable; retry later"),
        s if s.is_server_error() => (ErrorCode::Internal, "internal error"),
        _ => (
            ErrorCode::MalformedRequest,
            "the request could not be read (path, query string, headers or body)",
        ),
    };
    ApiError::new(code, message)
}

fn is_parameter_name(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 40
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_rejection_names_the_parameter_never_the_value() {
        let e = plain_error(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: limit: invalid digit found in string",
        );
        assert_eq!(e.code, ErrorCode::MalformedRequest);
        assert_eq!(e.field.as_deref(), Some("limit"));
        let e = plain_error(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: unknown variant `+886912345678`, expected `a`",
        );
        assert_eq!(e.field, None);
        assert!(!e.message.contains("886"), "{}", e.message);
        assert_eq!(
            plain_error(StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").code,
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(
            plain_error(StatusCode::METHOD_NOT_ALLOWED, "")
                .code
                .status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn a_json_body_error_names_the_path_never_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            person: String,
        }
        let mut de = serde_json::Deserializer::from_str(r#"{"person": 886912345678}"#);
        let error = serde_path_to_error::deserialize::<_, Body>(&mut de).unwrap_err();
        assert!(error.inner().to_string().contains("886912345678"));
        let e = json_body_error(&error.path().to_string(), error.inner());
        assert_eq!(e.field.as_deref(), Some("person"));
        assert!(!e.message.contains("886912345678"), "{}", e.message);
    }
}
