//! Request-body extractors whose refusals are the API's JSON errors, and
//! the reading of cookies.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult, ErrorCode};

/// The state that knows how large a CAP document may be
/// (`server.cap_body_limit`).
pub trait CapBodyLimit {
    fn cap_body_limit(&self) -> usize;
}

/// A CAP document uploaded as the request body, read up to
/// `server.cap_body_limit` (CAP may be far larger than the JSON API's
/// `server.body_limit`: embedded resources, long polygons, many areas).
/// The router leaves this route outside its own body limits, so this is
/// the one limit that applies and the refusal names it.
pub struct CapBody(pub Bytes);

impl<S: CapBodyLimit + Send + Sync> FromRequest<S> for CapBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<CapBody> {
        let limit = state.cap_body_limit();
        let too_large = || {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("a CAP document may be at most {limit} bytes (server.cap_body_limit)"),
            )
        };
        // Refused from its declared length before anything is read.
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared.map_or(0, |l| l as usize));
        let mut chunks = request.into_body().into_data_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::new(ErrorCode::MalformedRequest, "the body could not be read")
            })?;
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(CapBody(Bytes::from(body)))
    }
}

/// A JSON body whose rejections are the API's errors.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<JsonBody<T>> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// The API's error for a body `Json` refused. Never axum's text: serde's
/// messages quote the submitted value (`invalid type: string "…"`).
fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large");
    }
    if let JsonRejection::MissingJsonContentType(_) = rejection {
        return ApiError::new(
            ErrorCode::MalformedRequest,
            "the body must be JSON (Content-Type: application/json)",
        );
    }
    // The deserializer's error sits under axum's wrappers.
    let mut source = std::error::Error::source(&rejection);
    while let Some(error) = source {
        if let Some(error) = error.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            return crate::error::json_body_error(&error.path().to_string(), error.inner());
        }
        source = error.source();
    }
    ApiError::new(ErrorCode::MalformedRequest, "the body could not be read")
}

pub use crate::serve::login_throttle::cookies;

impl CapBodyLimit for crate::serve::AppState {
    fn cap_body_limit(&self) -> usize {
        self.config.server.cap_body_limit
    }
}
