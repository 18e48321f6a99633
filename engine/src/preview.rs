//! What sending an alert would do, before it is sent: who would be told,
//! counted per village and per channel. The alert is matched exactly as
//! [`Engine::handle`] would match it (same units, areas and preferences)
//! but nothing is delivered, remembered or coalesced.
//!
//! A recipient counts once, in the village of their first matching place;
//! a device counts once per channel it uses.

use std::collections::BTreeMap;

use cap::Alert;
use matcher::codes::VillageCode;

use super::{Engine, EngineError};

/// The counts an issuer sees before sending.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Preview {
    /// Subscribers who would be told.
    pub total: usize,
    /// Recipients by MOI village code (`unknown` when a place lies outside
    /// every village).
    pub villages: BTreeMap<String, usize>,
    /// Addresses by channel (`fcm`, `mqtt`, `email`, `sms`, `webhook`, …).
    pub channels: BTreeMap<String, usize>,
}

/// Key for recipients whose matching place lies in no village.
pub const UNKNOWN_VILLAGE: &str = "unknown";

impl Engine {
    /// Matches `alert` as a new alert without delivering anything.
    pub fn preview(&self, alert: &Alert) -> Result<Preview, EngineError> {
        let mut units = self.units_of(alert)?;
        let recipients = self.match_units(&mut units);
        let mut preview = Preview::default();
        for (subscriber, places) in recipients.iter() {
            let Some(person) = self.directory.get(subscriber.0) else {
                continue;
            };
            preview.total += 1;
            let village = places
                .first()
                .and_then(|m| person.places.get(usize::from(m.place)))
                .and_then(|place| self.atlas.locate(place.lon, place.lat))
                .and_then(|found| VillageCode::parse(found.village_code()))
                .map(|code| code.to_string())
                .unwrap_or_else(|| UNKNOWN_VILLAGE.to_owned());
            *preview.villages.entry(village).or_default() += 1;
            for address in &person.addresses {
                *preview
                    .channels
                    .entry(address.channel().as_str().to_owned())
                    .or_default() += 1;
            }
        }
        Ok(preview)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use ingest::lifecycle::LifecycleEvent;

    use super::*;
    use crate::Directory;

    fn demo_engine(count: usize) -> Engine {
        let atlas = geodata::demo::atlas();
        let shelters = geodata::demo::shelters().unwrap();
        let directory = Directory::synthetic(&atlas, count);
        Engine::new(atlas, shelters, directory, "https://example.invalid/a").unwrap()
    }

    fn town_alert() -> Alert {
        let xml = r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>p1</identifier><sender>a@b.invalid</sender><sent>2026-11-22T10:00:00+08:00</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-TW</language><category>Geo</category><event>土石流</event><urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Likely</certainty><expires>2026-11-23T10:00:00+08:00</expires>
<headline>土石流警戒</headline>
<area><areaDesc>雲港鎮</areaDesc><geocode><valueName>Taiwan_Geocode_103</valueName><value>9900001</value></geocode></area></info></alert>"#;
        let doc = cap::parse::parse_document(xml.as_bytes(), &Default::default()).unwrap();
        doc.messages.into_iter().next().unwrap().alert.unwrap()
    }

    #[test]
    fn preview_counts_exactly_those_the_send_tells() {
        let mut engine = demo_engine(500);
        let alert = town_alert();
        let preview = engine.preview(&alert).unwrap();
        assert!(preview.total > 0);
        assert_eq!(preview.villages.values().sum::<usize>(), preview.total);
        assert!(preview.villages.keys().all(|v| v.starts_with("99000010")));
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap();
        let outcome = engine
            .handle(&LifecycleEvent::New(alert.clone()), now)
            .unwrap();
        assert_eq!(
            outcome.told.get("alert").copied().unwrap_or(0),
            preview.total
        );
        let delivered: usize = outcome.deliveries.len();
        assert_eq!(preview.channels.values().sum::<usize>(), delivered);
        // Previewing remembered nothing: the send above was a New alert for
        // everyone, and a second preview still counts the same people.
        assert_eq!(engine.preview(&alert).unwrap(), preview);
    }
}
