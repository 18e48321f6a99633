//! Sender patterns: which `<sender>` values a source may carry.
//!
//! A pattern is either an exact sender (`weather@cwa.gov.tw`, compared
//! without regard to ASCII case, because mail domains are case-insensitive
//! and agencies are not consistent) or a `*` followed by a suffix that
//! starts with `@` or `.` (`*@cwa.gov.tw`: any mailbox at that domain;
//! `*.cwa.gov.tw`: any sender ending in that domain). Nothing else is a
//! wildcard: `*` alone, a `*` in the middle, or a suffix without `@`/`.` is
//! refused when the configuration is read, so that a typo cannot open a
//! source to every sender.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderPattern {
    /// Matches this sender only (ASCII case-insensitive).
    Exact(String),
    /// Matches every sender ending in this suffix (which starts with `@` or `.`).
    Suffix(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderPatternError {
    #[error("empty sender pattern")]
    Empty,
    #[error(
        "sender pattern `{0}`: a wildcard is only allowed as a leading `*` followed by `@domain` or `.domain`"
    )]
    BadWildcard(String),
    #[error("sender pattern `{0}` contains white space")]
    WhiteSpace(String),
}

impl SenderPattern {
    pub fn matches(&self, sender: &str) -> bool {
        let sender = sender.trim();
        match self {
            SenderPattern::Exact(exact) => sender.eq_ignore_ascii_case(exact),
            SenderPattern::Suffix(suffix) => {
                sender.len() > suffix.len()
                    && sender
                        .get(sender.len() - suffix.len()..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
            }
        }
    }
}

impl FromStr for SenderPattern {
    type Err = SenderPatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SenderPatternError::Empty);
        }
        if s.chars().any(char::is_whitespace) {
            return Err(SenderPatternError::WhiteSpace(s.to_owned()));
        }
        match s.strip_prefix('*') {
            None if !s.contains('*') => Ok(SenderPattern::Exact(s.to_owned())),
            Some(suffix)
                if (suffix.starts_with('@') || suffix.starts_with('.'))
                    && suffix.len() > 1
                    && !suffix.contains('*') =>
            {
                Ok(SenderPattern::Suffix(suffix.to_owned()))
            }
            _ => Err(SenderPatternError::BadWildcard(s.to_owned())),
        }
    }
}

impl fmt::Display for SenderPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SenderPattern::Exact(s) => f.write_str(s),
            SenderPattern::Suffix(s) => write!(f, "*{s}"),
        }
    }
}

impl Serialize for SenderPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SenderPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SenderPattern {
        s.parse().unwrap()
    }

    #[test]
    fn exact_sender_matches_itself_only() {
        let pat = p("weather@cwa.gov.tw");
        assert!(pat.matches("weather@cwa.gov.tw"));
        assert!(pat.matches("Weather@CWA.gov.tw"));
        assert!(!pat.matches("weather@cwb.gov.tw"));
        assert!(!pat.matches("xweather@cwa.gov.tw"));
    }

    #[test]
    fn domain_wildcard_matches_mailboxes_of_that_domain_only() {
        let pat = p("*@cwa.gov.tw");
        assert!(pat.matches("cwasoc@cwa.gov.tw"));
        assert!(pat.matches("weather@cwa.gov.tw"));
        assert!(!pat.matches("@cwa.gov.tw"));
        assert!(!pat.matches("weather@evil-cwa.gov.tw"));
        assert!(!pat.matches("weather@cwa.gov.tw.example.com"));
        let sub = p("*.cwb.gov.tw");
        assert!(sub.matches("CWB_SC@scman.cwb.gov.tw"));
        assert!(!sub.matches("weather@cwb.gov.tw"));
    }

    #[test]
    fn loose_wildcards_are_refused() {
        for bad in [
            "*",
            "*cwa.gov.tw",
            "weather@*.gov.tw",
            "*@",
            "a b",
            "",
            "*@a*",
        ] {
            assert!(bad.parse::<SenderPattern>().is_err(), "{bad:?} accepted");
        }
    }
}
