//! Who an alert reaches: each subscriber once, with all its matching
//! places.

use cap::Intensity;

use crate::area::{AreaError, AreaSpec, PreparedArea, Presence};
use crate::codes::AreaCodes;
use crate::index::{Hit, PlaceIndex, SubscriberId};
use crate::prefs::{AlertFacts, Preferences};
use crate::search::SearchScratch;

/// One matching place of a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaceMatch {
    pub place: u8,
    pub presence: Presence,
    /// The highest local intensity of the alert's areas holding the place.
    pub intensity: Option<Intensity>,
}

/// Recipients sorted by subscriber; each appears once, with its places
/// sorted by place number. Stored flat (about 8 bytes per subscriber and
/// 4 per place) because a whole-country alert lists everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipients {
    subscribers: Vec<SubscriberId>,
    /// `places[offsets[i]..offsets[i + 1]]` are subscriber `i`'s.
    offsets: Vec<u32>,
    places: Vec<PlaceMatch>,
}

impl Recipients {
    /// Number of subscribers.
    pub fn len(&self) -> usize {
        self.subscribers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
    }

    /// Number of places over all subscribers.
    pub fn place_count(&self) -> usize {
        self.places.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (SubscriberId, &[PlaceMatch])> + '_ {
        self.subscribers
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, self.places_of_nth(i)))
    }

    fn places_of_nth(&self, i: usize) -> &[PlaceMatch] {
        &self.places[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// The places of one subscriber, if it is a recipient.
    pub fn get(&self, subscriber: SubscriberId) -> Option<&[PlaceMatch]> {
        self.subscribers
            .binary_search(&subscriber)
            .ok()
            .map(|i| self.places_of_nth(i))
    }

    /// Builds from (subscriber, place) entries in any order; repeated
    /// places merge (inside beats may-be, the highest intensity wins).
    pub fn from_entries(mut entries: Vec<(SubscriberId, PlaceMatch)>) -> Recipients {
        entries.sort_unstable_by_key(|(s, p)| (*s, p.place));
        let mut out = RecipientsBuilder::default();
        for (s, p) in entries {
            out.push(s, p);
        }
        out.finish()
    }
}

/// Appends recipients in subscriber order.
#[derive(Debug, Default)]
pub(crate) struct RecipientsBuilder {
    r: Recipients,
}

impl RecipientsBuilder {
    /// `subscriber` must not be below the last one pushed.
    pub(crate) fn push(&mut self, subscriber: SubscriberId, place: PlaceMatch) {
        let r = &mut self.r;
        if r.subscribers.last() != Some(&subscriber) {
            r.subscribers.push(subscriber);
            r.offsets.push(r.places.len() as u32);
        } else if let Some(last) = r.places.last_mut()
            && last.place == place.place
        {
            last.presence = last.presence.max(place.presence);
            last.intensity = last.intensity.max(place.intensity);
            return;
        }
        r.places.push(place);
    }

    pub(crate) fn finish(mut self) -> Recipients {
        self.r.offsets.push(self.r.places.len() as u32);
        self.r
    }
}

/// Everything a match needs besides the alert.
pub struct MatchContext<'a> {
    pub index: &'a PlaceIndex,
    /// Indexed by [`crate::PrefsRef`]; a reference past the end gets the
    /// default preferences (warn of everything), never silence.
    pub preferences: &'a [Preferences],
    pub codes: &'a dyn AreaCodes,
}

impl MatchContext<'_> {
    fn prefs(&self, r: u32) -> &Preferences {
        static DEFAULT: std::sync::OnceLock<Preferences> = std::sync::OnceLock::new();
        self.preferences
            .get(r as usize)
            .unwrap_or_else(|| DEFAULT.get_or_init(Preferences::default))
    }

    /// Prepares every area of an alert; the first unresolvable one is the
    /// error.
    pub fn prepare(&self, areas: &[AreaSpec]) -> Result<Vec<PreparedArea>, AreaError> {
        areas
            .iter()
            .map(|a| PreparedArea::prepare(a, self.codes))
            .collect()
    }

    /// The recipients of an alert over its prepared areas: every place
    /// inside any area (or that may be affected) whose preferences accept
    /// the alert, grouped by subscriber.
    ///
    /// Cost: the searches (see [`crate::search`]) plus a sort of the
    /// matching places, O(k log k) for k matches.
    pub fn recipients(&self, facts: &AlertFacts, areas: &[PreparedArea]) -> Recipients {
        let index = self.index;
        let mut scratch = SearchScratch::default();
        let mut hits: Vec<Hit> = Vec::new();
        let mut entries: Vec<(SubscriberId, PlaceMatch)> = Vec::new();
        for area in areas {
            hits.clear();
            for (polygon, _) in &area.polygons {
                index.search_polygon(polygon, &mut scratch, &mut hits);
            }
            for circle in &area.circles {
                index.search_circle(circle, &mut hits);
            }
            if !area.villages.is_empty() {
                index.search_villages(&area.villages, &mut hits);
            }
            for &h in &hits {
                let place = index.place(h);
                if self.prefs(place.prefs.0).accepts(facts, area.intensity) {
                    entries.push((
                        place.key.subscriber,
                        PlaceMatch {
                            place: place.key.place,
                            presence: Presence::Inside,
                            intensity: area.intensity,
                        },
                    ));
                }
            }
            for c in &index.coarse {
                if let Some(presence) = area.coarse_presence(c.area, self.codes)
                    && self.prefs(c.prefs.0).accepts(facts, area.intensity)
                {
                    entries.push((
                        c.key.subscriber,
                        PlaceMatch {
                            place: c.key.place,
                            presence,
                            intensity: area.intensity,
                        },
                    ));
                }
            }
        }
        Recipients::from_entries(entries)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::area::tests::{TestCodes, geocode, square, village};
    use crate::index::{Location, PlaceKey, PlaceRecord, PrefsRef};
    use crate::prefs::tests::facts;
    use cap::{HazardKind, Intensity};

    pub(crate) fn record(
        subscriber: u32,
        place: u8,
        location: Location,
        prefs: u32,
    ) -> PlaceRecord {
        PlaceRecord {
            key: PlaceKey {
                subscriber: SubscriberId(subscriber),
                place,
            },
            location,
            prefs: PrefsRef(prefs),
        }
    }

    pub(crate) fn point(lon: f64, lat: f64, v: Option<u64>) -> Location {
        Location::Point {
            lon,
            lat,
            village: v.map(village),
        }
    }

    /// Subscriber 1: home in village 1, work in village 2. Subscriber 2:
    /// home in village 3 (threshold 5弱). Subscriber 3: known only to
    /// village 2. Subscriber 4: known only to the town. Subscriber 5: far
    /// away.
    pub(crate) fn sample_index() -> (PlaceIndex, Vec<Preferences>) {
        let records = vec![
            record(1, 0, point(120.05, 23.05, Some(10000010001)), 0),
            record(1, 1, point(120.15, 23.05, Some(10000010002)), 0),
            record(2, 0, point(120.25, 23.05, Some(10000010003)), 1),
            record(3, 0, Location::Village(village(10000010002)), 0),
            record(4, 0, Location::Town(village(10000010002).town()), 0),
            record(5, 0, point(121.05, 23.05, Some(10000020001)), 0),
        ];
        let prefs = vec![
            Preferences::default(),
            Preferences {
                min_intensity: Some(Intensity::I5Lower),
                ..Preferences::default()
            },
        ];
        (PlaceIndex::build(records).unwrap(), prefs)
    }

    fn subscribers(r: &Recipients) -> Vec<u32> {
        r.iter().map(|(s, _)| s.0).collect()
    }

    #[test]
    fn each_subscriber_once_with_all_its_places() {
        let (index, prefs) = sample_index();
        let codes = TestCodes::new();
        let ctx = MatchContext {
            index: &index,
            preferences: &prefs,
            codes: &codes,
        };
        // Two overlapping areas over villages 1–2.
        let areas = ctx
            .prepare(&[
                AreaSpec {
                    polygons: vec![square(120.0, 23.0, 0.2)],
                    ..AreaSpec::default()
                },
                AreaSpec {
                    geocodes: vec![geocode("VILLCODE", "10000010001")],
                    ..AreaSpec::default()
                },
            ])
            .unwrap();
        let r = ctx.recipients(&facts(HazardKind::Typhoon), &areas);
        assert_eq!(subscribers(&r), vec![1, 3, 4]);
        let places = r.get(SubscriberId(1)).unwrap();
        assert_eq!(
            places.iter().map(|p| p.place).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!(places.iter().all(|p| p.presence == Presence::Inside));
        assert_eq!(
            r.get(SubscriberId(3)).unwrap()[0].presence,
            Presence::MayBeAffected
        );
        assert_eq!(
            r.get(SubscriberId(4)).unwrap()[0].presence,
            Presence::MayBeAffected
        );
    }

    #[test]
    fn earthquake_intensity_comes_from_the_place_area() {
        let (index, prefs) = sample_index();
        let codes = TestCodes::new();
        let ctx = MatchContext {
            index: &index,
            preferences: &prefs,
            codes: &codes,
        };
        let spec = |code: &str, i| AreaSpec {
            geocodes: vec![geocode("VILLCODE", code)],
            intensity: Some(i),
            ..AreaSpec::default()
        };
        let quake = facts(HazardKind::Earthquake);
        let weak = ctx
            .prepare(&[
                spec("10000010001", Intensity::I5Upper),
                spec("10000010003", Intensity::I4),
            ])
            .unwrap();
        // 4 is known only to the town, which holds the named villages.
        assert_eq!(
            subscribers(&ctx.recipients(&quake, &weak)),
            vec![1, 4],
            "2 wants 5弱 and up"
        );
        let strong = ctx
            .prepare(&[spec("10000010003", Intensity::I5Lower)])
            .unwrap();
        let r = ctx.recipients(&quake, &strong);
        assert_eq!(subscribers(&r), vec![2, 4]);
        assert_eq!(
            r.get(SubscriberId(2)).unwrap()[0].intensity,
            Some(Intensity::I5Lower)
        );
    }

    #[test]
    fn an_unknown_code_fails_the_alert() {
        let (index, prefs) = sample_index();
        let codes = TestCodes::new();
        let ctx = MatchContext {
            index: &index,
            preferences: &prefs,
            codes: &codes,
        };
        let bad = AreaSpec {
            geocodes: vec![geocode("TOWNCODE", "99999999")],
            ..AreaSpec::default()
        };
        assert!(ctx.prepare(&[bad]).is_err());
    }
}
