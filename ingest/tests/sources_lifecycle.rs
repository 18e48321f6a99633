//! Lifecycle: dedupe, Update/Cancel chains, expiry, order independence.

mod sources_support;

use cap::model::{Alert, MsgType};
use cap::parse::{Limits, parse_document};
use chrono::Duration;
use ingest::lifecycle::{Identity, Lifecycle, LifecycleConfig, LifecycleEvent};
use proptest::prelude::*;
use sources_support::{alert, shared_data, utc};

const CWA: &str = "weather@cwa.gov.tw";

fn ids(alerts: &[&Alert]) -> Vec<String> {
    alerts.iter().map(|a| a.identifier.clone()).collect()
}

#[test]
fn alert_update_cancel_chain_reports_each_change() {
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let now = utc("2024-04-22T15:00:00+08:00");
    let a1 = alert(
        CWA,
        "r1",
        "2024-04-22T14:57:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(6)),
    );
    let applied = life.apply(a1.clone(), now);
    assert_eq!(applied.events, vec![LifecycleEvent::New(a1.clone())]);

    let u1 = alert(
        CWA,
        "r2",
        "2024-04-22T17:12:00+08:00",
        MsgType::Update,
        &[(CWA, "r1", "2024-04-22T14:57:00+08:00")],
        Some(Duration::hours(6)),
    );
    let applied = life.apply(u1.clone(), now);
    assert_eq!(
        applied.events,
        vec![LifecycleEvent::Updated {
            previous: vec![a1.clone()],
            current: u1.clone()
        }]
    );
    assert_eq!(ids(&life.active()), vec!["r2"]);

    // The same message again is a duplicate and changes nothing.
    let again = life.apply(u1.clone(), now);
    assert!(again.duplicate && again.events.is_empty());

    let c1 = alert(
        CWA,
        "r3",
        "2024-04-22T21:13:00+08:00",
        MsgType::Cancel,
        &[(CWA, "r2", "2024-04-22T17:12:00+08:00")],
        None,
    );
    let applied = life.apply(c1.clone(), now);
    assert_eq!(
        applied.events,
        vec![LifecycleEvent::Cancelled {
            previous: vec![u1],
            cancel: c1
        }]
    );
    assert!(life.active().is_empty());
}

#[test]
fn unknown_reference_is_flagged_and_the_update_kept() {
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let now = utc("2024-04-22T15:00:00+08:00");
    let u = alert(
        CWA,
        "r2",
        "2024-04-22T14:57:00+08:00",
        MsgType::Update,
        &[(CWA, "never-seen", "2024-04-22T10:00:00+08:00")],
        Some(Duration::hours(3)),
    );
    let applied = life.apply(u.clone(), now);
    assert_eq!(applied.unresolved_references.len(), 1);
    assert_eq!(applied.unresolved_references[0].identifier, "never-seen");
    assert_eq!(applied.events, vec![LifecycleEvent::New(u)]);

    // The referenced message arriving late is superseded on arrival.
    let late = alert(
        CWA,
        "never-seen",
        "2024-04-22T10:00:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(9)),
    );
    let applied = life.apply(late, now);
    assert!(applied.superseded_on_arrival);
    assert!(applied.events.is_empty());
    assert_eq!(ids(&life.active()), vec!["r2"]);
}

#[test]
fn references_match_sent_as_an_instant_across_zones() {
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let now = utc("2024-04-22T15:00:00+08:00");
    let a = alert(
        CWA,
        "r1",
        "2024-04-22T14:57:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(6)),
    );
    life.apply(a, now);
    let c = alert(
        CWA,
        "r2",
        "2024-04-22T15:00:00+08:00",
        MsgType::Cancel,
        &[(CWA, "r1", "2024-04-22T06:57:00+00:00")],
        None,
    );
    let applied = life.apply(c, now);
    assert!(applied.unresolved_references.is_empty());
    assert!(matches!(
        applied.events[..],
        [LifecycleEvent::Cancelled { .. }]
    ));
}

#[test]
fn reference_sent_within_tolerance_names_the_message_in_either_order() {
    let now = utc("2024-04-22T17:30:00+08:00");
    let first = alert(
        CWA,
        "r1",
        "2024-04-22T14:57:47+08:00",
        MsgType::Update,
        &[],
        Some(Duration::hours(4)),
    );
    let second = alert(
        CWA,
        "r2",
        "2024-04-22T17:12:20+08:00",
        MsgType::Update,
        &[(CWA, "r1", "2024-04-22T14:57:48+08:00")],
        Some(Duration::hours(6)),
    );
    for order in [
        [first.clone(), second.clone()],
        [second.clone(), first.clone()],
    ] {
        let mut life = Lifecycle::new(LifecycleConfig::default());
        let mut unresolved = 0;
        for m in order {
            unresolved += life.apply(m, now).unresolved_references.len();
        }
        assert_eq!(ids(&life.active()), vec!["r2"]);
        assert!(unresolved <= 1);
    }
    // Beyond the tolerance it is another message.
    let far = alert(
        CWA,
        "r3",
        "2024-04-22T17:20:00+08:00",
        MsgType::Cancel,
        &[(CWA, "r2", "2024-04-22T17:12:30+08:00")],
        None,
    );
    let mut life = Lifecycle::new(LifecycleConfig::default());
    life.apply(second, now);
    let applied = life.apply(far, now);
    assert_eq!(applied.unresolved_references.len(), 1);
    assert_eq!(ids(&life.active()), vec!["r2"]);
}

#[test]
fn alerts_leave_the_active_set_at_expiry_by_the_clock() {
    let cfg = LifecycleConfig {
        default_lifetime: Duration::hours(24),
        ..LifecycleConfig::default()
    };
    let mut life = Lifecycle::new(cfg);
    let sent = "2024-04-22T14:57:00+08:00";
    let start = utc(sent);
    let short = alert(
        CWA,
        "short",
        sent,
        MsgType::Alert,
        &[],
        Some(Duration::hours(2)),
    );
    let no_expiry = alert(CWA, "open", sent, MsgType::Alert, &[], None);
    life.apply(short.clone(), start);
    life.apply(no_expiry.clone(), start);
    assert_eq!(life.active().len(), 2);
    assert!(life.expire(start + Duration::minutes(119)).is_empty());
    assert_eq!(
        life.expire(start + Duration::hours(2)),
        vec![LifecycleEvent::Expired(short)]
    );
    assert_eq!(ids(&life.active()), vec!["open"]);
    // No <expires>: the default lifetime applies.
    assert_eq!(
        life.expire(start + Duration::hours(24)),
        vec![LifecycleEvent::Expired(no_expiry)]
    );
    assert!(life.active().is_empty());

    // An alert already expired on arrival is kept but never in force.
    let old = alert(
        CWA,
        "old",
        "2019-08-22T08:52:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(1)),
    );
    let applied = life.apply(old, start);
    assert!(applied.expired_on_arrival && applied.events.is_empty());
}

#[test]
fn rebuild_restores_the_same_active_set() {
    let now = utc("2024-04-22T18:00:00+08:00");
    let msgs = vec![
        alert(
            CWA,
            "a",
            "2024-04-22T14:00:00+08:00",
            MsgType::Alert,
            &[],
            Some(Duration::hours(8)),
        ),
        alert(
            CWA,
            "b",
            "2024-04-22T15:00:00+08:00",
            MsgType::Update,
            &[(CWA, "a", "2024-04-22T14:00:00+08:00")],
            Some(Duration::hours(8)),
        ),
        alert(
            CWA,
            "c",
            "2024-04-22T16:00:00+08:00",
            MsgType::Alert,
            &[],
            Some(Duration::hours(8)),
        ),
    ];
    let mut live = Lifecycle::new(LifecycleConfig::default());
    for m in msgs.clone() {
        live.apply(m, now);
    }
    let rebuilt = Lifecycle::rebuild(LifecycleConfig::default(), msgs.into_iter().rev(), now);
    assert_eq!(live.active_identities(), rebuilt.active_identities());
    assert_eq!(ids(&rebuilt.active()), vec!["b", "c"]);
}

/// A small generated history: chains of Alert → Update* → (Cancel)?, over a
/// few senders, with random expiries and sometimes a dangling reference.
fn history() -> impl Strategy<Value = Vec<Alert>> {
    let chain = (1usize..4, any::<bool>(), 1i64..10, any::<bool>());
    prop::collection::vec(chain, 1..5).prop_map(|chains| {
        let mut out = Vec::new();
        for (c, (updates, cancel, hours, dangling)) in chains.into_iter().enumerate() {
            let sender = if c % 2 == 0 {
                CWA
            } else {
                "swcbfema@mail.swcb.gov.tw"
            };
            let mut prev: Option<(String, String)> = None;
            for step in 0..=updates {
                let id = format!("c{c}-s{step}");
                let sent = format!("2024-04-22T{:02}:00:00+08:00", 8 + step);
                let (kind, refs) = match &prev {
                    None if dangling => (
                        MsgType::Update,
                        vec![(
                            sender,
                            "gone".to_owned(),
                            "2024-04-21T08:00:00+08:00".to_owned(),
                        )],
                    ),
                    None => (MsgType::Alert, vec![]),
                    Some((pid, psent)) => {
                        (MsgType::Update, vec![(sender, pid.clone(), psent.clone())])
                    }
                };
                let refs: Vec<(&str, &str, &str)> = refs
                    .iter()
                    .map(|(s, i, t)| (*s, i.as_str(), t.as_str()))
                    .collect();
                out.push(alert(
                    sender,
                    &id,
                    &sent,
                    kind,
                    &refs,
                    Some(Duration::hours(hours + step as i64)),
                ));
                prev = Some((id, sent));
            }
            if cancel && let Some((pid, psent)) = &prev {
                out.push(alert(
                    sender,
                    &format!("c{c}-cancel"),
                    "2024-04-22T20:00:00+08:00",
                    MsgType::Cancel,
                    &[(sender, pid, psent)],
                    None,
                ));
            }
        }
        out
    })
}

proptest! {
    #[test]
    fn replay_in_any_order_gives_the_same_active_set(
        (msgs, order) in history().prop_flat_map(|m| {
            let n = m.len();
            (Just(m), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        }),
        hour in 9u32..22,
    ) {
        let now = utc(&format!("2024-04-22T{hour:02}:30:00+08:00"));
        let mut in_order = Lifecycle::new(LifecycleConfig::default());
        for m in &msgs {
            in_order.apply(m.clone(), now);
        }
        let mut shuffled = Lifecycle::new(LifecycleConfig::default());
        for &i in &order {
            shuffled.apply(msgs[i].clone(), now);
        }
        prop_assert_eq!(in_order.active_identities(), shuffled.active_identities());
        prop_assert_eq!(shuffled.active_identities(), shuffled.active_by_definition(now));
        // Every chain has at most one alert in force.
        let active: Vec<Identity> = shuffled.active_identities().into_iter().collect();
        let mut chains: Vec<&str> = active.iter().map(|i| i.identifier.split('-').next().unwrap_or("")).collect();
        chains.dedup();
        prop_assert_eq!(chains.len(), active.len());
    }
}

/// The real CWA heavy-rain chain of April 2024: an Alert on the 18th, an
/// Update on the 22nd whose predecessor is not in the set, an Update of it
/// (referenced one second off), a Cancel, and a new Alert on the 23rd.
const RAIN: &[&str] = &[
    "fifows_extremely-rain_202404181622.cap",
    "fifows_extremely-rain_202404221457.cap",
    "fifows_extremely-rain_202404221712.cap",
    "fifows_extremely-rain_202404222113.cap",
    "fifows_extremely-rain_202404230229.cap",
];

fn rain_chain() -> Option<Vec<Alert>> {
    let dir = shared_data()?.join("cap/tw-ncdr");
    Some(
        RAIN.iter()
            .map(|f| {
                let bytes = std::fs::read(dir.join(f)).unwrap();
                let doc = parse_document(&bytes, &Limits::default()).unwrap();
                doc.messages[0]
                    .alert
                    .clone()
                    .unwrap_or_else(|| panic!("{f} invalid"))
            })
            .collect(),
    )
}

#[test]
fn real_cwa_rain_chain_in_time_order() {
    let Some(chain) = rain_chain() else { return };
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let mut log = Vec::new();
    for alert in &chain {
        // Each message is "now" when it arrives.
        let now = alert.sent.with_timezone(&chrono::Utc);
        let applied = life.apply(alert.clone(), now);
        for e in applied.events {
            log.push(match e {
                LifecycleEvent::New(a) => format!("new {}", a.identifier),
                LifecycleEvent::Updated { previous, current } => format!(
                    "updated {} -> {}",
                    previous[0].identifier, current.identifier
                ),
                LifecycleEvent::Cancelled { previous, cancel } => format!(
                    "cancelled {} by {}",
                    previous[0].identifier, cancel.identifier
                ),
                LifecycleEvent::Expired(a) => format!("expired {}", a.identifier),
            });
        }
        if alert.identifier.ends_with("221445001") {
            assert_eq!(
                applied.unresolved_references.len(),
                1,
                "its predecessor is not in the set"
            );
        }
    }
    assert_eq!(
        log,
        vec![
            "new CWA-Weather_extremely-rain_202404181615001",
            "expired CWA-Weather_extremely-rain_202404181615001",
            "new CWA-Weather_extremely-rain_202404221445001",
            "updated CWA-Weather_extremely-rain_202404221445001 -> CWA-Weather_extremely-rain_202404221705001",
            "cancelled CWA-Weather_extremely-rain_202404221705001 by CWA-Weather_extremely-rain_202404222105001",
            "new CWA-Weather_extremely-rain_202404230220001",
        ]
    );
}

#[test]
fn real_cwa_rain_chain_in_every_order_gives_the_same_active_set() {
    let Some(chain) = rain_chain() else { return };
    // (now, how many of the chain had arrived by then, what is in force)
    for (now, arrived, expected) in [
        (
            "2024-04-22T17:30:00+08:00",
            3,
            vec!["CWA-Weather_extremely-rain_202404221705001"],
        ),
        ("2024-04-22T21:30:00+08:00", 4, vec![]),
        (
            "2024-04-23T03:00:00+08:00",
            5,
            vec!["CWA-Weather_extremely-rain_202404230220001"],
        ),
    ] {
        let now = utc(now);
        let chain = &chain[..arrived];
        let mut permutation: Vec<usize> = (0..chain.len()).collect();
        let mut seen = 0;
        // Heap's algorithm over all orders.
        let mut c = vec![0; permutation.len()];
        let mut check = |order: &[usize]| {
            let life = Lifecycle::rebuild(
                LifecycleConfig::default(),
                order.iter().map(|&i| chain[i].clone()),
                now,
            );
            assert_eq!(ids(&life.active()), expected, "order {order:?}");
            seen += 1;
        };
        check(&permutation);
        let mut i = 0;
        while i < permutation.len() {
            if c[i] < i {
                permutation.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
                check(&permutation);
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        assert_eq!(seen, (1..=arrived).product::<usize>());
    }
}
