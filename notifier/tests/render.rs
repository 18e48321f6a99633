//! The locale walk: every locale × hazard × kind × colour × exercise renders,
//! says what it must, and fits every channel's budget.

use std::collections::{BTreeMap, BTreeSet};

use cap::{Colour, HazardKind, Severity, Urgency};
use chrono::DateTime;
use notifier::render::{Budgets, SmsEncoding, format_taipei};
use notifier::{AlertVersion, Locale, Notice, NoticeKind, RecipientPlace, Renderer, ShelterInfo};

const KINDS: [NoticeKind; 4] = [
    NoticeKind::New,
    NoticeKind::Update,
    NoticeKind::AllClear,
    NoticeKind::Relief,
];
const COLOURS: [Colour; 4] = [Colour::Green, Colour::Yellow, Colour::Orange, Colour::Red];

fn notice(hazard: HazardKind, colour: Colour, kind: NoticeKind, exercise: bool) -> Notice {
    Notice {
        alert: AlertVersion("sender,id-1,2026-11-22T08:00:00+08:00".into()),
        hazard,
        colour,
        severity: Severity::Severe,
        urgency: Urgency::Expected,
        kind,
        exercise,
        instruction_original: Some("請依鄉鎮市區公所指示立即撤離，前往避難處所。".into()),
        instruction_by_locale: BTreeMap::new(),
        expires: DateTime::parse_from_rfc3339("2026-11-22T06:00:00Z").ok(),
        link: "https://alerts.example/a/1".into(),
        in_force_since: None,
    }
}

fn place(name: &str) -> RecipientPlace {
    RecipientPlace {
        name: name.into(),
        shelter: Some(ShelterInfo {
            name: "Elementary School Hall".into(),
            distance_m: 850,
        }),
    }
}

/// Message ids defined in a template file, by its own text.
fn ids(source: &str) -> BTreeSet<String> {
    source
        .lines()
        .filter(|line| !line.starts_with(['#', ' ']) && line.contains(" ="))
        .filter_map(|line| line.split(" =").next().map(str::to_string))
        .collect()
}

#[test]
fn every_locale_defines_the_same_messages() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/locales");
    let english = ids(&std::fs::read_to_string(format!("{dir}/en/notifier.ftl")).unwrap());
    assert!(english.len() > 40, "{english:?}");
    for locale in Locale::ALL {
        let source =
            std::fs::read_to_string(format!("{dir}/{}/notifier.ftl", locale.tag())).unwrap();
        assert_eq!(ids(&source), english, "{locale} differs from en");
    }
}

#[test]
fn locale_walk_renders_within_budgets() {
    let renderer = Renderer::new().unwrap();
    let budgets = Budgets::default();
    // Long enough to force every budget to cut.
    let long_place = "Xinyi Village, Ren'ai Township, Nantou County (upper river terraces)";
    let mut rendered = 0;
    for locale in Locale::ALL {
        let mut advice_seen = BTreeSet::new();
        for hazard in HazardKind::ALL {
            for kind in KINDS {
                for colour in COLOURS {
                    for exercise in [false, true] {
                        for place_name in ["Xinyi", long_place] {
                            let n = notice(hazard, colour, kind, exercise);
                            let message = renderer.render(&n, &place(place_name), locale).unwrap();
                            check(&renderer, &n, &message, locale, place_name, &budgets);
                            if kind == NoticeKind::New {
                                advice_seen.insert(message.instruction.clone());
                            }
                            rendered += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(
            advice_seen.len(),
            HazardKind::ALL.len(),
            "{locale}: advice shared between hazards"
        );
    }
    assert_eq!(rendered, 8 * 12 * 4 * 4 * 2 * 2);
}

fn check(
    renderer: &Renderer,
    n: &Notice,
    message: &notifier::Message,
    locale: Locale,
    place_name: &str,
    budgets: &Budgets,
) {
    let hazard = renderer.hazard_name(locale, n.hazard);
    let colour = renderer.colour_name(locale, n.colour);
    let context = format!(
        "{locale} {:?} {:?} {:?} exercise={}",
        n.hazard, n.kind, n.colour, n.exercise
    );

    // The unshortened message says hazard, level (for warnings), place.
    let title = message.full_title();
    let text = message.full_text();
    for whole in [&title, &text] {
        assert!(whole.contains(hazard), "{context}: no hazard in {whole}");
        assert!(whole.contains(place_name), "{context}: no place in {whole}");
        if matches!(n.kind, NoticeKind::New | NoticeKind::Update) {
            assert!(whole.contains(colour), "{context}: no colour in {whole}");
        }
        assert!(
            !whole.contains(['{', '}', '\u{E000}', '\u{2068}', '\u{2069}']),
            "{context}: {whole}"
        );
    }
    assert!(text.contains(&message.instruction), "{context}");
    assert!(text.contains(&n.link), "{context}");
    if matches!(n.kind, NoticeKind::New | NoticeKind::Update) {
        assert!(text.contains("2026-11-22 14:00"), "{context}: {text}");
        assert!(
            text.contains("Elementary School Hall") && text.contains("850 m"),
            "{context}: {text}"
        );
    }

    // Budgets.
    let push = message.push(budgets);
    let sms = message.sms(budgets);
    let email = message.email(budgets);
    assert!(
        push.title.chars().count() <= budgets.push_title_chars,
        "{context}: {}",
        push.title
    );
    assert!(
        push.body.chars().count() <= budgets.push_body_chars,
        "{context}: {}",
        push.body
    );
    assert!(
        sms.segments <= budgets.sms_segments,
        "{context}: {} segments",
        sms.segments
    );
    assert_eq!(
        notifier::render::sms::segments(&sms.text),
        (sms.encoding, sms.segments)
    );
    assert!(
        email.subject.chars().count() <= budgets.email_subject_chars,
        "{context}"
    );
    assert!(email.body.contains(&message.instruction), "{context}");
    // The hazard survives every budget: the instruction is cut first.
    for shown in [&push.title, &push.body, &sms.text, &email.subject] {
        assert!(shown.contains(hazard), "{context}: hazard lost in {shown}");
    }
    // The SMS keeps the link when it fits only by shortening the instruction.
    if place_name.len() < 10 {
        assert!(
            sms.text.contains(&n.link),
            "{context}: link lost in {}",
            sms.text
        );
    }
    // Latin-script languages stay in GSM-7 (more than twice the room).
    if matches!(locale, Locale::En | Locale::Fil | Locale::Id) {
        assert_eq!(sms.encoding, SmsEncoding::Gsm7, "{context}: {}", sms.text);
    }
    // Exercises are unmistakable in every part a person sees.
    if let Some(exercise) = &message.exercise {
        for shown in [
            &push.title,
            &push.body,
            &sms.text,
            &email.subject,
            &email.body,
        ] {
            assert!(
                shown.starts_with(&exercise.marker),
                "{context}: unmarked {shown}"
            );
        }
    } else {
        assert!(!n.exercise);
    }
    // The agency's original is always reachable by e-mail.
    assert!(email.body.contains("請依鄉鎮市區公所指示"), "{context}");
}

#[test]
fn agency_instruction_in_the_recipients_language_wins() {
    let renderer = Renderer::new().unwrap();
    let mut n = notice(HazardKind::DebrisFlow, Colour::Red, NoticeKind::New, false);
    n.instruction_by_locale
        .insert(Locale::Vi, "Sơ tán ngay đến trường tiểu học.".into());
    let vi = renderer
        .render(&n, &place("Thôn Tín Nghĩa"), Locale::Vi)
        .unwrap();
    assert!(vi.instruction_is_agency);
    assert!(vi.full_text().contains("Sơ tán ngay đến trường tiểu học."));
    assert_eq!(vi.full_title(), "Cảnh báo lũ bùn đá mức ĐỎ: Thôn Tín Nghĩa");
    // Japanese has no agency text: the standard advice, the original beside it.
    let ja = renderer.render(&n, &place("信義村"), Locale::Ja).unwrap();
    assert!(!ja.instruction_is_agency);
    assert!(ja.instruction.contains("避難"));
    assert_eq!(ja.original.as_deref(), n.instruction_original.as_deref());
}

#[test]
fn exercise_markers_lead_in_chinese_and_english() {
    let renderer = Renderer::new().unwrap();
    let n = notice(HazardKind::DebrisFlow, Colour::Red, NoticeKind::New, true);
    let zh = renderer.render(&n, &place("信義村"), Locale::ZhTw).unwrap();
    assert_eq!(zh.full_title(), "【演習】土石流紅色警戒：信義村");
    let en = renderer.render(&n, &place("Xinyi"), Locale::En).unwrap();
    assert_eq!(en.full_title(), "[EXERCISE] RED debris flow warning: Xinyi");
    assert!(en.full_text().starts_with("[EXERCISE] This is a drill"));
}

#[test]
fn times_are_shown_in_taiwan() {
    let t = DateTime::parse_from_rfc3339("2026-12-31T17:30:00Z").unwrap();
    assert_eq!(format_taipei(t), "2027-01-01 01:30");
}
