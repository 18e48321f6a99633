//! The sample `hazardline.toml` at the repository root reads as source
//! configuration, and lists NCDR's public feed with its senders.

use ingest::source::{SourceKind, SourcesSection};
use serde::Deserialize;

#[derive(Deserialize)]
struct Root {
    ingest: SourcesSection,
}

fn sample() -> SourcesSection {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../hazardline.toml");
    let text = std::fs::read_to_string(path).expect("hazardline.toml at the repository root");
    let root: Root = toml::from_str(&text).expect("sample configuration parses");
    root.ingest
}

#[test]
fn sample_lists_ncdr_with_its_senders() {
    let section = sample();
    section.check().unwrap();
    let ncdr = section
        .sources
        .iter()
        .find(|s| s.id.as_str() == "ncdr")
        .expect("ncdr source");
    let SourceKind::Http(http) = &ncdr.kind else {
        panic!("ncdr is an HTTP feed")
    };
    assert_eq!(http.url, "https://alerts.ncdr.nat.gov.tw/RssAtomFeed.ashx");
    assert!(!ncdr.enabled, "disabled by default in the sample");
    for sender in [
        "weather@cwa.gov.tw",
        "cwasoc@cwa.gov.tw",
        "swcbfema@mail.swcb.gov.tw",
        "http://www.dgpa.gov.tw",
    ] {
        assert!(
            ncdr.senders.iter().any(|p| p.matches(sender)),
            "{sender} not listed"
        );
    }
    assert!(
        !ncdr
            .senders
            .iter()
            .any(|p| p.matches("weather@cwa.gov.tw.example.com"))
    );
    let kinds: Vec<_> = section.sources.iter().map(|s| s.kind.label()).collect();
    assert_eq!(kinds, vec!["http", "mqtt", "directory", "http", "issuer"]);
    let naad = section
        .sources
        .iter()
        .find(|s| s.id.as_str() == "naad")
        .unwrap();
    assert!(naad.signature.required);
    assert_eq!(naad.signature.trusted_keys.len(), 1);
}

#[test]
fn loose_wildcards_and_duplicate_ids_are_refused() {
    let bad = r#"
        [[ingest.sources]]
        id = "x"
        kind = "issuer"
        senders = ["*"]
    "#;
    assert!(toml::from_str::<Root>(bad).is_err());
    let twice = r#"
        [[ingest.sources]]
        id = "x"
        kind = "issuer"
        senders = ["a@b.tw"]
        [[ingest.sources]]
        id = "x"
        kind = "issuer"
        senders = ["a@b.tw"]
    "#;
    let root: Root = toml::from_str(twice).unwrap();
    assert!(root.ingest.check().is_err());
}
