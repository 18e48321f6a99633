//! CAP uploaded by an office in another encoding than UTF-8 is read as
//! written, or refused; never stored through a lossy conversion.

mod staff;

use reqwest::StatusCode;
use serde_json::json;
use staff::{OPERATOR, PASSWORD, Server, compose};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big5_upload_is_decoded_and_undecodable_bytes_are_refused() {
    let server = Server::start(&[]).await;
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
    let utf8 = draft["cap_xml"].as_str().unwrap();
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
