//! Rendering throughput: one message per recipient, as the service does
//! during a fan-out. Target: at least 200,000 messages per second.

use std::collections::BTreeMap;
use std::hint::black_box;

use cap::{Colour, HazardKind, Severity, Urgency};
use chrono::DateTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use notifier::render::Budgets;
use notifier::{AlertVersion, Locale, Notice, NoticeKind, RecipientPlace, Renderer, ShelterInfo};

fn notice() -> Notice {
    Notice {
        alert: AlertVersion("sender,id-1,2026-11-22T08:00:00+08:00".into()),
        hazard: HazardKind::DebrisFlow,
        colour: Colour::Red,
        severity: Severity::Severe,
        urgency: Urgency::Immediate,
        kind: NoticeKind::New,
        exercise: false,
        instruction_original: Some("請立即撤離至避難處所。".into()),
        instruction_by_locale: BTreeMap::from([(Locale::ZhTw, "請立即撤離至避難處所。".into())]),
        expires: DateTime::parse_from_rfc3339("2026-11-22T06:00:00Z").ok(),
        link: "https://alerts.example/a/1".into(),
        in_force_since: None,
    }
}

fn bench(c: &mut Criterion) {
    let renderer = Renderer::new().expect("templates load");
    let notice = notice();
    let place = RecipientPlace {
        name: "Xinyi Village".into(),
        shelter: Some(ShelterInfo {
            name: "Xinyi Elementary School".into(),
            distance_m: 850,
        }),
    };
    let budgets = Budgets::default();
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(Locale::ALL.len() as u64));
    group.bench_function("message, all 8 locales", |b| {
        b.iter(|| {
            for locale in Locale::ALL {
                black_box(
                    renderer
                        .render(black_box(&notice), &place, locale)
                        .expect("renders"),
                );
            }
        })
    });
    group.bench_function("message + push budget, all 8 locales", |b| {
        b.iter(|| {
            for locale in Locale::ALL {
                let message = renderer
                    .render(black_box(&notice), &place, locale)
                    .expect("renders");
                black_box(message.push(&budgets));
            }
        })
    });
    group.bench_function("message + sms budget, all 8 locales", |b| {
        b.iter(|| {
            for locale in Locale::ALL {
                let message = renderer
                    .render(black_box(&notice), &place, locale)
                    .expect("renders");
                black_box(message.sms(&budgets));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
