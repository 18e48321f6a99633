//! Relay lists: issue, acknowledge, summarize, escalate, print.

use chrono::{DateTime, Duration, Utc};
use notifier::notice::{AlertVersion, PhoneNumber, SubscriberId};
use notifier::relay::{AckStatus, RelayBook, RelayError, RelayNeed, RelaySummary, Resident};
use notifier::{Locale, Renderer};

fn resident(id: &str, village: &str, needs: &[RelayNeed]) -> Resident {
    Resident {
        subscriber: SubscriberId(id.into()),
        name: format!("Resident {id}"),
        phone: PhoneNumber::new(format!("+8860000000{:02}", id.len())),
        address: format!("{id} Demo Road"),
        locale: Locale::Vi,
        needs: needs.to_vec(),
        village_code: village.into(),
        village_name: format!("Village {village}"),
        town_code: "T-01".into(),
    }
}

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::minutes(minutes)
}

fn residents() -> Vec<Resident> {
    vec![
        resident("a", "V-1", &[RelayNeed::Elderly]),
        resident("bb", "V-1", &[RelayNeed::NoSmartphone, RelayNeed::Language]),
        resident("ccc", "V-1", &[]),
        resident("dddd", "V-2", &[RelayNeed::Disabled]),
        resident("eeeee", "V-3", &[RelayNeed::Elderly]),
    ]
}

#[test]
fn lists_hold_the_affected_villages_people_with_needs() {
    let mut book = RelayBook::new();
    let alert = AlertVersion("alert-1".into());
    let people = residents();
    let lists = book.issue(&alert, &people, &["V-1", "V-2"], at(0));
    assert_eq!(lists.len(), 2);
    let v1 = book.list(&alert, "V-1").unwrap();
    let ids: Vec<&str> = v1
        .entries
        .iter()
        .map(|e| e.resident.subscriber.0.as_str())
        .collect();
    assert_eq!(
        ids,
        ["a", "bb"],
        "people without needs are reached directly"
    );
    assert!(book.list(&alert, "V-3").is_none());
    // Re-issuing (an Update) keeps acknowledgements and adds no duplicates.
    book.acknowledge(
        &alert,
        "V-1",
        &SubscriberId("a".into()),
        AckStatus::Reached,
        at(5),
    )
    .unwrap();
    book.issue(&alert, &people, &["V-1", "V-2"], at(10));
    assert_eq!(book.list(&alert, "V-1").unwrap().entries.len(), 2);
    assert_eq!(book.summary(&alert).reached, 1);
}

#[test]
fn acknowledgements_summarize_and_unsettled_entries_escalate_once() {
    let mut book = RelayBook::new();
    let alert = AlertVersion("alert-2".into());
    book.issue(&alert, &residents(), &["V-1", "V-2"], at(0));
    book.acknowledge(
        &alert,
        "V-1",
        &SubscriberId("a".into()),
        AckStatus::Evacuated,
        at(3),
    )
    .unwrap();
    book.acknowledge(
        &alert,
        "V-1",
        &SubscriberId("bb".into()),
        AckStatus::NotReached,
        at(4),
    )
    .unwrap();
    assert_eq!(
        book.summary(&alert),
        RelaySummary {
            total: 3,
            evacuated: 1,
            not_reached: 1,
            unacknowledged: 1,
            ..RelaySummary::default()
        }
    );
    assert_eq!(
        book.acknowledge(
            &alert,
            "V-9",
            &SubscriberId("a".into()),
            AckStatus::Reached,
            at(5)
        ),
        Err(RelayError::UnknownList {
            alert: "alert-2".into(),
            village: "V-9".into()
        })
    );
    assert!(
        book.acknowledge(
            &alert,
            "V-2",
            &SubscriberId("a".into()),
            AckStatus::Reached,
            at(5)
        )
        .is_err()
    );

    let after = Duration::minutes(30);
    assert!(book.escalate(at(29), after).is_empty(), "too early");
    let mut escalations = book.escalate(at(30), after);
    escalations.sort_by(|a, b| a.village_code.cmp(&b.village_code));
    assert_eq!(escalations.len(), 2);
    assert_eq!(escalations[0].village_code, "V-1");
    assert_eq!(escalations[0].town_code, "T-01");
    // Not reached is not settled; evacuated is.
    assert_eq!(escalations[0].subscribers, vec![SubscriberId("bb".into())]);
    assert_eq!(
        escalations[1].subscribers,
        vec![SubscriberId("dddd".into())]
    );
    assert!(book.escalate(at(60), after).is_empty(), "escalated once");
}

#[test]
fn csv_and_printable_html() {
    let renderer = Renderer::new().unwrap();
    let mut book = RelayBook::new();
    let alert = AlertVersion("alert-3".into());
    let mut people = residents();
    people[0].name = "<b>Chen & Lin</b>".into();
    book.issue(&alert, &people, &["V-1"], at(0));
    book.acknowledge(
        &alert,
        "V-1",
        &SubscriberId("bb".into()),
        AckStatus::NeedsHelp,
        at(1),
    )
    .unwrap();
    let list = book.list(&alert, "V-1").unwrap();

    let csv = list.to_csv(&renderer, Locale::ZhTw).unwrap();
    let mut lines = csv.trim_start_matches('\u{FEFF}').lines();
    assert_eq!(lines.next(), Some("姓名,電話,地址,需求,語言,聯繫結果"));
    assert_eq!(
        lines.next(),
        Some("<b>Chen & Lin</b>,+886000000001,a Demo Road,長者,vi,未聯繫")
    );
    assert_eq!(
        lines.next(),
        Some("Resident bb,+886000000002,bb Demo Road,\"無智慧型手機, 需其他語言\",vi,需要協助")
    );

    let html = list.to_html(&renderer, Locale::En);
    assert!(html.contains("<h1>Relay list Village V-1</h1>"), "{html}");
    assert!(html.contains("&lt;b&gt;Chen &amp; Lin&lt;/b&gt;"));
    assert!(!html.contains("<b>Chen"));
    assert!(html.contains("<a href=\"tel:+886000000002\">"));
    assert!(html.contains("needs help"));
    assert!(html.contains("2026-11-22 08:00"));
}

#[test]
fn residents_debug_is_redacted() {
    let shown = format!("{:?}", residents()[0]);
    assert!(
        !shown.contains("Resident a") && !shown.contains("Demo Road") && !shown.contains("+886"),
        "{shown}"
    );
}
