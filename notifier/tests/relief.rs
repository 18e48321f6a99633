//! The relief catalogue: loading checks, queries by place, localized text.

use cap::HazardKind;
use chrono::NaiveDate;
use notifier::relief::{Catalogue, CatalogueError, steps_text};
use notifier::{Locale, Renderer};

#[test]
fn demo_catalogue_loads_and_answers_by_place() {
    let catalogue = Catalogue::demo().unwrap();
    assert_eq!(catalogue.steps().len(), 3);
    let ids = |steps: Vec<&notifier::relief::ReliefStep>| {
        steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>()
    };
    // The town's own step comes before county-wide ones.
    assert_eq!(
        ids(catalogue.steps_for(HazardKind::DebrisFlow, "99000", "99000010")),
        ["demo-debris-flow-lodging"]
    );
    assert!(
        catalogue
            .steps_for(HazardKind::DebrisFlow, "99000", "99000020")
            .is_empty()
    );
    assert_eq!(
        ids(catalogue.steps_for(HazardKind::Typhoon, "99000", "99000020")),
        ["demo-flood-home-aid"]
    );
    assert!(
        catalogue
            .steps_for(HazardKind::Typhoon, "OTHER", "99000010")
            .is_empty()
    );
}

#[test]
fn every_step_reads_in_every_locale() {
    let catalogue = Catalogue::demo().unwrap();
    let renderer = Renderer::new().unwrap();
    let event = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    for locale in Locale::ALL {
        let steps: Vec<_> = catalogue
            .steps()
            .iter()
            .map(|s| s.localize(locale, event))
            .collect();
        for step in &steps {
            assert!(
                !step.title.is_empty() && !step.office.is_empty() && !step.documents.is_empty()
            );
        }
        let text = steps_text(&renderer, locale, &steps);
        assert!(
            text.contains("2026-12-22"),
            "{locale}: 30 days after the event\n{text}"
        );
        assert!(text.contains("https://relief.example/demo/house-check"));
        // Demo numbers cannot be dialled.
        assert!(text.contains("00-0000-0001"));
    }
    let zh = catalogue.steps()[0].localize(Locale::ZhTw, event);
    assert_eq!(zh.title, "住宅淹水救助金");
    assert_eq!(zh.apply_by, NaiveDate::from_ymd_opt(2026, 12, 22));
}

#[test]
fn missing_translations_and_bad_fields_are_named() {
    let broken = notifier::relief::DEMO_CATALOGUE.replace("vi = \"Tiền hỗ trợ nhà bị ngập\"\n", "");
    assert_eq!(
        Catalogue::from_toml(&broken),
        Err(CatalogueError::MissingLocale {
            step: "demo-flood-home-aid".into(),
            field: "title",
            locale: Locale::Vi
        })
    );
    let bad_date =
        notifier::relief::DEMO_CATALOGUE.replace("deadline_days = 14", "deadline = \"next week\"");
    assert!(matches!(
        Catalogue::from_toml(&bad_date),
        Err(CatalogueError::Invalid { step, problem }) if step == "demo-earthquake-house-check" && problem.contains("next week")
    ));
    let unknown_hazard = notifier::relief::DEMO_CATALOGUE
        .replace("hazards = [\"earthquake\"]", "hazards = [\"meteor\"]");
    assert!(
        matches!(Catalogue::from_toml(&unknown_hazard), Err(CatalogueError::Syntax(message)) if message.contains("meteor"))
    );
}
