//! Enveloped XML-DSig signatures on CAP messages (Canada NAAD, IPAWS,
//! PAGASA style): canonicalization, reference digest, RSA signature, and
//! whether the signing key is one the source trusts.
//!
//! [`verify_enveloped`] takes the text of one CAP `<alert>` as a standalone
//! document (its signature was made over it standalone, even when it is
//! later carried inside an Atom entry), and succeeds only when all of these
//! hold:
//! 1. a `<Signature>` child of the root element (one of them, if several);
//! 2. its one `<Reference>` points at the whole document (`URI=""`) or at
//!    the root element by id, with the enveloped-signature transform and,
//!    optionally, a C14N transform;
//! 3. the digest (SHA-1, SHA-256 or SHA-512) of the canonicalized reference
//!    equals `<DigestValue>` (parallel signatures: see [`verify_enveloped`]);
//! 4. the RSA PKCS#1 v1.5 signature over the canonicalized `<SignedInfo>`
//!    verifies with a key that is both in the message's `<KeyInfo>` (X.509
//!    certificate or `RSAKeyValue`; when `<KeyInfo>` is absent every trusted
//!    key is tried) and in the source's [`TrustedKeys`];
//! 5. a trusted key configured as a certificate is within its validity
//!    period at the clock's "now".
//!
//! Trust is pinned keys, not a certificate chain: an agency's key is
//! configured explicitly, so a valid certificate from any CA is not enough.

pub mod c14n;
pub mod keys;

pub use keys::{KeyError, TrustedKey, TrustedKeys};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use roxmltree::{Document, Node};
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use c14n::Mode;

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const ALG_C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("message is not well-formed XML on its own: {0}")]
    NotStandalone(String),
    #[error("no <Signature> element under the root element")]
    Missing,
    #[error("<{0}> missing in the signature")]
    MissingElement(&'static str),
    #[error("unsupported {what} algorithm `{uri}`")]
    Unsupported { what: &'static str, uri: String },
    #[error("reference URI `{0}` does not point at the signed message")]
    BadReference(String),
    #[error("{0} is not valid base64")]
    Base64(&'static str),
    #[error("digest of the signed content does not match <DigestValue>")]
    DigestMismatch,
    #[error("the signing key is not one this source trusts")]
    UntrustedKey,
    #[error("RSA signature does not verify with the trusted key")]
    BadSignature,
    #[error("trusted certificate `{subject}` is not valid at {now}")]
    CertificateNotValid { subject: String, now: DateTime<Utc> },
    #[error("bad key in <KeyInfo>: {0}")]
    KeyInfo(String),
}

impl SignatureError {
    /// A short stable label for metrics and the store.
    pub fn label(&self) -> &'static str {
        match self {
            SignatureError::NotStandalone(_) => "signature_not_standalone",
            SignatureError::Missing => "signature_missing",
            SignatureError::MissingElement(_) | SignatureError::Base64(_) => "signature_malformed",
            SignatureError::Unsupported { .. } => "signature_unsupported",
            SignatureError::BadReference(_) => "signature_bad_reference",
            SignatureError::DigestMismatch => "signature_digest_mismatch",
            SignatureError::UntrustedKey => "signature_untrusted_key",
            SignatureError::BadSignature => "signature_invalid",
            SignatureError::CertificateNotValid { .. } => "signature_certificate_not_valid",
            SignatureError::KeyInfo(_) => "signature_bad_key_info",
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The trusted key's label (certificate subject or PEM file).
    pub key_label: String,
    pub digest_algorithm: &'static str,
    pub signature_algorithm: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HashAlg {
    Sha1,
    Sha256,
    Sha512,
}

impl HashAlg {
    fn digest_from_uri(uri: &str) -> Option<HashAlg> {
        match uri {
            "http://www.w3.org/2000/09/xmldsig#sha1" => Some(HashAlg::Sha1),
            "http://www.w3.org/2001/04/xmlenc#sha256" => Some(HashAlg::Sha256),
            "http://www.w3.org/2001/04/xmlenc#sha512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    fn signature_from_uri(uri: &str) -> Option<HashAlg> {
        match uri {
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => Some(HashAlg::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => Some(HashAlg::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha512 => "sha512",
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha1 => Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => Sha256::digest(data).to_vec(),
            HashAlg::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn padding(self) -> Pkcs1v15Sign {
        match self {
            HashAlg::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
            HashAlg::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
            HashAlg::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        }
    }
}

fn find_signatures<'a, 'i>(root: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    root.children()
        .filter(|n| n.is_element() && n.tag_name().namespace() == Some(DSIG_NS))
        .filter(|n| n.tag_name().name() == "Signature")
}

fn ds_child<'a, 'i>(
    node: Node<'a, 'i>,
    name: &'static str,
) -> Result<Node<'a, 'i>, SignatureError> {
    node.children()
        .find(|n| n.is_element() && n.has_tag_name((DSIG_NS, name)))
        .ok_or(SignatureError::MissingElement(name))
}

fn algorithm<'a>(node: Node<'a, '_>, what: &'static str) -> Result<&'a str, SignatureError> {
    node.attribute("Algorithm")
        .ok_or(SignatureError::Unsupported {
            what,
            uri: String::new(),
        })
}

fn decode_b64(text: Option<&str>, what: &'static str) -> Result<Vec<u8>, SignatureError> {
    let compact: String = text
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| SignatureError::Base64(what))
}

fn c14n_mode(
    alg_node: Node<'_, '_>,
    uri: &str,
    what: &'static str,
) -> Result<Mode, SignatureError> {
    match uri {
        ALG_C14N => Ok(Mode::Inclusive),
        ALG_EXC_C14N => {
            let prefixes = alg_node
                .children()
                .find(|n| n.has_tag_name((EXC_C14N_NS, "InclusiveNamespaces")))
                .and_then(|n| n.attribute("PrefixList"))
                .map(|list| {
                    list.split_whitespace()
                        .map(|p| {
                            if p == "#default" {
                                String::new()
                            } else {
                                p.to_owned()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(Mode::Exclusive {
                inclusive_prefixes: prefixes,
            })
        }
        other => Err(SignatureError::Unsupported {
            what,
            uri: other.to_owned(),
        }),
    }
}

/// Verifies the enveloped signature of a standalone CAP message against the
/// source's trusted keys, at `now` (see the module documentation).
///
/// A message may carry several signatures (Canada NAAD: the issuer's, then
/// the distributor's over the whole, issuer's signature included). Each is
/// checked on its own; the message passes when one of them verifies with a
/// trusted key. When none does, the error reported is the one from a
/// signature made with a trusted key if there is one (tampering shows as a
/// digest mismatch), else [`SignatureError::UntrustedKey`].
pub fn verify_enveloped(
    xml: &str,
    trusted: &TrustedKeys,
    now: DateTime<Utc>,
) -> Result<VerifiedSignature, SignatureError> {
    let doc = Document::parse(xml).map_err(|e| SignatureError::NotStandalone(e.to_string()))?;
    let root = doc.root_element();
    let mut best_error: Option<SignatureError> = None;
    for signature in find_signatures(root) {
        match verify_one(&doc, signature, trusted, now) {
            Ok(verified) => return Ok(verified),
            Err(e) => {
                let replace = match &best_error {
                    None => true,
                    Some(SignatureError::UntrustedKey) => e != SignatureError::UntrustedKey,
                    Some(_) => false,
                };
                if replace {
                    best_error = Some(e);
                }
            }
        }
    }
    Err(best_error.unwrap_or(SignatureError::Missing))
}

fn verify_one(
    doc: &Document<'_>,
    signature: Node<'_, '_>,
    trusted: &TrustedKeys,
    now: DateTime<Utc>,
) -> Result<VerifiedSignature, SignatureError> {
    let root = doc.root_element();
    let signed_info = ds_child(signature, "SignedInfo")?;
    let c14n_node = ds_child(signed_info, "CanonicalizationMethod")?;
    let signed_info_mode = c14n_mode(
        c14n_node,
        algorithm(c14n_node, "canonicalization")?,
        "canonicalization",
    )?;
    let sig_method_uri = algorithm(ds_child(signed_info, "SignatureMethod")?, "signature")?;
    let sig_alg =
        HashAlg::signature_from_uri(sig_method_uri).ok_or_else(|| SignatureError::Unsupported {
            what: "signature",
            uri: sig_method_uri.to_owned(),
        })?;

    // The one reference must cover the whole message.
    let references: Vec<_> = signed_info
        .children()
        .filter(|n| n.has_tag_name((DSIG_NS, "Reference")))
        .collect();
    let [reference] = references.as_slice() else {
        return Err(SignatureError::BadReference(format!(
            "{} references",
            references.len()
        )));
    };
    let uri = reference.attribute("URI").unwrap_or("");
    let apex = if uri.is_empty() {
        doc.root()
    } else {
        let id = uri
            .strip_prefix('#')
            .ok_or_else(|| SignatureError::BadReference(uri.to_owned()))?;
        let names_root = ["Id", "ID", "id"]
            .iter()
            .any(|attr| root.attribute(*attr) == Some(id));
        if !names_root {
            return Err(SignatureError::BadReference(uri.to_owned()));
        }
        root
    };
    let mut enveloped = false;
    let mut reference_mode = Mode::Inclusive;
    if let Ok(transforms) = ds_child(*reference, "Transforms") {
        for transform in transforms
            .children()
            .filter(|n| n.has_tag_name((DSIG_NS, "Transform")))
        {
            match algorithm(transform, "transform")? {
                ALG_ENVELOPED => enveloped = true,
                other => reference_mode = c14n_mode(transform, other, "transform")?,
            }
        }
    }
    if !enveloped {
        // Without it the signature would cover itself and never verify; a
        // detached or enveloping signature is not what CAP uses.
        return Err(SignatureError::Unsupported {
            what: "transform",
            uri: "(no enveloped-signature transform)".to_owned(),
        });
    }
    let digest_uri = algorithm(ds_child(*reference, "DigestMethod")?, "digest")?;
    let digest_alg =
        HashAlg::digest_from_uri(digest_uri).ok_or_else(|| SignatureError::Unsupported {
            what: "digest",
            uri: digest_uri.to_owned(),
        })?;
    let expected_digest = decode_b64(ds_child(*reference, "DigestValue")?.text(), "DigestValue")?;
    let canonical = c14n::canonicalize(apex, &reference_mode, &[signature.id()]);
    if digest_alg.hash(canonical.as_bytes()) != expected_digest {
        // Parallel signatures (Canada NAAD: the issuer's and the
        // distributor's) each cover the message without any signature, so
        // the enveloped transform is retried leaving out every signature
        // under the root. Signatures carry no alert content, so nothing
        // signed is given up.
        let all: Vec<_> = find_signatures(root).map(|n| n.id()).collect();
        let without_all = c14n::canonicalize(apex, &reference_mode, &all);
        if all.len() < 2 || digest_alg.hash(without_all.as_bytes()) != expected_digest {
            return Err(SignatureError::DigestMismatch);
        }
    }

    let signature_value = decode_b64(
        ds_child(signature, "SignatureValue")?.text(),
        "SignatureValue",
    )?;
    let signed_info_c14n = c14n::canonicalize(signed_info, &signed_info_mode, &[]);
    let hashed = sig_alg.hash(signed_info_c14n.as_bytes());

    let candidates = match ds_child(signature, "KeyInfo") {
        Ok(key_info) => trusted.matching(&keys::keys_in_key_info(key_info)?),
        Err(_) => trusted.all(),
    };
    if candidates.is_empty() {
        return Err(SignatureError::UntrustedKey);
    }
    let mut last_error = SignatureError::BadSignature;
    for key in candidates {
        if !verifies(&key.key, sig_alg, &hashed, &signature_value) {
            continue;
        }
        if let Some((not_before, not_after)) = key.validity
            && (now < not_before || now > not_after)
        {
            last_error = SignatureError::CertificateNotValid {
                subject: key.label.clone(),
                now,
            };
            continue;
        }
        return Ok(VerifiedSignature {
            key_label: key.label.clone(),
            digest_algorithm: digest_alg.name(),
            signature_algorithm: sig_alg.name(),
        });
    }
    Err(last_error)
}

fn verifies(key: &RsaPublicKey, alg: HashAlg, hashed: &[u8], signature: &[u8]) -> bool {
    key.verify(alg.padding(), hashed, signature).is_ok()
}
