//! When a message is worth sending, and how loudly.
//!
//! - Coalescing: an aftershock series or a rainfall warning re-issued every
//!   hour would otherwise wake the same person again and again with the same
//!   news. A repeat of the same hazard for the same subscriber within a
//!   window is held back unless its level rises (colour or severity).
//!   All-clears and relief steps are never held back.
//! - Quiet hours: a subscriber may ask for silence at night. Messages then
//!   arrive silently (inbox only, no sound), except alerts of Extreme
//!   severity or Immediate urgency, which always sound.

use std::collections::HashMap;

use cap::{Colour, HazardKind, Severity};
use chrono::{DateTime, Duration, FixedOffset, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::notice::{Notice, NoticeKind, SubscriberId};
use crate::render::TAIPEI_OFFSET_SECONDS;

/// What to do with a message after coalescing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Deliver,
    /// Held back: the subscriber was told the same at the same level
    /// within the window.
    Coalesced,
}

#[derive(Debug, Clone, Copy)]
struct Told {
    at: DateTime<Utc>,
    colour: Colour,
    severity: Severity,
}

/// Remembers what each subscriber was last told per hazard. In memory: after
/// a restart the first repeat is delivered again, which errs on the side of
/// telling.
#[derive(Debug)]
pub struct Coalescer {
    window: Duration,
    told: HashMap<(SubscriberId, HazardKind, bool), Told>,
}

impl Coalescer {
    pub fn new(window: Duration) -> Self {
        Coalescer {
            window,
            told: HashMap::new(),
        }
    }

    /// Decides on `notice` for `subscriber` at `now`, and remembers a delivery.
    pub fn admit(
        &mut self,
        subscriber: &SubscriberId,
        notice: &Notice,
        now: DateTime<Utc>,
    ) -> Verdict {
        // Exercises are keyed apart so a drill never hides a real alert.
        let key = (subscriber.clone(), notice.hazard, notice.exercise);
        match notice.kind {
            NoticeKind::AllClear => {
                self.told.remove(&key);
                return Verdict::Deliver;
            }
            NoticeKind::Relief => return Verdict::Deliver,
            NoticeKind::New | NoticeKind::Update => {}
        }
        if let Some(told) = self.told.get(&key) {
            let rises = notice.colour > told.colour || notice.severity > told.severity;
            // An update that lowers the level is news too ("now yellow"):
            // only an update at the level already told is held back.
            let lowered = notice.kind == NoticeKind::Update
                && (notice.colour < told.colour || notice.severity < told.severity);
            if !rises && !lowered && now - told.at < self.window {
                return Verdict::Coalesced;
            }
        }
        self.told.insert(
            key,
            Told {
                at: now,
                colour: notice.colour,
                severity: notice.severity,
            },
        );
        Verdict::Deliver
    }

    /// Drops what is older than the window, bounding memory.
    pub fn forget_expired(&mut self, now: DateTime<Utc>) {
        let window = self.window;
        self.told.retain(|_, told| now - told.at < window);
    }

    pub fn len(&self) -> usize {
        self.told.len()
    }

    pub fn is_empty(&self) -> bool {
        self.told.is_empty()
    }
}

/// A nightly quiet period in Taiwan local time; may wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Whether `at` falls inside the period (start included, end excluded).
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let Some(taipei) = FixedOffset::east_opt(TAIPEI_OFFSET_SECONDS) else {
            return false;
        };
        let time = at.with_timezone(&taipei).time();
        if self.start <= self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }
}

impl QuietHours {
    /// The end of the quiet period containing `at` (or of the next one).
    pub fn ends_after(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let Some(taipei) = FixedOffset::east_opt(TAIPEI_OFFSET_SECONDS) else {
            return at;
        };
        let local = at.with_timezone(&taipei);
        let today_end = local.date_naive().and_time(self.end);
        let end = if local.time() < self.end {
            today_end
        } else {
            today_end + Duration::days(1)
        };
        end.and_local_timezone(taipei)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(at)
    }
}

/// How a message announces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loudness {
    /// Sound and heads-up display.
    Audible,
    /// Delivered to the inbox without sound.
    Silent,
}

/// The loudness of `notice` for a subscriber with `quiet` hours at `now`.
pub fn loudness(notice: &Notice, quiet: Option<&QuietHours>, now: DateTime<Utc>) -> Loudness {
    match quiet {
        Some(quiet) if quiet.contains(now) && !notice.is_urgent() => Loudness::Silent,
        _ => Loudness::Audible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap::Urgency;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn repeats_within_the_window_are_coalesced_unless_the_level_rises() {
        let mut coalescer = Coalescer::new(Duration::hours(3));
        let me = SubscriberId("s-1".into());
        let mut notice = crate::testing_notice();
        notice.hazard = HazardKind::Rainfall;
        notice.colour = Colour::Yellow;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T00:00:00Z")),
            Verdict::Deliver
        );
        notice.kind = NoticeKind::Update;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T01:00:00Z")),
            Verdict::Coalesced
        );
        // An update lowering the level is told.
        notice.colour = Colour::Green;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T01:10:00Z")),
            Verdict::Deliver
        );
        notice.colour = Colour::Yellow;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T01:15:00Z")),
            Verdict::Deliver,
            "back up from green is a rise"
        );
        // Someone else is told regardless.
        let other = SubscriberId("s-2".into());
        assert_eq!(
            coalescer.admit(&other, &notice, at("2026-11-22T01:00:00Z")),
            Verdict::Deliver
        );
        // A rise in level is always delivered.
        notice.colour = Colour::Orange;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T01:30:00Z")),
            Verdict::Deliver
        );
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T02:00:00Z")),
            Verdict::Coalesced
        );
        // A fall told by an update is news ("now yellow")…
        notice.colour = Colour::Yellow;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T03:00:00Z")),
            Verdict::Deliver
        );
        // …but a re-issued warning at a lower level is not.
        notice.kind = NoticeKind::New;
        notice.colour = Colour::Green;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T03:10:00Z")),
            Verdict::Coalesced
        );
        // The same level again within the window is held back.
        notice.kind = NoticeKind::Update;
        notice.colour = Colour::Yellow;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T04:30:00Z")),
            Verdict::Coalesced
        );
        // All-clears always go out and reset the series.
        notice.kind = NoticeKind::AllClear;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T04:31:00Z")),
            Verdict::Deliver
        );
        notice.kind = NoticeKind::New;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T04:32:00Z")),
            Verdict::Deliver
        );
        coalescer.forget_expired(at("2026-11-22T09:00:00Z"));
        assert!(coalescer.is_empty());
    }

    #[test]
    fn an_exercise_never_hides_a_real_alert() {
        let mut coalescer = Coalescer::new(Duration::hours(1));
        let me = SubscriberId("s-1".into());
        let mut notice = crate::testing_notice();
        notice.exercise = true;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T00:00:00Z")),
            Verdict::Deliver
        );
        notice.exercise = false;
        assert_eq!(
            coalescer.admit(&me, &notice, at("2026-11-22T00:05:00Z")),
            Verdict::Deliver
        );
    }

    #[test]
    fn quiet_hours_silence_all_but_urgent_alerts() {
        let quiet = QuietHours {
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
        };
        // 15:30 UTC is 23:30 in Taipei; 01:00 UTC is 09:00.
        let night = at("2026-11-22T15:30:00Z");
        let day = at("2026-11-22T01:00:00Z");
        assert!(quiet.contains(night));
        assert!(!quiet.contains(day));
        let mut notice = crate::testing_notice();
        assert_eq!(loudness(&notice, Some(&quiet), night), Loudness::Silent);
        assert_eq!(loudness(&notice, Some(&quiet), day), Loudness::Audible);
        assert_eq!(loudness(&notice, None, night), Loudness::Audible);
        notice.urgency = Urgency::Immediate;
        assert_eq!(loudness(&notice, Some(&quiet), night), Loudness::Audible);
        notice.urgency = Urgency::Expected;
        notice.severity = Severity::Extreme;
        assert_eq!(loudness(&notice, Some(&quiet), night), Loudness::Audible);
        // 23:30 and 01:00 Taipei both end at 07:00 Taipei = 23:00 UTC.
        assert_eq!(quiet.ends_after(night), at("2026-11-22T23:00:00Z"));
        assert_eq!(
            quiet.ends_after(at("2026-11-22T17:00:00Z")),
            at("2026-11-22T23:00:00Z")
        );
    }
}
