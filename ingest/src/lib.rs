//! CAP ingest: the daemon side of alerts in. It fetches what agencies
//! publish (HTTP feeds, MQTT, a drop directory, issuer submissions), decides
//! whom each source may speak for, verifies signatures, archives every
//! message, and keeps track of which alerts are in force.
//!
//! Reading and writing CAP, the alert model and what an alert means live in
//! the `cap` crate; this crate applies them to what arrives. It is not a
//! geocoder, and it does not decide who is warned.
//!
//! Modules:
//! - [`authority`]: who owns an alert, and so who may Update or Cancel it.
//! - [`source`]: configured inputs, whom each may speak for
//!   ([`source::SourceTrust`]), and the staleness alarm
//!   ([`source::SourceHealth`]).
//! - [`sender`]: sender patterns, shared by sources and authorities.
//! - [`signature`]: enveloped XML-DSig verification against pinned keys.
//! - [`feed`]: the [`feed::Pipeline`] (parse → trust → dedupe → store →
//!   lifecycle → hand on) and its workers: HTTP feeds, MQTT, drop
//!   directory, issuer submissions.
//! - [`lifecycle`]: dedupe, Update/Cancel chains, expiry; the active set and
//!   the [`lifecycle::LifecycleEvent`]s the matcher consumes.
//! - [`store`]: the archive of every received message, as a port
//!   ([`store::AlertArchive`]; the durable archives are in the `store`
//!   crate, an in-memory one for tests is [`store::MemoryArchive`]).
//! - [`clock`]: the one source of "now", settable in tests.

pub mod authority;
pub mod clock;
pub mod feed;
pub mod lifecycle;
pub mod sender;
pub mod signature;
pub mod source;
pub mod store;
