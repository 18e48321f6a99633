//! Which villages an alert's areas touch: for the relay lists village
//! chiefs work (a chief sees a list when an alert in force touches their
//! village), for per-village preview figures and for jurisdiction checks
//! (an office may only warn villages of its own county or town).
//!
//! It also answers the other after-the-event questions an office asks of
//! the engine: the relief steps for the people an alert told
//! ([`Engine::relief`]) and the shelters it knows ([`Engine::shelter_list`]).
//!
//! Each area is the matcher's [`PreparedArea`], the one that matches
//! places: geocodes name their villages exactly, and a polygon or circle
//! touches every village whose boundary it intersects (circles tested
//! exactly, as places are), so a village only grazed by a drawn area
//! counts — the safe side for both relay lists and jurisdiction — and no
//! village with a person told is left out.

use std::collections::BTreeSet;

use std::collections::BTreeMap;

use chrono::{DateTime, Offset as _, Utc};
use matcher::codes::VillageCode;
use matcher::{AreaError, AreaSpec, PreparedArea};
use notifier::Notice;
use notifier::channel::Delivery;
use notifier::notice::{AlertVersion, NoticeKind, RecipientPlace};
use notifier::relief::{Catalogue, steps_text};

use super::codes::AtlasCodes;
use super::{Engine, EngineError, Told};
use cap::{Alert, MessageKey};
use geodata::Atlas;

#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error(transparent)]
    Area(#[from] AreaError),
}

/// MOI codes of every village any `<info>` of `alert` touches, ascending.
pub fn villages_covered(atlas: &Atlas, alert: &Alert) -> Result<BTreeSet<String>, CoverageError> {
    let codes = AtlasCodes::new(atlas);
    let mut areas = Vec::new();
    for area in alert.infos.iter().flat_map(|info| &info.areas) {
        // An area with a description only reaches nothing.
        if area.polygons.is_empty() && area.circles.is_empty() && area.geocodes.is_empty() {
            continue;
        }
        areas.push(PreparedArea::prepare(
            &AreaSpec::from_cap(area, None),
            &codes,
        )?);
    }
    if areas.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(atlas
        .villages()
        .iter()
        .filter(|village| {
            VillageCode::parse(&village.code).is_some_and(|code| {
                areas
                    .iter()
                    .any(|area| area.reaches_village(code, &village.geometry))
            })
        })
        .map(|village| village.code.clone())
        .collect())
}

/// Relief deliveries for one alert.
#[derive(Debug, Default)]
pub struct Relief {
    /// People told (those with at least one step for their place).
    pub people: usize,
    pub deliveries: Vec<Delivery>,
    /// One per person told, for their inbox; empty when the relief steps
    /// of this alert were composed before.
    pub notices: Vec<Told>,
}

/// A shelter as the offices' API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShelterRow {
    pub id: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub capacity: u32,
    /// MOI code of the village it stands in.
    pub village: Option<String>,
}

impl Engine {
    /// The relief steps that apply to each person the alert in force `key`
    /// told, for the place it told them about, as one Relief notice each
    /// in their language. Nobody is told twice: the notice is its own
    /// alert version (`<key>#relief`), and the inbox gets it once.
    /// Empty when the alert is neither in force nor remembered as ended.
    pub fn relief(
        &mut self,
        key: &MessageKey,
        catalogue: &Catalogue,
        now: DateTime<Utc>,
    ) -> Result<Relief, EngineError> {
        let relief = self.compose_relief(key, catalogue, now)?;
        let alert = match self.in_force.get_mut(key) {
            Some(alert) => Some(alert),
            None => self
                .recently_ended
                .iter_mut()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, alert)| alert),
        };
        let first = alert.is_some_and(|alert| !std::mem::replace(&mut alert.relief_told, true));
        Ok(if first {
            relief
        } else {
            Relief {
                notices: Vec::new(),
                ..relief
            }
        })
    }

    fn compose_relief(
        &self,
        key: &MessageKey,
        catalogue: &Catalogue,
        now: DateTime<Utc>,
    ) -> Result<Relief, EngineError> {
        let mut relief = Relief::default();
        let ended = || {
            self.recently_ended
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, alert)| alert)
        };
        let Some(alert) = self.in_force.get(key).or_else(ended) else {
            return Ok(relief);
        };
        let Some(facts) = alert.facts() else {
            return Ok(relief);
        };
        let hazard = facts.kind;
        let event_day = now
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix()))
            .date_naive();
        for (subscriber, told) in &alert.told {
            let Some(person) = self.directory.get(subscriber.0) else {
                continue;
            };
            let Some(place) = person.places.get(usize::from(told.place)) else {
                continue;
            };
            let Some(location) = self.atlas.locate(place.lon, place.lat) else {
                continue;
            };
            let steps = catalogue.steps_for(hazard, location.county_code(), location.town_code());
            if steps.is_empty() {
                continue;
            }
            let localized: Vec<_> = steps
                .iter()
                .map(|s| s.localize(person.locale, event_day))
                .collect();
            let text = steps_text(&self.renderer, person.locale, &localized);
            let notice = Notice {
                alert: AlertVersion::relief(key),
                hazard,
                colour: facts.colour.unwrap_or(cap::Colour::Yellow),
                severity: cap::Severity::Minor,
                urgency: cap::Urgency::Past,
                kind: NoticeKind::Relief,
                exercise: !facts.status.is_real(),
                instruction_original: None,
                instruction_by_locale: BTreeMap::from([(person.locale, text)]),
                expires: None,
                link: self.link_base.clone(),
                in_force_since: None,
            };
            let recipient_place = RecipientPlace {
                name: place.name.clone(),
                shelter: None,
            };
            let (deliveries, told) = self.tell_one(&notice, person, recipient_place, now)?;
            relief.notices.push(told);
            relief.deliveries.extend(deliveries);
            relief.people += 1;
        }
        Ok(relief)
    }

    /// Opens or closes a shelter: a closed one is no longer suggested.
    /// Returns false for an unknown shelter id.
    pub fn set_shelter_open(&mut self, id: &str, open: bool) -> bool {
        if !self.shelters.shelters().iter().any(|s| s.id == id) {
            return false;
        }
        if open {
            self.closed_shelters.remove(id);
        } else {
            self.closed_shelters.insert(id.to_owned());
        }
        true
    }

    /// Whether an office has closed this shelter.
    pub fn shelter_closed(&self, id: &str) -> bool {
        self.closed_shelters.contains(id)
    }

    /// Every shelter the engine points people to, with its village.
    pub fn shelter_list(&self) -> Vec<ShelterRow> {
        self.shelters
            .shelters()
            .iter()
            .map(|s| ShelterRow {
                id: s.id.clone(),
                name: s.name.clone(),
                lon: s.lon,
                lat: s.lat,
                capacity: s.capacity,
                village: self
                    .atlas
                    .locate(s.lon, s.lat)
                    .map(|l| l.village_code().to_owned()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(area_xml: &str) -> Alert {
        let xml = format!(
            r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>t1</identifier><sender>a@b.invalid</sender><sent>2026-11-22T10:00:00+08:00</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-TW</language><category>Met</category><event>test</event><urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Likely</certainty>{area_xml}</info></alert>"#
        );
        let doc = cap::parse::parse_document(xml.as_bytes(), &Default::default()).unwrap();
        doc.messages.into_iter().next().unwrap().alert.unwrap()
    }

    #[test]
    fn town_geocode_names_its_villages() {
        let atlas = geodata::demo::atlas();
        let a = alert(
            "<area><areaDesc>x</areaDesc><geocode><valueName>Taiwan_Geocode_103</valueName><value>9900002</value></geocode></area>",
        );
        let villages = villages_covered(&atlas, &a).unwrap();
        assert_eq!(villages.len(), 4);
        assert!(villages.iter().all(|v| v.starts_with("99000020")));
    }

    #[test]
    fn a_small_circle_touches_the_village_it_sits_in() {
        let atlas = geodata::demo::atlas();
        let village = &atlas.villages()[0];
        let p = village.label_point.unwrap();
        let a = alert(&format!(
            "<area><areaDesc>x</areaDesc><circle>{},{} 0.1</circle></area>",
            p.y, p.x
        ));
        let villages = villages_covered(&atlas, &a).unwrap();
        assert!(villages.contains(&village.code), "{villages:?}");
        assert!(villages.len() <= 2);
    }

    #[test]
    fn an_area_at_sea_touches_no_village() {
        let atlas = geodata::demo::atlas();
        let a = alert("<area><areaDesc>x</areaDesc><circle>10.0,150.0 1</circle></area>");
        assert!(villages_covered(&atlas, &a).unwrap().is_empty());
    }

    #[test]
    fn relief_reaches_exactly_those_the_alert_told_in_the_catalogue_county() {
        use chrono::TimeZone;
        let atlas = geodata::demo::atlas();
        let directory = crate::Directory::synthetic(&atlas, 400);
        let mut engine = Engine::new(
            atlas,
            geodata::demo::shelters().unwrap(),
            directory,
            "https://example.invalid/a",
        )
        .unwrap();
        let mut a = alert(
            "<area><areaDesc>x</areaDesc><geocode><valueName>Taiwan_Geocode_103</valueName><value>9900001</value></geocode></area>",
        );
        a.infos[0].event = "淹水".into();
        a.infos[0].event_codes = vec![cap::NamedValue {
            value_name: "profile:CAP-TWP:Event:1.0".into(),
            value: "flood".into(),
        }];
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        let told = engine
            .handle(&ingest::lifecycle::LifecycleEvent::New(a.clone()), now)
            .unwrap()
            .told
            .get("alert")
            .copied()
            .unwrap_or(0);
        assert!(told > 0);
        let catalogue = Catalogue::demo().unwrap();
        let key = crate::alert_key(&a);
        let relief = engine.relief(&key, &catalogue, now).unwrap();
        assert_eq!(relief.people, told);
        assert!(!relief.deliveries.is_empty());
        // One inbox notice per person told, the first time only.
        assert_eq!(relief.notices.len(), told);
        assert!(
            relief
                .notices
                .iter()
                .all(|n| n.facts.kind == NoticeKind::Relief)
        );
        assert!(
            engine
                .relief(
                    &MessageKey {
                        sender: "no".into(),
                        identifier: "such".into(),
                        sent: "alert".into(),
                    },
                    &catalogue,
                    now
                )
                .unwrap()
                .deliveries
                .is_empty()
        );
        // Recovery comes after the end: once the alert expires, the same
        // people still get the relief steps.
        engine
            .handle(&ingest::lifecycle::LifecycleEvent::Expired(a.clone()), now)
            .unwrap();
        assert_eq!(engine.active_count(), 0);
        let after_end = engine.relief(&key, &catalogue, now).unwrap();
        assert_eq!(after_end.people, told);
        assert_eq!(
            after_end.deliveries.len(),
            relief.deliveries.len(),
            "queued again: the queue drops what it has"
        );
        assert!(after_end.notices.is_empty(), "no second inbox entry");
    }

    #[test]
    fn a_closed_shelter_is_no_longer_suggested() {
        let atlas = geodata::demo::atlas();
        let shelters = geodata::demo::shelters().unwrap();
        let first = shelters.shelters()[0].clone();
        let mut engine = Engine::new(
            atlas,
            shelters,
            crate::Directory::default(),
            "https://example.invalid/a",
        )
        .unwrap();
        let place = crate::Place {
            name: "x".into(),
            lon: first.lon,
            lat: first.lat,
        };
        let hazard = first.hazards[0];
        let suggested = |e: &Engine| e.nearest_shelter(&place, hazard).map(|s| s.name);
        assert_eq!(suggested(&engine), Some(first.name.clone()));
        assert!(engine.set_shelter_open(&first.id, false));
        assert!(engine.shelter_closed(&first.id));
        assert_ne!(suggested(&engine), Some(first.name.clone()));
        assert!(engine.set_shelter_open(&first.id, true));
        assert_eq!(suggested(&engine), Some(first.name.clone()));
        assert!(!engine.set_shelter_open("no-such-shelter", false));
    }
}
