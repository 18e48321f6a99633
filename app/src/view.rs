//! Each subscriber's alerts in force, kept ready for the app's most
//! frequent read (`GET /api/v1/me/alerts`). The flow applies every
//! engine outcome here; a read is one short read lock and an `Arc` clone,
//! never a store query and never a lock held across an await.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, FixedOffset};
use notifier::notice::{NoticeKind, ShelterInfo};
use serde::Serialize;
use store::SubscriberId;

use engine::{Outcome, Told, alert_id};

/// One alert as its subscriber sees it, in their language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MyAlert {
    /// Short id for URLs (`{alert_id}` in the staff API's paths).
    pub alert_id: String,
    /// CAP key `sender,identifier,sent`.
    pub alert: String,
    /// `new`, `update` or `lowered` (still in force, below the level the
    /// person asked to hear about).
    pub kind: &'static str,
    pub hazard: &'static str,
    pub colour: &'static str,
    pub exercise: bool,
    pub title: String,
    pub body: String,
    /// The subscriber's own place the alert is about.
    pub place: String,
    /// The nearest open shelter, when the alert calls for one.
    pub shelter: Option<ShelterInfo>,
    pub expires: Option<DateTime<FixedOffset>>,
}

/// `new`, `update`, `lowered`, `all_clear`, `relief`: the names the API and
/// inbox use.
pub fn notice_kind_name(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::New => "new",
        NoticeKind::Update => "update",
        NoticeKind::AllClear => "all_clear",
        NoticeKind::Relief => "relief",
        NoticeKind::Lowered => "lowered",
    }
}

impl MyAlert {
    pub fn of(told: &Told) -> MyAlert {
        MyAlert {
            alert_id: told.facts.alert.id(),
            alert: told.facts.alert.0.clone(),
            kind: notice_kind_name(told.facts.kind),
            hazard: told.facts.hazard.as_str(),
            colour: told.facts.colour.as_str(),
            exercise: told.facts.exercise,
            title: told.message.full_title(),
            body: told.message.full_text(),
            place: told.place.clone(),
            shelter: told.shelter.clone(),
            expires: told.facts.expires,
        }
    }
}

#[derive(Default)]
struct Inner {
    /// Per subscriber, by alert key.
    alerts: HashMap<SubscriberId, BTreeMap<String, MyAlert>>,
    /// The same, ready to hand out.
    ready: HashMap<SubscriberId, Arc<[MyAlert]>>,
    /// Who holds each alert, to end or re-key it.
    holders: HashMap<String, HashSet<SubscriberId>>,
}

#[derive(Default)]
pub struct AlertsView {
    inner: RwLock<Inner>,
}

impl AlertsView {
    pub fn new() -> AlertsView {
        AlertsView::default()
    }

    /// The subscriber's alerts in force, most recent version of each.
    pub fn for_subscriber(&self, id: &SubscriberId) -> Arc<[MyAlert]> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner
            .ready
            .get(id)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Applies one engine outcome: the ended alerts leave everyone's list;
    /// an Update's previous versions become the new version for those who
    /// are still inside (told again only when something material changed);
    /// whoever was told the all-clear loses it.
    pub fn apply(&self, outcome: &Outcome) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut touched: HashSet<SubscriberId> = HashSet::new();
        let in_force = outcome
            .in_force
            .as_ref()
            .map(|key| (key.to_string(), alert_id(key)));
        for ended in &outcome.ended {
            let ended = &ended.to_string();
            let holders = inner.holders.remove(ended).unwrap_or_default();
            for holder in holders {
                let Some(alerts) = inner.alerts.get_mut(&holder) else {
                    continue;
                };
                let previous = alerts.remove(ended);
                if let (Some((current, current_id)), Some(mut carried)) = (&in_force, previous) {
                    carried.alert_id = current_id.clone();
                    carried.alert = current.clone();
                    alerts.insert(current.clone(), carried);
                    inner
                        .holders
                        .entry(current.clone())
                        .or_default()
                        .insert(holder.clone());
                }
                touched.insert(holder);
            }
        }
        for told in &outcome.notices {
            let id = SubscriberId(told.subscriber.clone());
            let key = told.facts.alert.0.clone();
            match told.facts.kind {
                NoticeKind::AllClear => {
                    if let Some(alerts) = inner.alerts.get_mut(&id) {
                        alerts.remove(&key);
                    }
                    if let Some(holders) = inner.holders.get_mut(&key) {
                        holders.remove(&id);
                    }
                }
                NoticeKind::New | NoticeKind::Update | NoticeKind::Lowered | NoticeKind::Relief => {
                    inner
                        .alerts
                        .entry(id.clone())
                        .or_default()
                        .insert(key.clone(), MyAlert::of(told));
                    inner.holders.entry(key).or_default().insert(id.clone());
                }
            }
            touched.insert(id);
        }
        for id in touched {
            let list: Option<Arc<[MyAlert]>> = match inner.alerts.get(&id) {
                Some(alerts) if !alerts.is_empty() => Some(alerts.values().cloned().collect()),
                _ => None,
            };
            match list {
                Some(list) => {
                    inner.ready.insert(id, list);
                }
                None => {
                    inner.alerts.remove(&id);
                    inner.ready.remove(&id);
                }
            }
        }
    }

    /// Forgets a subscriber (account deleted).
    pub fn forget(&self, id: &SubscriberId) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(alerts) = inner.alerts.remove(id) {
            for key in alerts.keys() {
                if let Some(holders) = inner.holders.get_mut(key) {
                    holders.remove(id);
                }
            }
        }
        inner.ready.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::{Directory, Engine, Place, Subscriber};
    use ingest::lifecycle::LifecycleEvent;
    use matcher::prefs::{KindSet, Preferences};

    fn message(name: &str) -> cap::Alert {
        let path = format!("{}/../demo/cap/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        let document = cap::parse_document(&bytes, &cap::Limits::default()).unwrap();
        document.messages[0].alert.clone().unwrap()
    }

    fn person(pseudonym: &str, lon: f64, lat: f64) -> Subscriber {
        Subscriber {
            pseudonym: pseudonym.into(),
            locale: notifier::Locale::En,
            addresses: Vec::new(),
            places: vec![Place {
                name: "home".into(),
                lon,
                lat,
            }],
            preferences: Preferences {
                kinds: KindSet::ALL,
                ..Preferences::default()
            },
            quiet_hours: None,
        }
    }

    #[test]
    fn follows_new_update_and_cancel() {
        // 溪頭 is in the first alert only; 溪源 in both; 中興 in the update.
        let mut engine = Engine::new(
            geodata::demo::atlas(),
            geodata::demo::shelters().unwrap(),
            Directory::new(vec![
                person("xitou", 123.175, 23.05),
                person("xiyuan", 123.125, 23.15),
                person("zhongxing", 123.175, 23.15),
            ]),
            "https://demo.invalid/a",
        )
        .unwrap();
        let now = chrono::Utc::now();
        let view = AlertsView::new();
        let id = |s: &str| SubscriberId(s.into());
        let first = message("01-debris-flow-yellow.xml");
        view.apply(
            &engine
                .handle(&LifecycleEvent::New(first.clone()), now)
                .unwrap(),
        );
        assert_eq!(view.for_subscriber(&id("xitou")).len(), 1);
        assert_eq!(view.for_subscriber(&id("xiyuan")).len(), 1);
        assert_eq!(view.for_subscriber(&id("zhongxing")).len(), 0);
        assert_eq!(view.for_subscriber(&id("xitou"))[0].colour, "yellow");

        let update = message("02-debris-flow-red-update.xml");
        let outcome = engine
            .handle(
                &LifecycleEvent::Updated {
                    previous: vec![first],
                    current: update.clone(),
                },
                now,
            )
            .unwrap();
        view.apply(&outcome);
        let current = engine::alert_key(&update);
        assert_eq!(view.for_subscriber(&id("xitou")).len(), 0, "left the area");
        for inside in ["xiyuan", "zhongxing"] {
            let alerts = view.for_subscriber(&id(inside));
            assert_eq!(alerts.len(), 1, "{inside}");
            assert_eq!(alerts[0].alert, current.to_string());
            assert_eq!(alerts[0].alert_id, alert_id(&current));
        }

        let cancel = message("06-debris-flow-cancel.xml");
        let outcome = engine
            .handle(
                &LifecycleEvent::Cancelled {
                    previous: vec![update],
                    cancel,
                },
                now,
            )
            .unwrap();
        view.apply(&outcome);
        for anyone in ["xitou", "xiyuan", "zhongxing"] {
            assert!(view.for_subscriber(&id(anyone)).is_empty(), "{anyone}");
        }
    }
}
