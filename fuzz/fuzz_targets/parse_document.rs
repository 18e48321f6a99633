//! Any bytes through the whole CAP reading path: decoding, XML limits,
//! envelopes, CAP validation, classification and the check records. It
//! must never panic, and a message's `alert` must be present exactly when
//! it has no violations.

#![no_main]

use cap::check::check_bytes;
use cap::hazard::{classify, local_intensities};
use cap::parse::{Limits, parse_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_nodes: 100_000,
    };
    if let Ok(doc) = parse_document(data, &limits) {
        for m in &doc.messages {
            assert_eq!(m.alert.is_some(), m.violations.is_empty());
            assert!(doc.raw_text(m).is_some_and(|t| t.starts_with('<')));
            if let Some(alert) = &m.alert {
                let class = classify(alert);
                assert_eq!(class.exercise, !alert.status.is_real());
                for info in &alert.infos {
                    let _ = local_intensities(info);
                }
            }
        }
    }
    let records = check_bytes(data, &limits);
    assert!(!records.is_empty());
});
