//! `hazardline serve`'s configuration: the commented TOML file (see
//! `hazardline.toml` at the repository root) with environment overrides
//! layered over it (on `figment`).
//!
//! Any key can be overridden by `HAZARDLINE_<SECTION>_<KEY>` (upper case,
//! dots of nested sections as underscores: `HAZARDLINE_SERVER_LISTEN`,
//! `HAZARDLINE_CHANNELS_MQTT_PORT`, `HAZARDLINE_RELIEF_CATALOGUE`); every
//! section of [`ServeConfig`] is reachable. `HAZARDLINE_DATA_KEY` sets the
//! storage key, so it need not sit in a file. Unknown keys are errors
//! naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value as FigmentValue};
use figment::{Figment, Metadata, Profile, Provider};
use ingest::source::SourcesSection;
use serde::Deserialize;

/// Request bodies above this are refused (JSON API).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// CAP submissions may be larger (embedded resources, many areas).
pub const DEFAULT_CAP_BODY_LIMIT: usize = 1024 * 1024;
/// How long in-flight requests and claimed deliveries get to finish after
/// a shutdown signal.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 20;
pub const DEFAULT_ISSUER_SENDER_DOMAIN: &str = "issuers.hazardline.invalid";
/// Open client connections on the main listener. Each costs one file
/// descriptor and a few kilobytes; 4,096 is well above what a reverse
/// proxy or a city's worth of phones polling the API keep open, and fits
/// the common hard RLIMIT_NOFILE (524,288 under systemd) many times over.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Open connections from one client address. Phones behind a carrier's
/// NAT share addresses, and a browser opens up to six per site, so this is
/// generous; one address still cannot take more than 1/32 of the server.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 128;
/// Connections beyond `max_connections` kept for `/healthz`, `/readyz` and
/// `/metrics` on the main listener (anything else gets 503 there): enough
/// for a load balancer's and a monitor's probes.
pub const DEFAULT_OPS_RESERVE: usize = 8;
/// A request head must be complete this long after the connection starts
/// waiting for it: a client trickling its headers ("slowloris") is closed.
/// Ten seconds is ample for a slow mobile link to send a few hundred bytes.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// A request body must be complete this long after its head: a 1 MiB CAP
/// submission over a 1 Mbit/s link takes about 8 s.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
/// A connection on which no byte moves either way for this long while no
/// handler is working is closed (a silent socket, an idle keep-alive, a
/// client that stops reading its response). Above the live feed's 15 s
/// keep-alive comments, so an open live feed is never idle.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 30;
/// File descriptors kept for everything but client connections: the
/// store's files and connections, the queue, feed and channel clients,
/// logs. The embedded store uses a few dozen; the rest is margin.
pub const DEFAULT_RESERVED_FILES: usize = 256;

/// Source ids the service uses itself (issuer submissions, the demo).
const RESERVED_SOURCE_IDS: &[&str] = &["issuers", "demo"];

/// The sections of the file that environment variables may reach: every
/// field of [`ServeConfig`], with `channels` split into its channels. Read
/// from the types themselves so that a section added to the file is
/// reachable from the environment without another list to keep in step.
fn env_sections() -> Vec<String> {
    let mut sections = Vec::new();
    for section in section_names::<ServeConfig>() {
        if *section == "channels" {
            sections.extend(
                section_names::<ChannelsConfig>()
                    .iter()
                    .map(|channel| format!("channels.{channel}")),
            );
        } else {
            sections.push((*section).to_owned());
        }
    }
    sections
}

/// The field names of a configuration struct, as serde's derive knows them
/// (renames applied).
fn section_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    // The probe always fails once it has the names; the error is expected.
    let _ = T::deserialize(FieldNames(&mut names));
    names
}

/// A deserializer that only records the field list a derived struct asks
/// for, then stops.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only struct field names are read"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("field names read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("`{key}`: {message}")]
    Value { key: String, message: String },
}

fn invalid_value(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key: key.to_owned(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub geodata: GeodataConfig,
    #[serde(default)]
    pub clock: ClockConfig,
    #[serde(default)]
    pub channels: ChannelsConfig,
    #[serde(default)]
    pub dispatch: DispatchSettings,
    #[serde(default)]
    pub heartbeat: HeartbeatConfig,
    #[serde(default)]
    pub issuers: IssuersConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub logins: LoginsConfig,
    #[serde(default)]
    pub readiness: ReadinessConfig,
    #[serde(default)]
    pub relief: ReliefConfig,
    /// `[[ingest.sources]]`: the feeds (ingest's own configuration).
    #[serde(default)]
    pub ingest: SourcesSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The address people reach the service at (links in messages).
    pub public_url: String,
    pub body_limit: usize,
    pub cap_body_limit: usize,
    pub shutdown_grace_secs: u64,
    /// A second listener serving only `/healthz`, `/readyz` and `/metrics`,
    /// so probes and scrapes get through when clients hold every connection
    /// of `listen`. Bind it to an address only operators reach.
    pub ops_listen: Option<SocketAddr>,
    /// Open client connections on `listen`; more are answered 503 and
    /// closed. Lowered at start when the open-file limit cannot hold it.
    pub max_connections: usize,
    /// Open connections from one client address (the TCP peer, never
    /// `X-Forwarded-For`); 0: no per-address cap (behind a reverse proxy,
    /// where every connection comes from the proxy).
    pub max_connections_per_address: usize,
    /// Connections beyond `max_connections` that may still reach the
    /// operator routes on `listen`.
    pub ops_reserve: usize,
    pub header_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    /// File descriptors kept for the store, queue, feeds and channels when
    /// the connection caps are fitted into the open-file limit.
    pub reserved_files: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            body_limit: DEFAULT_BODY_LIMIT,
            cap_body_limit: DEFAULT_CAP_BODY_LIMIT,
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
            ops_listen: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            ops_reserve: DEFAULT_OPS_RESERVE,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            reserved_files: DEFAULT_RESERVED_FILES,
        }
    }
}

impl ServerConfig {
    fn check(&self) -> Result<(), ConfigError> {
        if self.max_connections == 0 {
            return Err(invalid_value(
                "server.max_connections",
                "must be at least 1",
            ));
        }
        for (key, secs) in [
            ("server.header_timeout_secs", self.header_timeout_secs),
            ("server.body_timeout_secs", self.body_timeout_secs),
            ("server.idle_timeout_secs", self.idle_timeout_secs),
        ] {
            if secs == 0 {
                return Err(invalid_value(key, "must be at least 1 second"));
            }
        }
        if self
            .ops_listen
            .is_some_and(|ops| ops == self.listen && ops.port() != 0)
        {
            return Err(invalid_value(
                "server.ops_listen",
                "must differ from server.listen",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    #[default]
    Embedded,
    Redis,
}

#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub kind: StorageKind,
    /// Directory of the embedded store's files.
    pub dir: Option<PathBuf>,
    pub redis_url: Option<String>,
    /// 64 hex digits or base64 of 32 bytes, sealing personal data at rest. Prefer the
    /// `HAZARDLINE_DATA_KEY` environment variable to writing it here.
    pub data_key: Option<String>,
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("kind", &self.kind)
            .field("dir", &self.dir)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<set>"))
            .field("data_key", &self.data_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeodataConfig {
    /// Use the built-in fictional demo region (for tests and training)
    /// instead of `file`, `shelters` and `gazetteer`.
    pub demo: bool,
    /// The compact file from `hazardline geodata import`.
    pub file: Option<PathBuf>,
    /// Shelters CSV (geodata's format).
    pub shelters: Option<PathBuf>,
    /// Street-address gazetteer CSV, for geocoding to the door.
    pub gazetteer: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockConfig {
    /// Start the clock at this instant and let it run at real speed (to
    /// replay real CAP files); absent: the system clock.
    pub start: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsConfig {
    pub fcm: Option<FcmSettings>,
    pub mqtt: Option<MqttSettings>,
    pub email: Option<EmailSettings>,
    pub sms: Option<SmsSettings>,
    pub webhook: Option<WebhookSettings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcmSettings {
    /// The Google service account JSON key file.
    pub service_account: PathBuf,
    pub base_url: Option<String>,
    pub token_uri: Option<String>,
    pub rate_per_minute: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSettings {
    pub host: String,
    #[serde(default = "default_mqtt_port")]
    pub port: u16,
    #[serde(default = "default_mqtt_client_id")]
    pub client_id: String,
    #[serde(default = "default_mqtt_prefix")]
    pub prefix: String,
}

fn default_mqtt_port() -> u16 {
    1883
}
fn default_mqtt_client_id() -> String {
    "hazardline-notifier".into()
}
fn default_mqtt_prefix() -> String {
    "hazardline".into()
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub host: String,
    pub port: u16,
    /// `none` (local relay or tests only), `starttls` or `tls`.
    #[serde(default = "default_security")]
    pub security: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

fn default_security() -> String {
    "starttls".into()
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub from: String,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    #[serde(default = "default_webhook_timeout")]
    pub timeout_secs: u64,
    /// Internal receivers the operator allows besides the public internet:
    /// addresses (`"10.1.2.3"`), networks (`"10.0.0.0/8"`) and host names
    /// with or without a port (`"hooks.internal:8443"`). Empty by default:
    /// residents' webhooks reach public addresses only.
    #[serde(default)]
    pub allow: notifier::outbound::OutboundPolicy,
}

impl ChannelsConfig {
    /// Where residents' webhooks may point: the public internet plus the
    /// operator's `[channels.webhook] allow` list.
    pub fn webhook_policy(&self) -> notifier::outbound::OutboundPolicy {
        self.webhook
            .as_ref()
            .map(|w| w.allow.clone())
            .unwrap_or_default()
    }
}

fn default_webhook_timeout() -> u64 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatchSettings {
    /// Concurrent queue workers.
    pub workers: usize,
    pub batch: usize,
    pub lease_secs: u64,
    /// Pause when the queue is empty.
    pub idle_millis: u64,
    /// How often alerts are expired and feed staleness is checked.
    pub maintenance_secs: u64,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            workers: 2,
            batch: 256,
            lease_secs: 60,
            idle_millis: 200,
            maintenance_secs: 15,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeartbeatConfig {
    pub enabled: bool,
    /// Time between two heartbeat exercises.
    pub interval_secs: u64,
    /// How long the canary's delivery may take before the alarm.
    pub deadline_secs: u64,
    /// Village code the exercise is addressed to.
    pub area: Option<String>,
    /// The canary: a channel (`mqtt`, `fcm`, …) and its device address.
    pub canary_channel: Option<String>,
    pub canary_address: Option<String>,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            enabled: false,
            interval_secs: 3600,
            deadline_secs: 120,
            area: None,
            canary_channel: None,
            canary_address: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IssuersConfig {
    /// Senders `*@<sender_domain>` are the issuer source's.
    pub sender_domain: String,
    /// Areas larger than this (km²) need a second person's approval.
    pub approval_area_km2: f64,
}

/// Relief steps sent when an office declares recovery.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReliefConfig {
    /// The relief catalogue (TOML, see `notifier/relief/demo.toml` for the
    /// format). Absent: the demo region's catalogue with `geodata.demo`,
    /// else none (recovery then tells nobody and says so).
    pub catalogue: Option<PathBuf>,
}

impl Default for IssuersConfig {
    fn default() -> Self {
        IssuersConfig {
            sender_domain: DEFAULT_ISSUER_SENDER_DOMAIN.into(),
            approval_area_km2: 500.0,
        }
    }
}

/// Requests a minute per device on `/me/*`: an app polls its alerts every few
/// seconds at most.
pub const DEFAULT_RESIDENT_PER_MINUTE: u32 = 600;
/// Unknown device keys per minute per address: a deleted account's app
/// polling every few seconds stays under it, as do a few such phones behind
/// one carrier NAT; guessing a 256-bit key at this rate is hopeless, and
/// the limit keeps a flood of guesses off the store.
pub const DEFAULT_KEY_GUESSES_PER_MINUTE: u32 = 30;
/// Buckets kept before idle ones are evicted: about 100 bytes each, so the
/// default holds at most a few MiB.
pub const DEFAULT_MAX_CLIENTS: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Public requests per minute per client (device key, else address).
    pub public_per_minute: u32,
    /// Public requests a client may make at once before the per-minute
    /// rate applies.
    pub public_burst: u32,
    /// Registrations per minute per client address.
    pub subscribe_per_minute: u32,
    /// Requests per minute per device on `/api/v1/me/*`.
    pub resident_per_minute: u32,
    /// Unknown device keys a client address may present per minute; past
    /// it, every resident request from that address is refused (429) until
    /// the allowance refills, a right key included.
    pub key_guesses_per_minute: u32,
    /// Believe `X-Forwarded-For` for the client address (only behind a
    /// reverse proxy that sets it: anyone can write the header).
    pub trust_forwarded: bool,
    /// Clients remembered per route class before idle ones are forgotten.
    pub max_clients: usize,
    /// Issuer session lifetime.
    pub session_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            public_per_minute: 600,
            public_burst: 60,
            subscribe_per_minute: 30,
            resident_per_minute: DEFAULT_RESIDENT_PER_MINUTE,
            key_guesses_per_minute: DEFAULT_KEY_GUESSES_PER_MINUTE,
            trust_forwarded: false,
            max_clients: DEFAULT_MAX_CLIENTS,
            session_secs: 8 * 3600,
        }
    }
}

/// Staff logins: the password workers and the throttling of failures
/// (see `serve::login_throttle` for the scheme).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginsConfig {
    /// Threads hashing and verifying passwords (argon2id, 19 MiB each while
    /// it runs); 0: one per core.
    pub hash_workers: usize,
    /// Logins that may wait for a worker (and as many more from trusted
    /// devices); beyond them, 429 with Retry-After.
    pub hash_queue: usize,
    /// Attempts on one account from clients without its device cookie in a
    /// window; then only such clients are refused until the window ends.
    pub max_failures: u32,
    /// Attempts from one client address without a device cookie, on any
    /// account, in a window (password spraying across accounts).
    pub address_max_failures: u32,
    /// Failed attempts with one device cookie in a window before that
    /// device is treated as a stranger.
    pub device_max_failures: u32,
    /// The window of every counter, from its first attempt.
    pub window_secs: u64,
    /// How long a device cookie stays valid after the login that set it.
    pub device_cookie_days: u32,
}

impl Default for LoginsConfig {
    fn default() -> Self {
        LoginsConfig {
            hash_workers: 0,
            hash_queue: 16,
            max_failures: 5,
            address_max_failures: 20,
            device_max_failures: 10,
            window_secs: 15 * 60,
            device_cookie_days: 90,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadinessConfig {
    /// /readyz fails while a source's staleness alarm is raised.
    pub fail_on_stale_feed: bool,
    /// /readyz fails when the longest-waiting due delivery in the queue
    /// (any process's, as the queue reports it) has waited longer than this.
    pub max_queue_age_secs: u64,
}

impl Default for ReadinessConfig {
    fn default() -> Self {
        ReadinessConfig {
            fail_on_stale_feed: true,
            max_queue_age_secs: 300,
        }
    }
}

impl ServeConfig {
    /// Reads `path` (or the defaults when None) with the environment
    /// overrides from `env` layered over it; errors name the key and where
    /// its value came from (the file, or the variable).
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ServeConfig, ConfigError> {
        let mut layers = Figment::new();
        if let Some(path) = path {
            // Checked here: the file provider treats a missing file as empty.
            std::fs::metadata(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            layers = layers.merge(Toml::file_exact(path));
        }
        for variable in env_overrides(env) {
            layers = layers.merge(variable);
        }
        let config: ServeConfig = layers.extract().map_err(|e| ConfigError::Invalid {
            origin: match path {
                Some(path) => path.display().to_string(),
                None => "defaults".to_owned(),
            },
            message: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// What serde cannot check.
    fn check(&self) -> Result<(), ConfigError> {
        self.ingest
            .check()
            .map_err(|m| invalid_value("ingest.sources", m))?;
        if let Some(source) = self
            .ingest
            .sources
            .iter()
            .find(|s| RESERVED_SOURCE_IDS.contains(&s.id.as_str()))
        {
            return Err(invalid_value(
                "ingest.sources",
                format!("source id `{}` is reserved for the service", source.id),
            ));
        }
        if self.storage.kind == StorageKind::Redis && self.storage.redis_url.is_none() {
            return Err(invalid_value(
                "storage.redis_url",
                "required when storage.kind = \"redis\"",
            ));
        }
        self.server.check()?;
        if self.dispatch.workers == 0 || self.dispatch.batch == 0 {
            return Err(invalid_value(
                "dispatch.workers",
                "workers and batch must be at least 1",
            ));
        }
        if self.heartbeat.enabled {
            for (key, value) in [
                ("heartbeat.area", &self.heartbeat.area),
                ("heartbeat.canary_channel", &self.heartbeat.canary_channel),
                ("heartbeat.canary_address", &self.heartbeat.canary_address),
            ] {
                if value.is_none() {
                    return Err(invalid_value(key, "required when heartbeat.enabled"));
                }
            }
        }
        if self.logins.window_secs == 0 {
            return Err(invalid_value("logins.window_secs", "at least 1"));
        }
        if self.issuers.sender_domain.is_empty() || self.issuers.sender_domain.contains('@') {
            return Err(invalid_value(
                "issuers.sender_domain",
                "a domain name such as issuers.example.org",
            ));
        }
        Ok(())
    }

    /// The data key as written (64 hex digits or base64), if any.
    pub fn data_key_text(&self) -> Option<&str> {
        self.storage
            .data_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
    }
}

/// One `HAZARDLINE_<SECTION>_<KEY>` variable, as a configuration layer
/// named after the variable (so errors say which one to fix).
struct EnvOverride {
    variable: String,
    /// `section.key` in the file's terms.
    key: String,
    value: toml::Value,
}

/// The configuration variables in `env`; others (`HAZARDLINE_SHARED_DATA`,
/// `PATH`, …) are left alone.
fn env_overrides(env: impl IntoIterator<Item = (String, String)>) -> Vec<EnvOverride> {
    let sections = env_sections();
    let mut overrides = Vec::new();
    for (variable, raw) in env {
        let Some(rest) = variable.strip_prefix("HAZARDLINE_") else {
            continue;
        };
        let key = if rest == "DATA_KEY" {
            "storage.data_key".to_owned()
        } else {
            // Longest section first: CHANNELS_FCM before a (non-existent)
            // CHANNELS section.
            let Some(section) = sections
                .iter()
                .filter(|s| {
                    let prefix = format!("{}_", s.replace('.', "_").to_ascii_uppercase());
                    rest.starts_with(&prefix) && rest.len() > prefix.len()
                })
                .max_by_key(|s| s.len())
            else {
                continue;
            };
            format!(
                "{section}.{}",
                rest[section.len() + 1..].to_ascii_lowercase()
            )
        };
        overrides.push(EnvOverride {
            value: env_value(&raw),
            variable,
            key,
        });
    }
    overrides
}

impl Provider for EnvOverride {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("environment variable {}", self.variable))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut value = FigmentValue::serialize(&self.value)?;
        for part in self.key.rsplit('.') {
            let mut dict = Dict::new();
            dict.insert(part.to_owned(), value);
            value = FigmentValue::from(dict);
        }
        let dict = value
            .into_dict()
            .ok_or_else(|| figment::Error::from(format!("{} is not a key", self.key)))?;
        Ok(Profile::Default.collect(dict))
    }
}

/// A TOML value when the text reads as one (`8080`, `true`, `[1, 2]`),
/// else the text as a string.
fn env_value(raw: &str) -> toml::Value {
    let as_toml = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&as_toml) {
        Ok(mut t) => match t.remove("v") {
            // Long digit strings (keys, ids) stay strings.
            Some(toml::Value::Integer(_)) if raw.len() > 18 => toml::Value::String(raw.into()),
            Some(value) => value,
            None => toml::Value::String(raw.into()),
        },
        Err(_) => toml::Value::String(raw.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_sample_file_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("hazardline.toml");
        let config = ServeConfig::load(Some(&path), []).unwrap();
        assert_eq!(config.storage.kind, StorageKind::Embedded);
        assert!(!config.ingest.sources.is_empty());
    }

    #[test]
    fn environment_overrides_reach_nested_sections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\n").unwrap();
        let key = "ab".repeat(32);
        let config = ServeConfig::load(
            Some(&path),
            env(&[
                ("HAZARDLINE_SERVER_LISTEN", "127.0.0.1:9999"),
                ("HAZARDLINE_CHANNELS_MQTT_HOST", "broker.local"),
                ("HAZARDLINE_CHANNELS_MQTT_PORT", "1884"),
                ("HAZARDLINE_DATA_KEY", &key),
                ("HAZARDLINE_SHARED_DATA", "/elsewhere"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.listen.port(), 9999);
        let mqtt = config.channels.mqtt.as_ref().unwrap();
        assert_eq!((mqtt.host.as_str(), mqtt.port), ("broker.local", 1884));
        assert_eq!(config.data_key_text(), Some(key.as_str()));
    }

    #[test]
    fn connection_limits_are_checked_and_named() {
        let config = ServeConfig::load(
            None,
            env(&[
                ("HAZARDLINE_SERVER_MAX_CONNECTIONS", "200"),
                ("HAZARDLINE_SERVER_OPS_LISTEN", "127.0.0.1:9090"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.max_connections, 200);
        assert_eq!(
            config.server.ops_listen,
            Some("127.0.0.1:9090".parse().unwrap())
        );
        for (name, value, key) in [
            (
                "HAZARDLINE_SERVER_MAX_CONNECTIONS",
                "0",
                "server.max_connections",
            ),
            (
                "HAZARDLINE_SERVER_IDLE_TIMEOUT_SECS",
                "0",
                "server.idle_timeout_secs",
            ),
            (
                "HAZARDLINE_SERVER_OPS_LISTEN",
                "127.0.0.1:8080",
                "server.ops_listen",
            ),
        ] {
            let error = ServeConfig::load(None, env(&[(name, value)])).unwrap_err();
            assert!(error.to_string().contains(key), "{error}");
        }
    }

    #[test]
    fn the_webhook_allow_list_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[channels.webhook]\nallow = [\"10.1.2.3\", \"192.168.0.0/16\", \"hooks.internal:8443\"]\n",
        )
        .unwrap();
        let config = ServeConfig::load(Some(&path), []).unwrap();
        let policy = config.channels.webhook_policy();
        assert!(policy.check_url("http://192.168.4.4/h").is_ok());
        assert!(policy.check_url("http://10.1.2.4/h").is_err());
        assert!(
            ServeConfig::default()
                .channels
                .webhook_policy()
                .check_url("http://10.1.2.3/h")
                .is_err()
        );
        let config = ServeConfig::load(
            None,
            env(&[("HAZARDLINE_CHANNELS_WEBHOOK_ALLOW", "[\"10.0.0.0/8\"]")]),
        )
        .unwrap();
        assert!(
            config
                .channels
                .webhook_policy()
                .check_url("http://10.9.9.9/")
                .is_ok()
        );
        std::fs::write(&path, "[channels.webhook]\nallow = [\"10.0.0.0/33\"]\n").unwrap();
        let error = ServeConfig::load(Some(&path), []).unwrap_err().to_string();
        assert!(error.contains("10.0.0.0/33"), "{error}");
    }

    #[test]
    fn the_relief_catalogue_is_read_from_the_environment() {
        let config = ServeConfig::load(
            None,
            env(&[("HAZARDLINE_RELIEF_CATALOGUE", "/etc/hazardline/relief.toml")]),
        )
        .unwrap();
        assert_eq!(
            config.relief.catalogue.as_deref(),
            Some(Path::new("/etc/hazardline/relief.toml"))
        );
    }

    /// Every section the sample file documents (commented-out channels
    /// included) is reachable from the environment: a made-up key in it is
    /// refused by name, never silently dropped.
    #[test]
    fn every_documented_section_is_reachable_from_the_environment() {
        let sample =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("hazardline.toml"))
                .unwrap();
        let documented: Vec<&str> = sample
            .lines()
            .map(|line| line.trim_start_matches('#').trim())
            .filter(|line| line.starts_with('[') && !line.starts_with("[["))
            .filter_map(|line| line.strip_prefix('[')?.strip_suffix(']'))
            .filter(|section| !section.starts_with("ingest.sources"))
            .collect();
        for section in ["server", "relief", "readiness", "channels.webhook"] {
            assert!(documented.contains(&section), "{documented:?}");
        }
        for section in documented {
            let name = format!(
                "HAZARDLINE_{}_NO_SUCH_KEY",
                section.replace('.', "_").to_ascii_uppercase()
            );
            let error = ServeConfig::load(None, env(&[(&name, "1")]))
                .expect_err(&format!("{name} was ignored"));
            assert!(error.to_string().contains("no_such_key"), "{name}: {error}");
        }
    }

    #[test]
    fn errors_name_the_key() {
        let error = ServeConfig::load(None, env(&[("HAZARDLINE_SERVER_LISTN", "x")])).unwrap_err();
        assert!(error.to_string().contains("listn"), "{error}");
        let error =
            ServeConfig::load(None, env(&[("HAZARDLINE_STORAGE_KIND", "redis")])).unwrap_err();
        assert!(error.to_string().contains("storage.redis_url"), "{error}");
    }

    /// A bad value is reported with where it came from: the variable that
    /// set it, or the file, so the operator knows which to fix.
    #[test]
    fn errors_name_where_the_value_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nmax_connections = 100\n").unwrap();
        let error = ServeConfig::load(
            Some(&path),
            env(&[("HAZARDLINE_SERVER_MAX_CONNECTIONS", "many")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("HAZARDLINE_SERVER_MAX_CONNECTIONS")
                && error.contains("max_connections"),
            "{error}"
        );
        std::fs::write(&path, "[server]\nmax_connections = \"many\"\n").unwrap();
        let error = ServeConfig::load(Some(&path), []).unwrap_err().to_string();
        assert!(error.contains("c.toml"), "{error}");
        // The variable wins over the file.
        let config = ServeConfig::load(
            Some(&path),
            env(&[("HAZARDLINE_SERVER_MAX_CONNECTIONS", "300")]),
        )
        .unwrap();
        assert_eq!(config.server.max_connections, 300);
        let missing = dir.path().join("absent.toml");
        let error = ServeConfig::load(Some(&missing), [])
            .unwrap_err()
            .to_string();
        assert!(error.contains("absent.toml"), "{error}");
    }
}
