//! A [`Sealer`] for tests and the worker process of the crash tests:
//! XChaCha20-Poly1305 under a key given as bytes, with a fresh random
//! nonce per value (`[24-byte nonce][ciphertext + tag]`), and tags under
//! a key derived from it. The service itself seals with the store's data
//! key instead.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::queue::seal::{TAG_KEY_LABEL, TAG_LEN, derive_key, hmac_tag};
use crate::queue::{SealError, Sealer};

const NONCE_LEN: usize = 24;

pub struct KeySealer {
    cipher: XChaCha20Poly1305,
    tag_key: [u8; 32],
}

impl KeySealer {
    pub fn new(key: [u8; 32]) -> KeySealer {
        KeySealer {
            cipher: XChaCha20Poly1305::new((&key).into()),
            tag_key: derive_key(&key, TAG_KEY_LABEL),
        }
    }

    /// A sealer under a new random key.
    pub fn random() -> KeySealer {
        KeySealer::new(rand::random())
    }

    /// A sealer under a key written as 64 hex digits.
    pub fn from_hex(text: &str) -> Result<KeySealer, SealError> {
        let bytes = hex::decode(text.trim()).map_err(|e| SealError(format!("key: {e}")))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SealError("key: not 32 bytes".into()))?;
        Ok(KeySealer::new(key))
    }
}

impl Sealer for KeySealer {
    fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        let mut sealed = nonce.to_vec();
        // Fails only for messages over 256 GiB.
        sealed.extend(
            self.cipher
                .encrypt(XNonce::from_slice(&nonce), payload)
                .unwrap_or_default(),
        );
        sealed
    }

    fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError("shorter than a nonce".into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        self.cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SealError("authentication failed".into()))
    }

    fn tag(&self, context: &str, data: &[u8]) -> [u8; TAG_LEN] {
        hmac_tag(&self.tag_key, context, data)
    }
}
