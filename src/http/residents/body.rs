//! JSON request bodies with the API's errors: a body over the route's size
//! limit is `payload_too_large` (413), a malformed one `malformed_request`
//! naming the JSON path where reading stopped ([`json_body_error`]: never
//! serde's message, which quotes the value).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, json_body_error};

/// Largest body a resident route reads: a registration with ten places and
/// five devices is under 4 KiB.
pub const RESIDENT_BODY_LIMIT: usize = 16 * 1024;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !json {
            return Err(ApiError::new(
                ErrorCode::MalformedRequest,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
                } else {
                    ApiError::new(ErrorCode::MalformedRequest, "the body could not be read")
                }
            })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Reads `bytes` as a `T`, reporting where it failed.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| json_body_error(&error.path().to_string(), error.inner()))?;
    deserializer.end().map_err(|_| {
        ApiError::new(
            ErrorCode::MalformedRequest,
            "the body has data after the JSON value",
        )
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn errors_name_the_path_and_never_the_value() {
        let e = parse::<Body>(br#"{"items":[{"n":1},{"n":"secret@example.com"}]}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedRequest);
        assert_eq!(e.field.as_deref(), Some("items[1].n"));
        assert!(!e.message.contains("secret"), "{}", e.message);
        let e = parse::<Body>(br#"{"items":[],"extra":1}"#).unwrap_err();
        assert!(e.message.contains("extra"));
        let e = parse::<Body>(b"{").unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedRequest);
        assert!(parse::<Body>(br#"{"items":[]} x"#).is_err());
        assert!(parse::<Body>(br#"{"items":[{"n":2}]}"#).is_ok());
    }
}
