//! Queued deliveries are sealed at rest: a delivery carries an address
//! (phone number, e-mail, device token, webhook URL and secret), and its
//! message names the subscriber's place, so the queue's files and Redis's
//! AOF must not hold them readable.
//!
//! The queue does not hold a key itself: it is given a [`Sealer`] (the
//! store implements it with its data key, the same authenticated
//! encryption as its own records). Each payload is sealed bound to its
//! delivery key, so a payload copied onto another delivery does not open.
//! The delivery key itself (channel, pseudonymous subscriber id, a keyed
//! tag of the device, alert version) holds no personal data and stays
//! readable for the indexes: the device is named by [`Sealer::tag`], never
//! by its address, and not by a plain hash of it either (a phone number's
//! hash is undone by trying every number).
//!
//! Every backend stores payloads through [`seal_payload`] and reads them
//! through [`open_payload`], so the stored form is the same on all of them.
//!
//! Stored form: `sealed1:<base64>`. A payload written by an earlier
//! version is plain JSON (it starts with `{`) and is still read, so
//! deliveries pending across an upgrade are delivered; SQLite seals such
//! rows in place when it opens the file.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::QueueError;
use crate::channel::Delivery;

/// The marker of a sealed payload (format version 1).
const SEALED_V1: &str = "sealed1:";

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SealError(pub String);

/// Authenticated encryption for queued payloads.
pub trait Sealer: Send + Sync {
    /// Seals `plaintext`; `context` (what the value is and whose) must be
    /// given again to open it.
    fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8>;

    /// Opens a value sealed under the same `context`; any change to the
    /// bytes, another key or another context is an error.
    fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError>;

    /// A keyed tag of `data` under `context`: equal for equal inputs under
    /// the same key, and without the key neither computable nor reversible
    /// by trying candidates. Implementations derive the tag's key from
    /// their own key under a fixed label, so it is never the sealing key
    /// itself.
    fn tag(&self, context: &str, data: &[u8]) -> [u8; TAG_LEN];
}

/// The label a sealer derives its tag key under ([`derive_key`]).
pub const TAG_KEY_LABEL: &[u8] = b"hazardline queue tags v1";

/// Bytes in a [`Sealer::tag`] (a truncated HMAC-SHA256: 128 bits are
/// plenty to tell one subscriber's devices apart).
pub const TAG_LEN: usize = 16;

/// HMAC-SHA256 of `context` and `data` under `key`, truncated: the tag
/// both sealers compute. The context is length-prefixed, so no
/// (context, data) pair reads as another.
pub fn hmac_tag(key: &[u8], context: &str, data: &[u8]) -> [u8; TAG_LEN] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(&(context.len() as u64).to_be_bytes());
    mac.update(context.as_bytes());
    mac.update(data);
    let full = mac.finalize().into_bytes();
    let mut tag = [0; TAG_LEN];
    tag.copy_from_slice(&full[..TAG_LEN]);
    tag
}

/// HMAC-SHA256(`key`, `label`): a key of its own for one use, derived from
/// a sealing key without being it.
pub fn derive_key(key: &[u8], label: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// The associated data of one delivery's payload.
fn context(key: &str) -> String {
    format!("queue:delivery:{key}")
}

/// A delivery as stored: sealed, bound to its key.
pub fn seal_payload(
    sealer: &dyn Sealer,
    key: &str,
    delivery: &Delivery,
) -> Result<String, QueueError> {
    let json = serde_json::to_vec(delivery).map_err(QueueError::Encode)?;
    let sealed = sealer.seal(&context(key), &json);
    Ok(format!("{SEALED_V1}{}", STANDARD.encode(sealed)))
}

/// Whether a stored payload is still in the plaintext form of earlier
/// versions.
pub fn is_plaintext(payload: &str) -> bool {
    payload.starts_with('{')
}

/// A stored delivery, sealed or (written by an earlier version) plain.
pub fn open_payload(sealer: &dyn Sealer, key: &str, payload: &str) -> Result<Delivery, QueueError> {
    let corrupt = |source| QueueError::Corrupt {
        key: key.to_string(),
        source,
    };
    if is_plaintext(payload) {
        return serde_json::from_str(payload).map_err(corrupt);
    }
    let unsealed = |reason: String| QueueError::Sealed {
        key: key.to_string(),
        reason,
    };
    let encoded = payload.strip_prefix(SEALED_V1).ok_or_else(|| {
        unsealed("neither sealed nor a delivery written by an earlier version".into())
    })?;
    let sealed = STANDARD
        .decode(encoded)
        .map_err(|e| unsealed(format!("not base64: {e}")))?;
    let json = sealer
        .open(&context(key), &sealed)
        .map_err(|e| unsealed(e.0))?;
    serde_json::from_slice(&json).map_err(corrupt)
}
