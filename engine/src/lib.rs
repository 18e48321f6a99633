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
pub mod preview;
pub mod relay;

use std::collections::BTreeMap;
use std::sync::Arc;

use cap::hazard::{classify, info_colour, info_hazard, local_intensities};
use cap::{Alert, HazardKind, Info, Intensity, MessageKey, Status};
use chrono::{DateTime, Utc};
use geodata::Atlas;
use geodata::shelters::{ShelterFilter, ShelterIndex};
use ingest::lifecycle::LifecycleEvent;
use matcher::area::{AreaError, AreaSpec, PreparedArea};
use matcher::codes::VillageCode;
use matcher::lifecycle::{ActiveAlert, ActiveAlerts, Delta, end_delta, update_delta};
use matcher::prefs::{AlertFacts, RainfallLevel};
use matcher::recipients::{MatchContext, PlaceMatch, Recipients};
use matcher::{Location, PlaceIndex, PlaceKey, PlaceRecord, PrefsRef, SubscriberId};
use notifier::channel::AlertFacts as NoticeFacts;
use notifier::channel::Delivery;
use notifier::notice::{AlertVersion, NoticeKind, RecipientPlace, ShelterInfo};
use notifier::policy::{Coalescer, Verdict, loudness};
use notifier::render::Message;
use notifier::{Notice, Recipient, Renderer};

pub use codes::AtlasCodes;
pub use directory::{Directory, Place, Subscriber};

/// How long a repeated alert of the same kind is held back for the same
/// person unless its level rises: long enough to absorb an hourly re-issue
/// of a rainfall warning or an aftershock series.
const COALESCE_WINDOW_HOURS: i64 = 2;

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
    /// Subscribers held back by coalescing.
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
    /// Who this unit reaches (filled by `match_units`).
    recipients: Recipients,
}

pub struct Engine {
    atlas: Arc<Atlas>,
    shelters: ShelterIndex,
    directory: Directory,
    index: PlaceIndex,
    preferences: Vec<matcher::prefs::Preferences>,
    active: ActiveAlerts,
    /// The units of each alert in force, by alert key, for later deltas.
    units: BTreeMap<MessageKey, Vec<AlertFacts>>,
    renderer: Renderer,
    coalescer: Coalescer,
    link_base: String,
    /// Shelters an office has closed: never suggested (see `relay.rs`).
    closed_shelters: std::collections::BTreeSet<String>,
    /// Alerts that ended (replaced, cancelled, expired), newest last, with
    /// everyone they told: recovery and relief steps come after the end.
    recently_ended: std::collections::VecDeque<(MessageKey, ActiveAlert)>,
    /// The level each recipient of an alert in force was told, by alert
    /// key: an Update that changes someone's own level (up or down) is
    /// told to them even when the alert as a whole did not get worse.
    levels: BTreeMap<MessageKey, BTreeMap<SubscriberId, cap::Colour>>,
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
            active: ActiveAlerts::default(),
            units: BTreeMap::new(),
            renderer: Renderer::new()?,
            coalescer: Coalescer::new(chrono::Duration::hours(COALESCE_WINDOW_HOURS)),
            link_base: link_base.into(),
            closed_shelters: Default::default(),
            recently_ended: Default::default(),
            levels: BTreeMap::new(),
        })
    }

    /// Alerts currently in force, by key.
    pub fn active_count(&self) -> usize {
        self.active.len()
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

    /// Turns one lifecycle event into deliveries.
    pub fn handle(
        &mut self,
        event: &LifecycleEvent,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        match event {
            LifecycleEvent::New(alert) => {
                let mut units = self.units_of(alert)?;
                let recipients = self.match_units(&mut units);
                let delta = Delta {
                    alert: recipients.clone(),
                    ..Delta::default()
                };
                let mut outcome = self.deliver(alert, &units, &delta, now)?;
                self.remember(alert, units, recipients);
                outcome.in_force = Some(alert_key(alert));
                Ok(outcome)
            }
            LifecycleEvent::Updated { previous, current } => {
                let previous_levels = self.take_levels(previous);
                let (previous_recipients, previous_facts) = self.forget_all(previous);
                let mut units = self.units_of(current)?;
                let recipients = self.match_units(&mut units);
                let delta = match (previous_facts, units.first()) {
                    (Some(before), Some(now_unit)) => update_delta(
                        &previous_recipients,
                        &before,
                        &recipients,
                        &most_serious(&units).unwrap_or(&now_unit.facts).clone(),
                    ),
                    _ => Delta {
                        alert: recipients.clone(),
                        ..Delta::default()
                    },
                };
                let delta = with_level_changes(delta, &previous_levels, &units, &recipients);
                let mut outcome = self.deliver(current, &units, &delta, now)?;
                self.remember(current, units, recipients);
                outcome.ended = previous.iter().map(alert_key).collect();
                outcome.in_force = Some(alert_key(current));
                Ok(outcome)
            }
            LifecycleEvent::Cancelled { previous, cancel } => {
                let (previous_recipients, _) = self.forget_all(previous);
                let units = self.units_of(cancel)?;
                let delta = end_delta(&previous_recipients);
                let mut outcome = self.deliver(cancel, &units, &delta, now)?;
                outcome.ended = previous.iter().map(alert_key).collect();
                Ok(outcome)
            }
            LifecycleEvent::Expired(alert) => {
                let (previous_recipients, _) = self.forget_all(std::slice::from_ref(alert));
                let mut units = self.units_of(alert)?;
                // The all-clear of an expiry is a message of its own: under
                // the alert's own version the delivery queue would take it
                // for the alert already sent and drop it.
                let version = AlertVersion::expired(&alert_key(alert));
                for unit in &mut units {
                    unit.notice.kind = NoticeKind::AllClear;
                    unit.notice.alert = version.clone();
                }
                let delta = end_delta(&previous_recipients);
                let mut outcome = self.deliver(alert, &units, &delta, now)?;
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

    fn remember(&mut self, alert: &Alert, units: Vec<Unit>, recipients: Recipients) {
        let key = alert_key(alert);
        let levels = recipients
            .iter()
            .filter_map(|(subscriber, _)| Some((subscriber, level_for(&units, subscriber)?)))
            .collect();
        self.levels.insert(key.clone(), levels);
        let facts: Vec<AlertFacts> = units.iter().map(|u| u.facts.clone()).collect();
        if let Some(serious) = most_serious(&units).cloned() {
            let areas = units.into_iter().flat_map(|u| u.areas).collect();
            self.active
                .put(key.clone(), ActiveAlert::new(serious, areas, recipients));
            self.units.insert(key, facts);
        }
    }

    /// The level each person was told by the given alerts (the highest, when
    /// several), forgetting them.
    fn take_levels(&mut self, alerts: &[Alert]) -> BTreeMap<SubscriberId, cap::Colour> {
        let mut merged = BTreeMap::new();
        for alert in alerts {
            for (subscriber, colour) in self.levels.remove(&alert_key(alert)).unwrap_or_default() {
                let level = merged.entry(subscriber).or_insert(colour);
                *level = (*level).max(colour);
            }
        }
        merged
    }

    /// Ends the given alerts; returns everyone they reached and the facts of
    /// the most serious of them.
    fn forget_all(&mut self, alerts: &[Alert]) -> (Recipients, Option<AlertFacts>) {
        let mut entries = Vec::new();
        let mut ended_facts = Vec::new();
        for alert in alerts {
            let key = alert_key(alert);
            if let Some(ended) = self.active.end(&key) {
                collect_into(&mut entries, &ended.all_recipients());
                if self.recently_ended.len() == RECENTLY_ENDED_KEPT {
                    self.recently_ended.pop_front();
                }
                self.recently_ended.push_back((key.clone(), ended));
            }
            self.levels.remove(&key);
            ended_facts.extend(self.units.remove(&key).unwrap_or_default());
        }
        // `rev`: on a tie the first ended alert's facts win.
        let facts = ended_facts.into_iter().rev().max_by_key(seriousness);
        (Recipients::from_entries(entries), facts)
    }

    fn deliver(
        &mut self,
        alert: &Alert,
        units: &[Unit],
        delta: &Delta,
        now: DateTime<Utc>,
    ) -> Result<Outcome, EngineError> {
        let mut outcome = Outcome {
            alert: alert_key(alert),
            exercise: alert.status != Status::Actual,
            ..Outcome::default()
        };
        outcome
            .notices
            .reserve(delta.alert.len() + delta.update.len());
        let Some(base) = most_serious_unit(units) else {
            return Ok(outcome);
        };
        outcome.public = self.public_notices(alert, &base.notice)?;
        let lists: [(&'static str, &Recipients, Option<NoticeKind>); 3] = [
            ("alert", &delta.alert, None),
            ("update", &delta.update, Some(NoticeKind::Update)),
            ("all_clear", &delta.all_clear, Some(NoticeKind::AllClear)),
        ];
        for (label, recipients, kind) in lists {
            for (subscriber, places) in recipients.iter() {
                let Some(person) = self.directory.get(subscriber.0) else {
                    continue;
                };
                // The most serious unit that reaches this person; for those
                // who left or whose alert ended, the alert's own level.
                let unit = units
                    .iter()
                    .filter(|u| u.recipients.get(subscriber).is_some())
                    .max_by_key(|u| seriousness(&u.facts))
                    .unwrap_or(base);
                let mut notice = unit.notice.clone();
                match kind {
                    Some(kind) => notice.kind = kind,
                    // People told for the first time hear a new warning,
                    // even when the agency sent it as an Update of a message
                    // they never got (CWA updates its warnings in place).
                    None if notice.kind == NoticeKind::Update => notice.kind = NoticeKind::New,
                    None => {}
                }
                let recipient = Recipient {
                    subscriber: notifier::notice::SubscriberId(person.pseudonym.clone()),
                    locale: person.locale,
                    addresses: person.addresses.clone(),
                };
                if self.coalescer.admit(&recipient.subscriber, &notice, now) == Verdict::Coalesced {
                    outcome.coalesced += 1;
                    continue;
                }
                // The first matching place names where the danger is.
                let place_index = places.first().map(|p| usize::from(p.place)).unwrap_or(0);
                let place = person.places.get(place_index);
                let recipient_place = RecipientPlace {
                    name: place.map(|p| p.name.clone()).unwrap_or_default(),
                    shelter: place.and_then(|p| self.nearest_shelter(p, notice.hazard)),
                };
                let loud = loudness(&notice, person.quiet_hours.as_ref(), now);
                let quiet_ends = person.quiet_hours.as_ref().map(|q| q.ends_after(now));
                let deliveries = notifier::fanout::deliveries(
                    &self.renderer,
                    &notice,
                    &recipient,
                    &recipient_place,
                    loud,
                    quiet_ends,
                )?;
                // Rendered once per person; a person with no address left
                // still sees the alert in the app's list and inbox.
                let message = match deliveries.first() {
                    Some(delivery) => delivery.message.clone(),
                    None => self
                        .renderer
                        .render(&notice, &recipient_place, person.locale)?,
                };
                outcome.notices.push(Told {
                    subscriber: person.pseudonym.clone(),
                    facts: NoticeFacts::from(&notice),
                    message,
                    place: recipient_place.name,
                    shelter: recipient_place.shelter,
                });
                outcome.deliveries.extend(deliveries);
                *outcome.told.entry(label).or_default() += 1;
            }
        }
        Ok(outcome)
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

/// The colour of the most serious unit that reaches `subscriber`.
fn level_for(units: &[Unit], subscriber: SubscriberId) -> Option<cap::Colour> {
    units
        .iter()
        .filter(|u| u.recipients.get(subscriber).is_some())
        .max_by_key(|u| seriousness(&u.facts))
        .and_then(|u| u.facts.colour)
}

/// Adds to an Update's delta everyone still inside whose own level changed
/// (an agency lowering one county from orange to yellow while another stays
/// yellow: the first are told, the second are not).
fn with_level_changes(
    mut delta: Delta,
    previous_levels: &BTreeMap<SubscriberId, cap::Colour>,
    units: &[Unit],
    recipients: &Recipients,
) -> Delta {
    let mut added: Vec<(SubscriberId, PlaceMatch)> = Vec::new();
    for (subscriber, places) in recipients.iter() {
        let Some(before) = previous_levels.get(&subscriber) else {
            continue;
        };
        if delta.update.get(subscriber).is_some() || delta.alert.get(subscriber).is_some() {
            continue;
        }
        if level_for(units, subscriber).is_some_and(|now| now != *before) {
            added.extend(places.iter().map(|p| (subscriber, *p)));
        }
    }
    if !added.is_empty() {
        collect_into(&mut added, &delta.update);
        delta.update = Recipients::from_entries(added);
    }
    delta
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
    }
}

#[cfg(test)]
mod tests;
