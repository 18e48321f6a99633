//! Where messages come from, and whom each source may speak for.
//!
//! A [`SourceConfig`] names one configured input (an HTTP feed, an MQTT
//! topic, a drop directory or the issuer API) and the senders it may carry.
//! [`trust`] decides whether a message from that source is believed;
//! [`health`] remembers when each source last delivered, and raises the
//! alarm when one falls silent.
//!
//! Invariant: a message whose `<sender>` matches none of its source's
//! patterns is never accepted, whatever else is right about it.

pub mod config;
pub mod health;
pub mod trust;

pub use crate::sender::SenderPattern;
pub use config::{
    DirectoryConfig, HttpFeedConfig, MqttConfig, SignaturePolicy, SourceConfig, SourceKind,
    SourcesSection,
};
pub use health::SourceHealth;
pub use trust::{SourceTrust, TrustError};

use std::fmt;

use serde::{Deserialize, Serialize};

/// A source's configured name: a metric label and a store column, so it
/// must be stable and never carry personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(pub String);

impl SourceId {
    pub fn new(id: impl Into<String>) -> Self {
        SourceId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
