//! What changes for whom when an alert is updated, cancelled or expires,
//! and matching new places against the alerts in force.
//!
//! # Semantics
//! - **Update**: subscribers newly inside get the alert; those still
//!   inside get an update only when something material changed (colour
//!   level, severity, urgency, certainty or rainfall level went up, a new
//!   instruction, or at one of their places: a place newly inside, surely
//!   inside where it only may have been, or a higher local intensity);
//!   those no longer inside get an all-clear.
//! - **Cancel or expiry**: exactly the previous recipients get an
//!   all-clear.
//! - **A place added or a current location reported** while alerts are in
//!   force is matched against each of them at once
//!   ([`ActiveAlerts::match_place`]).

use std::collections::BTreeMap;

use cap::MessageKey;

use crate::area::{PreparedArea, Presence};
use crate::codes::AreaCodes;
use crate::index::{CoarseArea, Location, PlaceRecord, SubscriberId};
use crate::prefs::{AlertFacts, Preferences};
use crate::recipients::{PlaceMatch, Recipients, RecipientsBuilder};

/// Who gets what after a change to an alert.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    /// Newly inside: send the alert.
    pub alert: Recipients,
    /// Still inside and something material changed: send the update.
    pub update: Recipients,
    /// No longer inside (or the alert ended): send an all-clear.
    pub all_clear: Recipients,
}

/// Whether an update of an alert is worth telling those still inside.
pub fn is_material(previous: &AlertFacts, current: &AlertFacts) -> bool {
    current.colour > previous.colour
        || current.severity > previous.severity
        || current.urgency > previous.urgency
        || current.certainty > previous.certainty
        || current.rainfall > previous.rainfall
        || (current.instruction.is_some() && current.instruction != previous.instruction)
}

/// The delta of an Update from `previous` recipients to `current` ones.
pub fn update_delta(
    previous: &Recipients,
    previous_facts: &AlertFacts,
    current: &Recipients,
    current_facts: &AlertFacts,
) -> Delta {
    let material = is_material(previous_facts, current_facts);
    let (mut alert, mut update, mut all_clear) = (
        RecipientsBuilder::default(),
        RecipientsBuilder::default(),
        RecipientsBuilder::default(),
    );
    let mut prev = previous.iter().peekable();
    let mut cur = current.iter().peekable();
    loop {
        match (prev.peek(), cur.peek()) {
            (None, None) => break,
            (Some(&(s, places)), None) => {
                all_clear.push_all(s, places);
                prev.next();
            }
            (None, Some(&(s, places))) => {
                alert.push_all(s, places);
                cur.next();
            }
            (Some(&(ps, pp)), Some(&(cs, cp))) => {
                if ps < cs {
                    all_clear.push_all(ps, pp);
                    prev.next();
                } else if cs < ps {
                    alert.push_all(cs, cp);
                    cur.next();
                } else {
                    if material || places_worsened(pp, cp) {
                        update.push_all(cs, cp);
                    }
                    prev.next();
                    cur.next();
                }
            }
        }
    }
    Delta {
        alert: alert.finish(),
        update: update.finish(),
        all_clear: all_clear.finish(),
    }
}

/// A place newly inside, surer, or with a higher intensity.
fn places_worsened(previous: &[PlaceMatch], current: &[PlaceMatch]) -> bool {
    current
        .iter()
        .any(|c| match previous.iter().find(|p| p.place == c.place) {
            None => true,
            Some(p) => c.presence > p.presence || c.intensity > p.intensity,
        })
}

/// The delta of a Cancel or of expiry: all-clear for exactly the previous
/// recipients.
pub fn end_delta(previous: &Recipients) -> Delta {
    Delta {
        all_clear: previous.clone(),
        ..Delta::default()
    }
}

/// An alert in force.
#[derive(Debug, Clone)]
pub struct ActiveAlert {
    pub facts: AlertFacts,
    pub areas: Vec<PreparedArea>,
    /// Recipients at issue time.
    pub recipients: Recipients,
    /// Places matched later (added or reported while the alert is in force).
    late: Vec<(SubscriberId, PlaceMatch)>,
}

impl ActiveAlert {
    pub fn new(facts: AlertFacts, areas: Vec<PreparedArea>, recipients: Recipients) -> ActiveAlert {
        ActiveAlert {
            facts,
            areas,
            recipients,
            late: Vec::new(),
        }
    }

    /// Everyone warned so far: the issue-time recipients and later matches.
    pub fn all_recipients(&self) -> Recipients {
        if self.late.is_empty() {
            return self.recipients.clone();
        }
        let mut entries: Vec<(SubscriberId, PlaceMatch)> = self
            .recipients
            .iter()
            .flat_map(|(s, places)| places.iter().map(move |p| (s, *p)))
            .collect();
        entries.extend(self.late.iter().copied());
        Recipients::from_entries(entries)
    }

    /// How one place relates to this alert, if it is warned.
    fn place_match(
        &self,
        place: &PlaceRecord,
        prefs: &Preferences,
        codes: &dyn AreaCodes,
    ) -> Option<PlaceMatch> {
        let mut best: Option<PlaceMatch> = None;
        for area in &self.areas {
            let presence = match place.location {
                Location::Point { lon, lat, village } => area
                    .covers_point(lon, lat, village)
                    .then_some(Presence::Inside),
                Location::Village(v) => area.coarse_presence(CoarseArea::Village(v), codes),
                Location::Town(t) => area.coarse_presence(CoarseArea::Town(t), codes),
            };
            if let Some(presence) = presence
                && prefs.accepts(&self.facts, area.intensity())
            {
                let m = PlaceMatch {
                    place: place.key.place,
                    presence,
                    intensity: area.intensity(),
                };
                best = Some(match best {
                    None => m,
                    Some(b) => PlaceMatch {
                        presence: b.presence.max(m.presence),
                        intensity: b.intensity.max(m.intensity),
                        ..b
                    },
                });
            }
        }
        best
    }
}

/// The alerts in force, by key (CAP `sender,identifier,sent` of the
/// alert that opened the chain).
#[derive(Debug, Clone, Default)]
pub struct ActiveAlerts {
    alerts: BTreeMap<MessageKey, ActiveAlert>,
}

impl ActiveAlerts {
    /// Records an alert as in force; returns the one it replaces (an
    /// Update), whose recipients feed [`update_delta`].
    pub fn put(&mut self, key: MessageKey, alert: ActiveAlert) -> Option<ActiveAlert> {
        self.alerts.insert(key, alert)
    }

    /// Ends an alert (Cancel or expiry); feed its
    /// [`ActiveAlert::all_recipients`] to [`end_delta`].
    pub fn end(&mut self, key: &MessageKey) -> Option<ActiveAlert> {
        self.alerts.remove(key)
    }

    pub fn get(&self, key: &MessageKey) -> Option<&ActiveAlert> {
        self.alerts.get(key)
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Matches a place just added, or a current location just reported,
    /// against every alert in force; returns the alerts (by key) that warn
    /// it. With `remember`, the match is recorded so that the alert's
    /// later update or end reaches this place too (a transient current
    /// location may pass `false`).
    pub fn match_place(
        &mut self,
        place: &PlaceRecord,
        prefs: &Preferences,
        codes: &dyn AreaCodes,
        remember: bool,
    ) -> Vec<(MessageKey, PlaceMatch)> {
        let mut out = Vec::new();
        for (key, alert) in &mut self.alerts {
            if let Some(m) = alert.place_match(place, prefs, codes) {
                if remember {
                    alert.late.push((place.key.subscriber, m));
                }
                out.push((key.clone(), m));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::AreaSpec;
    use crate::area::tests::{TestCodes, square};
    use crate::prefs::tests::facts;
    use crate::recipients::MatchContext;
    use crate::recipients::tests::{point, record, sample_index};
    use cap::{Colour, HazardKind};

    fn ids(r: &Recipients) -> Vec<u32> {
        r.iter().map(|(s, _)| s.0).collect()
    }

    #[test]
    fn update_moves_people_in_and_out() {
        let (index, prefs) = sample_index();
        let codes = TestCodes::new();
        let ctx = MatchContext {
            index: &index,
            preferences: &prefs,
            codes: &codes,
        };
        let typhoon = facts(HazardKind::Typhoon);
        // First villages 1–2, then villages 2–3.
        let first = ctx
            .prepare(&[AreaSpec {
                polygons: vec![square(120.0, 23.0, 0.19)],
                ..AreaSpec::default()
            }])
            .unwrap();
        let second = ctx
            .prepare(&[AreaSpec {
                polygons: vec![square(120.11, 23.0, 0.19)],
                ..AreaSpec::default()
            }])
            .unwrap();
        let before = ctx.recipients(&typhoon, &first);
        let after = ctx.recipients(&typhoon, &second);
        assert_eq!(ids(&before), vec![1, 3, 4]);
        assert_eq!(ids(&after), vec![1, 2, 3, 4]);

        // Nothing material: only the newcomer hears.
        let d = update_delta(&before, &typhoon, &after, &typhoon);
        assert_eq!(ids(&d.alert), vec![2]);
        assert!(d.update.is_empty());
        assert!(d.all_clear.is_empty());

        // Colour up: those still inside get the update.
        let mut red = typhoon.clone();
        red.colour = Some(Colour::Red);
        let d = update_delta(&before, &typhoon, &after, &red);
        assert_eq!(ids(&d.update), vec![1, 3, 4]);

        // Shrinking back: subscriber 2 leaves.
        let d = update_delta(&after, &typhoon, &before, &typhoon);
        assert_eq!(ids(&d.all_clear), vec![2]);
        assert!(d.alert.is_empty());

        // A new instruction is material; a repeated one is not.
        let mut told = typhoon.clone();
        told.instruction = Some("evacuate".into());
        assert!(is_material(&typhoon, &told));
        assert!(!is_material(&told, &told));
        assert!(!is_material(&red, &typhoon), "going down is not material");
    }

    #[test]
    fn cancel_reaches_previous_recipients_and_late_places() {
        let (index, prefs) = sample_index();
        let codes = TestCodes::new();
        let ctx = MatchContext {
            index: &index,
            preferences: &prefs,
            codes: &codes,
        };
        let typhoon = facts(HazardKind::Typhoon);
        let areas = ctx
            .prepare(&[AreaSpec {
                polygons: vec![square(120.0, 23.0, 0.19)],
                ..AreaSpec::default()
            }])
            .unwrap();
        let recipients = ctx.recipients(&typhoon, &areas);
        let mut active = ActiveAlerts::default();
        let key = MessageKey {
            sender: "cwa".into(),
            identifier: "1".into(),
            sent: "t".into(),
        };
        active.put(
            key.clone(),
            ActiveAlert::new(typhoon.clone(), areas, recipients.clone()),
        );

        // A new place inside is warned at once; one outside is not.
        let newcomer = record(9, 0, point(120.01, 23.01, None), 0);
        let found = active.match_place(&newcomer, &Preferences::default(), &codes, true);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, key);
        let outsider = record(10, 0, point(122.0, 23.01, None), 0);
        assert!(
            active
                .match_place(&outsider, &Preferences::default(), &codes, true)
                .is_empty()
        );

        let ended = active.end(&key).unwrap();
        let d = end_delta(&ended.all_recipients());
        assert_eq!(ids(&d.all_clear), vec![1, 3, 4, 9]);
        assert!(d.alert.is_empty() && d.update.is_empty());
        assert!(active.is_empty());
    }
}
