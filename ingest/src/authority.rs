//! Who owns an alert, and so who may Update or Cancel it.
//!
//! CAP lets any message name any other in `<references>`; believing every
//! such reference would let one office (or one agency on a shared feed)
//! silence another's warning with a forged all-clear. The rule, decided
//! here and enforced by [`crate::lifecycle`] and [`crate::feed::Pipeline`]:
//!
//! > An Update or Cancel applies only to alerts of the **same authority**.
//!
//! - A feed message's authority is its **sender**, compared without regard
//!   to ASCII case, or the alias group its source entry puts that sender in
//!   (`aliases` in `[[ingest.sources]]`: the former CWB and today's CWA are
//!   one authority). An aggregator such as NCDR lists many agencies under
//!   one entry; they stay separate authorities unless grouped.
//! - An issuing office's authority is the office (its sender address). The
//!   issuer API may hand a supervisor's message the authority of the office
//!   whose alert it changes, after checking the supervisor's jurisdiction
//!   covers that alert's whole area; the archive keeps that decision.
//! - Feed and office authorities never meet: an office can never reference
//!   a feed alert, nor a feed an office's.
//!
//! A reference to a message not yet seen is kept for the referring
//! authority only: it ends the named alert if that arrives later from the
//! same authority, and never another's.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sender::SenderPattern;

/// The owner of an alert chain, as stored in the archive
/// (`sender:weather@cwa.gov.tw`, `office:eoc@issuers.example`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Authority(String);

const SENDER_PREFIX: &str = "sender:";
const OFFICE_PREFIX: &str = "office:";

impl Authority {
    /// A feed sender (or the name of its alias group).
    pub fn sender(name: &str) -> Self {
        Authority(format!(
            "{SENDER_PREFIX}{}",
            name.trim().to_ascii_lowercase()
        ))
    }

    /// An issuing office, named by its sender address.
    pub fn office(sender: &str) -> Self {
        Authority(format!(
            "{OFFICE_PREFIX}{}",
            sender.trim().to_ascii_lowercase()
        ))
    }

    /// Reads a stored value; None for anything this version did not write.
    pub fn parse(stored: &str) -> Option<Self> {
        let known = [SENDER_PREFIX, OFFICE_PREFIX]
            .iter()
            .any(|p| stored.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
        known.then(|| Authority(stored.to_owned()))
    }

    pub fn is_office(&self) -> bool {
        self.0.starts_with(OFFICE_PREFIX)
    }

    /// The office's sender address, for an office authority.
    pub fn office_sender(&self) -> Option<&str> {
        self.0.strip_prefix(OFFICE_PREFIX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a source names the authority of the messages it carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AuthorityRule {
    /// A feed: each sender is its own authority, except that senders in one
    /// alias group are one authority, named by the group's first pattern.
    #[default]
    Senders,
    /// Senders grouped as the source's configuration says.
    Aliases(Vec<Vec<SenderPattern>>),
    /// The issuer API: each sender is an office.
    Offices,
}

impl AuthorityRule {
    /// The authority of a message from `sender` on this source.
    pub fn authority_of(&self, sender: &str) -> Authority {
        match self {
            AuthorityRule::Senders => Authority::sender(sender),
            AuthorityRule::Aliases(groups) => groups
                .iter()
                .find(|group| group.iter().any(|p| p.matches(sender)))
                .and_then(|group| group.first())
                .map_or_else(
                    || Authority::sender(sender),
                    |first| Authority::sender(&first.to_string()),
                ),
            AuthorityRule::Offices => Authority::office(sender),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_are_their_own_authority_ignoring_case() {
        let rule = AuthorityRule::Senders;
        assert_eq!(
            rule.authority_of("Weather@CWA.gov.tw"),
            rule.authority_of("weather@cwa.gov.tw")
        );
        assert_ne!(
            rule.authority_of("weather@cwa.gov.tw"),
            rule.authority_of("ddmt01@wra.gov.tw")
        );
    }

    #[test]
    fn an_alias_group_is_one_authority_and_others_stay_apart() {
        let rule = AuthorityRule::Aliases(vec![vec![
            "weather@cwa.gov.tw".parse().unwrap(),
            "*@cwb.gov.tw".parse().unwrap(),
        ]]);
        assert_eq!(
            rule.authority_of("weather@cwb.gov.tw"),
            rule.authority_of("weather@cwa.gov.tw")
        );
        assert_ne!(
            rule.authority_of("ddmt01@wra.gov.tw"),
            rule.authority_of("weather@cwa.gov.tw")
        );
    }

    #[test]
    fn offices_and_feeds_never_share_an_authority() {
        assert_ne!(
            AuthorityRule::Offices.authority_of("eoc@gov.taipei"),
            AuthorityRule::Senders.authority_of("eoc@gov.taipei")
        );
        assert!(
            AuthorityRule::Offices
                .authority_of("eoc@gov.taipei")
                .is_office()
        );
    }

    #[test]
    fn stored_values_round_trip_and_junk_is_refused() {
        let a = Authority::office("eoc@gov.taipei");
        assert_eq!(Authority::parse(a.as_str()), Some(a));
        assert_eq!(Authority::parse("office:"), None);
        assert_eq!(Authority::parse("weather@cwa.gov.tw"), None);
    }
}
