//! The delivery queue's sealing port ([`notifier::queue::Sealer`]),
//! implemented with the store's data key: queued deliveries (addresses,
//! webhook secrets, messages naming places) are sealed like the store's own
//! records, XChaCha20-Poly1305 bound to the delivery they belong to. The
//! notifier cannot depend on this crate (it is the other way round), so
//! the store hands its key to the queue through this trait.
//!
//! Device tags in delivery keys are HMAC-SHA256 under a key derived from
//! the data key with a fixed label, never under the data key itself.

use notifier::queue::seal::{TAG_KEY_LABEL, TAG_LEN, derive_key, hmac_tag};
use notifier::queue::{SealError, Sealer};

use crate::StoreError;
use crate::seal::DataKey;

impl Sealer for DataKey {
    fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        DataKey::seal(self, context, plaintext)
    }

    fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        DataKey::open(self, context, sealed).map_err(|error| match error {
            StoreError::Seal(reason) => SealError(reason),
            other => SealError(other.to_string()),
        })
    }

    fn tag(&self, context: &str, data: &[u8]) -> [u8; TAG_LEN] {
        let key = zeroize::Zeroizing::new(derive_key(self.bytes(), TAG_KEY_LABEL));
        hmac_tag(&*key, context, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_port_opens_only_what_the_same_key_sealed_for_the_same_delivery() {
        let key = DataKey::generate();
        let port: &dyn Sealer = &key;
        let sealed = port.seal("queue:delivery:sms|s_1|a", b"+886912345678");
        assert!(!sealed.windows(13).any(|w| w == b"+886912345678"));
        assert_eq!(
            port.open("queue:delivery:sms|s_1|a", &sealed).unwrap(),
            b"+886912345678"
        );
        assert!(port.open("queue:delivery:sms|s_2|a", &sealed).is_err());
        let other = DataKey::generate();
        assert!(Sealer::open(&other, "queue:delivery:sms|s_1|a", &sealed).is_err());
    }

    #[test]
    fn tags_are_keyed_stable_and_not_the_data() {
        let key = DataKey::generate();
        let port: &dyn Sealer = &key;
        let tag = port.tag("queue:device", b"sms:+886912345678");
        assert_eq!(tag, port.tag("queue:device", b"sms:+886912345678"));
        assert_ne!(tag, port.tag("queue:device", b"sms:+886912345679"));
        assert_ne!(tag, port.tag("queue:other", b"sms:+886912345678"));
        let other = DataKey::generate();
        assert_ne!(
            tag,
            Sealer::tag(&other, "queue:device", b"sms:+886912345678")
        );
        // Not an unkeyed hash of the data.
        use sha2::Digest as _;
        let plain = sha2::Sha256::digest(b"sms:+886912345678");
        assert_ne!(&tag[..], &plain[..16]);
    }
}
