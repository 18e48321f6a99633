//! The behaviours every [`AlertArchive`] must have, one function shared by
//! every archive's tests.

use std::future::Future;

use cap::MessageKey;
use cap::model::MsgType;
use chrono::Duration;
use ingest::authority::Authority;
use ingest::lifecycle::{Lifecycle, LifecycleConfig};
use ingest::source::SourceId;
use ingest::store::{AlertArchive, NewRecord, Verdict, active_set, content_hash};

use super::{alert, utc};

const CWA: &str = "weather@cwa.gov.tw";

/// What every [`AlertArchive`] must do. `open` opens the same archive each
/// time it is called (a restart). Ingest runs it on the in-memory archive,
/// the store crate on SQLite files, on Redis (restarted from its AOF) and
/// on the embedded store.
pub async fn archive_contract<A, Opened>(open: impl Fn() -> Opened)
where
    A: AlertArchive,
    Opened: Future<Output = A>,
{
    let source = SourceId::new("ncdr");
    let feed = Authority::sender(CWA);
    let office = Authority::office("eoc@issuers.example");
    let now = utc("2024-04-22T15:00:00+08:00");
    let a = alert(
        CWA,
        "r1",
        "2024-04-22T14:57:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(6)),
    );
    let u = alert(
        CWA,
        "r2",
        "2024-04-22T17:12:00+08:00",
        MsgType::Update,
        &[(CWA, "r1", "2024-04-22T14:57:00+08:00")],
        Some(Duration::hours(6)),
    );
    let other = alert(
        CWA,
        "r9",
        "2024-04-22T14:00:00+08:00",
        MsgType::Alert,
        &[],
        Some(Duration::hours(6)),
    );
    {
        let archive = open().await;
        for (alert, raw, authority) in [
            (&a, b"<alert>a</alert>".as_slice(), &feed),
            (&u, b"<alert>u</alert>".as_slice(), &feed),
            (&other, b"<alert>o</alert>", &office),
        ] {
            let key = MessageKey::of(alert);
            let rec = archive
                .record(&NewRecord {
                    source: &source,
                    received_at: now,
                    verdict: Verdict::Accepted,
                    reason: None,
                    detail: None,
                    alert: Some(alert),
                    key: Some(&key),
                    raw,
                    authority: Some(authority),
                })
                .await
                .unwrap();
            assert!(rec.new);
        }
        // The same identity again does not make a second accepted row.
        let key = MessageKey::of(&a);
        let again = archive
            .record(&NewRecord {
                source: &source,
                received_at: now,
                verdict: Verdict::Accepted,
                reason: None,
                detail: None,
                alert: Some(&a),
                key: Some(&key),
                raw: b"<alert>a</alert>",
                authority: Some(&feed),
            })
            .await
            .unwrap();
        assert!(!again.new);

        let bad_key = cap::model::MessageKey {
            sender: "someone@example.com".into(),
            identifier: "x".into(),
            sent: "2024-04-22T15:00:00+08:00".into(),
        };
        for _ in 0..3 {
            archive
                .record(&NewRecord {
                    source: &source,
                    received_at: now,
                    verdict: Verdict::Rejected,
                    reason: Some("sender_not_allowed"),
                    detail: Some("sender `someone@example.com` is not allowed on source `ncdr`"),
                    alert: None,
                    key: Some(&bad_key),
                    raw: b"<alert>bad</alert>",
                    authority: None,
                })
                .await
                .unwrap();
        }
        archive
            .record(&NewRecord {
                source: &source,
                received_at: now,
                verdict: Verdict::Rejected,
                reason: Some("not_cap"),
                detail: Some("HTML page"),
                alert: None,
                key: None,
                raw: b"<html>404</html>",
                authority: None,
            })
            .await
            .unwrap();
    }

    // Reopen: everything is still there.
    let archive = open().await;
    assert_eq!(archive.count(Verdict::Accepted).await.unwrap(), 3);
    assert_eq!(
        archive.count(Verdict::Rejected).await.unwrap(),
        2,
        "a repeated rejection is stored once"
    );
    let rejected = archive.rejected(10).await.unwrap();
    let reasons: Vec<_> = rejected
        .iter()
        .map(|m| m.reason.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(reasons, vec!["not_cap", "sender_not_allowed"]);
    assert_eq!(rejected[0].raw, b"<html>404</html>");
    assert_eq!(rejected[1].sha256, content_hash(b"<alert>bad</alert>"));

    // By key, with `sent` written in another zone.
    let mut key = MessageKey::of(&u);
    key.sent = "2024-04-22T09:12:00+00:00".into();
    let found = archive
        .find_accepted(&key)
        .await
        .unwrap()
        .expect("found by instant");
    assert_eq!(found.alert.as_ref(), Some(&u));
    assert_eq!(found.raw, b"<alert>u</alert>");
    assert_eq!(found.source, source);

    // The active set rebuilt from the store after the "restart".
    let accepted = archive
        .accepted_since(now - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(accepted.len(), 3);
    // Each comes back with the authority it was accepted under.
    for message in &accepted {
        let expected = if message.alert == other {
            &office
        } else {
            &feed
        };
        assert_eq!(message.authority.as_ref(), Some(expected));
        assert_eq!(message.source, source);
    }
    let life = Lifecycle::rebuild_with(
        LifecycleConfig::default(),
        accepted
            .into_iter()
            .map(|m| (m.alert, m.authority.expect("recorded"))),
        now,
    );
    let active: Vec<_> = life.active().iter().map(|a| a.identifier.clone()).collect();
    assert_eq!(active, vec!["r2", "r9"]);
    let queried = active_set(
        &archive,
        LifecycleConfig::default(),
        now - Duration::days(30),
        now,
    )
    .await
    .unwrap();
    let queried: Vec<_> = queried.iter().map(|a| a.identifier.as_str()).collect();
    assert_eq!(queried, vec!["r2", "r9"]);
    // Later that evening everything has expired.
    let evening = utc("2024-04-23T00:00:00+08:00");
    assert!(
        active_set(
            &archive,
            LifecycleConfig::default(),
            now - Duration::days(30),
            evening
        )
        .await
        .unwrap()
        .is_empty()
    );
    // The rebuild window leaves out what was sent before it.
    let recent = archive
        .accepted_since(utc("2024-04-22T14:30:00+08:00"))
        .await
        .unwrap();
    assert_eq!(recent.len(), 2);
}
