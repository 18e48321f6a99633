//! Who may end or change an alert, through the issuer API of a running
//! `hazardline serve`: offices change only their own alerts, a supervisor
//! may act for an office inside its jurisdiction, and no office touches an
//! agency feed's alert (CWA's real heavy-rain warning, dropped into a feed
//! folder). Refusals name the reference and leave the alert in force.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::staff::{Caller, OPERATOR, PASSWORD, Server, compose, eventually};

const RAIN: &str = "fifows_extremely-rain_202404221457.cap";

fn shared_data() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("shared data not found at {}: skipping", dir.display());
        None
    }
}

async fn active_ids(server: &Server) -> Vec<(String, String)> {
    let (_, body) = server.get(&Caller::Anonymous, "/api/v1/alerts").await;
    body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["alert_id"].as_str().unwrap().to_owned(),
                a["sender"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Sends a composed alert; its id, and the CAP the office sent.
async fn send(server: &Server, who: &Caller, form: Value) -> (String, String) {
    let (status, draft) = server.post(who, "/api/v1/drafts", form).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_str().unwrap();
    let (status, sent) = server
        .post(who, &format!("/api/v1/drafts/{id}/send"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    (
        sent["alert_id"].as_str().unwrap().to_owned(),
        draft["cap_xml"].as_str().unwrap().to_owned(),
    )
}

/// Uploads CAP as a draft.
async fn upload(server: &Server, who: &Caller, xml: &str) -> (StatusCode, Value) {
    server.post_cap(who, "/api/v1/drafts/cap", xml).await
}

fn element<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = start + xml[start..].find('<').unwrap();
    &xml[start..end]
}

/// `xml` with another sender and identifier.
fn retitled(xml: &str, sender: &str, identifier: &str) -> String {
    xml.replacen(
        &format!("<identifier>{}</identifier>", element(xml, "identifier")),
        &format!("<identifier>{identifier}</identifier>"),
        1,
    )
    .replacen(
        &format!("<sender>{}</sender>", element(xml, "sender")),
        &format!("<sender>{sender}</sender>"),
        1,
    )
}

/// `xml` (an office's own Alert) turned into a `msg_type` from `sender`
/// naming `reference`.
fn referring(xml: &str, sender: &str, identifier: &str, msg_type: &str, reference: &str) -> String {
    retitled(xml, sender, identifier).replacen(
        "<msgType>Alert</msgType>",
        &format!("<msgType>{msg_type}</msgType><references>{reference}</references>"),
        1,
    )
}

fn reference_to(xml: &str) -> String {
    format!(
        "{},{},{}",
        element(xml, "sender"),
        element(xml, "identifier"),
        element(xml, "sent")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_office_ends_or_changes_an_alert_that_is_not_its_own() {
    let Some(data) = shared_data() else { return };
    let server = Server::start_with(
        &[],
        "[clock]\nstart = \"2024-04-22T07:00:00Z\"\n\n\
         [[ingest.sources]]\nid = \"cwa-drop\"\nkind = \"directory\"\n\
         path = \"{dir}/drop\"\npoll_interval_secs = 1\nsenders = [\"*@cwa.gov.tw\"]\n",
        |_| {},
    )
    .await;
    let operator = server.login(OPERATOR, PASSWORD).await;
    // Two offices with the same jurisdiction: the area alone decides nothing.
    let office_a = server
        .account_in(
            &operator,
            "wudao-a",
            "issuer",
            &["99000"],
            Some("wudao-eoc"),
        )
        .await;
    let office_b = server
        .account_in(
            &operator,
            "wudao-b",
            "issuer",
            &["99000"],
            Some("wudao-fire"),
        )
        .await;
    let supervisor = server
        .account_in(
            &operator,
            "wudao-sup",
            "supervisor",
            &["99000"],
            Some("county-duty"),
        )
        .await;
    let outsider_supervisor = server
        .account_in(
            &operator,
            "yunhai-sup",
            "supervisor",
            &["99100"],
            Some("yunhai-duty"),
        )
        .await;

    // Drafts are the office's own: listed only to it, sent only by it.
    let (status, a_draft) = server
        .post(
            &office_a,
            "/api/v1/drafts",
            compose("flood", json!({"codes": ["99000010"]}), "Severe", false),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a_draft}");
    let a_draft = a_draft["id"].as_str().unwrap().to_owned();
    let listed = |body: Value| -> Vec<String> {
        body["drafts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, mine) = server.get(&office_a, "/api/v1/drafts").await;
    assert_eq!(listed(mine), vec![a_draft.clone()]);
    let (_, theirs) = server.get(&office_b, "/api/v1/drafts").await;
    assert!(listed(theirs).is_empty());
    let (status, body) = server
        .post(
            &office_b,
            &format!("/api/v1/drafts/{a_draft}/send"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Office A's alert carries the office's sender, not a login name.
    let (flood, flood_xml) = send(
        &server,
        &office_a,
        compose("flood", json!({"codes": ["99000020"]}), "Severe", false),
    )
    .await;
    assert!(
        element(&flood_xml, "sender").starts_with("wudao-eoc@"),
        "{flood_xml}"
    );
    let sender_a = element(&flood_xml, "sender").to_owned();
    let sender_b = sender_a.replace("wudao-eoc@", "wudao-fire@");

    // B's Cancel through the route, B's Update through compose, and B's CAP
    // Cancel and Update naming A's alert: all refused.
    let (status, body) = server
        .post(
            &office_b,
            &format!("/api/v1/alerts/{flood}/cancel"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let mut update = compose("flood", json!({"codes": ["99000020"]}), "Minor", false);
    update["references"] = json!(flood);
    let (status, body) = server.post(&office_b, "/api/v1/drafts", update).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for msg_type in ["Cancel", "Update"] {
        let forged = referring(
            &flood_xml,
            &sender_b,
            &format!("B-{msg_type}"),
            msg_type,
            &reference_to(&flood_xml),
        );
        let (status, body) = upload(&server, &office_b, &forged).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{msg_type}: {body}");
        assert_eq!(body["error"]["field"], "references", "{body}");
        assert!(
            body.to_string().contains(element(&flood_xml, "identifier")),
            "the refusal names the reference: {body}"
        );
    }
    // A supervisor outside the area cannot act for A either.
    let (status, _) = server
        .post(
            &outsider_supervisor,
            &format!("/api/v1/alerts/{flood}/cancel"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(active_ids(&server).await.iter().any(|(id, _)| *id == flood));

    // A Cancel sent before the alert it names: accepted for B's own chain,
    // and A's alert, arriving later, goes into force all the same.
    let future = retitled(&flood_xml, &sender_a, "A-LATER");
    let future = future.replacen(
        &format!("<sent>{}</sent>", element(&future, "sent")),
        "<sent>2024-04-22T15:30:00+08:00</sent>",
        1,
    );
    let early = referring(
        &flood_xml,
        &sender_b,
        "B-EARLY",
        "Cancel",
        &reference_to(&future),
    );
    let (status, draft) = upload(&server, &office_b, &early).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let (status, body) = server
        .post(
            &office_b,
            &format!("/api/v1/drafts/{}/send", draft["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, draft) = upload(&server, &office_a, &future).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let (status, sent) = server
        .post(
            &office_a,
            &format!("/api/v1/drafts/{}/send", draft["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let later = sent["alert_id"].as_str().unwrap().to_owned();
    assert!(
        active_ids(&server).await.iter().any(|(id, _)| *id == later),
        "the pre-empted alert is in force"
    );

    // CWA's real warning arrives by the feed folder; no office touches it.
    std::fs::create_dir_all(server.dir().join("drop")).unwrap();
    let rain = std::fs::read(data.join("cap/tw-ncdr").join(RAIN)).unwrap();
    std::fs::write(server.dir().join("drop").join(RAIN), &rain).unwrap();
    let cwa = eventually("the CWA warning in force", || async {
        active_ids(&server)
            .await
            .into_iter()
            .find(|(_, sender)| sender == "weather@cwa.gov.tw")
            .map(|(id, _)| id)
    })
    .await;
    for who in [&office_a, &supervisor] {
        let (status, body) = server
            .post(
                who,
                &format!("/api/v1/alerts/{cwa}/cancel"),
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let rain_text = String::from_utf8_lossy(&rain);
    let cancel_feed = referring(
        &flood_xml,
        &sender_a,
        "A-CANCEL-CWA",
        "Cancel",
        &reference_to(&rain_text),
    );
    let (status, body) = upload(&server, &office_a, &cancel_feed).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.to_string().contains(element(&rain_text, "identifier")),
        "{body}"
    );
    assert!(active_ids(&server).await.iter().any(|(id, _)| *id == cwa));

    // The county's supervisor acts for A over A's own area: the alert ends.
    let (status, body) = server
        .post(
            &supervisor,
            &format!("/api/v1/alerts/{flood}/cancel"),
            json!({"reason": "river fell"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!active_ids(&server).await.iter().any(|(id, _)| *id == flood));
    // And A can still end its other alert.
    let (status, body) = server
        .post(
            &office_a,
            &format!("/api/v1/alerts/{later}/cancel"),
            json!({"reason": "over"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Every refusal by the pipeline is in the log at ERROR, none echoed a
    // login name as a sender.
    assert!(
        !server.log().contains("wudao-a@"),
        "a login name was a sender"
    );
}
