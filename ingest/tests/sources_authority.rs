//! Who may end or change an alert: references are honoured only within one
//! authority (see `ingest::authority`), on CWA's real rain chain and on
//! office submissions, in both orders of arrival and across a restart.

mod sources_support;

use cap::{Alert, Limits, parse_document};
use ingest::authority::{Authority, AuthorityRule};
use ingest::feed::issuer::{SubmitOutcome, submit};
use ingest::feed::{MessageOutcome, Pipeline, RejectReason};
use ingest::lifecycle::LifecycleEvent;
use ingest::signature::TrustedKeys;
use ingest::source::{SourceId, SourceTrust};
use ingest::store::{AlertArchive, MemoryArchive, NewRecord, Verdict};
use sources_support::rig::{drain, rig};
use sources_support::{cap_xml, shared_data};

const CWA: &str = "weather@cwa.gov.tw";
const WRA: &str = "ddmt01@wra.gov.tw";

/// NCDR's aggregated feed: many agencies on one source entry.
fn ncdr(aliases: AuthorityRule) -> SourceTrust {
    SourceTrust::new(
        SourceId::new("ncdr"),
        vec![
            "*@cwa.gov.tw".parse().unwrap(),
            "*@cwb.gov.tw".parse().unwrap(),
            WRA.parse().unwrap(),
        ],
        false,
        TrustedKeys::default(),
    )
    .with_authority(aliases)
}

fn offices() -> SourceTrust {
    SourceTrust::new(
        SourceId::new("issuers"),
        vec!["*@issuers.example".parse().unwrap()],
        false,
        TrustedKeys::default(),
    )
    .with_authority(AuthorityRule::Offices)
}

/// CWA's 14:57 heavy-rain warning (an Update of a message not in the set,
/// so new for everyone) and its 21:13 Cancel.
fn rain() -> Option<(Vec<u8>, Alert)> {
    let path = shared_data()?.join("cap/tw-ncdr/fifows_extremely-rain_202404221457.cap");
    let bytes = std::fs::read(path).unwrap();
    let alert = parse_document(&bytes, &Limits::default()).unwrap().messages[0]
        .alert
        .clone()
        .unwrap();
    Some((bytes, alert))
}

/// A Cancel from `sender` naming `target`.
fn cancel_of(sender: &str, identifier: &str, target: &Alert) -> String {
    cap_xml(
        sender,
        identifier,
        "2024-04-22T15:10:00+08:00",
        "Cancel",
        &format!(
            "{},{},{}",
            target.sender,
            target.identifier,
            target.sent.to_rfc3339()
        ),
        "2024-04-22T23:00:00+08:00",
    )
}

fn active_identifiers(pipeline: &Pipeline) -> Vec<String> {
    pipeline
        .active()
        .into_iter()
        .map(|a| a.identifier)
        .collect()
}

fn rejected_reason(outcome: &MessageOutcome) -> Option<&RejectReason> {
    match outcome {
        MessageOutcome::Rejected { reason, .. } => Some(reason),
        _ => None,
    }
}

#[tokio::test]
async fn another_agency_on_the_same_feed_cannot_cancel_a_cwa_warning() {
    let Some((bytes, warning)) = rain() else {
        return;
    };
    let mut rig = rig(
        &MemoryArchive::new(),
        "2024-04-22T15:00:00+08:00",
        vec![ncdr(AuthorityRule::Senders)],
    )
    .await;
    let source = SourceId::new("ncdr");
    let report = rig.pipeline.ingest(&source, &bytes).await.unwrap();
    assert!(report.outcomes[0].is_accepted(), "{report:?}");
    drain(&mut rig.events);

    let forged = cancel_of(WRA, "WRA-FORGED-1", &warning);
    let report = rig
        .pipeline
        .ingest(&source, forged.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        rejected_reason(&report.outcomes[0]),
        Some(&RejectReason::ReferenceNotAllowed),
        "{report:?}"
    );
    let MessageOutcome::Rejected { detail, .. } = &report.outcomes[0] else {
        unreachable!()
    };
    assert!(
        detail.contains(&warning.identifier),
        "names the reference: {detail}"
    );
    // Nothing happened to the warning, and the refusal is kept with its reason.
    assert!(drain(&mut rig.events).is_empty());
    assert_eq!(
        active_identifiers(&rig.pipeline),
        vec![warning.identifier.clone()]
    );
    let rejected = rig.archive.rejected(10).await.unwrap();
    assert_eq!(rejected[0].reason.as_deref(), Some("reference_not_allowed"));
    assert_eq!(rejected[0].raw, forged.as_bytes());

    // CWA's own Cancel of the same warning ends it.
    let own = cancel_of(CWA, "CWA-CANCEL-1", &warning);
    let report = rig.pipeline.ingest(&source, own.as_bytes()).await.unwrap();
    assert!(report.outcomes[0].is_accepted(), "{report:?}");
    assert!(matches!(
        drain(&mut rig.events).as_slice(),
        [LifecycleEvent::Cancelled { .. }]
    ));
    assert!(active_identifiers(&rig.pipeline).is_empty());
}

#[tokio::test]
async fn a_cancel_sent_before_the_warning_never_ends_another_authoritys_warning() {
    let Some((bytes, warning)) = rain() else {
        return;
    };
    let db = MemoryArchive::new();
    let source = SourceId::new("ncdr");
    {
        let mut rig = rig(
            &db,
            "2024-04-22T15:00:00+08:00",
            vec![ncdr(AuthorityRule::Senders)],
        )
        .await;
        // The forged Cancel comes first: it names nothing held yet, so it is
        // kept (for its own authority) with its reference flagged.
        let forged = cancel_of(WRA, "WRA-FORGED-2", &warning);
        let report = rig
            .pipeline
            .ingest(&source, forged.as_bytes())
            .await
            .unwrap();
        assert!(
            matches!(
                report.outcomes[0],
                MessageOutcome::Accepted {
                    unresolved_references: 1,
                    ..
                }
            ),
            "{report:?}"
        );
        // Then the real warning: in force, and told.
        let report = rig.pipeline.ingest(&source, &bytes).await.unwrap();
        assert!(report.outcomes[0].is_accepted(), "{report:?}");
        assert!(matches!(
            drain(&mut rig.events).as_slice(),
            [LifecycleEvent::New(a)] if a.identifier == warning.identifier
        ));
        assert_eq!(
            active_identifiers(&rig.pipeline),
            vec![warning.identifier.clone()]
        );
    }
    // After a restart the active set is rebuilt the same way.
    let rig = rig(
        &db,
        "2024-04-22T15:30:00+08:00",
        vec![ncdr(AuthorityRule::Senders)],
    )
    .await;
    assert_eq!(
        active_identifiers(&rig.pipeline),
        vec![warning.identifier.clone()]
    );
}

#[tokio::test]
async fn a_cancel_sent_before_the_warning_by_its_own_authority_still_ends_it() {
    let Some((bytes, warning)) = rain() else {
        return;
    };
    let mut rig = rig(
        &MemoryArchive::new(),
        "2024-04-22T15:00:00+08:00",
        vec![ncdr(AuthorityRule::Senders)],
    )
    .await;
    let source = SourceId::new("ncdr");
    let own = cancel_of(CWA, "CWA-CANCEL-EARLY", &warning);
    rig.pipeline.ingest(&source, own.as_bytes()).await.unwrap();
    let report = rig.pipeline.ingest(&source, &bytes).await.unwrap();
    assert!(report.outcomes[0].is_accepted());
    assert!(drain(&mut rig.events).is_empty(), "superseded on arrival");
    assert!(active_identifiers(&rig.pipeline).is_empty());
}

#[tokio::test]
async fn configured_aliases_are_one_authority() {
    let Some((bytes, warning)) = rain() else {
        return;
    };
    let old_name = "weather@cwb.gov.tw";
    for (rule, allowed) in [
        (AuthorityRule::Senders, false),
        (
            AuthorityRule::Aliases(vec![vec![CWA.parse().unwrap(), old_name.parse().unwrap()]]),
            true,
        ),
    ] {
        let rig = rig(
            &MemoryArchive::new(),
            "2024-04-22T15:00:00+08:00",
            vec![ncdr(rule)],
        )
        .await;
        let source = SourceId::new("ncdr");
        rig.pipeline.ingest(&source, &bytes).await.unwrap();
        let cancel = cancel_of(old_name, "CWB-CANCEL", &warning);
        let report = rig
            .pipeline
            .ingest(&source, cancel.as_bytes())
            .await
            .unwrap();
        assert_eq!(report.outcomes[0].is_accepted(), allowed, "{report:?}");
        assert_eq!(active_identifiers(&rig.pipeline).is_empty(), allowed);
    }
}

fn office_alert(sender: &str, identifier: &str) -> String {
    cap_xml(
        sender,
        identifier,
        "2024-04-22T14:00:00+08:00",
        "Alert",
        "",
        "2024-04-22T23:00:00+08:00",
    )
}

fn office_message(sender: &str, identifier: &str, msg_type: &str, target: &str) -> String {
    cap_xml(
        sender,
        identifier,
        "2024-04-22T15:20:00+08:00",
        msg_type,
        &format!("{target},2024-04-22T14:00:00+08:00"),
        "2024-04-22T23:00:00+08:00",
    )
}

#[tokio::test]
async fn offices_end_only_their_own_alerts_unless_acting_for_the_owner() {
    let db = MemoryArchive::new();
    let source = SourceId::new("issuers");
    let a = "hualien@issuers.example";
    let b = "taitung@issuers.example";
    {
        let rig = rig(&db, "2024-04-22T15:00:00+08:00", vec![offices()]).await;
        let outcome = submit(
            &rig.pipeline,
            office_alert(a, "A-1").as_bytes(),
            &source,
            None,
        )
        .await
        .unwrap();
        assert!(
            matches!(outcome, SubmitOutcome::Accepted { .. }),
            "{outcome:?}"
        );

        // Office B's Cancel and Update of A's alert are refused, naming it.
        for msg_type in ["Cancel", "Update"] {
            let forged = office_message(b, &format!("B-{msg_type}"), msg_type, &format!("{a},A-1"));
            let outcome = submit(&rig.pipeline, forged.as_bytes(), &source, None)
                .await
                .unwrap();
            match outcome {
                SubmitOutcome::Rejected { reasons, .. } => {
                    assert_eq!(reasons[0].0, "reference_not_allowed");
                    assert!(reasons[0].1.contains("A-1"), "{}", reasons[0].1);
                }
                other => panic!("accepted a cross-office {msg_type}: {other:?}"),
            }
        }
        assert_eq!(active_identifiers(&rig.pipeline), vec!["A-1"]);

        // A supervisor of office B, acting for A (the API checked the
        // jurisdiction), updates it: accepted under A's authority.
        let acting = office_message(b, "B-SUP-UPDATE", "Update", &format!("{a},A-1"));
        let outcome = submit(
            &rig.pipeline,
            acting.as_bytes(),
            &source,
            Some(&Authority::office(a)),
        )
        .await
        .unwrap();
        assert!(
            matches!(outcome, SubmitOutcome::Accepted { .. }),
            "{outcome:?}"
        );
        assert_eq!(active_identifiers(&rig.pipeline), vec!["B-SUP-UPDATE"]);
    }
    // After a restart the update still belongs to A: B alone cannot end it,
    // A can.
    let rig = rig(&db, "2024-04-22T16:00:00+08:00", vec![offices()]).await;
    let chain = active_identifiers(&rig.pipeline);
    assert_eq!(chain, vec!["B-SUP-UPDATE"]);
    let target = format!("{b},B-SUP-UPDATE");
    let by_b = cap_xml(
        b,
        "B-CANCEL-2",
        "2024-04-22T16:00:00+08:00",
        "Cancel",
        &format!("{target},2024-04-22T15:20:00+08:00"),
        "2024-04-22T23:00:00+08:00",
    );
    let outcome = submit(&rig.pipeline, by_b.as_bytes(), &source, None)
        .await
        .unwrap();
    assert!(
        matches!(outcome, SubmitOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    let by_a = cap_xml(
        a,
        "A-CANCEL",
        "2024-04-22T16:01:00+08:00",
        "Cancel",
        &format!("{target},2024-04-22T15:20:00+08:00"),
        "2024-04-22T23:00:00+08:00",
    );
    let outcome = submit(&rig.pipeline, by_a.as_bytes(), &source, None)
        .await
        .unwrap();
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    assert!(active_identifiers(&rig.pipeline).is_empty());
}

#[tokio::test]
async fn an_office_can_never_reference_a_feed_alert() {
    let Some((bytes, warning)) = rain() else {
        return;
    };
    let rig = rig(
        &MemoryArchive::new(),
        "2024-04-22T15:00:00+08:00",
        vec![ncdr(AuthorityRule::Senders), offices()],
    )
    .await;
    rig.pipeline
        .ingest(&SourceId::new("ncdr"), &bytes)
        .await
        .unwrap();
    let forged = cancel_of("hualien@issuers.example", "OFFICE-CANCEL", &warning);
    let outcome = submit(
        &rig.pipeline,
        forged.as_bytes(),
        &SourceId::new("issuers"),
        None,
    )
    .await
    .unwrap();
    assert!(
        matches!(&outcome, SubmitOutcome::Rejected { reasons, .. } if reasons[0].0 == "reference_not_allowed"),
        "{outcome:?}"
    );
    assert_eq!(active_identifiers(&rig.pipeline), vec![warning.identifier]);
}

/// Messages archived before authorities were recorded (no authority in
/// the archive) get their source's rule when the active set is rebuilt.
/// That the SQLite archive reads such rows of its previous schema is
/// tested in the store crate.
#[tokio::test]
async fn an_archive_written_before_authorities_were_recorded_keeps_its_chains() {
    let db = MemoryArchive::new();
    let a = "hualien@issuers.example";
    let xml = office_alert(a, "A-OLD");
    let alert = parse_document(xml.as_bytes(), &Limits::default())
        .unwrap()
        .messages[0]
        .alert
        .clone()
        .unwrap();
    let recorded = db
        .record(&NewRecord {
            source: &SourceId::new("issuers"),
            received_at: alert.sent.with_timezone(&chrono::Utc),
            verdict: Verdict::Accepted,
            reason: None,
            detail: None,
            alert: Some(&alert),
            key: Some(&cap::MessageKey::of(&alert)),
            raw: xml.as_bytes(),
            authority: None,
        })
        .await
        .unwrap();
    assert!(recorded.new);
    let rig = rig(&db, "2024-04-22T15:00:00+08:00", vec![offices()]).await;
    assert_eq!(active_identifiers(&rig.pipeline), vec!["A-OLD"]);
    let source = SourceId::new("issuers");
    let by_b = office_message(
        "taitung@issuers.example",
        "B-X",
        "Cancel",
        &format!("{a},A-OLD"),
    );
    let outcome = submit(&rig.pipeline, by_b.as_bytes(), &source, None)
        .await
        .unwrap();
    assert!(
        matches!(outcome, SubmitOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    let by_a = office_message(a, "A-X", "Cancel", &format!("{a},A-OLD"));
    let outcome = submit(&rig.pipeline, by_a.as_bytes(), &source, None)
        .await
        .unwrap();
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    assert!(active_identifiers(&rig.pipeline).is_empty());
}
