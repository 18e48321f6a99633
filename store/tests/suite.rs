//! One suite, two stores: every behaviour below runs against the embedded
//! SQLite store in a temporary directory and against a private
//! `redis-server --appendonly yes` on a free port.

mod support;

use std::sync::Arc;

use chrono::Duration;
use notifier::Locale;
use notifier::notice::{Address, DeviceToken};
use notifier::queue::DeliveryStatus;
use store::*;
use support::*;

async fn subscribers_are_put_read_and_replaced(backend: Backend) {
    let store = backend.open().await;
    let first = subscriber(1);
    let second = subscriber(2);
    store.put_subscriber(&first).await.unwrap();
    store.put_subscriber(&second).await.unwrap();
    assert_eq!(
        store.subscriber(&first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.subscriber_by_key(&first.key_hash).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.subscriber_id_by_key(&second.key_hash).await.unwrap(),
        Some(second.id.clone())
    );
    assert_eq!(
        store
            .subscriber(&SubscriberId("s_none".into()))
            .await
            .unwrap(),
        None
    );

    // Replaced as a whole: new device key, fewer places, no location.
    let mut changed = first.clone();
    changed.key_hash = key_hash("a new device key");
    changed.places.truncate(1);
    changed.location = None;
    changed.preferences.kinds = vec!["tsunami".into()];
    store.put_subscriber(&changed).await.unwrap();
    assert_eq!(
        store.subscriber(&first.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        store.subscriber_by_key(&first.key_hash).await.unwrap(),
        None,
        "the old device key no longer authenticates"
    );
    assert_eq!(
        store.subscriber_id_by_key(&changed.key_hash).await.unwrap(),
        Some(first.id.clone())
    );

    // A device key belongs to one subscriber.
    let mut thief = subscriber(3);
    thief.key_hash = second.key_hash;
    assert!(matches!(
        store.put_subscriber(&thief).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.subscriber(&thief.id).await.unwrap(), None);

    let all = store.all_subscribers().await.unwrap();
    assert_eq!(all, vec![changed, second]);
}

async fn concurrent_writes_each_get_their_own_answer(backend: Backend) {
    let store = backend.open().await;
    let taken = subscriber(9999);
    store.put_subscriber(&taken).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..200u32 {
        let store = Arc::clone(&store);
        let mut record = subscriber(n);
        // Every tenth write tries to take a device key already in use: it
        // must fail alone, not take its batch down with it.
        if n % 10 == 0 {
            record.key_hash = taken.key_hash;
        }
        tasks.push(tokio::spawn(async move {
            (n, store.put_subscriber(&record).await)
        }));
    }
    for task in tasks {
        let (n, result) = task.await.unwrap();
        if n % 10 == 0 {
            assert!(
                matches!(result, Err(StoreError::Conflict(_))),
                "{n}: {result:?}"
            );
        } else {
            result.unwrap();
        }
    }
    assert_eq!(store.all_subscribers().await.unwrap().len(), 1 + 180);
    assert_eq!(
        store.subscriber(&subscriber(7).id).await.unwrap(),
        Some(subscriber(7))
    );
}

async fn deletion_erases_every_trace(backend: Backend) {
    let store = backend.open().await;
    let gone = subscriber(1);
    let stays = subscriber(2);
    for s in [&gone, &stays] {
        store.put_subscriber(s).await.unwrap();
        store
            .append_inbox(&[inbox_entry(&s.id, 1, "Debris flow: red")])
            .await
            .unwrap();
        store
            .put_relay_ack(&relay_ack(&s.id, "reached", Some("at the shelter")))
            .await
            .unwrap();
    }
    let mut elsewhere = relay_ack(&gone.id, "moved_away", None);
    elsewhere.village = "63000020002".into();
    store.put_relay_ack(&elsewhere).await.unwrap();
    store
        .append_audit(audit_entry(1, &format!("subscriber:{}", gone.id.0)))
        .await
        .unwrap();
    let queued = |s: &SubscriberRecord| {
        notifier::testing::sample_delivery(
            &s.id.0,
            Address::Fcm {
                token: DeviceToken::new(format!("tok-{}", s.id.0)),
            },
            Locale::En,
        )
    };
    let queue = store.queue();
    for s in [&gone, &stays] {
        assert!(queue.enqueue(queued(s)).await.unwrap());
    }
    let gone_key = notifier::queue::DeliveryKey::of(&queued(&gone));

    assert!(store.delete_subscriber(&gone.id).await.unwrap());
    // Nothing of theirs is left in the delivery queue, nor ever sent.
    assert_eq!(queue.status(&gone_key).await.unwrap(), None);
    assert_eq!(queue.depth().await.unwrap().total(), 1);
    let jobs = queue
        .claim("w", 10, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].delivery.subscriber.0, stays.id.0);
    assert_eq!(store.subscriber(&gone.id).await.unwrap(), None);
    assert_eq!(store.subscriber_by_key(&gone.key_hash).await.unwrap(), None);
    assert_eq!(
        store.subscriber_id_by_key(&gone.key_hash).await.unwrap(),
        None
    );
    assert!(store.inbox(&gone.id, 10).await.unwrap().is_empty());
    let acks = store
        .relay_acks(&elsewhere.alert, "63000020001")
        .await
        .unwrap();
    assert_eq!(
        acks,
        vec![relay_ack(&stays.id, "reached", Some("at the shelter"))]
    );
    assert!(
        store
            .relay_acks(&elsewhere.alert, "63000020002")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.all_subscribers().await.unwrap(), vec![stays.clone()]);
    // The others are untouched; the audit log keeps the pseudonymous id.
    assert_eq!(store.inbox(&stays.id, 10).await.unwrap().len(), 1);
    let audit = store.audit(0, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entry.target, "subscriber:s_0001");
    assert!(!store.delete_subscriber(&gone.id).await.unwrap());
}

async fn inbox_is_newest_first_and_limited(backend: Backend) {
    let store = backend.open().await;
    let (a, b) = (subscriber(1).id, subscriber(2).id);
    store
        .append_inbox(&[
            inbox_entry(&a, 1, "one"),
            inbox_entry(&b, 1, "b one"),
            inbox_entry(&a, 2, "two"),
        ])
        .await
        .unwrap();
    store
        .append_inbox(&[inbox_entry(&a, 3, "three"), inbox_entry(&a, 4, "four")])
        .await
        .unwrap();
    store.append_inbox(&[]).await.unwrap();
    let titles = |entries: Vec<InboxEntry>| -> Vec<String> {
        entries.into_iter().map(|e| e.title).collect()
    };
    assert_eq!(
        titles(store.inbox(&a, 3).await.unwrap()),
        vec!["four", "three", "two"]
    );
    assert_eq!(titles(store.inbox(&a, 100).await.unwrap()).len(), 4);
    assert_eq!(titles(store.inbox(&b, 100).await.unwrap()), vec!["b one"]);
    assert!(store.inbox(&a, 0).await.unwrap().is_empty());
    assert_eq!(
        store.inbox(&a, 1).await.unwrap()[0],
        inbox_entry(&a, 4, "four")
    );

    // A fan-out's worth in one call: 2,500 people, one notice each, plus a
    // second notice for some of them.
    let people: Vec<SubscriberId> = (100..2600).map(|n| subscriber(n).id).collect();
    let mut batch: Vec<InboxEntry> = people
        .iter()
        .map(|id| inbox_entry(id, 10, "fan-out"))
        .collect();
    batch.extend(people[..1200].iter().map(|id| inbox_entry(id, 11, "again")));
    store.append_inbox(&batch).await.unwrap();
    assert_eq!(
        titles(store.inbox(&people[5], 10).await.unwrap()),
        vec!["again", "fan-out"]
    );
    assert_eq!(
        titles(store.inbox(&people[2499], 10).await.unwrap()),
        vec!["fan-out"]
    );
}

async fn accounts_are_found_by_username(backend: Backend) {
    let store = backend.open().await;
    let issuer = account("a_1", "taipei.eoc", Role::Issuer);
    let chief = account("a_2", "xinyi.chief", Role::VillageChief);
    store.put_account(&issuer).await.unwrap();
    store.put_account(&chief).await.unwrap();
    assert_eq!(
        store.account(&issuer.id).await.unwrap(),
        Some(issuer.clone())
    );
    assert_eq!(
        store.account_by_username("xinyi.chief").await.unwrap(),
        Some(chief.clone())
    );
    assert_eq!(store.account_by_username("nobody").await.unwrap(), None);

    // Renamed: the old name is free, the new one finds it.
    let mut renamed = issuer.clone();
    renamed.username = "taipei.eoc.2".into();
    renamed.disabled = true;
    store.put_account(&renamed).await.unwrap();
    assert_eq!(store.account_by_username("taipei.eoc").await.unwrap(), None);
    assert_eq!(
        store.account_by_username("taipei.eoc.2").await.unwrap(),
        Some(renamed.clone())
    );
    // A username belongs to one account.
    let squatter = account("a_3", "xinyi.chief", Role::Operator);
    assert!(matches!(
        store.put_account(&squatter).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.account(&squatter.id).await.unwrap(), None);
    assert_eq!(store.accounts().await.unwrap(), vec![renamed, chief]);
}

async fn sessions_expire(backend: Backend) {
    let store = backend.open().await;
    let start = at("2026-11-22T08:00:00Z");
    let session = Session {
        token_hash: key_hash("session token"),
        account: AccountId("a_1".into()),
        created: start,
        expires: start + Duration::hours(8),
        csrf_token: "csrf-abc".into(),
    };
    store.put_session(&session).await.unwrap();
    assert_eq!(
        store
            .session(&session.token_hash, start + Duration::hours(1))
            .await
            .unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        store
            .session(&session.token_hash, start + Duration::hours(8))
            .await
            .unwrap(),
        None,
        "expired at its expiry"
    );
    assert_eq!(
        store
            .session(&key_hash("another token"), start)
            .await
            .unwrap(),
        None
    );
    store.delete_session(&session.token_hash).await.unwrap();
    assert_eq!(
        store.session(&session.token_hash, start).await.unwrap(),
        None
    );
}

async fn drafts_are_kept_and_listed_newest_first(backend: Backend) {
    let store = backend.open().await;
    let draft = |n: i64| Draft {
        id: DraftId(format!("d_{n}")),
        author: AccountId("a_1".into()),
        created: at("2026-11-22T08:00:00Z") + Duration::minutes(n),
        state: DraftState::AwaitingApproval,
        cap_xml: format!("<alert><identifier>D-{n}</identifier></alert>"),
        approval_reason: Some("extreme".into()),
        approved_by: None,
        sent_alert: None,
        office: Some(
            if n % 2 == 0 {
                "taipei-eoc"
            } else {
                "xinyi-eoc"
            }
            .into(),
        ),
    };
    for n in [2, 1, 3] {
        store.put_draft(&draft(n)).await.unwrap();
    }
    // Each office reads its own drafts only, newest first.
    let of = |office: &'static str| {
        let store = store.clone();
        async move {
            store
                .office_drafts(office, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.id.0)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(of("xinyi-eoc").await, vec!["d_3", "d_1"]);
    assert_eq!(of("taipei-eoc").await, vec!["d_2"]);
    assert!(of("nobody").await.is_empty());
    let mut sent = draft(1);
    sent.state = DraftState::Sent;
    sent.approved_by = Some(AccountId("a_2".into()));
    sent.sent_alert = Some("sender,D-1,sent".into());
    store.put_draft(&sent).await.unwrap();
    assert_eq!(store.draft(&sent.id).await.unwrap(), Some(sent.clone()));
    assert_eq!(store.draft(&DraftId("d_9".into())).await.unwrap(), None);
    let ids: Vec<String> = store
        .drafts(2)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id.0)
        .collect();
    assert_eq!(ids, vec!["d_3", "d_2"]);
    assert_eq!(store.drafts(10).await.unwrap().len(), 3);
}

async fn shelter_status_is_the_latest(backend: Backend) {
    let store = backend.open().await;
    let status = |shelter: &str, open: bool, minute: i64| ShelterStatus {
        shelter: shelter.into(),
        open,
        changed_by: AccountId("a_1".into()),
        at: at("2026-11-22T08:00:00Z") + Duration::minutes(minute),
    };
    store
        .put_shelter_status(&status("sh_2", true, 0))
        .await
        .unwrap();
    store
        .put_shelter_status(&status("sh_1", true, 1))
        .await
        .unwrap();
    store
        .put_shelter_status(&status("sh_1", false, 2))
        .await
        .unwrap();
    assert_eq!(
        store.shelter_statuses().await.unwrap(),
        vec![status("sh_1", false, 2), status("sh_2", true, 0)]
    );
}

async fn relay_acks_are_one_per_person(backend: Backend) {
    let store = backend.open().await;
    let (a, b) = (subscriber(1).id, subscriber(2).id);
    store
        .put_relay_ack(&relay_ack(&b, "no_answer", None))
        .await
        .unwrap();
    store
        .put_relay_ack(&relay_ack(&a, "no_answer", None))
        .await
        .unwrap();
    store
        .put_relay_ack(&relay_ack(&a, "needs_help", Some("needs a ride")))
        .await
        .unwrap();
    let alert = relay_ack(&a, "", None).alert;
    assert_eq!(
        store.relay_acks(&alert, "63000020001").await.unwrap(),
        vec![
            relay_ack(&a, "needs_help", Some("needs a ride")),
            relay_ack(&b, "no_answer", None)
        ]
    );
    assert!(
        store
            .relay_acks(&alert, "63000020009")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .relay_acks("other", "63000020001")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn audit_log_chains_and_shows_tampering(backend: Backend) {
    let store = backend.open().await;
    let mut appended = Vec::new();
    for n in 1..=5 {
        appended.push(
            store
                .append_audit(audit_entry(n, &format!("draft:d_{n}")))
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        appended.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(store.audit(0, 100).await.unwrap(), appended);
    assert_eq!(store.audit(2, 2).await.unwrap(), appended[2..4].to_vec());
    assert!(store.audit(5, 10).await.unwrap().is_empty());
    assert_eq!(
        verify_audit_chain(&appended, store::audit::GENESIS).unwrap(),
        appended[4].hash
    );
    assert_eq!(verify_stored_audit_log(&*store).await.unwrap(), Ok(5));

    backend.tamper_audit(3).await;
    let read = store.audit(0, 100).await.unwrap();
    assert_eq!(read[2].entry.action, "alert.edit", "the tampering took");
    assert_eq!(
        verify_stored_audit_log(&*store).await.unwrap(),
        Err(ChainBreak::Hash { seq: 3 })
    );
}

async fn audit_appends_from_many_tasks_form_one_chain(backend: Backend) {
    let store = backend.open().await;
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.append_audit(audit_entry(n, "x")).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(verify_stored_audit_log(&*store).await.unwrap(), Ok(40));
}

async fn everything_survives_a_restart(mut backend: Backend) {
    let record = subscriber(1);
    let issuer = account("a_1", "taipei.eoc", Role::Issuer);
    {
        let store = backend.open().await;
        store.put_subscriber(&record).await.unwrap();
        store.put_account(&issuer).await.unwrap();
        store
            .append_inbox(&[inbox_entry(&record.id, 1, "kept")])
            .await
            .unwrap();
        store
            .put_relay_ack(&relay_ack(&record.id, "reached", None))
            .await
            .unwrap();
        store.append_audit(audit_entry(1, "a")).await.unwrap();
        store.append_audit(audit_entry(2, "b")).await.unwrap();
        let delivery = notifier::testing::sample_delivery(
            "s_0001",
            Address::Fcm {
                token: DeviceToken::new("tok-restart"),
            },
            Locale::En,
        );
        assert!(store.queue().enqueue(delivery).await.unwrap());
    }
    backend.restart();
    let store = backend.open().await;
    assert_eq!(
        store.subscriber(&record.id).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store.subscriber_id_by_key(&record.key_hash).await.unwrap(),
        Some(record.id.clone())
    );
    assert_eq!(
        store.account_by_username("taipei.eoc").await.unwrap(),
        Some(issuer)
    );
    assert_eq!(store.inbox(&record.id, 5).await.unwrap()[0].title, "kept");
    assert_eq!(
        store
            .relay_acks(&relay_ack(&record.id, "", None).alert, "63000020001")
            .await
            .unwrap()
            .len(),
        1
    );
    // The chain goes on from where it was.
    let third = store.append_audit(audit_entry(3, "c")).await.unwrap();
    assert_eq!(third.seq, 3);
    assert_eq!(verify_stored_audit_log(&*store).await.unwrap(), Ok(3));
    let jobs = store
        .queue()
        .claim("w", 10, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "the queued delivery survived");
    assert_eq!(
        store
            .queue()
            .complete(&jobs[0], &notifier::channel::Outcome::Sent)
            .await
            .unwrap(),
        DeliveryStatus::Sent
    );
    store.ping().await.unwrap();
}

async fn personal_data_is_sealed_at_rest(backend: Backend) {
    let store = backend.open().await;
    let record = subscriber(7);
    store.put_subscriber(&record).await.unwrap();
    let label = personal_strings(7)[4].clone();
    store
        .append_inbox(&[inbox_entry(
            &record.id,
            1,
            &format!("Debris flow at {label}"),
        )])
        .await
        .unwrap();
    store
        .put_relay_ack(&relay_ack(
            &record.id,
            "needs_help",
            Some(&personal_strings(7)[7]),
        ))
        .await
        .unwrap();
    // Deliveries to each of the subscriber's devices, still pending in the
    // queue, their messages naming the place.
    let queued = queued_deliveries(&record, &label);
    assert_eq!(store.queue().enqueue_many(queued).await.unwrap(), 4);
    assert_eq!(store.queue().depth().await.unwrap().total(), 4);
    drop(store);
    // Make sure every write has reached the files (SQLite: WAL included).
    let raw = backend.raw_bytes();
    assert!(
        contains(&raw, &format!("sms|{}|", record.id.0)),
        "the check reads the queue's bytes too"
    );
    assert!(
        contains(&raw, &record.id.0),
        "the check reads the right bytes: the pseudonymous id is stored in the clear"
    );
    for secret in personal_strings(7)
        .into_iter()
        .chain(["hooks.example/7".to_string()])
    {
        assert!(
            !contains(&raw, &secret),
            "{}: `{secret}` found in the clear",
            backend.name()
        );
    }

    // The wrong key opens nothing, and says so.
    let wrong = backend.open_with_key(DataKey::generate()).await;
    for result in [
        wrong.subscriber(&record.id).await.map(|_| ()),
        wrong.subscriber_by_key(&record.key_hash).await.map(|_| ()),
        wrong.all_subscribers().await.map(|_| ()),
        wrong.inbox(&record.id, 5).await.map(|_| ()),
        wrong
            .relay_acks(&relay_ack(&record.id, "", None).alert, "63000020001")
            .await
            .map(|_| ()),
    ] {
        assert!(matches!(result, Err(StoreError::Seal(_))), "{result:?}");
    }
    let error = wrong
        .queue()
        .claim("w", 10, std::time::Duration::from_secs(60))
        .await;
    assert!(error.is_err(), "another key opened a queued delivery");
    drop(wrong);
    // The right key still does (Redis: taking over what the failed claim
    // left unacknowledged, as after any failed worker).
    let right = backend.open().await;
    let jobs = right
        .queue()
        .claim("w", 10, std::time::Duration::from_millis(1))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 4);
    assert_eq!(right.subscriber(&record.id).await.unwrap(), Some(record));
}

/// One pending delivery per device of `record`, on every addressed
/// channel, its title naming the place `label`.
fn queued_deliveries(record: &SubscriberRecord, label: &str) -> Vec<notifier::channel::Delivery> {
    use notifier::notice::{EmailAddress, PhoneNumber, Secret, WebhookUrl};
    record
        .devices
        .iter()
        .map(|device| {
            let address = match device.channel {
                DeviceChannel::Fcm => Address::Fcm {
                    token: DeviceToken::new(device.address.0.clone()),
                },
                DeviceChannel::Email => Address::Email {
                    to: EmailAddress::new(device.address.0.clone()),
                },
                DeviceChannel::Sms => Address::Sms {
                    to: PhoneNumber::new(device.address.0.clone()),
                },
                DeviceChannel::Webhook => Address::Webhook {
                    url: WebhookUrl::new(device.address.0.clone()),
                    secret: Secret::new(device.secret.as_ref().unwrap().0.clone()),
                },
                DeviceChannel::Mqtt => unreachable!("the test subscriber has no MQTT device"),
            };
            let mut delivery =
                notifier::testing::sample_delivery(&record.id.0, address, Locale::ZhTw);
            delivery.message.title = format!("土石流紅色警戒：{label}");
            delivery.message.headline = format!("{label} 土石流紅色警戒");
            delivery
        })
        .collect()
}

async fn a_tampered_key_index_opens_no_one_elses_record(backend: Backend) {
    let store = backend.open().await;
    let victim = subscriber(1);
    store.put_subscriber(&victim).await.unwrap();
    let forged = key_hash("the intruder's own device key");
    backend.point_key_index(&forged, &victim.id).await;
    assert!(matches!(
        store.subscriber_by_key(&forged).await,
        Err(StoreError::Corrupt { .. })
    ));
}

async fn the_archive_keeps_messages(mut backend: Backend) {
    use ingest::store::{NewRecord, Verdict};
    let source = ingest::source::SourceId::new("ncdr");
    {
        let store = backend.open().await;
        let archive = store.archive();
        archive
            .record(&NewRecord {
                source: &source,
                received_at: at("2026-11-22T08:00:00Z"),
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
    backend.restart();
    let store = backend.open().await;
    let archive = store.archive();
    assert_eq!(archive.count(Verdict::Rejected).await.unwrap(), 1);
    assert_eq!(
        archive.rejected(5).await.unwrap()[0].raw,
        b"<html>404</html>"
    );
}

const WINDOW: std::time::Duration = std::time::Duration::from_secs(900);

async fn parallel_login_attempts_are_all_counted(backend: Backend) {
    let store = backend.open().await;
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .count_login_attempt("account:wudao-issuer", WINDOW)
                .await
                .unwrap()
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    // Each attempt saw its own count: no two read the same value.
    assert_eq!(counts, (1..=200).collect::<Vec<u64>>());
    assert_eq!(
        store
            .count_login_attempt("account:wudao-issuer", WINDOW)
            .await
            .unwrap(),
        201
    );
}

async fn login_attempts_are_kept_apart_and_cleared(backend: Backend) {
    let store = backend.open().await;
    for _ in 0..3 {
        store
            .count_login_attempt("account:a", WINDOW)
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .count_login_attempt("address:192.0.2.7", WINDOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_login_attempt("account:a", WINDOW)
            .await
            .unwrap(),
        4
    );
    store.clear_login_attempts("account:a").await.unwrap();
    store
        .clear_login_attempts("account:never-counted")
        .await
        .unwrap();
    assert_eq!(
        store
            .count_login_attempt("account:a", WINDOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_login_attempt("address:192.0.2.7", WINDOW)
            .await
            .unwrap(),
        2
    );
}

async fn login_attempts_expire_by_themselves(backend: Backend) {
    let store = backend.open().await;
    let short = std::time::Duration::from_millis(300);
    assert_eq!(
        store.count_login_attempt("device:n1", short).await.unwrap(),
        1
    );
    assert_eq!(
        store.count_login_attempt("device:n1", short).await.unwrap(),
        2
    );
    // Only a lower bound on time matters here: past the window, whenever
    // that is, the counter has gone and starts again.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(
        store.count_login_attempt("device:n1", short).await.unwrap(),
        1
    );
    // A later attempt in a window does not extend it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        store.count_login_attempt("device:n1", short).await.unwrap(),
        2
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        store.count_login_attempt("device:n1", short).await.unwrap(),
        1
    );
    if let Backend::Sqlite { dir, .. } = &backend {
        // Dead rows are deleted, so the table does not grow with an attack.
        let conn = rusqlite::Connection::open(dir.path().join("service.sqlite")).unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM login_attempts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "only the live counter is left");
    }
}

/// A store written before login attempts were kept (no `login_attempts`
/// table) opens with its accounts intact and counts attempts.
#[tokio::test]
async fn a_store_from_before_login_counters_opens_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("service.sqlite")).unwrap();
        conn.execute_batch(
            "CREATE TABLE accounts (
                 id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, json TEXT NOT NULL);",
        )
        .unwrap();
        let old = account("a_old", "wudao-issuer", Role::Issuer);
        conn.execute(
            "INSERT INTO accounts (id, username, json) VALUES (?1, ?2, ?3)",
            rusqlite::params![old.id.0, old.username, serde_json::to_string(&old).unwrap()],
        )
        .unwrap();
    }
    let store = SqliteStorage::open(dir.path(), DataKey::generate()).unwrap();
    let found = store.account_by_username("wudao-issuer").await.unwrap();
    assert_eq!(found.map(|a| a.id.0), Some("a_old".to_owned()));
    assert_eq!(
        store
            .count_login_attempt("account:wudao-issuer", WINDOW)
            .await
            .unwrap(),
        1
    );
}

async fn told_records_are_replaced_ended_and_kept(backend: Backend) {
    let told = |place: u8, unit: u64| ToldRecord {
        place,
        unit,
        places: 7,
        at: chrono::Utc::now(),
        lowered: place == 2,
    };
    let id = |n: &str| SubscriberId(n.into());
    let (s1, s2, s3) = (told(0, 1), told(1, 1), told(2, 9));
    {
        let store = backend.open().await;
        assert_eq!(
            store.told_began().await.unwrap(),
            chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            "a new store keeps records from the start"
        );
        store
            .record_told(&ToldChange {
                ended: vec![],
                alert: Some("cwa,EQ-1,2026-07-01T08:00:00+08:00".into()),
                entries: vec![(id("s_1"), s1), (id("s_2"), s2)],
            })
            .await
            .unwrap();
        // An Update: the first version's records go, the new one's come.
        store
            .record_told(&ToldChange {
                ended: vec!["cwa,EQ-1,2026-07-01T08:00:00+08:00".into()],
                alert: Some("cwa,EQ-2,2026-07-01T09:00:00+08:00".into()),
                entries: vec![(id("s_2"), s2)],
            })
            .await
            .unwrap();
        // Someone told late is added beside them.
        store
            .record_told(&ToldChange {
                ended: vec![],
                alert: Some("cwa,EQ-2,2026-07-01T09:00:00+08:00".into()),
                entries: vec![(id("s_3"), s3)],
            })
            .await
            .unwrap();
    }
    let store = backend.open().await;
    let all = store.told_records().await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        all["cwa,EQ-2,2026-07-01T09:00:00+08:00"],
        vec![(id("s_2"), s2), (id("s_3"), s3)],
        "kept across a reopen"
    );
    // Erasure takes them out of every record.
    store.delete_subscriber(&id("s_2")).await.unwrap();
    let all = store.told_records().await.unwrap();
    assert_eq!(
        all["cwa,EQ-2,2026-07-01T09:00:00+08:00"],
        vec![(id("s_3"), s3)]
    );
    store
        .record_told(&ToldChange {
            ended: vec!["cwa,EQ-2,2026-07-01T09:00:00+08:00".into()],
            ..ToldChange::default()
        })
        .await
        .unwrap();
    assert!(store.told_records().await.unwrap().is_empty());
}

macro_rules! suite {
    ($($behaviour:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    super::$behaviour(super::Backend::sqlite()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    if let Some(backend) = super::Backend::redis() {
                        super::$behaviour(backend).await;
                    }
                }
            )*
        }
    };
}

suite!(
    subscribers_are_put_read_and_replaced,
    concurrent_writes_each_get_their_own_answer,
    deletion_erases_every_trace,
    inbox_is_newest_first_and_limited,
    accounts_are_found_by_username,
    sessions_expire,
    drafts_are_kept_and_listed_newest_first,
    shelter_status_is_the_latest,
    relay_acks_are_one_per_person,
    audit_log_chains_and_shows_tampering,
    audit_appends_from_many_tasks_form_one_chain,
    everything_survives_a_restart,
    personal_data_is_sealed_at_rest,
    the_archive_keeps_messages,
    a_tampered_key_index_opens_no_one_elses_record,
    parallel_login_attempts_are_all_counted,
    login_attempts_are_kept_apart_and_cleared,
    login_attempts_expire_by_themselves,
    told_records_are_replaced_ended_and_kept,
);
