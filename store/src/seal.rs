//! Sealing personal data at rest: XChaCha20-Poly1305 with the configured
//! data key, a fresh random nonce per value.
//!
//! A sealed value is `[format version][key id][24-byte nonce][ciphertext +
//! 16-byte tag]`. The key id is a one-byte fingerprint of the key, so a
//! value sealed under another key is recognised (and refused with a clear
//! error) before decryption is even tried, and a later key rotation can
//! tell which key a value needs. The associated data names what the value
//! is and whose (`subscriber:s_…`), so a sealed value copied into another
//! record does not open there.
//!
//! Opening never returns garbage: any change to the bytes, the wrong key or
//! the wrong record fails the tag check and is [`StoreError::Seal`].

use std::fmt;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::StoreError;

/// The first byte of every sealed value; bumped if the layout changes.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 2 + NONCE_LEN;
const TAG_LEN: usize = 16;

/// Why a configured data key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the data key is empty; give 32 random bytes as 64 hex digits or base64")]
    Empty,
    #[error(
        "the data key is {0} bytes long once decoded; it must be exactly 32 (64 hex digits or 44 base64 characters)"
    )]
    WrongLength(usize),
    #[error("the data key is neither hex nor base64 (character {0} is not valid in either)")]
    NotEncoded(usize),
}

/// The 32-byte key personal data is sealed with. `Debug` never shows it;
/// its bytes are wiped when dropped.
#[derive(Clone)]
pub struct DataKey {
    bytes: Zeroizing<[u8; 32]>,
    id: u8,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey(id {:02x})", self.id)
    }
}

impl DataKey {
    /// Parses a key written as 64 hex digits or as base64 (standard or
    /// URL-safe alphabet, padding optional) of exactly 32 bytes.
    /// Surrounding whitespace is ignored (keys are often read from files).
    pub fn parse(text: &str) -> Result<DataKey, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        // Only hex digits: read as hex (a base64 key of 32 random bytes is
        // never all hex digits in practice), so a short hex key is reported
        // with its own length.
        let bytes = if text.bytes().all(|b| b.is_ascii_hexdigit()) {
            if text.len() % 2 == 1 {
                return Err(KeyError::WrongLength(text.len() / 2));
            }
            hex::decode(text).map_err(|_| KeyError::NotEncoded(0))?
        } else {
            decode_base64(text)?
        };
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Ok(DataKey::from_bytes(array))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        let fingerprint = Sha256::new()
            .chain_update(b"hazardline data key id\0")
            .chain_update(bytes)
            .finalize();
        DataKey {
            bytes: Zeroizing::new(bytes),
            id: fingerprint[0],
        }
    }

    /// A new random key (for `--demo`, tests, and printing a key to
    /// configure).
    pub fn generate() -> DataKey {
        DataKey::from_bytes(rand::random())
    }

    /// The key as 64 hex digits, to write into a configuration.
    pub fn to_hex(&self) -> String {
        hex::encode(*self.bytes)
    }

    /// The one-byte fingerprint stored with every sealed value.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// The key's bytes, for the keys derived from it within this crate.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.bytes).into())
    }

    /// Seals `plaintext`; `context` (what the value is and whose) must be
    /// given again to open it.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        sealed.push(FORMAT_V1);
        sealed.push(self.id);
        sealed.extend_from_slice(&nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad(self.id, context),
                },
            )
            // XChaCha20-Poly1305 fails only for messages over 256 GiB.
            .unwrap_or_default();
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Opens a value sealed with this key under the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(StoreError::Seal(format!(
                "{context}: sealed value is {} bytes, shorter than any sealed value",
                sealed.len()
            )));
        }
        if sealed[0] != FORMAT_V1 {
            return Err(StoreError::Seal(format!(
                "{context}: unknown sealed format {}",
                sealed[0]
            )));
        }
        if sealed[1] != self.id {
            return Err(StoreError::Seal(format!(
                "{context}: sealed with key id {:02x}, the configured data key is {:02x}",
                sealed[1], self.id
            )));
        }
        self.cipher()
            .decrypt(
                XNonce::from_slice(&sealed[2..HEADER_LEN]),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: &aad(sealed[1], context),
                },
            )
            .map_err(|_| {
                StoreError::Seal(format!(
                    "{context}: authentication failed (altered, or sealed for another record)"
                ))
            })
    }

    /// Seals a value as JSON.
    pub fn seal_json<T: serde::Serialize>(
        &self,
        context: &str,
        value: &T,
    ) -> Result<Vec<u8>, StoreError> {
        let json = Zeroizing::new(serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
            what: context.to_string(),
            detail: format!("does not encode: {e}"),
        })?);
        Ok(self.seal(context, &json))
    }

    /// Opens a value sealed with [`DataKey::seal_json`].
    pub fn open_json<T: serde::de::DeserializeOwned>(
        &self,
        context: &str,
        sealed: &[u8],
    ) -> Result<T, StoreError> {
        let json = Zeroizing::new(self.open(context, sealed)?);
        serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt {
            what: context.to_string(),
            detail: e.to_string(),
        })
    }
}

// What each sealed value is and whose: its associated data.

pub(crate) fn subscriber_context(id: &str) -> String {
    format!("subscriber:{id}")
}

pub(crate) fn inbox_context(id: &str) -> String {
    format!("inbox:{id}")
}

pub(crate) fn relay_context(alert: &str, village: &str, person: &str) -> String {
    format!("relay_ack:{alert}|{village}|{person}")
}

/// Entries sealed in one go: a handful on the caller's thread, a fan-out's
/// worth (up to millions, a few µs each) on a blocking thread so the async
/// workers keep serving. Returns (subscriber id, sealed entry) in order.
pub(crate) async fn seal_inbox(
    key: &std::sync::Arc<DataKey>,
    entries: &[crate::InboxEntry],
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    const INLINE: usize = 64;
    fn seal_all(
        key: &DataKey,
        entries: &[crate::InboxEntry],
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        entries
            .iter()
            .map(|entry| {
                let id = entry.subscriber.0.clone();
                let sealed = key.seal_json(&inbox_context(&id), entry)?;
                Ok((id, sealed))
            })
            .collect()
    }
    if entries.len() <= INLINE {
        return seal_all(key, entries);
    }
    let (key, entries) = (std::sync::Arc::clone(key), entries.to_vec());
    tokio::task::spawn_blocking(move || seal_all(&key, &entries))
        .await
        .map_err(|e| StoreError::Backend(format!("sealing task failed: {e}")))?
}

/// Associated data: format, key id and context, so none can be swapped.
fn aad(key_id: u8, context: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(2 + context.len());
    aad.push(FORMAT_V1);
    aad.push(key_id);
    aad.extend_from_slice(context.as_bytes());
    aad
}

fn decode_base64(text: &str) -> Result<Vec<u8>, KeyError> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    if let Some(position) = text
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b"+/-_=".contains(&b)))
    {
        return Err(KeyError::NotEncoded(position + 1));
    }
    let unpadded = text.trim_end_matches('=');
    let engine = if unpadded.contains(['-', '_']) {
        URL_SAFE_NO_PAD
    } else {
        STANDARD_NO_PAD
    };
    engine
        .decode(unpadded)
        .map_err(|_| KeyError::WrongLength(unpadded.len() * 3 / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn parses_hex_and_base64_of_the_same_key() {
        let from_hex = DataKey::parse(HEX).unwrap();
        let bytes: Vec<u8> = (0u8..32).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(DataKey::parse(&b64).unwrap().to_hex(), HEX);
        assert_eq!(DataKey::parse(&format!(" {url}\n")).unwrap().to_hex(), HEX);
        assert_eq!(from_hex.to_hex(), HEX);
    }

    #[test]
    fn refuses_keys_with_a_reason() {
        assert_eq!(DataKey::parse("  ").unwrap_err(), KeyError::Empty);
        assert_eq!(
            DataKey::parse(&HEX[..62]).unwrap_err(),
            KeyError::WrongLength(31)
        );
        assert_eq!(
            DataKey::parse("not a key!").unwrap_err(),
            KeyError::NotEncoded(4)
        );
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert_eq!(
            DataKey::parse(&short).unwrap_err(),
            KeyError::WrongLength(16)
        );
        let message = DataKey::parse(&short).unwrap_err().to_string();
        assert!(message.contains("exactly 32"), "{message}");
    }

    #[test]
    fn seals_and_opens_with_a_fresh_nonce_each_time() {
        let key = DataKey::parse(HEX).unwrap();
        let a = key.seal("subscriber:s_1", b"+886912345678");
        let b = key.seal("subscriber:s_1", b"+886912345678");
        assert_ne!(a, b, "same value, different nonce");
        assert!(!a.windows(13).any(|w| w == b"+886912345678"));
        assert_eq!(key.open("subscriber:s_1", &a).unwrap(), b"+886912345678");
        assert_eq!(a[0], FORMAT_V1);
        assert_eq!(a[1], key.id());
    }

    #[test]
    fn wrong_key_context_or_altered_bytes_fail() {
        let key = DataKey::parse(HEX).unwrap();
        let other = DataKey::generate();
        let sealed = key.seal("subscriber:s_1", b"someone@example.com");
        assert!(matches!(
            other.open("subscriber:s_1", &sealed),
            Err(StoreError::Seal(_))
        ));
        // Another key whose fingerprint happens to match still fails the tag.
        let mut same_id = sealed.clone();
        same_id[1] = other.id();
        assert!(matches!(
            other.open("subscriber:s_1", &same_id),
            Err(StoreError::Seal(_))
        ));
        assert!(matches!(
            key.open("subscriber:s_2", &sealed),
            Err(StoreError::Seal(_))
        ));
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(matches!(
            key.open("subscriber:s_1", &altered),
            Err(StoreError::Seal(_))
        ));
        assert!(matches!(
            key.open("subscriber:s_1", &sealed[..10]),
            Err(StoreError::Seal(_))
        ));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = DataKey::parse(HEX).unwrap();
        assert!(!format!("{key:?}").contains("0102"));
    }
}
