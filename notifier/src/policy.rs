//! How loudly a message announces itself. (Whether it is sent at all —
//! what counts as a repeat — is decided with what each person was told,
//! in the engine's `told` module.)
//!
//! - Quiet hours: a subscriber may ask for silence at night. Messages then
//!   arrive silently (inbox only, no sound), except alerts of Extreme
//!   severity or Immediate urgency, which always sound.

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::notice::Notice;
use crate::render::TAIPEI_OFFSET_SECONDS;

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
    use cap::{Severity, Urgency};

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
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
