//! Whether a message from a given source is believed: its sender must be
//! one the source may carry and, when the source requires it, its enveloped
//! signature must verify with a key the source trusts.

use chrono::{DateTime, Utc};

use super::{SenderPattern, SourceConfig, SourceId, SourceKind};
use crate::authority::{Authority, AuthorityRule};
use crate::signature::{self, KeyError, SignatureError, TrustedKeys, VerifiedSignature};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("sender `{sender}` is not allowed on source `{source_id}`")]
    SenderNotAllowed { source_id: SourceId, sender: String },
    #[error("signature check failed: {0}")]
    Signature(#[from] SignatureError),
}

impl TrustError {
    /// Stable label for metrics and the store.
    pub fn label(&self) -> &'static str {
        match self {
            TrustError::SenderNotAllowed { .. } => "sender_not_allowed",
            TrustError::Signature(e) => e.label(),
        }
    }
}

/// What the trust check established about an accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    Verified(VerifiedSignature),
    /// The source does not require signatures; `present` tells whether the
    /// message carried one anyway (it was not checked).
    NotChecked {
        present: bool,
    },
}

/// One source's trust rules, ready to apply.
#[derive(Debug, Clone)]
pub struct SourceTrust {
    pub source: SourceId,
    senders: Vec<SenderPattern>,
    require_signature: bool,
    keys: TrustedKeys,
    authority: AuthorityRule,
}

impl SourceTrust {
    pub fn new(
        source: SourceId,
        senders: Vec<SenderPattern>,
        require_signature: bool,
        keys: TrustedKeys,
    ) -> Self {
        SourceTrust {
            source,
            senders,
            require_signature,
            keys,
            authority: AuthorityRule::default(),
        }
    }

    /// Names authorities by `rule` instead of one per sender.
    pub fn with_authority(mut self, rule: AuthorityRule) -> Self {
        self.authority = rule;
        self
    }

    /// The authority a message from `sender` on this source is accepted
    /// under (see [`crate::authority`]).
    pub fn authority_of(&self, sender: &str) -> Authority {
        self.authority.authority_of(sender)
    }

    /// Builds the rules of a configured source, reading its trusted keys.
    pub fn from_config(config: &SourceConfig) -> Result<Self, KeyError> {
        let keys = TrustedKeys::from_files(&config.signature.trusted_keys)?;
        let rule = match (&config.kind, config.aliases.is_empty()) {
            (SourceKind::Issuer, _) => AuthorityRule::Offices,
            (_, true) => AuthorityRule::Senders,
            (_, false) => AuthorityRule::Aliases(config.aliases.clone()),
        };
        Ok(SourceTrust::new(
            config.id.clone(),
            config.senders.clone(),
            config.signature.required,
            keys,
        )
        .with_authority(rule))
    }

    pub fn allows_sender(&self, sender: &str) -> bool {
        self.senders.iter().any(|p| p.matches(sender))
    }

    pub fn requires_signature(&self) -> bool {
        self.require_signature
    }

    /// Checks one message: `alert_xml` is the message's own text (its
    /// `<alert>` element as a standalone document); `signed` is whether the
    /// parser saw a `<Signature>` in it (reported when not checked).
    pub fn check(
        &self,
        sender: &str,
        alert_xml: &str,
        signed: bool,
        now: DateTime<Utc>,
    ) -> Result<SignatureStatus, TrustError> {
        if !self.allows_sender(sender) {
            return Err(TrustError::SenderNotAllowed {
                source_id: self.source.clone(),
                sender: sender.to_owned(),
            });
        }
        if !self.require_signature {
            return Ok(SignatureStatus::NotChecked { present: signed });
        }
        Ok(SignatureStatus::Verified(signature::verify_enveloped(
            alert_xml, &self.keys, now,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_outside_the_list_is_refused_before_anything_else() {
        let trust = SourceTrust::new(
            SourceId::new("ncdr"),
            vec!["*@cwa.gov.tw".parse().unwrap()],
            true,
            TrustedKeys::default(),
        );
        let err = trust
            .check("someone@example.com", "<alert/>", false, Utc::now())
            .unwrap_err();
        assert_eq!(err.label(), "sender_not_allowed");
        // Allowed sender, but a required signature is missing.
        let err = trust
            .check("weather@cwa.gov.tw", "<alert/>", false, Utc::now())
            .unwrap_err();
        assert_eq!(err, TrustError::Signature(SignatureError::Missing));
    }

    #[test]
    fn unsigned_is_fine_when_not_required() {
        let trust = SourceTrust::new(
            SourceId::new("ncdr"),
            vec!["weather@cwa.gov.tw".parse().unwrap()],
            false,
            TrustedKeys::default(),
        );
        assert_eq!(
            trust.check("weather@cwa.gov.tw", "<alert/>", false, Utc::now()),
            Ok(SignatureStatus::NotChecked { present: false })
        );
    }
}
