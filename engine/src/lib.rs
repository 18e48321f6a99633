//! The alert engine: from a change in the set of alerts in force (ingest's
//! [`LifecycleEvent`]) to the deliveries to queue (notifier's [`Delivery`]),
//! through the matcher.
//!
//! Steps, for each event:
//! 1. Read the alert's *units*: the `<info>` blocks of its primary language
//!    (zh-TW when present, else the first block's). Each unit has its own
//!    facts (hazard, colour, severity, …) and areas, because agencies put
//!    different levels for different areas into separate blocks.
//! 2. Match every unit; a subscriber inside several units is told once, at
//!    the most serious unit's level.
//! 3. For an Update, tell the newly inside the alert, those still inside the
//!    update when something material changed, and those who left the
//!    all-clear; for a Cancel or expiry, tell exactly the previous
//!    recipients the all-clear.
//! 4. Render one message per recipient in their language, naming their own
//!    place and the nearest suitable shelter, and fan out to every address.
//!
//! It holds the matcher's index and the active alerts; it does no I/O.
//! It is not the service: no HTTP, storage, queue or clock of its own —
//! the `hazardline` binary feeds it events and queues what it returns.

mod codes;
mod directory;
mod late;
pub mod preview;
pub mod relay;
pub mod restore;
pub mod told;

use std::collections::BTreeMap;
use std::sync::Arc;

use cap::hazard::{classify, info_colour, info_hazard, local_intensities};
use cap::{Alert, HazardKind, Info, Intensity, MessageKey, Status};
use chrono::{DateTime, FixedOffset, Utc};
use geodata::Atlas;
use geodata::shelters::{ShelterFilter, ShelterIndex};
use ingest::lifecycle::LifecycleEvent;
use matcher::area::{AreaError, AreaSpec, PreparedArea};
use matcher::codes::VillageCode;
use matcher::prefs::{AlertFacts, RainfallLevel};
use matcher::recipients::{MatchContext, PlaceMatch, Recipients};
use matcher::{Location, PlaceIndex, PlaceKey, PlaceRecord, PrefsRef, SubscriberId};
use notifier::channel::AlertFacts as NoticeFacts;
use notifier::channel::Delivery;
use notifier::notice::{AlertVersion, NoticeKind, RecipientPlace, ShelterInfo};
use notifier::policy::loudness;
use notifier::render::Message;
use notifier::{Notice, Recipient, Renderer};

pub use codes::AtlasCodes;
pub use directory::{Directory, Place, Subscriber};
pub use told::ToldState;
use told::{Next, Seen, ToldMap};

/// Ended alerts remembered for recovery: weeks of a busy season's alerts.
const RECENTLY_ENDED_KEPT: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("alert {alert}: {source}")]
    Area {
        alert: String,
        #[source]
        source: Box<AreaError>,
    },
    #[error("subscriber index: {0}")]
    Index(#[from] matcher::index::IndexError),
    #[error("rendering: {0}")]
    Render(#[from] notifier::RenderError),
    #[error("subscriber has {0} places; at most 256 are indexed")]
    TooManyPlaces(usize),
}

/// What one event produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `sender,identifier,sent` of the alert the event is about.
    pub alert: MessageKey,
    pub exercise: bool,
    /// Subscribers told, per kind of notice.
    pub told: BTreeMap<&'static str, usize>,
    /// Subscribers an Update did not tell because it was a true repeat
    /// for them (see [`told`]).
    pub coalesced: usize,
    pub deliveries: Vec<Delivery>,
    /// One entry per subscriber told, with the message in their language:
    /// for their inbox and their list of current alerts.
    pub notices: Vec<Told>,
    /// Keys of the alerts this event ended or replaced (the previous
    /// versions of an Update, the cancelled or expired alerts).
    pub ended: Vec<MessageKey>,
    /// The key of the alert in force after this event, if any (New and
    /// Update).
    pub in_force: Option<MessageKey>,
    /// What each person (by pseudonym) has now been told of `in_force`:
    /// every one after a New or an Update, the newly told otherwise. For
    /// the store, with `ended`, so that a restart tells the same.
    pub remembered: Vec<(String, ToldState)>,
    /// The public notice of the event for the live page: one per language,
    /// naming the warned areas, never anyone's place (subscriber `public`,
    /// address `Live`).
    pub public: Vec<Delivery>,
}

/// The subscriber id of public notices on the live feed.
pub const PUBLIC_SUBSCRIBER: &str = "public";

/// What one subscriber was told about one alert version.
#[derive(Debug, Clone)]
pub struct Told {
    /// The subscriber's pseudonymous id.
    pub subscriber: String,
    pub facts: NoticeFacts,
    /// Rendered in the subscriber's language, without length budgets.
    pub message: Message,
    /// The name of the subscriber's place the alert is about.
    pub place: String,
    pub shelter: Option<ShelterInfo>,
}

/// One unit of an alert: one `<info>` of the primary language.
struct Unit {
    facts: AlertFacts,
    notice: Notice,
    areas: Vec<PreparedArea>,
    /// What a person reads of this unit, reduced ([`told::unit_digest`]).
    digest: u64,
    /// Who this unit reaches (filled by `match_units`; emptied once the
    /// alert is kept in force).
    recipients: Recipients,
}

/// An alert in force as the engine keeps it.
struct InForce {
    /// Its units, their recipient lists emptied.
    units: Vec<Unit>,
    /// Everyone told of it, and what.
    told: ToldMap,
    /// When it came into force (CAP `sent`), for those told late.
    since: DateTime<FixedOffset>,
    exercise: bool,
    /// Its relief steps were composed once: a repeated declaration of
    /// recovery queues nothing new (the queue drops the repeats) and
    /// writes no second inbox entry.
    relief_told: bool,
}

impl InForce {
    /// The facts of its most serious unit.
    fn facts(&self) -> Option<&AlertFacts> {
        most_serious(&self.units)
    }
}

/// Whom to tell what, decided before rendering.
#[derive(Debug, Clone, Copy)]
struct Tell {
    subscriber: SubscriberId,
    /// The place (index into their places) the message names.
    place: u8,
    /// The unit whose words they read; `None`: the alert's most serious.
    unit: Option<usize>,
    /// `None`: the unit's own kind (an Update is told as New to those
    /// hearing of it for the first time).
    kind: Option<NoticeKind>,
    label: &'static str,
    /// What they will have been told, for the alert's told map (`None` for
    /// an all-clear: they leave it).
    state: Option<ToldState>,
}

pub struct Engine {
    atlas: Arc<Atlas>,
    shelters: ShelterIndex,
    directory: Directory,
    index: PlaceIndex,
    preferences: Vec<matcher::prefs::Preferences>,
    /// The alerts in force, by key, with everyone they told.
    in_force: BTreeMap<MessageKey, InForce>,
    renderer: Renderer,
    link_base: String,
    /// Shelters an office has closed: never suggested (see `relay.rs`).
    closed_shelters: std::collections::BTreeSet<String>,
    /// Alerts that ended (replaced, cancelled, expired), newest last, with
    /// everyone they told: recovery and relief steps come after the end.
    recently_ended: std::collections::VecDeque<(MessageKey, InForce)>,
}

impl Engine {
    /// Indexes every subscriber place, placing each in its village.
    pub fn new(
        atlas: impl Into<Arc<Atlas>>,
        shelters: ShelterIndex,
        directory: Directory,
        link_base: impl Into<String>,
    ) -> Result<Engine, EngineError> {
        let atlas = atlas.into();
        let mut records = Vec::new();
        for (i, subscriber) in directory.slots() {
            if subscriber.places.len() > PLACES_PER_SUBSCRIBER {
                return Err(EngineError::TooManyPlaces(subscriber.places.len()));
            }
            records.extend(place_records(&atlas, SubscriberId(i), subscriber));
        }
        let index = PlaceIndex::build(records)?;
        let preferences = directory.preferences();
        Ok(Engine {
            atlas,
            shelters,
            directory,
            index,
            preferences,
            in_force: BTreeMap::new(),
            renderer: Renderer::new()?,
            link_base: link_base.into(),
            closed_shelters: Default::default(),
            recently_ended: Default::default(),
        })
    }

    /// Alerts currently in force, by key.
    pub fn active_count(&self) -> usize {
        self.in_force.len()
    }

    /// Subscribers known to the engine.
    pub fn subscriber_count(&self) -> usize {
        self.directory.len()
    }

    /// Adds a subscriber, or replaces the one with the same pseudonym
    /// (places, preferences, addresses, language). Alerts already in force
    /// are not re-matched: a new place hears of the next change.
    pub fn upsert_subscriber(&mut self, subscriber: Subscriber) -> Result<(), EngineError> {
        if subscriber.places.len() > PLACES_PER_SUBSCRIBER {
            return Err(EngineError::TooManyPlaces(subscriber.places.len()));
        }
        let (id, previous_places) = match self.directory.position(&subscriber.pseudonym) {
            Some(id) => (id, self.directory.get(id).map_or(0, |s| s.places.len())),
            None => (self.directory.next_position(), 0),
        };
        for place in 0..previous_places {
            self.index.remove(PlaceKey {
                subscriber: SubscriberId(id),
                place: place as u8,
            })?;
        }
        for record in place_records(&self.atlas, SubscriberId(id), &subscriber) {
            self.index.upsert(record)?;
        }
        let slot = id as usize;
        if self.preferences.len() <= slot {
            self.preferences
                .resize(slot + 1, matcher::prefs::Preferences::default());
        }
        self.preferences[slot] = subscriber.preferences.clone();
        self.directory.put(id, subscriber);
        Ok(())
    }

    /// Forgets a subscriber entirely: places leave the index, and nothing
    /// more is sent to them, not even the all-clear of an alert in force.
    /// Returns false if the pseudonym is unknown.
    pub fn remove_subscriber(&mut self, pseudonym: &str) -> bool {
        let Some(id) = self.directory.position(pseudonym) else {
            return false;
        };
        let places = self.directory.get(id).map_or(0, |s| s.places.len());
        for place in 0..places {
            let key = PlaceKey {
                subscriber: SubscriberId(id),
                place: place as u8,
            };
            if let Err(error) = self.index.remove(key) {
                // Only compaction can fail here; the place is already out
                // of the live set, so matching stays right.
                tracing::warn!(%error, "index compaction after a removal failed");
            }
        }
        self.directory.remove(id);
        true
    }

    /// Turns one lifecycle event into deliveries, by the rule of [`told`].
    pub fn handle(
        &mut self,
        event: &LifecycleEvent,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        match event {
            LifecycleEvent::New(alert) => {
                let mut units = self.units_of(alert)?;
                let recipients = self.match_units(&mut units);
                let tells: Vec<Tell> = recipients
                    .iter()
                    .map(|(subscriber, places)| {
                        told_anew(&units, subscriber, places, None, "alert", now)
                    })
                    .collect();
                let mut outcome = self.deliver_event(alert, &units, &tells, now)?;
                let told = told_map(&tells, ToldMap::new());
                outcome.remembered = self.pseudonymous(&told);
                self.keep(alert, units, told);
                outcome.in_force = Some(alert_key(alert));
                Ok(outcome)
            }
            LifecycleEvent::Updated { previous, current } => {
                let before = self.end_all(previous);
                let mut units = self.units_of(current)?;
                let recipients = self.match_units(&mut units);
                let mut tells = Vec::new();
                let mut held = ToldMap::new();
                for (subscriber, places) in recipients.iter() {
                    let unit = serious_unit_for(&units, subscriber);
                    let seen = seen_of(&units, unit, places);
                    let told_before = before.get(&subscriber);
                    match told::next_for(told_before, seen, now) {
                        Next::Alert => {
                            tells.push(told_anew(&units, subscriber, places, None, "alert", now))
                        }
                        Next::Update => tells.push(told_anew(
                            &units,
                            subscriber,
                            places,
                            Some(NoticeKind::Update),
                            "update",
                            now,
                        )),
                        Next::Held => {
                            if let Some(state) = told_before {
                                held.insert(subscriber, *state);
                            }
                        }
                    }
                }
                let coalesced = held.len();
                for (&subscriber, state) in &before {
                    if recipients.get(subscriber).is_some() {
                        continue;
                    }
                    match self.covering_unit(&units, subscriber) {
                        // Still inside, below their threshold: lowered once.
                        Some(_) if state.lowered => {
                            held.insert(subscriber, *state);
                        }
                        Some(unit) => tells.push(Tell {
                            subscriber,
                            place: state.place,
                            unit: Some(unit),
                            kind: Some(NoticeKind::Lowered),
                            label: "lowered",
                            state: Some(ToldState {
                                seen: Seen {
                                    unit: units[unit].digest,
                                    places: state.seen.places,
                                },
                                at: now,
                                lowered: true,
                                ..*state
                            }),
                        }),
                        None => tells.push(all_clear(subscriber, state)),
                    }
                }
                let mut outcome = self.deliver_event(current, &units, &tells, now)?;
                outcome.coalesced = coalesced;
                let told = told_map(&tells, held);
                outcome.remembered = self.pseudonymous(&told);
                self.keep(current, units, told);
                outcome.ended = previous.iter().map(alert_key).collect();
                outcome.in_force = Some(alert_key(current));
                Ok(outcome)
            }
            LifecycleEvent::Cancelled { previous, cancel } => {
                let before = self.end_all(previous);
                let units = self.units_of(cancel)?;
                let tells: Vec<Tell> = before.iter().map(|(s, t)| all_clear(*s, t)).collect();
                let mut outcome = self.deliver_event(cancel, &units, &tells, now)?;
                outcome.ended = previous.iter().map(alert_key).collect();
                Ok(outcome)
            }
            LifecycleEvent::Expired(alert) => {
                let before = self.end_all(std::slice::from_ref(alert));
                let mut units = self.units_of(alert)?;
                // The all-clear of an expiry is a message of its own: under
                // the alert's own version the delivery queue would take it
                // for the alert already sent and drop it.
                let version = AlertVersion::expired(&alert_key(alert));
                for unit in &mut units {
                    unit.notice.kind = NoticeKind::AllClear;
                    unit.notice.alert = version.clone();
                }
                let tells: Vec<Tell> = before.iter().map(|(s, t)| all_clear(*s, t)).collect();
                let mut outcome = self.deliver_event(alert, &units, &tells, now)?;
                outcome.ended = vec![alert_key(alert)];
                Ok(outcome)
            }
        }
    }

    fn units_of(&self, alert: &Alert) -> Result<Vec<Unit>, EngineError> {
        let classification = classify(alert);
        let key = alert_key(alert);
        let codes = AtlasCodes::new(&self.atlas);
        let primary = primary_language(alert);
        let mut units = Vec::new();
        for info in alert
            .infos
            .iter()
            .filter(|i| Some(i.language_key()) == primary)
        {
            let hazard = info_hazard(info);
            let colour = info_colour(info);
            let facts = facts_of(alert, info, hazard, colour);
            let specs: Vec<AreaSpec> = info
                .areas
                .iter()
                .map(|area| AreaSpec::from_cap(area, area_intensity(info, area)))
                .collect();
            let ctx = MatchContext {
                index: &self.index,
                preferences: &self.preferences,
                codes: &codes,
            };
            let areas = ctx.prepare(&specs).map_err(|source| EngineError::Area {
                alert: key.to_string(),
                source: Box::new(source),
            })?;
            let mut notice = Notice::from_alert(
                alert,
                AlertVersion::from(&key),
                hazard,
                colour,
                format!("{}/{}", self.link_base, alert.identifier),
            )
            .unwrap_or_else(|| unreachable_notice(&key, hazard, colour));
            notice.exercise = classification.exercise;
            units.push(Unit {
                digest: told::unit_digest(&facts, notice.expires),
                facts,
                notice,
                areas,
                recipients: Recipients::default(),
            });
        }
        Ok(units)
    }

    /// Matches every unit (keeping each unit's own recipients) and returns
    /// everyone reached, each subscriber once.
    fn match_units(&self, units: &mut [Unit]) -> Recipients {
        let codes = AtlasCodes::new(&self.atlas);
        let ctx = MatchContext {
            index: &self.index,
            preferences: &self.preferences,
            codes: &codes,
        };
        let mut entries: Vec<(SubscriberId, PlaceMatch)> = Vec::new();
        for unit in units.iter_mut() {
            unit.recipients = ctx.recipients(&unit.facts, &unit.areas);
            collect_into(&mut entries, &unit.recipients);
        }
        Recipients::from_entries(entries)
    }

    /// The told map by pseudonym, for the store.
    fn pseudonymous(&self, told: &ToldMap) -> Vec<(String, ToldState)> {
        told.iter()
            .filter_map(|(subscriber, state)| {
                let person = self.directory.get(subscriber.0)?;
                Some((person.pseudonym.clone(), *state))
            })
            .collect()
    }

    /// Keeps `alert` in force with everyone it told.
    fn keep(&mut self, alert: &Alert, mut units: Vec<Unit>, told: ToldMap) {
        for unit in &mut units {
            unit.recipients = Recipients::default();
        }
        if units.is_empty() {
            return;
        }
        self.in_force.insert(
            alert_key(alert),
            InForce {
                units,
                told,
                since: alert.sent,
                exercise: alert.status != Status::Actual,
                relief_told: false,
            },
        );
    }

    /// Ends the given alerts; returns everyone they told (for a person told
    /// by several, the most recent telling, and lowered only if lowered by
    /// all).
    fn end_all(&mut self, alerts: &[Alert]) -> ToldMap {
        let mut merged = ToldMap::new();
        for alert in alerts {
            let key = alert_key(alert);
            let Some(ended) = self.in_force.remove(&key) else {
                continue;
            };
            for (subscriber, state) in &ended.told {
                let entry = merged.entry(*subscriber).or_insert(*state);
                let lowered = entry.lowered && state.lowered;
                if state.at > entry.at {
                    *entry = *state;
                }
                entry.lowered = lowered;
            }
            if self.recently_ended.len() == RECENTLY_ENDED_KEPT {
                self.recently_ended.pop_front();
            }
            self.recently_ended.push_back((key, ended));
        }
        merged
    }

    /// The most serious unit whose area covers one of the subscriber's
    /// places, whatever their preferences: where a lowered alert still is.
    fn covering_unit(&self, units: &[Unit], subscriber: SubscriberId) -> Option<usize> {
        let person = self.directory.get(subscriber.0)?;
        let records = place_records(&self.atlas, subscriber, person);
        units
            .iter()
            .enumerate()
            .filter(|(_, unit)| {
                records.iter().any(|record| match record.location {
                    Location::Point { lon, lat, village } => unit
                        .areas
                        .iter()
                        .any(|area| area.covers_point(lon, lat, village)),
                    _ => false,
                })
            })
            .max_by_key(|(_, unit)| seriousness(&unit.facts))
            .map(|(i, _)| i)
    }

    /// Renders and fans out the tells of one lifecycle event, with its
    /// public notice.
    fn deliver_event(
        &self,
        alert: &Alert,
        units: &[Unit],
        tells: &[Tell],
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let mut outcome = self.deliver(
            &alert_key(alert),
            alert.status != Status::Actual,
            units,
            tells,
            None,
            now,
        )?;
        if let Some(base) = most_serious_unit(units) {
            outcome.public = self.public_notices(alert, &base.notice)?;
        }
        Ok(outcome)
    }

    /// Renders each tell in the person's language, naming their place and
    /// nearest shelter, and fans it out to every address they have.
    /// `since`: the alert was already in force when they joined.
    fn deliver(
        &self,
        key: &MessageKey,
        exercise: bool,
        units: &[Unit],
        tells: &[Tell],
        since: Option<DateTime<FixedOffset>>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let mut outcome = Outcome {
            alert: key.clone(),
            exercise,
            ..Outcome::default()
        };
        outcome.notices.reserve(tells.len());
        let Some(base) = most_serious_unit(units) else {
            return Ok(outcome);
        };
        for tell in tells {
            let Some(person) = self.directory.get(tell.subscriber.0) else {
                continue;
            };
            let unit = tell.unit.and_then(|i| units.get(i)).unwrap_or(base);
            let mut notice = unit.notice.clone();
            match tell.kind {
                Some(kind) => notice.kind = kind,
                // People told for the first time hear a new warning,
                // even when the agency sent it as an Update of a message
                // they never got (CWA updates its warnings in place).
                None if notice.kind == NoticeKind::Update => notice.kind = NoticeKind::New,
                None => {}
            }
            notice.in_force_since = since;
            let place = person.places.get(usize::from(tell.place));
            let recipient_place = RecipientPlace {
                name: place.map(|p| p.name.clone()).unwrap_or_default(),
                shelter: place.and_then(|p| self.nearest_shelter(p, notice.hazard)),
            };
            let (deliveries, told) = self.tell_one(&notice, person, recipient_place, now)?;
            outcome.notices.push(told);
            outcome.deliveries.extend(deliveries);
            *outcome.told.entry(tell.label).or_default() += 1;
        }
        Ok(outcome)
    }

    /// `notice` rendered once in the person's language, naming `place`:
    /// one delivery per address, and what they were told (for their inbox
    /// and list, even with no address left).
    fn tell_one(
        &self,
        notice: &Notice,
        person: &Subscriber,
        place: RecipientPlace,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Delivery>, Told), EngineError> {
        let recipient = Recipient {
            subscriber: notifier::notice::SubscriberId(person.pseudonym.clone()),
            locale: person.locale,
            addresses: person.addresses.clone(),
        };
        let loud = loudness(notice, person.quiet_hours.as_ref(), now);
        let quiet_ends = person.quiet_hours.as_ref().map(|q| q.ends_after(now));
        let deliveries = notifier::fanout::deliveries(
            &self.renderer,
            notice,
            &recipient,
            &place,
            loud,
            quiet_ends,
        )?;
        let message = match deliveries.first() {
            Some(delivery) => delivery.message.clone(),
            None => self.renderer.render(notice, &place, person.locale)?,
        };
        let told = Told {
            subscriber: person.pseudonym.clone(),
            facts: NoticeFacts::from(notice),
            message,
            place: place.name,
            shelter: place.shelter,
        };
        Ok((deliveries, told))
    }

    /// The notice in every language, naming the alert's own area
    /// descriptions, for the public live feed.
    fn public_notices(&self, alert: &Alert, notice: &Notice) -> Result<Vec<Delivery>, EngineError> {
        let primary = primary_language(alert);
        let mut areas: Vec<&str> = alert
            .infos
            .iter()
            .filter(|i| Some(i.language_key()) == primary)
            .flat_map(|i| i.areas.iter().map(|a| a.area_desc.trim()))
            .filter(|d| !d.is_empty())
            .collect();
        areas.dedup();
        let mut name = areas.join("、");
        if name.chars().count() > PUBLIC_AREA_CHARS {
            name = name.chars().take(PUBLIC_AREA_CHARS).collect::<String>() + "…";
        }
        let place = RecipientPlace {
            name,
            shelter: None,
        };
        let facts = NoticeFacts::from(notice);
        notifier::Locale::ALL
            .iter()
            .map(|&locale| {
                Ok(Delivery {
                    subscriber: notifier::notice::SubscriberId(PUBLIC_SUBSCRIBER.into()),
                    address: notifier::notice::Address::Live,
                    facts: facts.clone(),
                    message: self.renderer.render(notice, &place, locale)?,
                    loudness: notifier::policy::Loudness::Silent,
                    not_before: None,
                })
            })
            .collect()
    }

    fn nearest_shelter(&self, place: &Place, hazard: HazardKind) -> Option<ShelterInfo> {
        let filter = ShelterFilter {
            hazard: Some(hazard),
            ..ShelterFilter::default()
        };
        // A few candidates, so that a closed nearest one gives way to the
        // next open one.
        self.shelters
            .nearest(place.lon, place.lat, 4, filter)
            .into_iter()
            .find(|nearby| !self.closed_shelters.contains(&nearby.shelter.id))
            .map(|nearby| ShelterInfo {
                name: nearby.shelter.name.clone(),
                distance_m: nearby.distance_m.round() as u32,
            })
    }
}

/// The most serious unit that reaches `subscriber` (by its own recipient
/// list), if any.
fn serious_unit_for(units: &[Unit], subscriber: SubscriberId) -> Option<usize> {
    units
        .iter()
        .enumerate()
        .filter(|(_, u)| u.recipients.get(subscriber).is_some())
        .max_by_key(|(_, u)| seriousness(&u.facts))
        .map(|(i, _)| i)
}

/// What a person reached by `unit` at `places` reads, reduced.
fn seen_of(units: &[Unit], unit: Option<usize>, places: &[PlaceMatch]) -> Seen {
    let digest = unit
        .and_then(|i| units.get(i))
        .or_else(|| most_serious_unit(units))
        .map_or(0, |u| u.digest);
    Seen {
        unit: digest,
        places: told::places_digest(places),
    }
}

/// A tell of the alert (or its update) to someone it reaches.
fn told_anew(
    units: &[Unit],
    subscriber: SubscriberId,
    places: &[PlaceMatch],
    kind: Option<NoticeKind>,
    label: &'static str,
    now: DateTime<Utc>,
) -> Tell {
    let unit = serious_unit_for(units, subscriber);
    let place = places.first().map_or(0, |p| p.place);
    Tell {
        subscriber,
        place,
        unit,
        kind,
        label,
        state: Some(ToldState {
            place,
            seen: seen_of(units, unit, places),
            at: now,
            lowered: false,
        }),
    }
}

/// The all-clear for someone told before, naming the place they were told
/// about.
fn all_clear(subscriber: SubscriberId, before: &ToldState) -> Tell {
    Tell {
        subscriber,
        place: before.place,
        unit: None,
        kind: Some(NoticeKind::AllClear),
        label: "all_clear",
        state: None,
    }
}

/// The told map after the tells, over what was held unchanged.
fn told_map(tells: &[Tell], mut held: ToldMap) -> ToldMap {
    for tell in tells {
        if let Some(state) = tell.state {
            held.insert(tell.subscriber, state);
        }
    }
    held
}

/// Appends every (subscriber, place) of `recipients`, for a union.
fn collect_into(entries: &mut Vec<(SubscriberId, PlaceMatch)>, recipients: &Recipients) {
    for (subscriber, places) in recipients.iter() {
        entries.extend(places.iter().map(|p| (subscriber, *p)));
    }
}

/// Area descriptions on the public feed are cut after this many
/// characters (a typhoon warning lists hundreds of towns).
const PUBLIC_AREA_CHARS: usize = 120;

/// Places one subscriber may have in the index (the matcher's place number
/// is a byte).
const PLACES_PER_SUBSCRIBER: usize = 256;

/// The index records of one subscriber's places, each placed in its village.
fn place_records(atlas: &Atlas, id: SubscriberId, subscriber: &Subscriber) -> Vec<PlaceRecord> {
    subscriber
        .places
        .iter()
        .take(PLACES_PER_SUBSCRIBER)
        .enumerate()
        .map(|(j, place)| {
            let village = atlas
                .locate(place.lon, place.lat)
                .and_then(|l| VillageCode::parse(l.village_code()));
            PlaceRecord {
                key: PlaceKey {
                    subscriber: id,
                    place: j as u8,
                },
                location: Location::Point {
                    lon: place.lon,
                    lat: place.lat,
                    village,
                },
                prefs: PrefsRef(id.0),
            }
        })
        .collect()
}

/// The id of an alert in URLs (see [`AlertVersion::id`]).
pub fn alert_id(key: &MessageKey) -> String {
    AlertVersion::from(key).id()
}

/// The fictional demo messages for the demo region, in the order they
/// tell their story (built in, so the demo runs from any directory).
pub fn demo_messages() -> [(&'static str, &'static str); 6] {
    [
        (
            "01-debris-flow-yellow.xml",
            include_str!("../../demo/cap/01-debris-flow-yellow.xml"),
        ),
        (
            "02-debris-flow-red-update.xml",
            include_str!("../../demo/cap/02-debris-flow-red-update.xml"),
        ),
        (
            "03-earthquake.xml",
            include_str!("../../demo/cap/03-earthquake.xml"),
        ),
        (
            "04-thunderstorm-polygon.xml",
            include_str!("../../demo/cap/04-thunderstorm-polygon.xml"),
        ),
        (
            "05-exercise.xml",
            include_str!("../../demo/cap/05-exercise.xml"),
        ),
        (
            "06-debris-flow-cancel.xml",
            include_str!("../../demo/cap/06-debris-flow-cancel.xml"),
        ),
    ]
}

/// The key CAP uses for a message: `sender,identifier,sent`.
pub fn alert_key(alert: &Alert) -> MessageKey {
    MessageKey::of(alert)
}

fn primary_language(alert: &Alert) -> Option<String> {
    alert
        .infos
        .iter()
        .map(Info::language_key)
        .find(|l| l == "zh-tw")
        .or_else(|| alert.infos.first().map(Info::language_key))
}

fn facts_of(alert: &Alert, info: &Info, hazard: HazardKind, colour: cap::Colour) -> AlertFacts {
    AlertFacts {
        status: alert.status,
        kind: hazard,
        colour: Some(colour),
        severity: info.severity,
        urgency: info.urgency,
        certainty: info.certainty,
        rainfall: (hazard == HazardKind::Rainfall)
            .then(|| rainfall_level(info))
            .flatten(),
        instruction: info.instruction.clone(),
    }
}

/// CWA's rainfall warning level of an `<info>`: from its `severity_level`
/// parameter (大雨, 豪雨, 大豪雨, 超大豪雨), else from the headline
/// (大雨特報, 豪雨特報, …). The longer names are tried first, since each
/// contains the shorter ones. None when neither names a level: the
/// matcher then lets the warning through every threshold.
fn rainfall_level(info: &Info) -> Option<RainfallLevel> {
    const LEVELS: [(&str, RainfallLevel); 4] = [
        ("超大豪雨", RainfallLevel::ExtremelyTorrential),
        ("大豪雨", RainfallLevel::Torrential),
        ("豪雨", RainfallLevel::ExtremelyHeavy),
        ("大雨", RainfallLevel::Heavy),
    ];
    let named = |text: &str| {
        LEVELS
            .iter()
            .find(|(name, _)| text.contains(name))
            .map(|(_, level)| *level)
    };
    info.parameter_values("severity_level")
        .find_map(named)
        .or_else(|| info.headline.as_deref().and_then(named))
}

/// The highest local intensity the alert gives for any geocode of `area`.
fn area_intensity(info: &Info, area: &cap::Area) -> Option<Intensity> {
    let listed = local_intensities(info);
    area.geocodes
        .iter()
        .filter_map(|g| {
            listed
                .iter()
                .find(|l| l.geocode.value_name == g.value_name && l.geocode.value == g.value)
                .map(|l| l.intensity)
        })
        .max()
}

fn seriousness(facts: &AlertFacts) -> (Option<cap::Colour>, cap::Severity, cap::Urgency) {
    (facts.colour, facts.severity, facts.urgency)
}

fn most_serious(units: &[Unit]) -> Option<&AlertFacts> {
    most_serious_unit(units).map(|u| &u.facts)
}

fn most_serious_unit(units: &[Unit]) -> Option<&Unit> {
    units.iter().max_by_key(|u| seriousness(&u.facts))
}

/// `Notice::from_alert` declines only Ack and Error messages, which the
/// lifecycle never turns into events; keep a plain all-clear rather than
/// fail should that ever change.
fn unreachable_notice(key: &MessageKey, hazard: HazardKind, colour: cap::Colour) -> Notice {
    Notice {
        alert: AlertVersion::from(key),
        hazard,
        colour,
        severity: cap::Severity::Unknown,
        urgency: cap::Urgency::Unknown,
        kind: NoticeKind::AllClear,
        exercise: false,
        instruction_original: None,
        instruction_by_locale: BTreeMap::new(),
        expires: None,
        link: String::new(),
        in_force_since: None,
    }
}

#[cfg(test)]
mod tests;
