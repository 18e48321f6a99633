//! Submissions by an issuing office through the HTTP API.
//!
//! The API authenticates the office and maps it to its configured `issuer`
//! source (whose sender list is the office's own addresses); from there the
//! message takes the same pipeline as any feed, so an office cannot send
//! under another agency's sender.

use super::pipeline::{IngestReport, MessageOutcome, Pipeline, PipelineError};
use crate::authority::Authority;
use crate::source::SourceId;
use cap::model::MessageKey;

/// What the API answers an issuer.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    /// Every message in the submission was accepted (or was already).
    Accepted { keys: Vec<MessageKey> },
    /// At least one message was refused; `reasons` are the stable labels and
    /// details, one per refused message. Accepted ones stay accepted.
    Rejected {
        accepted: Vec<MessageKey>,
        reasons: Vec<(String, String)>,
    },
}

/// Takes one submitted document from `issuer_source` through the pipeline,
/// under `authority` (the office whose alert chain it belongs to, as the API
/// decided; None: the sender's own office).
pub async fn submit(
    pipeline: &Pipeline,
    bytes: &[u8],
    issuer_source: &SourceId,
    authority: Option<&Authority>,
) -> Result<SubmitOutcome, PipelineError> {
    let IngestReport { outcomes, .. } = pipeline.ingest_as(issuer_source, bytes, authority).await?;
    let mut accepted = Vec::new();
    let mut reasons = Vec::new();
    for outcome in outcomes {
        match outcome {
            MessageOutcome::Accepted { key, .. } | MessageOutcome::Duplicate { key } => {
                accepted.push(key)
            }
            MessageOutcome::Rejected { reason, detail, .. } => {
                reasons.push((reason.label().to_owned(), detail))
            }
        }
    }
    Ok(if reasons.is_empty() {
        SubmitOutcome::Accepted { keys: accepted }
    } else {
        SubmitOutcome::Rejected { accepted, reasons }
    })
}
