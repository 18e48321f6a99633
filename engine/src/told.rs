//! What each person was told of each alert in force, and the rule that
//! decides what they are told next. This is where "a repeat" is defined.
//!
//! # The rule
//! - **A new alert** (CAP `Alert`, or an identifier that references nothing
//!   in force) is told to everyone it reaches. A second earthquake report
//!   minutes after the first is a new alert: nothing is held back across
//!   alerts.
//! - **An Update**, for each person it still reaches above their
//!   threshold: told when what they would read changed — level (up or
//!   down), severity, urgency, certainty, rainfall level, instruction,
//!   expiry, or which of their places are inside and how. An Update that
//!   changes none of that is a *true repeat*: held back if they were told
//!   of this alert less than [`REPEAT_WINDOW`] ago, else told again as a
//!   reminder that it is still in force.
//! - **A downgrade below a person's threshold** (their place still inside,
//!   the level now under what they asked for) tells them it was lowered —
//!   not that it is over. They stay on the alert: they hear when it rises
//!   again above their threshold, and they get its all-clear.
//! - **An all-clear** goes to a person only when the alert ended for their
//!   place: a Cancel or expiry (everyone who was told), or an Update whose
//!   area no longer covers any of their places.
//! - **A person told late** (subscribed, added or moved a place, shared a
//!   location while the alert was in force) is told at once, once per
//!   alert; another of their places entering the same alert later does
//!   not tell them again.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use matcher::SubscriberId;
use matcher::prefs::AlertFacts;
use matcher::recipients::PlaceMatch;

/// How long an unchanged Update is held back after a person was last told
/// of the alert: long enough to absorb an agency re-issuing a warning every
/// hour, short enough that a long warning is recalled a few times a day.
pub const REPEAT_WINDOW: Duration = Duration::hours(2);

/// What a person read, reduced to what decides whether a later version
/// says something new to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The facts of the unit that reached them, expiry included.
    pub unit: u64,
    /// Their places inside, how surely, and at which intensity.
    pub places: u64,
}

/// What one person was last told of one alert in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToldState {
    /// The place (index into their places) the message named.
    pub place: u8,
    pub seen: Seen,
    pub at: DateTime<Utc>,
    /// They were told it was lowered below their threshold.
    pub lowered: bool,
}

/// Everyone told of one alert, by subscriber.
pub type ToldMap = BTreeMap<SubscriberId, ToldState>;

/// What to tell one person the Update still reaches above their threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// They never heard of it: tell them as a new alert.
    Alert,
    /// Something they would read changed, or the reminder is due.
    Update,
    /// A true repeat within the window.
    Held,
}

/// The decision for a person an Update reaches, given what they were told.
pub fn next_for(before: Option<&ToldState>, now_seen: Seen, now: DateTime<Utc>) -> Next {
    match before {
        None => Next::Alert,
        Some(told) if told.lowered || told.seen != now_seen => Next::Update,
        Some(told) if now - told.at >= REPEAT_WINDOW => Next::Update,
        Some(_) => Next::Held,
    }
}

/// The digest of a unit's facts as a person reads them: a change in any of
/// these is news.
pub fn unit_digest(facts: &AlertFacts, expires: Option<DateTime<chrono::FixedOffset>>) -> u64 {
    let mut hash = Fnv::default();
    hash.write(format!("{:?}|{:?}", facts.kind, facts.status).as_bytes());
    hash.write(
        format!(
            "|{:?}|{:?}|{:?}|{:?}|{:?}|",
            facts.colour, facts.severity, facts.urgency, facts.certainty, facts.rainfall
        )
        .as_bytes(),
    );
    hash.write(facts.instruction.as_deref().unwrap_or("").trim().as_bytes());
    hash.write(b"|");
    hash.write(
        expires
            .map(|e| e.timestamp().to_string())
            .unwrap_or_default()
            .as_bytes(),
    );
    hash.finish()
}

/// The digest of which of a person's places are inside, and how.
pub fn places_digest(places: &[PlaceMatch]) -> u64 {
    let mut sorted: Vec<String> = places
        .iter()
        .map(|m| format!("{}:{:?}:{:?}", m.place, m.presence, m.intensity))
        .collect();
    sorted.sort();
    let mut hash = Fnv::default();
    for entry in sorted {
        hash.write(entry.as_bytes());
        hash.write(b";");
    }
    hash.finish()
}

/// FNV-1a, 64 bits: stable across builds and platforms, which the standard
/// library's hasher does not promise (these digests outlive a process).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn told(seen: Seen, at: DateTime<Utc>) -> ToldState {
        ToldState {
            place: 0,
            seen,
            at,
            lowered: false,
        }
    }

    #[test]
    fn only_an_unchanged_update_within_the_window_is_held() {
        let t0 = Utc::now();
        let seen = Seen { unit: 1, places: 2 };
        assert_eq!(next_for(None, seen, t0), Next::Alert);
        let before = told(seen, t0);
        assert_eq!(
            next_for(Some(&before), seen, t0 + Duration::minutes(5)),
            Next::Held
        );
        assert_eq!(
            next_for(Some(&before), seen, t0 + REPEAT_WINDOW),
            Next::Update,
            "a reminder once the window has passed"
        );
        let changed_unit = Seen { unit: 3, ..seen };
        assert_eq!(next_for(Some(&before), changed_unit, t0), Next::Update);
        let changed_places = Seen { places: 4, ..seen };
        assert_eq!(next_for(Some(&before), changed_places, t0), Next::Update);
        let lowered = ToldState {
            lowered: true,
            ..before
        };
        assert_eq!(
            next_for(Some(&lowered), seen, t0),
            Next::Update,
            "back above the threshold"
        );
    }

    #[test]
    fn every_fact_a_person_reads_changes_the_digest() {
        let base = AlertFacts {
            status: cap::Status::Actual,
            kind: cap::HazardKind::DebrisFlow,
            colour: Some(cap::Colour::Red),
            severity: cap::Severity::Severe,
            urgency: cap::Urgency::Immediate,
            certainty: cap::Certainty::Likely,
            rainfall: None,
            instruction: Some("evacuate now".into()),
        };
        let expires = chrono::DateTime::parse_from_rfc3339("2026-11-22T18:00:00+08:00").ok();
        let digest = unit_digest(&base, expires);
        assert_eq!(digest, unit_digest(&base.clone(), expires), "stable");
        let mut other = base.clone();
        other.instruction = Some("stay at the centre".into());
        assert_ne!(digest, unit_digest(&other, expires), "instruction");
        let mut other = base.clone();
        other.colour = Some(cap::Colour::Orange);
        assert_ne!(digest, unit_digest(&other, expires), "level down");
        let later = chrono::DateTime::parse_from_rfc3339("2026-11-22T21:00:00+08:00").ok();
        assert_ne!(digest, unit_digest(&base, later), "expiry");
    }
}
