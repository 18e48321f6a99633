//! Request-body extractors whose refusals are the API's JSON errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use futures_util::StreamExt;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::state::AppState;

/// A CAP document uploaded as the request body, read up to
/// `server.cap_body_limit` (CAP may be far larger than the JSON API's
/// `server.body_limit`: embedded resources, long polygons, many areas).
/// The router leaves this route outside its own body limits, so this is
/// the one limit that applies and the refusal names it.
pub struct CapBody(pub Bytes);

impl FromRequest<AppState> for CapBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<CapBody> {
        let limit = state.config.server.cap_body_limit;
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
