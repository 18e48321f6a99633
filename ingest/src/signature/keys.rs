//! Keys: the ones a source trusts (from PEM files) and the ones a message
//! presents in its `<KeyInfo>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use roxmltree::Node;
use rsa::BigUint;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

use super::{DSIG_NS, SignatureError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{origin}: no CERTIFICATE or PUBLIC KEY block found")]
    NoKeys { origin: String },
    #[error("{origin}: bad PEM block: {detail}")]
    BadPem { origin: String, detail: String },
    #[error("{origin}: certificate or key is not RSA or is malformed: {detail}")]
    BadKey { origin: String, detail: String },
    #[error("{origin}: cannot read: {detail}")]
    Read { origin: String, detail: String },
}

/// One trusted RSA key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key: RsaPublicKey,
    /// The certificate subject, or the PEM origin for a bare key.
    pub label: String,
    /// Validity period, when the key was configured as a certificate.
    pub validity: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The keys one source accepts signatures from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Adds every `CERTIFICATE` and `PUBLIC KEY` block of a PEM text.
    /// `origin` names the text in errors (a file path).
    pub fn add_pem(&mut self, pem: &str, origin: &str) -> Result<(), KeyError> {
        let mut found = 0;
        let mut rest = pem;
        while let Some(start) = rest.find("-----BEGIN ") {
            let after = &rest[start + "-----BEGIN ".len()..];
            let Some(label_end) = after.find("-----") else {
                break;
            };
            let label = &after[..label_end];
            let body_start = &after[label_end + 5..];
            let end_marker = format!("-----END {label}-----");
            let Some(body_end) = body_start.find(&end_marker) else {
                return Err(KeyError::BadPem {
                    origin: origin.to_owned(),
                    detail: format!("no {end_marker}"),
                });
            };
            let body: String = body_start[..body_end]
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let der = STANDARD.decode(body).map_err(|e| KeyError::BadPem {
                origin: origin.to_owned(),
                detail: e.to_string(),
            })?;
            match label {
                "CERTIFICATE" => {
                    self.keys.push(key_from_certificate(&der).map_err(|detail| {
                        KeyError::BadKey {
                            origin: origin.to_owned(),
                            detail,
                        }
                    })?);
                    found += 1;
                }
                "PUBLIC KEY" => {
                    let key =
                        RsaPublicKey::from_public_key_der(&der).map_err(|e| KeyError::BadKey {
                            origin: origin.to_owned(),
                            detail: e.to_string(),
                        })?;
                    self.keys.push(TrustedKey {
                        key,
                        label: origin.to_owned(),
                        validity: None,
                    });
                    found += 1;
                }
                _ => {}
            }
            rest = &body_start[body_end + end_marker.len()..];
        }
        if found == 0 {
            return Err(KeyError::NoKeys {
                origin: origin.to_owned(),
            });
        }
        Ok(())
    }

    /// Reads the PEM files a source configuration names.
    pub fn from_files(paths: &[std::path::PathBuf]) -> Result<Self, KeyError> {
        let mut keys = TrustedKeys::default();
        for path in paths {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| KeyError::Read {
                origin: origin.clone(),
                detail: e.to_string(),
            })?;
            keys.add_pem(&text, &origin)?;
        }
        Ok(keys)
    }

    /// Trusted keys equal to one of `presented`.
    pub(super) fn matching(&self, presented: &[RsaPublicKey]) -> Vec<&TrustedKey> {
        self.keys
            .iter()
            .filter(|t| presented.contains(&t.key))
            .collect()
    }

    pub(super) fn all(&self) -> Vec<&TrustedKey> {
        self.keys.iter().collect()
    }
}

/// Extracts the RSA key and validity of a DER certificate.
pub fn key_from_certificate(der: &[u8]) -> Result<TrustedKey, String> {
    let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let key = RsaPublicKey::from_public_key_der(&spki).map_err(|e| e.to_string())?;
    let validity = &cert.tbs_certificate.validity;
    let to_utc = |t: x509_cert::time::Time| {
        DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    Ok(TrustedKey {
        key,
        label: cert.tbs_certificate.subject.to_string(),
        validity: Some((to_utc(validity.not_before), to_utc(validity.not_after))),
    })
}

/// Every RSA key a `<KeyInfo>` presents: X.509 certificates and
/// `RSAKeyValue`s.
pub(super) fn keys_in_key_info(
    key_info: Node<'_, '_>,
) -> Result<Vec<RsaPublicKey>, SignatureError> {
    let mut keys = Vec::new();
    for node in key_info.descendants().filter(|n| n.is_element()) {
        if node.has_tag_name((DSIG_NS, "X509Certificate")) {
            let der = super::decode_b64(node.text(), "X509Certificate")?;
            let key = key_from_certificate(&der).map_err(SignatureError::KeyInfo)?;
            keys.push(key.key);
        } else if node.has_tag_name((DSIG_NS, "RSAKeyValue")) {
            let part = |name: &'static str| -> Result<BigUint, SignatureError> {
                let n = node
                    .children()
                    .find(|c| c.has_tag_name((DSIG_NS, name)))
                    .ok_or(SignatureError::MissingElement(name))?;
                Ok(BigUint::from_bytes_be(&super::decode_b64(n.text(), name)?))
            };
            let key = RsaPublicKey::new(part("Modulus")?, part("Exponent")?)
                .map_err(|e| SignatureError::KeyInfo(e.to_string()))?;
            keys.push(key);
        }
    }
    Ok(keys)
}
