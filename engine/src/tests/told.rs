//! The rule of what each person is told next ([`crate::told`]), through the
//! engine: repeats, changed instructions, downgrades below a threshold,
//! people joining while an alert is in force.

use super::*;

/// The red demo Update, rewritten: `edits` are (from, to) text
/// replacements applied in order.
fn variant(edits: &[(&str, &str)]) -> Alert {
    let path = format!(
        "{}/../demo/cap/02-debris-flow-red-update.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut xml = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(xml.contains(from), "{from} not in the demo message");
        xml = xml.replace(from, to);
    }
    let document = cap::parse_document(xml.as_bytes(), &cap::Limits::default()).unwrap();
    document.messages[0].alert.clone().unwrap()
}

const UPDATE_TYPE: &str = "<msgType>Update</msgType>";
const REFERENCES: &str = "<references>debris@demo.hazardline.invalid,DEMO-DF-0001,2026-07-01T08:00:00+08:00</references>";

/// The red alert as a new alert of its own (no reference).
fn red_alert(identifier: &str, sent: &str) -> Alert {
    variant(&[
        (UPDATE_TYPE, "<msgType>Alert</msgType>"),
        (REFERENCES, ""),
        ("DEMO-DF-0002", identifier),
        (
            "2026-07-01T11:00:00+08:00</sent>",
            &format!("{sent}</sent>"),
        ),
    ])
}

/// An Update of `previous` with `edits`.
fn update_of(previous: &Alert, identifier: &str, sent: &str, edits: &[(&str, &str)]) -> Alert {
    let reference = format!(
        "<references>{},{},{}</references>",
        previous.sender,
        previous.identifier,
        previous.sent.to_rfc3339()
    );
    let sent_element = format!("{sent}</sent>");
    let mut all: Vec<(&str, &str)> = vec![
        (REFERENCES, &reference),
        ("DEMO-DF-0002", identifier),
        ("2026-07-01T11:00:00+08:00</sent>", &sent_element),
    ];
    all.extend_from_slice(edits);
    variant(&all)
}

fn kinds(outcome: &Outcome) -> BTreeMap<String, &'static str> {
    outcome
        .notices
        .iter()
        .map(|t| {
            let kind = match t.facts.kind {
                NoticeKind::New => "new",
                NoticeKind::Update => "update",
                NoticeKind::AllClear => "all_clear",
                NoticeKind::Lowered => "lowered",
                NoticeKind::Relief => "relief",
            };
            (t.subscriber.clone(), kind)
        })
        .collect()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .to_utc()
}

#[test]
fn a_second_alert_minutes_after_the_first_is_told_to_everyone_again() {
    let mut engine = engine(people());
    let first = red_alert("DEMO-EQ-1", "2026-07-01T11:00:00+08:00");
    let second = red_alert("DEMO-EQ-2", "2026-07-01T11:05:00+08:00");
    let one = engine
        .handle(&LifecycleEvent::New(first), at("2026-07-01T11:00:30+08:00"))
        .unwrap();
    let two = engine
        .handle(
            &LifecycleEvent::New(second),
            at("2026-07-01T11:05:30+08:00"),
        )
        .unwrap();
    assert_eq!(told(&one).len(), 2, "溪源 and 中興");
    assert_eq!(told(&two), told(&one), "a new alert is never held back");
    assert_eq!(two.coalesced, 0);
    assert_eq!(engine.active_count(), 2);
}

#[test]
fn a_changed_instruction_reaches_everyone_and_only_a_true_repeat_is_held() {
    let mut engine = engine(people());
    let alert = red_alert("DEMO-DF-9", "2026-07-01T11:00:00+08:00");
    let first = engine
        .handle(
            &LifecycleEvent::New(alert.clone()),
            at("2026-07-01T11:00:30+08:00"),
        )
        .unwrap();
    let inside: BTreeSet<String> = first.notices.iter().map(|t| t.subscriber.clone()).collect();
    assert_eq!(inside.len(), 2);

    // "Evacuate now" becomes "stay at the centre": everyone is told.
    let changed = update_of(
        &alert,
        "DEMO-DF-10",
        "2026-07-01T11:20:00+08:00",
        &[("請立即撤離至避難處所。", "請留在避難處所，勿返家。")],
    );
    let outcome = engine
        .handle(
            &LifecycleEvent::Updated {
                previous: vec![alert],
                current: changed.clone(),
            },
            at("2026-07-01T11:20:30+08:00"),
        )
        .unwrap();
    let expected: BTreeMap<String, &str> = inside.iter().map(|s| (s.clone(), "update")).collect();
    assert_eq!(kinds(&outcome), expected);
    let chinese_reader = outcome
        .notices
        .iter()
        .find(|t| t.subscriber == "xiyuan")
        .unwrap();
    assert!(
        chinese_reader
            .message
            .instruction
            .contains("請留在避難處所"),
        "the new instruction is what they read: {}",
        chinese_reader.message.instruction
    );

    // The same again ten minutes later: a true repeat, held for everyone.
    let repeat = update_of(
        &changed,
        "DEMO-DF-11",
        "2026-07-01T11:30:00+08:00",
        &[("請立即撤離至避難處所。", "請留在避難處所，勿返家。")],
    );
    let outcome = engine
        .handle(
            &LifecycleEvent::Updated {
                previous: vec![changed],
                current: repeat.clone(),
            },
            at("2026-07-01T11:30:30+08:00"),
        )
        .unwrap();
    assert!(outcome.notices.is_empty() && outcome.deliveries.is_empty());
    assert_eq!(outcome.coalesced, 2);

    // Past the window, the same is recalled as an update.
    let later = update_of(
        &repeat,
        "DEMO-DF-12",
        "2026-07-01T13:40:00+08:00",
        &[("請立即撤離至避難處所。", "請留在避難處所，勿返家。")],
    );
    let outcome = engine
        .handle(
            &LifecycleEvent::Updated {
                previous: vec![repeat],
                current: later,
            },
            at("2026-07-01T13:40:30+08:00"),
        )
        .unwrap();
    assert_eq!(kinds(&outcome), expected);
}

#[test]
fn a_downgrade_below_a_threshold_reads_lowered_and_the_end_still_reaches_them() {
    let mut orange_and_up = person("careful", Locale::Vi, 123.125, 23.15);
    orange_and_up.preferences.min_colour = Some(cap::Colour::Orange);
    let everything = person("everything", Locale::En, 123.175, 23.15);
    let mut engine = engine(vec![orange_and_up, everything]);
    let red = red_alert("DEMO-DF-20", "2026-07-01T11:00:00+08:00");
    let outcome = engine
        .handle(
            &LifecycleEvent::New(red.clone()),
            at("2026-07-01T11:00:30+08:00"),
        )
        .unwrap();
    assert_eq!(outcome.notices.len(), 2);

    let yellow = update_of(
        &red,
        "DEMO-DF-21",
        "2026-07-01T12:00:00+08:00",
        &[("紅色", "黃色")],
    );
    let outcome = engine
        .handle(
            &LifecycleEvent::Updated {
                previous: vec![red],
                current: yellow.clone(),
            },
            at("2026-07-01T12:00:30+08:00"),
        )
        .unwrap();
    let got = kinds(&outcome);
    assert_eq!(got.get("careful"), Some(&"lowered"));
    assert_eq!(got.get("everything"), Some(&"update"));
    let careful = outcome
        .notices
        .iter()
        .find(|t| t.subscriber == "careful")
        .unwrap();
    let text = careful.message.full_text();
    assert!(
        text.contains("Hạ mức") || careful.message.title.contains("Hạ mức"),
        "{text}"
    );
    assert!(
        !text.contains("Đã hủy") && !text.contains("sinh hoạt bình thường"),
        "a lowered warning is not over: {text}"
    );

    // Lowered once; a further change below their threshold says nothing.
    let still_yellow = update_of(
        &yellow,
        "DEMO-DF-22",
        "2026-07-01T12:30:00+08:00",
        &[
            ("紅色", "黃色"),
            ("請立即撤離至避難處所。", "請注意溪水變化。"),
        ],
    );
    let outcome = engine
        .handle(
            &LifecycleEvent::Updated {
                previous: vec![yellow],
                current: still_yellow.clone(),
            },
            at("2026-07-01T12:30:30+08:00"),
        )
        .unwrap();
    assert_eq!(kinds(&outcome).get("careful"), None);
    assert_eq!(kinds(&outcome).get("everything"), Some(&"update"));

    // The alert ends: both are told it is over.
    let cancel = update_of(
        &still_yellow,
        "DEMO-DF-23",
        "2026-07-01T13:00:00+08:00",
        &[(UPDATE_TYPE, "<msgType>Cancel</msgType>")],
    );
    let outcome = engine
        .handle(
            &LifecycleEvent::Cancelled {
                previous: vec![still_yellow],
                cancel,
            },
            at("2026-07-01T13:00:30+08:00"),
        )
        .unwrap();
    let got = kinds(&outcome);
    assert_eq!(got.get("careful"), Some(&"all_clear"));
    assert_eq!(got.get("everything"), Some(&"all_clear"));
}

#[test]
fn someone_joining_during_an_alert_is_told_at_once_and_only_once() {
    let mut engine = engine(people());
    let red = red_alert("DEMO-DF-30", "2026-07-01T11:00:00+08:00");
    engine
        .handle(
            &LifecycleEvent::New(red.clone()),
            at("2026-07-01T11:00:30+08:00"),
        )
        .unwrap();

    engine
        .upsert_subscriber(person("newcomer", Locale::En, 123.176, 23.16))
        .unwrap();
    let outcomes = engine
        .tell_in_force("newcomer", at("2026-07-01T11:40:00+08:00"))
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    let notice = &outcomes[0].notices[0];
    assert_eq!(notice.facts.kind, NoticeKind::New);
    assert!(
        notice
            .message
            .headline
            .contains("in force since 2026-07-01 11:00"),
        "{}",
        notice.message.headline
    );
    assert_eq!(outcomes[0].deliveries.len(), 1);
    assert_eq!(outcomes[0].in_force, Some(alert_key(&red)));

    // Told once: saving their settings again tells nothing.
    assert!(
        engine
            .tell_in_force("newcomer", at("2026-07-01T11:45:00+08:00"))
            .unwrap()
            .is_empty()
    );
    // Those told at issue time are not told again; someone outside is not told.
    assert!(
        engine
            .tell_in_force("xiyuan", at("2026-07-01T11:45:00+08:00"))
            .unwrap()
            .is_empty()
    );
    assert!(
        engine
            .tell_in_force("elsewhere", at("2026-07-01T11:45:00+08:00"))
            .unwrap()
            .is_empty()
    );
    // A person moving a place into the area is told.
    let mut moved = person("elsewhere", Locale::Ja, 123.125, 23.15);
    moved.places[0].name = "new home".into();
    engine.upsert_subscriber(moved).unwrap();
    let outcomes = engine
        .tell_in_force("elsewhere", at("2026-07-01T11:50:00+08:00"))
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].notices[0].place, "new home");

    // The end reaches those who joined late.
    let outcome = engine
        .handle(
            &LifecycleEvent::Expired(red),
            at("2026-07-01T23:00:30+08:00"),
        )
        .unwrap();
    let got = kinds(&outcome);
    assert_eq!(got.get("newcomer"), Some(&"all_clear"));
    assert_eq!(got.get("elsewhere"), Some(&"all_clear"));
    assert_eq!(got.len(), 4);
}

#[test]
fn the_preview_counts_exactly_those_who_are_then_told() {
    let mut engine = engine(people());
    for (n, name) in ["01-debris-flow-yellow.xml", "03-earthquake.xml"]
        .iter()
        .enumerate()
    {
        let alert = message(name);
        let preview = engine.preview(&alert).unwrap();
        let outcome = engine
            .handle(
                &LifecycleEvent::New(alert),
                now() + chrono::Duration::minutes(n as i64),
            )
            .unwrap();
        assert_eq!(preview.total, outcome.notices.len(), "{name}");
        assert_eq!(outcome.coalesced, 0, "{name}");
        // One delivery per address of each person told (one each here).
        assert_eq!(outcome.deliveries.len(), outcome.notices.len(), "{name}");
    }
}
