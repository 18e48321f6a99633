//! Per-place preferences and the facts of an alert they are checked
//! against.
//!
//! A place is warned when every one of its preferences accepts the alert
//! (at that place, for the local earthquake intensity). Anything the alert
//! does not say (no colour, unknown severity, no intensity for the place's
//! area) never silences a warning: missing facts pass, because a missed
//! warning costs more than an unwanted one. Quiet hours are the
//! notifier's business at delivery time.

use cap::{Certainty, Colour, HazardKind, Intensity, Severity, Status, Urgency};

/// CWA rainfall warning levels, from least to most serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RainfallLevel {
    /// 大雨: 80 mm in 24 h or 40 mm in 1 h.
    Heavy,
    /// 豪雨: 200 mm in 24 h or 100 mm in 3 h.
    ExtremelyHeavy,
    /// 大豪雨: 350 mm in 24 h or 200 mm in 3 h.
    Torrential,
    /// 超大豪雨: 500 mm in 24 h.
    ExtremelyTorrential,
}

/// A set of hazard kinds (one bit each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindSet(u16);

impl KindSet {
    pub const ALL: KindSet = KindSet((1 << HazardKind::ALL.len()) - 1);
    pub const NONE: KindSet = KindSet(0);

    fn bit(kind: HazardKind) -> u16 {
        let i = HazardKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        1 << i
    }

    pub fn of(kinds: &[HazardKind]) -> KindSet {
        KindSet(kinds.iter().fold(0, |acc, k| acc | KindSet::bit(*k)))
    }

    pub fn contains(self, kind: HazardKind) -> bool {
        self.0 & KindSet::bit(kind) != 0
    }
}

impl Default for KindSet {
    fn default() -> Self {
        KindSet::ALL
    }
}

/// What a subscriber chose for a place (or for all their places).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Preferences {
    /// Hazard kinds to be warned about (default: all).
    pub kinds: KindSet,
    /// Lowest colour level to be warned about.
    pub min_colour: Option<Colour>,
    /// Lowest CAP severity to be warned about.
    pub min_severity: Option<Severity>,
    /// Earthquakes: lowest local intensity at the place.
    pub min_intensity: Option<Intensity>,
    /// Rainfall: lowest warning level.
    pub min_rainfall: Option<RainfallLevel>,
    /// Languages in order of preference (BCP 47, lower case); the notifier
    /// picks the alert's `<info>` by them.
    pub languages: Vec<String>,
    /// Also receive `Test` and `Exercise` messages.
    pub exercises: bool,
}

/// What the matcher needs to know of an alert (one `<info>`), as `cap::hazard`
/// derived it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFacts {
    pub status: Status,
    pub kind: HazardKind,
    pub colour: Option<Colour>,
    pub severity: Severity,
    pub urgency: Urgency,
    pub certainty: Certainty,
    pub rainfall: Option<RainfallLevel>,
    pub instruction: Option<String>,
}

impl Preferences {
    /// Whether a place with these preferences is warned of `alert`, where
    /// `intensity` is the local intensity of the alert's area holding the
    /// place (earthquakes).
    pub fn accepts(&self, alert: &AlertFacts, intensity: Option<Intensity>) -> bool {
        let status_ok = match alert.status {
            Status::Actual => true,
            Status::Test | Status::Exercise => self.exercises,
            // System and Draft messages never reach the public.
            Status::System | Status::Draft => false,
        };
        let severity = (alert.severity != Severity::Unknown).then_some(alert.severity);
        status_ok
            && self.kinds.contains(alert.kind)
            && at_least(self.min_colour, alert.colour)
            && at_least(self.min_severity, severity)
            && (alert.kind != HazardKind::Earthquake || at_least(self.min_intensity, intensity))
            && (alert.kind != HazardKind::Rainfall || at_least(self.min_rainfall, alert.rainfall))
    }
}

/// A threshold passes when either side is unknown.
fn at_least<T: Ord>(min: Option<T>, value: Option<T>) -> bool {
    match (min, value) {
        (Some(min), Some(v)) => v >= min,
        _ => true,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn facts(kind: HazardKind) -> AlertFacts {
        AlertFacts {
            status: Status::Actual,
            kind,
            colour: Some(Colour::Orange),
            severity: Severity::Severe,
            urgency: Urgency::Expected,
            certainty: Certainty::Likely,
            rainfall: None,
            instruction: None,
        }
    }

    #[test]
    fn earthquake_threshold_is_per_place_intensity() {
        let p = Preferences {
            min_intensity: Some(Intensity::I5Lower),
            ..Preferences::default()
        };
        let quake = facts(HazardKind::Earthquake);
        assert!(!p.accepts(&quake, Some(Intensity::I4)));
        assert!(p.accepts(&quake, Some(Intensity::I5Lower)));
        assert!(p.accepts(&quake, Some(Intensity::I6Upper)));
        assert!(p.accepts(&quake, None), "unknown intensity never silences");
        // The threshold is about earthquakes only.
        assert!(p.accepts(&facts(HazardKind::Typhoon), Some(Intensity::I1)));
    }

    #[test]
    fn kinds_colour_rainfall_and_exercises() {
        let p = Preferences {
            kinds: KindSet::of(&[HazardKind::Rainfall, HazardKind::Flood]),
            min_colour: Some(Colour::Red),
            min_rainfall: Some(RainfallLevel::Torrential),
            ..Preferences::default()
        };
        let mut rain = facts(HazardKind::Rainfall);
        rain.colour = Some(Colour::Red);
        rain.rainfall = Some(RainfallLevel::ExtremelyHeavy);
        assert!(!p.accepts(&rain, None));
        rain.rainfall = Some(RainfallLevel::ExtremelyTorrential);
        assert!(p.accepts(&rain, None));
        rain.colour = Some(Colour::Orange);
        assert!(!p.accepts(&rain, None));
        rain.colour = None;
        assert!(p.accepts(&rain, None));
        assert!(!p.accepts(&facts(HazardKind::Typhoon), None));
        rain.status = Status::Exercise;
        assert!(!p.accepts(&rain, None));
        let q = Preferences {
            exercises: true,
            ..p
        };
        assert!(q.accepts(&rain, None));
        rain.status = Status::Draft;
        assert!(!q.accepts(&rain, None));
    }
}
