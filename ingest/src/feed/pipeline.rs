//! The one path every received document takes:
//! parse → trust → dedupe → store → lifecycle → hand on.
//!
//! Every worker (HTTP, MQTT, drop directory, issuer API) calls
//! [`Pipeline::ingest`] with the bytes it received and the source they came
//! from. Each message in the document ends as exactly one of
//! [`MessageOutcome`]: accepted, a duplicate of one already accepted, or
//! rejected with a reason. Accepted and rejected messages are written to the
//! archive before anything acts on them; only then does the lifecycle
//! change and are its events handed to the matcher stage. If the archive
//! cannot be written, [`Pipeline::ingest`] fails and the worker keeps the
//! input for a retry (no MQTT ack, file left in place, feed re-polled).
//!
//! Alarms: every rejection counts in
//! `hazardline_ingest_rejected_total{source,reason}`; trust failures (an
//! unlisted sender, a bad signature, an identity reused for different
//! content) and an unknown source log at ERROR, because they mean either an
//! attack or a configuration an operator must fix. Invalid or unparseable
//! documents log at WARN.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::Duration;
use tokio::sync::mpsc;

use crate::authority::Authority;
use crate::clock::SharedClock;
use crate::lifecycle::{Lifecycle, LifecycleConfig, LifecycleEvent, event_kind};
use crate::source::trust::SignatureStatus;
use crate::source::{SourceHealth, SourceId, SourceTrust};
use crate::store::{AlertArchive, NewRecord, StoreError, Verdict};
use cap::model::{Alert, MessageKey, Reference};
use cap::parse::{self, DocumentError, Limits, ParsedMessage};

/// Alerts sent longer ago than this are not read back into the active set
/// at start-up: none can still be in force (see
/// [`crate::lifecycle::DEFAULT_LIFETIME_HOURS`]), and it bounds start-up time.
pub const DEFAULT_REBUILD_WINDOW_DAYS: i64 = 14;
/// Messages no longer in force are forgotten by the in-memory lifecycle this
/// long after their expiry (the archive keeps them).
pub const DEFAULT_FORGET_AFTER_DAYS: i64 = 14;

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub limits: Limits,
    pub lifecycle: LifecycleConfig,
    pub rebuild_window: Duration,
    pub forget_after: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            limits: Limits::default(),
            lifecycle: LifecycleConfig::default(),
            rebuild_window: Duration::days(DEFAULT_REBUILD_WINDOW_DAYS),
            forget_after: Duration::days(DEFAULT_FORGET_AFTER_DAYS),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Nothing was lost: the caller must keep the input and retry.
    #[error("archive unavailable, input kept for retry: {0}")]
    Store(#[from] StoreError),
}

/// Why a message or document was rejected. Labels are stable (metrics,
/// archive, API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// The source is not configured.
    UnknownSource,
    /// The document is not CAP at all (HTML error page, not XML, no alert).
    NotCap,
    /// The document could not be read (encoding, DTD, limits, XML errors).
    Unreadable,
    /// The message breaks CAP rules.
    Invalid,
    /// The sender is not one the source may carry.
    SenderNotAllowed,
    /// The signature is missing or does not verify (label says which).
    Signature(&'static str),
    /// An identity already accepted arrived with different content.
    KeyReused,
    /// An Update or Cancel names an alert of another authority.
    ReferenceNotAllowed,
}

impl RejectReason {
    pub fn label(&self) -> &'static str {
        match self {
            RejectReason::UnknownSource => "unknown_source",
            RejectReason::NotCap => "not_cap",
            RejectReason::Unreadable => "unreadable",
            RejectReason::Invalid => "invalid",
            RejectReason::SenderNotAllowed => "sender_not_allowed",
            RejectReason::Signature(label) => label,
            RejectReason::KeyReused => "key_reused",
            RejectReason::ReferenceNotAllowed => "reference_not_allowed",
        }
    }

    /// Trust failures mean an attack or a misconfiguration: ERROR.
    fn is_alarm(&self) -> bool {
        matches!(
            self,
            RejectReason::UnknownSource
                | RejectReason::SenderNotAllowed
                | RejectReason::Signature(_)
                | RejectReason::KeyReused
                | RejectReason::ReferenceNotAllowed
        )
    }

    fn of_document_error(error: &DocumentError) -> Self {
        match error {
            DocumentError::Empty
            | DocumentError::NotXml { .. }
            | DocumentError::HtmlPage { .. }
            | DocumentError::NoCap { .. } => RejectReason::NotCap,
            _ => RejectReason::Unreadable,
        }
    }
}

/// The fate of one message.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageOutcome {
    Accepted {
        key: MessageKey,
        events: usize,
        /// References to messages never received (kept and flagged).
        unresolved_references: usize,
        signature: SignatureStatus,
    },
    /// Already accepted with the same content; nothing changed.
    Duplicate { key: MessageKey },
    Rejected {
        key: Option<MessageKey>,
        reason: RejectReason,
        detail: String,
    },
}

impl MessageOutcome {
    pub fn is_accepted(&self) -> bool {
        matches!(self, MessageOutcome::Accepted { .. })
    }
    pub fn is_rejected(&self) -> bool {
        matches!(self, MessageOutcome::Rejected { .. })
    }
}

/// What one document gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestReport {
    /// One outcome per message, in document order; a document that could not
    /// be read at all gives one `Rejected` outcome.
    pub outcomes: Vec<MessageOutcome>,
    /// CAP URLs an index feed links to (for the HTTP worker to fetch).
    pub links: Vec<String>,
}

impl IngestReport {
    pub fn accepted(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_accepted()).count()
    }
    pub fn rejected(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_rejected()).count()
    }
    /// True when nothing in the document was accepted or already known.
    pub fn all_rejected(&self) -> bool {
        self.outcomes.iter().all(MessageOutcome::is_rejected)
    }
}

/// True for an Atom feed without `<entry>` or an RSS feed without `<item>`
/// that holds no `<alert>` anywhere (a stray alert outside an entry is not
/// an empty feed: it is rejected and archived, so it is not lost).
fn is_empty_feed(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    // roxmltree refuses DTDs by default: no entity expansion here either.
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return false;
    };
    let root = doc.root_element();
    let named =
        |n: &roxmltree::Node<'_, '_>, name: &str| n.is_element() && n.tag_name().name() == name;
    let is_feed = named(&root, "feed") || named(&root, "rss") || named(&root, "RDF");
    is_feed
        && !doc
            .descendants()
            .any(|n| named(&n, "entry") || named(&n, "item") || named(&n, "alert"))
}

/// The shared ingest stage.
pub struct Pipeline {
    clock: SharedClock,
    archive: Arc<dyn AlertArchive>,
    trust: HashMap<SourceId, SourceTrust>,
    lifecycle: Mutex<Lifecycle>,
    events: mpsc::Sender<LifecycleEvent>,
    health: Arc<SourceHealth>,
    config: PipelineConfig,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("sources", &self.trust.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Builds the pipeline and rebuilds the active set from the archive.
    pub async fn new(
        clock: SharedClock,
        archive: Arc<dyn AlertArchive>,
        sources: Vec<SourceTrust>,
        events: mpsc::Sender<LifecycleEvent>,
        config: PipelineConfig,
    ) -> Result<Self, PipelineError> {
        let now = clock.now();
        let trust: HashMap<SourceId, SourceTrust> =
            sources.into_iter().map(|t| (t.source.clone(), t)).collect();
        // Messages archived before authorities were recorded get the one
        // their source's rule gives today.
        let default_authority = |source: &SourceId, sender: &str| match trust.get(source) {
            Some(t) => t.authority_of(sender),
            None => Authority::sender(sender),
        };
        let lifecycle = crate::store::rebuild_lifecycle(
            archive.as_ref(),
            config.lifecycle.clone(),
            now - config.rebuild_window,
            now,
            &default_authority,
        )
        .await?;
        tracing::info!(
            in_force = lifecycle.active().len(),
            known = lifecycle.len(),
            "active set rebuilt from the archive"
        );
        let health = Arc::new(SourceHealth::new(clock.clone()));
        Ok(Pipeline {
            clock,
            archive,
            trust,
            lifecycle: Mutex::new(lifecycle),
            events,
            health,
            config,
        })
    }

    pub fn health(&self) -> &Arc<SourceHealth> {
        &self.health
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn archive(&self) -> &Arc<dyn AlertArchive> {
        &self.archive
    }

    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    fn lifecycle(&self) -> MutexGuard<'_, Lifecycle> {
        self.lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The alerts in force now.
    pub fn active(&self) -> Vec<Alert> {
        self.lifecycle().active().into_iter().cloned().collect()
    }

    /// The alerts in force now, each with the authority that owns it.
    pub fn active_with_authority(&self) -> Vec<(Alert, Authority)> {
        self.lifecycle()
            .active_with_authority()
            .into_iter()
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect()
    }

    /// Whose are the messages a reference names (empty: none received yet).
    pub fn owners_of(&self, reference: &Reference) -> BTreeSet<Authority> {
        self.lifecycle().owners_of(reference)
    }

    /// The messages a reference names (in force or not, while held), each
    /// with its owner.
    pub fn referenced(&self, reference: &Reference) -> Vec<(Alert, Authority)> {
        self.lifecycle()
            .referenced(reference)
            .into_iter()
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect()
    }

    /// Reads one received document from `source` and takes every message in
    /// it through the pipeline, each under the authority its source's rule
    /// gives (see [`crate::authority`]).
    pub async fn ingest(
        &self,
        source: &SourceId,
        bytes: &[u8],
    ) -> Result<IngestReport, PipelineError> {
        self.ingest_as(source, bytes, None).await
    }

    /// As [`Self::ingest`], with every message under `authority` when given:
    /// the issuer API's decision of whose alert chain a message belongs to
    /// (an office's own, or the office a supervisor acts for).
    pub async fn ingest_as(
        &self,
        source: &SourceId,
        bytes: &[u8],
        authority: Option<&Authority>,
    ) -> Result<IngestReport, PipelineError> {
        let Some(trust) = self.trust.get(source) else {
            let outcome = self
                .reject(
                    source,
                    bytes,
                    None,
                    None,
                    RejectReason::UnknownSource,
                    format!("source `{source}` is not configured"),
                )
                .await?;
            return Ok(IngestReport {
                outcomes: vec![outcome],
                links: vec![],
            });
        };
        let document = match parse::parse_document(bytes, &self.config.limits) {
            Ok(document) => document,
            Err(DocumentError::NoCap { .. }) if is_empty_feed(bytes) => {
                // A feed with no entries: nothing is in force, which is the
                // usual state of an agency feed; not a rejection.
                self.health.record_success(source);
                return Ok(IngestReport::default());
            }
            Err(error) => {
                let outcome = self
                    .reject(
                        source,
                        bytes,
                        None,
                        None,
                        RejectReason::of_document_error(&error),
                        error.to_string(),
                    )
                    .await?;
                return Ok(IngestReport {
                    outcomes: vec![outcome],
                    links: vec![],
                });
            }
        };
        self.health.record_success(source);
        let mut report = IngestReport {
            outcomes: Vec::with_capacity(document.messages.len()),
            links: document.links.clone(),
        };
        // A bare CAP document is archived byte for byte as received; a
        // message inside a feed or envelope as its decoded `<alert>` text.
        let bare = document.format == parse::DocumentFormat::Cap && document.messages.len() == 1;
        for message in &document.messages {
            let text = document.raw_text(message).unwrap_or(document.text());
            let raw = if bare { bytes } else { text.as_bytes() };
            let outcome = self
                .ingest_message(trust, message, text, raw, authority)
                .await?;
            report.outcomes.push(outcome);
        }
        Ok(report)
    }

    /// `text` is the message's `<alert>` as decoded text (what signatures
    /// cover); `raw` is what the archive keeps.
    async fn ingest_message(
        &self,
        trust: &SourceTrust,
        message: &ParsedMessage,
        text: &str,
        raw: &[u8],
        authority: Option<&Authority>,
    ) -> Result<MessageOutcome, PipelineError> {
        let source = &trust.source;
        let summary_key = match (
            &message.summary.sender,
            &message.summary.identifier,
            &message.summary.sent,
        ) {
            (Some(sender), Some(identifier), Some(sent)) => Some(MessageKey {
                sender: sender.clone(),
                identifier: identifier.clone(),
                sent: sent.clone(),
            }),
            _ => None,
        };
        let Some(alert) = &message.alert else {
            let detail = message
                .violations
                .iter()
                .take(5)
                .map(|v| format!("{} [{}]: {}", v.path, v.rule, v.message))
                .collect::<Vec<_>>()
                .join("; ");
            return self
                .reject(
                    source,
                    raw,
                    summary_key.as_ref(),
                    None,
                    RejectReason::Invalid,
                    detail,
                )
                .await;
        };
        let key = summary_key.unwrap_or_else(|| cap::MessageKey::of(alert));
        let now = self.clock.now();

        let signature = match trust.check(&alert.sender, text, message.signed, now) {
            Ok(status) => status,
            Err(error) => {
                let reason = match &error {
                    crate::source::TrustError::SenderNotAllowed { .. } => {
                        RejectReason::SenderNotAllowed
                    }
                    crate::source::TrustError::Signature(e) => RejectReason::Signature(e.label()),
                };
                return self
                    .reject(
                        source,
                        raw,
                        Some(&key),
                        Some(alert),
                        reason,
                        error.to_string(),
                    )
                    .await;
            }
        };

        if let Some(existing) = self.archive.find_accepted(&key).await? {
            if existing.alert.as_ref() == Some(alert) {
                metrics::counter!("hazardline_ingest_duplicates_total", "source" => source.to_string())
                    .increment(1);
                return Ok(MessageOutcome::Duplicate { key });
            }
            return self
                .reject(
                    source,
                    raw,
                    Some(&key),
                    Some(alert),
                    RejectReason::KeyReused,
                    format!(
                        "identity {},{},{} was accepted before (row {}) with different content",
                        key.sender, key.identifier, key.sent, existing.id
                    ),
                )
                .await;
        }

        let authority = authority
            .cloned()
            .unwrap_or_else(|| trust.authority_of(&alert.sender));
        let foreign = self.lifecycle().foreign_references(alert, &authority);
        if !foreign.is_empty() {
            let detail = foreign
                .iter()
                .map(|f| {
                    format!(
                        "reference {},{},{} names an alert of {}, not of {authority}",
                        f.reference.sender, f.reference.identifier, f.reference.sent_raw, f.owner
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            return self
                .reject(
                    source,
                    raw,
                    Some(&key),
                    Some(alert),
                    RejectReason::ReferenceNotAllowed,
                    detail,
                )
                .await;
        }

        let unresolved = self.lifecycle().unresolved_references(alert);
        let remark = (!unresolved.is_empty()).then(|| {
            unresolved
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        });
        let recorded = self
            .archive
            .record(&NewRecord {
                source,
                received_at: now,
                verdict: Verdict::Accepted,
                reason: remark.as_ref().map(|_| "unresolved_reference"),
                detail: remark.as_deref(),
                alert: Some(alert),
                key: Some(&key),
                raw,
                authority: Some(&authority),
            })
            .await?;
        if !recorded.new {
            // Another worker accepted the same identity a moment ago.
            return Ok(MessageOutcome::Duplicate { key });
        }
        if let Some(remark) = &remark {
            tracing::warn!(
                source = %source,
                sender = %key.sender,
                identifier = %key.identifier,
                references = %remark,
                "accepted message references messages never received"
            );
            metrics::counter!(
                "hazardline_ingest_unresolved_references_total",
                "source" => source.to_string()
            )
            .increment(1);
        }

        let applied = self
            .lifecycle()
            .apply_as(alert.clone(), authority.clone(), now);
        if applied.foreign_referrers > 0 {
            // Someone named this alert before it came, under another
            // authority: an attempt to end it in advance, now ignored.
            tracing::error!(
                source = %source,
                sender = %key.sender,
                identifier = %key.identifier,
                authority = %authority,
                referrers = applied.foreign_referrers,
                "earlier messages of another authority name this alert; they do not end it"
            );
            metrics::counter!(
                "hazardline_ingest_foreign_references_ignored_total",
                "source" => source.to_string()
            )
            .increment(1);
        }
        metrics::counter!("hazardline_ingest_accepted_total", "source" => source.to_string())
            .increment(1);
        tracing::info!(
            source = %source,
            sender = %key.sender,
            identifier = %key.identifier,
            sent = %key.sent,
            msg_type = ?alert.msg_type,
            events = applied.events.len(),
            superseded_on_arrival = applied.superseded_on_arrival,
            expired_on_arrival = applied.expired_on_arrival,
            "message accepted"
        );
        let events = applied.events.len();
        self.hand_on(applied.events).await;
        Ok(MessageOutcome::Accepted {
            key,
            events,
            unresolved_references: unresolved.len(),
            signature,
        })
    }

    /// Records a document a worker refused before parsing (e.g. an HTML
    /// error page served as the feed) and raises the alarm.
    pub async fn reject_document(
        &self,
        source: &SourceId,
        bytes: &[u8],
        reason: RejectReason,
        detail: String,
    ) -> Result<MessageOutcome, PipelineError> {
        self.reject(source, bytes, None, None, reason, detail).await
    }

    /// Records a rejected message or document and raises the alarm.
    async fn reject(
        &self,
        source: &SourceId,
        raw: &[u8],
        key: Option<&MessageKey>,
        alert: Option<&Alert>,
        reason: RejectReason,
        detail: String,
    ) -> Result<MessageOutcome, PipelineError> {
        let recorded = self
            .archive
            .record(&NewRecord {
                source,
                received_at: self.clock.now(),
                verdict: Verdict::Rejected,
                reason: Some(reason.label()),
                detail: Some(&detail),
                alert,
                key,
                raw,
                authority: None,
            })
            .await?;
        metrics::counter!(
            "hazardline_ingest_rejected_total",
            "source" => source.to_string(),
            "reason" => reason.label()
        )
        .increment(1);
        // Only senders on a source's list are known agency addresses. An
        // unlisted sender may be anyone's mailbox, so it stays out of the
        // log (personal data); the archive row holds it for the operator.
        let (sender, log_detail) = if reason == RejectReason::SenderNotAllowed {
            (
                "(unlisted, see archive row)",
                "sender not on the source's list",
            )
        } else {
            (key.map_or("", |k| k.sender.as_str()), detail.as_str())
        };
        let identifier = key.map_or("", |k| k.identifier.as_str());
        if reason.is_alarm() {
            tracing::error!(
                source = %source,
                reason = reason.label(),
                sender,
                identifier,
                archive_row = recorded.id,
                first_time = recorded.new,
                detail = log_detail,
                "message rejected"
            );
        } else {
            tracing::warn!(
                source = %source,
                reason = reason.label(),
                sender,
                identifier,
                archive_row = recorded.id,
                first_time = recorded.new,
                detail = log_detail,
                "message rejected"
            );
        }
        Ok(MessageOutcome::Rejected {
            key: key.cloned(),
            reason,
            detail,
        })
    }

    async fn hand_on(&self, events: Vec<LifecycleEvent>) {
        for event in events {
            let kind = event_kind(&event);
            if self.events.send(event).await.is_err() {
                // The archive and the active set hold the change; only the
                // hand-over is lost, and a restart replays the active set.
                tracing::error!(kind, "matcher stage is gone: lifecycle event not handed on");
            }
        }
    }

    /// Expires alerts whose time has come and checks feed staleness; run
    /// it periodically ([`run_maintenance`](Self::run_maintenance)).
    pub async fn maintain(&self) {
        let now = self.clock.now();
        let events = {
            let mut lifecycle = self.lifecycle();
            let events = lifecycle.expire(now);
            lifecycle.prune(now, self.config.forget_after);
            events
        };
        for event in &events {
            if let LifecycleEvent::Expired(alert) = event {
                tracing::info!(sender = %alert.sender, identifier = %alert.identifier, "alert expired");
            }
        }
        self.hand_on(events).await;
        self.health.check_stale();
    }

    /// Calls [`maintain`](Self::maintain) every `every` until shutdown.
    pub async fn run_maintenance(
        self: Arc<Self>,
        every: std::time::Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(every) => self.maintain().await,
            }
        }
    }
}
