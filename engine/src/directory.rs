//! Who is subscribed: each person's places, language, addresses and
//! preferences, held in memory for the engine. (The durable subscriber
//! store belongs to the service; this is what the engine needs of it.)
//!
//! Subscribers come and go while the service runs. Each keeps the position
//! (the matcher's subscriber id) it was first given: positions are never
//! reused, so an alert's remembered recipients can never name a newcomer
//! who took a departed person's place.

use std::collections::HashMap;
use std::fmt;

use cap::HazardKind;
use matcher::prefs::{KindSet, Preferences};
use notifier::Locale;
use notifier::notice::Address;
use notifier::policy::QuietHours;

/// A registered place: a name the person gave it and a point.
#[derive(Clone)]
pub struct Place {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

impl fmt::Debug for Place {
    // A place is where someone lives or works: personal data, never logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Place").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Subscriber {
    /// Pseudonymous id: what delivery records and logs may carry.
    pub pseudonym: String,
    pub locale: Locale,
    pub addresses: Vec<Address>,
    pub places: Vec<Place>,
    pub preferences: Preferences,
    pub quiet_hours: Option<QuietHours>,
}

/// Subscribers by position; the position is the matcher's subscriber id.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    /// None where a subscriber was removed.
    slots: Vec<Option<Subscriber>>,
    by_pseudonym: HashMap<String, u32>,
    live: usize,
}

impl Directory {
    /// A directory of `subscribers`; a later duplicate pseudonym replaces
    /// the earlier one.
    pub fn new(subscribers: Vec<Subscriber>) -> Directory {
        let mut directory = Directory::default();
        for subscriber in subscribers {
            let id = directory
                .position(&subscriber.pseudonym)
                .unwrap_or_else(|| directory.next_position());
            directory.put(id, subscriber);
        }
        directory
    }

    /// Every present subscriber with its position.
    pub fn slots(&self) -> impl Iterator<Item = (u32, &Subscriber)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as u32, s)))
    }

    /// Preferences by position (defaults where a subscriber was removed),
    /// as the matcher's `PrefsRef` indexes them.
    pub fn preferences(&self) -> Vec<Preferences> {
        self.slots
            .iter()
            .map(|s| {
                s.as_ref()
                    .map(|s| s.preferences.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    pub fn get(&self, id: u32) -> Option<&Subscriber> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    /// The position of the subscriber with this pseudonym.
    pub fn position(&self, pseudonym: &str) -> Option<u32> {
        self.by_pseudonym.get(pseudonym).copied()
    }

    /// The position a new subscriber gets.
    pub fn next_position(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Puts `subscriber` at `id` (a position from [`Directory::position`]
    /// or [`Directory::next_position`]).
    pub fn put(&mut self, id: u32, subscriber: Subscriber) {
        let slot = id as usize;
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        if self.slots[slot].is_none() {
            self.live += 1;
        }
        self.by_pseudonym.insert(subscriber.pseudonym.clone(), id);
        self.slots[slot] = Some(subscriber);
    }

    /// Empties the position; it is not reused.
    pub fn remove(&mut self, id: u32) -> Option<Subscriber> {
        let removed = self.slots.get_mut(id as usize).and_then(Option::take)?;
        self.live -= 1;
        self.by_pseudonym.remove(&removed.pseudonym);
        Some(removed)
    }

    /// Subscribers present.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Synthetic subscribers spread over the villages of `atlas`, for the
    /// demo: deterministic for a given `count`, every locale represented,
    /// about one in five with a second place (work, parents), one in ten
    /// opted in to exercises, one in eight with an earthquake threshold of
    /// 5弱. Everyone listens on the live page.
    pub fn synthetic(atlas: &geodata::Atlas, count: usize) -> Directory {
        let villages: Vec<_> = atlas
            .villages()
            .iter()
            .filter_map(|v| v.label_point.map(|p| (v, p)))
            .collect();
        if villages.is_empty() {
            return Directory::default();
        }
        let mut rng = SplitMix(0x4841_5a41_5244); // fixed seed: same people every run
        let subscribers = (0..count)
            .map(|i| {
                let mut places = Vec::new();
                let extra = usize::from(rng.below(5) == 0);
                let locale = Locale::ALL[i % Locale::ALL.len()];
                for label in [PlaceLabel::Home, PlaceLabel::Work]
                    .into_iter()
                    .take(1 + extra)
                {
                    let (village, point) = villages[rng.below(villages.len() as u64) as usize];
                    // Jitter around the village's interior point, kept small so
                    // the place stays in that village in the demo's grid.
                    let lon = point.x + (rng.unit() - 0.5) * 0.01;
                    let lat = point.y + (rng.unit() - 0.5) * 0.01;
                    places.push(Place {
                        name: label.name(locale, village),
                        lon,
                        lat,
                    });
                }
                let mut preferences = Preferences {
                    kinds: KindSet::ALL,
                    ..Preferences::default()
                };
                preferences.exercises = rng.below(10) == 0;
                if rng.below(8) == 0 {
                    preferences.min_intensity = Some(cap::Intensity::I5Lower);
                }
                if rng.below(12) == 0 {
                    preferences.kinds = KindSet::of(&[HazardKind::Earthquake, HazardKind::Tsunami]);
                }
                Subscriber {
                    pseudonym: format!("demo-{i:05}"),
                    locale,
                    addresses: vec![Address::Live],
                    places,
                    preferences,
                    quiet_hours: None,
                }
            })
            .collect();
        Directory::new(subscribers)
    }
}

/// What the synthetic people call their places.
#[derive(Clone, Copy)]
enum PlaceLabel {
    Home,
    Work,
}

impl PlaceLabel {
    /// "家（溪源村）" for Chinese readers, "Home (Xiyuan Vil.)" for others:
    /// people name their own places in their own language.
    fn name(self, locale: Locale, village: &geodata::Area) -> String {
        match (locale, &village.name_en) {
            (Locale::ZhTw, _) | (_, None) => {
                let label = match self {
                    PlaceLabel::Home => "家",
                    PlaceLabel::Work => "公司",
                };
                format!("{label}（{}）", village.name)
            }
            (_, Some(english)) => {
                let label = match self {
                    PlaceLabel::Home => "Home",
                    PlaceLabel::Work => "Work",
                };
                format!("{label} ({english})")
            }
        }
    }
}

/// A tiny deterministic generator (SplitMix64): the demo needs repeatable
/// people, not statistical quality.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
