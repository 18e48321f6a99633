//! People who join while an alert is in force: someone who subscribes,
//! adds or moves a place, or shares a location inside a warned area is told
//! at once — the message everyone got, marked "in force since" — instead of
//! waiting for the alert's next change. People sign up during typhoons.

use chrono::{DateTime, Utc};
use matcher::recipients::PlaceMatch;
use matcher::{Location, Presence, SubscriberId};
use notifier::notice::NoticeKind;

use crate::told::{self, Seen, ToldState};
use crate::{Engine, EngineError, Outcome, Tell, place_records, seriousness};

impl Engine {
    /// Tells the subscriber of every alert in force that covers one of
    /// their places and passes their preferences, unless they were told of
    /// it already (once per alert: see [`told`]). One outcome per alert
    /// told; empty for an unknown pseudonym.
    pub fn tell_in_force(
        &mut self,
        pseudonym: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, EngineError> {
        let Some(position) = self.directory.position(pseudonym) else {
            return Ok(Vec::new());
        };
        let subscriber = SubscriberId(position);
        let Some(person) = self.directory.get(position) else {
            return Ok(Vec::new());
        };
        let records = place_records(&self.atlas, subscriber, person);
        let prefs = self
            .preferences
            .get(position as usize)
            .cloned()
            .unwrap_or_default();
        let mut outcomes = Vec::new();
        let mut told_now = Vec::new();
        for (key, alert) in &self.in_force {
            if alert.told.contains_key(&subscriber) {
                continue;
            }
            // The most serious unit that reaches one of their places.
            let best = alert
                .units
                .iter()
                .enumerate()
                .filter_map(|(i, unit)| {
                    let places: Vec<PlaceMatch> = records
                        .iter()
                        .filter_map(|record| {
                            let Location::Point { lon, lat, village } = record.location else {
                                return None;
                            };
                            unit.areas
                                .iter()
                                .filter(|area| area.covers_point(lon, lat, village))
                                .filter(|area| prefs.accepts(&unit.facts, area.intensity()))
                                .map(|area| area.intensity())
                                .max()
                                .map(|intensity| PlaceMatch {
                                    place: record.key.place,
                                    presence: Presence::Inside,
                                    intensity,
                                })
                        })
                        .collect();
                    (!places.is_empty()).then_some((i, places))
                })
                .max_by_key(|(i, _)| seriousness(&alert.units[*i].facts));
            let Some((unit, places)) = best else {
                continue;
            };
            let place = places[0].place;
            let state = ToldState {
                place,
                seen: Seen {
                    unit: alert.units[unit].digest,
                    places: told::places_digest(&places),
                },
                at: now,
                lowered: false,
            };
            let tell = Tell {
                subscriber,
                place,
                unit: Some(unit),
                kind: Some(NoticeKind::New),
                label: "alert",
                state: Some(state),
            };
            let mut outcome = self.deliver(
                key,
                alert.exercise,
                &alert.units,
                &[tell],
                Some(alert.since),
                now,
            )?;
            outcome.in_force = Some(key.clone());
            outcome.remembered = vec![(person.pseudonym.clone(), state)];
            outcomes.push(outcome);
            told_now.push((key.clone(), state));
        }
        for (key, state) in told_now {
            if let Some(alert) = self.in_force.get_mut(&key) {
                alert.told.insert(subscriber, state);
            }
        }
        Ok(outcomes)
    }
}
