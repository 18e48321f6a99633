//! Source configuration, as read from `[[ingest.sources]]` in
//! `hazardline.toml` (see the commented sample at the repository root).
//! Every option is documented here, where it is defined; every default is a
//! named constant with its reason.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{SenderPattern, SourceId};

/// NCDR publishes new alerts within a minute; polling every minute keeps the
/// delay below two minutes without loading the agency's server.
pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 60;
/// No feed is polled more often than this, whatever the configuration says:
/// an agency feed is shared by many consumers and we must not hammer it.
pub const MIN_POLL_INTERVAL_SECS: u64 = 10;
/// A request that has not finished in this time is abandoned and retried
/// with backoff; agency servers under load answer slowly but within this.
pub const DEFAULT_TIMEOUT_SECS: u64 = 20;
/// The largest body read from one response. The largest real CAP seen is
/// ~460 KB (IPAWS with embedded resources) and the largest Atom index
/// ~1.8 MB (Mexico SMN); 8 MiB leaves room and bounds memory.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;
/// At most this many linked CAP documents are fetched per poll of an index
/// feed; the rest wait for the next poll (they stay in the index).
pub const DEFAULT_MAX_LINKS_PER_POLL: usize = 200;
/// A drop directory is listed this often.
pub const DEFAULT_DIRECTORY_POLL_SECS: u64 = 2;
/// Standard MQTT port.
pub const DEFAULT_MQTT_PORT: u16 = 1883;

fn default_true() -> bool {
    true
}

/// The `[ingest]` table's sources, as `hazardline.toml` gives them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourcesSection {
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
}

impl SourcesSection {
    /// Checks what serde cannot: unique ids. Returns the first problem.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for source in &self.sources {
            if !seen.insert(&source.id) {
                return Err(format!("source id `{}` is used twice", source.id));
            }
            for group in &source.aliases {
                if group.len() < 2 {
                    return Err(format!(
                        "source `{}`: an aliases group needs at least two senders",
                        source.id
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One configured input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceConfig {
    /// Stable name: used in logs, metric labels and the store.
    pub id: SourceId,
    /// A disabled source is read and checked but not started.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Senders this source may carry (see [`SenderPattern`]). An empty list
    /// means the source accepts nothing, not everything.
    pub senders: Vec<SenderPattern>,
    /// Groups of senders that speak for one authority (an agency renamed,
    /// or one agency's several mailboxes): an Update or Cancel from one may
    /// end an alert from another of the same group. Otherwise each sender
    /// is its own authority (see `crate::authority`). Each pattern must
    /// also be allowed by `senders`.
    #[serde(default)]
    pub aliases: Vec<Vec<SenderPattern>>,
    /// Signature rules for this source.
    #[serde(default)]
    pub signature: SignaturePolicy,
    /// A source that has delivered nothing successfully (a fetch, a message,
    /// a 304) for this long raises the staleness alarm. None: never.
    #[serde(default)]
    pub stale_after_secs: Option<u64>,
    /// The transport and its settings.
    #[serde(flatten)]
    pub kind: SourceKind,
}

impl SourceConfig {
    pub fn stale_after(&self) -> Option<Duration> {
        self.stale_after_secs.map(Duration::from_secs)
    }
}

/// Whether messages must carry an enveloped XML-DSig signature.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignaturePolicy {
    /// When true, a message without a valid signature by a trusted key is
    /// rejected. When false, signatures are not checked at all (a signature
    /// that is present but not checked is recorded as such).
    #[serde(default)]
    pub required: bool,
    /// PEM files holding the certificates (`CERTIFICATE`) or public keys
    /// (`PUBLIC KEY`) whose signatures this source accepts.
    #[serde(default)]
    pub trusted_keys: Vec<PathBuf>,
}

/// The transport of a source, tagged by `kind` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceKind {
    /// A CAP Atom/RSS feed (or a single CAP document) polled over HTTP(S).
    Http(HttpFeedConfig),
    /// An MQTT topic whose messages are CAP documents.
    Mqtt(MqttConfig),
    /// A folder into which CAP files are dropped.
    Directory(DirectoryConfig),
    /// Submissions through the HTTP API by an issuing office.
    Issuer,
}

impl SourceKind {
    pub fn label(&self) -> &'static str {
        match self {
            SourceKind::Http(_) => "http",
            SourceKind::Mqtt(_) => "mqtt",
            SourceKind::Directory(_) => "directory",
            SourceKind::Issuer => "issuer",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpFeedConfig {
    /// The feed (Atom, RSS) or CAP document URL.
    pub url: String,
    /// Seconds between polls; raised to [`MIN_POLL_INTERVAL_SECS`] if lower.
    #[serde(default = "default_poll_interval")]
    pub interval_secs: u64,
    /// Per-request timeout in seconds (connect + headers + body).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Largest body accepted, in bytes; a larger one is refused while it
    /// streams in, before it is all in memory.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Fetch the CAP documents an index feed links to.
    #[serde(default = "default_true")]
    pub follow_links: bool,
    /// Most linked documents fetched per poll.
    #[serde(default = "default_max_links")]
    pub max_links_per_poll: usize,
}

fn default_poll_interval() -> u64 {
    DEFAULT_POLL_INTERVAL_SECS
}
fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_max_bytes() -> usize {
    DEFAULT_MAX_BYTES
}
fn default_max_links() -> usize {
    DEFAULT_MAX_LINKS_PER_POLL
}

impl HttpFeedConfig {
    pub fn new(url: impl Into<String>) -> Self {
        HttpFeedConfig {
            url: url.into(),
            interval_secs: DEFAULT_POLL_INTERVAL_SECS,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            max_bytes: DEFAULT_MAX_BYTES,
            follow_links: true,
            max_links_per_poll: DEFAULT_MAX_LINKS_PER_POLL,
        }
    }

    /// The poll interval, never below `min` (in production
    /// [`MIN_POLL_INTERVAL_SECS`]; tests lower it).
    pub fn interval(&self, min: Duration) -> Duration {
        Duration::from_secs(self.interval_secs).max(min)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MqttConfig {
    pub host: String,
    #[serde(default = "default_mqtt_port")]
    pub port: u16,
    /// Topic filter to subscribe to (QoS 1).
    pub topic: String,
    /// Client id. Keep it stable: with a persistent session the broker keeps
    /// QoS 1 messages for us while we are disconnected.
    pub client_id: String,
}

fn default_mqtt_port() -> u16 {
    DEFAULT_MQTT_PORT
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectoryConfig {
    /// The folder to watch. Processed files move to `done/` or `rejected/`
    /// inside it. Writers must create files under a name starting with `.`
    /// or ending in `.tmp` and rename them when complete.
    pub path: PathBuf,
    #[serde(default = "default_directory_poll")]
    pub poll_interval_secs: u64,
}

fn default_directory_poll() -> u64 {
    DEFAULT_DIRECTORY_POLL_SECS
}
