//! CAP uploaded by an office in another encoding than UTF-8 is read as
//! written, or refused; never stored through a lossy conversion.

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::staff::{Caller, OPERATOR, PASSWORD, Server, compose};

/// An issuer of the demo county and the CAP of a flood draft it composed.
async fn issuer_and_flood_draft(server: &Server) -> (Caller, String) {
    let operator = server.login(OPERATOR, PASSWORD).await;
    let issuer = server
        .account(&operator, "wudao-issuer", "issuer", &["99000"])
        .await;
    let (status, draft) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose("flood", json!({"codes": ["99000020"]}), "Severe", false),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let xml = draft["cap_xml"].as_str().unwrap().to_owned();
    (issuer, xml)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big5_upload_is_decoded_and_undecodable_bytes_are_refused() {
    let server = Server::start(&[]).await;
    let (issuer, utf8) = issuer_and_flood_draft(&server).await;
    let utf8 = utf8.as_str();
    let body = &utf8[utf8.find("?>").unwrap() + 2..];
    let big5_text = format!("<?xml version=\"1.0\" encoding=\"Big5\"?>{body}").replacen(
        "<identifier>",
        "<identifier>BIG5-",
        1,
    );
    let (big5, _, unmappable) = encoding_rs::BIG5.encode(&big5_text);
    assert!(!unmappable, "the draft's text is all in Big5");
    assert!(std::str::from_utf8(&big5).is_err(), "really not UTF-8");

    let (status, stored) = server
        .post_cap_bytes(&issuer, "/api/v1/drafts/cap", big5.to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    let kept = stored["cap_xml"].as_str().unwrap();
    assert!(
        kept.contains("測試警報"),
        "headline read as written: {kept}"
    );
    assert!(kept.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(!kept.contains('\u{FFFD}'));
    // The stored draft reads back the same when fetched and previewed.
    let id = stored["id"].as_str().unwrap();
    let (status, again) = server.get(&issuer, &format!("/api/v1/drafts/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["cap_xml"], stored["cap_xml"]);

    // A byte sequence Big5 does not have: refused, not mangled.
    let headline = encoding_rs::BIG5.encode("測試警報").0.into_owned();
    let at = big5
        .windows(headline.len())
        .position(|w| w == headline.as_slice())
        .unwrap();
    let mut broken = big5.to_vec();
    broken[at] = 0x80;
    broken[at + 1] = 0x20;
    let (status, body) = server
        .post_cap_bytes(&issuer, "/api/v1/drafts/cap", broken)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "cap_rejected", "{body}");
}

/// `server.cap_body_limit` is the CAP upload route's limit: a document
/// over the default (1 MiB) but under the configured 2 MiB is taken; one
/// over it is refused as too large, naming the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_upload_takes_the_configured_body_limit() {
    const LIMIT: usize = 2 * 1024 * 1024;
    let server = Server::start_with(&[], &format!("cap_body_limit = {LIMIT}"), |_| {}).await;
    let (issuer, composed) = issuer_and_flood_draft(&server).await;
    let composed = composed.as_str();
    // The same message padded to `size` bytes with an XML comment.
    let padded = |size: usize, identifier: &str| {
        let xml = composed.replacen("<identifier>", &format!("<identifier>{identifier}-"), 1);
        let end = xml.rfind("</alert>").unwrap();
        let filler = size - xml.len() - "<!--  -->".len();
        format!(
            "{}<!-- {} -->{}",
            &xml[..end],
            "x".repeat(filler),
            &xml[end..]
        )
    };

    let big = padded(LIMIT * 3 / 4, "BIG");
    assert!(big.len() > hazardline::serve::config::DEFAULT_CAP_BODY_LIMIT);
    let (status, stored) = server.post_cap(&issuer, "/api/v1/drafts/cap", &big).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(stored["cap_xml"].as_str().unwrap().len(), big.len());

    let too_big = padded(LIMIT + 1, "TOO-BIG");
    let (status, refused) = server
        .post_cap(&issuer, "/api/v1/drafts/cap", &too_big)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{refused}");
    assert_eq!(refused["error"]["code"], "payload_too_large", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&LIMIT.to_string()) && message.contains("cap_body_limit"),
        "{message}"
    );
}
