//! Random identifiers of the service's own records (accounts, drafts,
//! message identifiers).

use rand::Rng;

/// A random id with a readable prefix (`a_…` for accounts, `d_…` drafts).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}
