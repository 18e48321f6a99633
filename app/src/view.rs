//! Each subscriber's alerts in force, kept ready for the app's most
//! frequent read (`GET /api/v1/me/alerts`). The flow applies every
//! engine outcome here; a read is one short read lock and an `Arc` clone,
//! never a store query and never a lock held across an await.
//!
//! An alert that ended for a person stays in their list, marked ended and
//! reading as its all-clear, until that all-clear has reached one of their
//! devices (the dispatch reports it), at once if they have no device, and
//! at most [`ENDED_SHOWN_HOURS`] hours: the list never says "in force" of
//! an alert that is over, and never drops one silently before they were
//! told it is over.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, FixedOffset, Utc};
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
    /// `new`, `update`, `lowered` (still in force, below the level the
    /// person asked to hear about) or `all_clear` (ended).
    pub kind: &'static str,
    /// The alert ended for this person; `title` and `body` are its
    /// all-clear.
    pub ended: bool,
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
            ended: told.facts.kind == NoticeKind::AllClear,
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
    /// Who holds each alert in force, to end or re-key it (ended entries
    /// are not held: they stay under their all-clear's version).
    holders: HashMap<String, HashSet<SubscriberId>>,
    /// Ended entries in the order they ended, to drop the ones whose
    /// all-clear never reported delivered.
    ended: std::collections::VecDeque<(DateTime<Utc>, SubscriberId, String)>,
}

/// How long an ended alert is shown at most when its all-clear is not
/// reported delivered (every device dead, or failed): a day.
pub const ENDED_SHOWN_HOURS: i64 = 24;

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

    /// Applies one engine outcome at `now`: an Update's previous versions
    /// become the new version for those still inside (told again or not);
    /// whoever was told the all-clear sees the alert as ended, under the
    /// all-clear's version, until [`AlertsView::all_clears_sent`] says it
    /// reached them.
    pub fn apply(&self, outcome: &Outcome, now: DateTime<Utc>) {
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
                    // An Update's all-clear comes under the version still in
                    // force: the person's entry of it becomes the ended one.
                    if let Some(holders) = inner.holders.get_mut(&key) {
                        holders.remove(&id);
                    }
                    inner
                        .alerts
                        .entry(id.clone())
                        .or_default()
                        .insert(key.clone(), MyAlert::of(told));
                    inner.ended.push_back((now, id.clone(), key));
                }
                // Relief steps come after the alert: they are in the inbox,
                // not among the alerts in force.
                NoticeKind::Relief => continue,
                NoticeKind::New | NoticeKind::Update | NoticeKind::Lowered => {
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
        let cutoff = now - chrono::Duration::hours(ENDED_SHOWN_HOURS);
        while let Some((at, id, key)) = inner.ended.front().cloned() {
            if at >= cutoff {
                break;
            }
            inner.ended.pop_front();
            if let Some(alerts) = inner.alerts.get_mut(&id)
                && alerts.get(&key).is_some_and(|a| a.ended)
            {
                alerts.remove(&key);
                touched.insert(id);
            }
        }
        Self::publish(&mut inner, touched);
    }

    /// All-clears that reached the person (a provider took them): their
    /// ended alerts leave the list.
    pub fn all_clears_sent(&self, sent: &[(SubscriberId, String)]) {
        if sent.is_empty() {
            return;
        }
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut touched = HashSet::new();
        for (id, version) in sent {
            if let Some(alerts) = inner.alerts.get_mut(id)
                && alerts.get(version).is_some_and(|a| a.ended)
            {
                alerts.remove(version);
                touched.insert(id.clone());
            }
        }
        Self::publish(&mut inner, touched);
    }

    /// Makes the lists of `touched` subscribers ready to hand out.
    fn publish(inner: &mut Inner, touched: HashSet<SubscriberId>) {
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
            now,
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
        view.apply(&outcome, now);
        let current = engine::alert_key(&update);
        // 溪頭 left the area: shown as ended until the all-clear reaches them.
        let left = view.for_subscriber(&id("xitou"));
        assert_eq!(left.len(), 1, "left the area");
        assert!(left[0].ended && left[0].kind == "all_clear", "{left:?}");
        view.all_clears_sent(&[(id("xitou"), current.to_string())]);
        assert!(view.for_subscriber(&id("xitou")).is_empty());
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
        view.apply(&outcome, now);
        assert!(view.for_subscriber(&id("xitou")).is_empty(), "told before");
        let cancel_key = outcome.alert.to_string();
        for inside in ["xiyuan", "zhongxing"] {
            let alerts = view.for_subscriber(&id(inside));
            assert_eq!(alerts.len(), 1, "{inside}: ended, not yet told");
            assert!(alerts[0].ended, "{inside}");
            assert_eq!(alerts[0].alert, cancel_key);
        }
        view.all_clears_sent(&[(id("xiyuan"), cancel_key.clone())]);
        assert!(view.for_subscriber(&id("xiyuan")).is_empty());
        assert_eq!(view.for_subscriber(&id("zhongxing")).len(), 1);
        // Never reported delivered: gone after a day.
        view.apply(
            &Outcome::default(),
            now + chrono::Duration::hours(ENDED_SHOWN_HOURS + 1),
        );
        assert!(view.for_subscriber(&id("zhongxing")).is_empty());
    }
}
