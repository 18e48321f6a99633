//! The API's errors: an HTTP status, a stable machine-readable code and a
//! message naming what is wrong and where. Clients switch on `code`, never
//! on the message. Every code is listed in [`ErrorCode`] and in the OpenAPI
//! document.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Stable error codes. Adding one is fine; renaming one breaks clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `{"error": {"code": "...", "message": "...", "field": "...", "details": [...]}}`
#[derive(Debug, Serialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// JSON path of the offending field, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Further items (CAP violations, address candidates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        (status, Json(serde_json::json!({ "error": self }))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
