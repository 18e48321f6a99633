//! Who may try a staff password, and how often: OWASP's "device cookies".
//!
//! Staff usernames are public (they are the `sender` of every alert), so a
//! lock on the account itself would let anyone lock every office out
//! during an event. Instead:
//! - a client that logged in to an account gets a device cookie for it,
//!   `hazardline_device_<username>` = `<nonce>.<expiry>.<HMAC>` (HMAC-SHA256
//!   under a server key over the username, nonce and expiry; HttpOnly,
//!   SameSite=Strict, only sent to the login route, Secure over HTTPS);
//! - an attempt presenting a valid device cookie for that account is
//!   counted per device cookie, apart from everyone else; after
//!   `device_max_failures` in a window that device is a stranger too;
//! - every other attempt is counted per account and per client address;
//!   past `max_failures` (account) or `address_max_failures` (address)
//!   such attempts are refused (429) until the window ends — strangers
//!   only: the owner's trusted device still gets in.
//!
//! Attempts are counted before the password is checked, with one atomic
//! store operation each ([`store::Storage::count_login_attempt`]), so 200
//! parallel guesses are 200 counted and only the first few reach argon2; a
//! success clears the counter it was admitted under. Counters live in the
//! store (shared by every process on a Redis store) and expire by
//! themselves.
//!
//! The server key is derived from the data key, so device cookies survive
//! restarts and are valid on every process; without a data key (`--demo`)
//! it is random per process.

use std::time::Duration;

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use store::Storage;

use crate::error::ApiError;
use crate::serve::config::LoginsConfig;
use crate::serve::login_pool::{HashPool, Priority};
use crate::serve::ratelimit::ClientKey;

/// Device cookies are named this followed by the username, so one browser
/// shared by several officers keeps one per account.
pub const DEVICE_COOKIE_PREFIX: &str = "hazardline_device_";
/// Only the login route ever needs to see a device cookie.
const DEVICE_COOKIE_PATH: &str = "/api/v1/auth/login";
/// Domain separation of the server key derived from the data key.
const KEY_LABEL: &[u8] = b"hazardline device cookies v1";

type HmacSha256 = Hmac<Sha256>;

/// The login service: its password workers and its throttling policy.
pub struct Logins {
    pub pool: HashPool,
    config: LoginsConfig,
    cookie_key: [u8; 32],
}

/// An attempt that may go on to the password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The nonce of the trusted device cookie it was admitted under.
    pub device: Option<String>,
}

impl Admitted {
    pub fn priority(&self) -> Priority {
        if self.device.is_some() {
            Priority::Trusted
        } else {
            Priority::Normal
        }
    }
}

/// An attempt refused before any password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub retry_after_secs: u64,
    pub message: &'static str,
}

/// The throttling key naming a client address.
pub fn address_text(client: &ClientKey) -> String {
    match client {
        ClientKey::Address(ip) => ip.to_string(),
        ClientKey::Device(_) | ClientKey::Unknown => "unknown".to_owned(),
    }
}

impl Logins {
    /// The pool and policy of `config`; the server key from `data_key`
    /// (the configured data key's text) when there is one.
    pub fn new(config: &LoginsConfig, data_key: Option<&str>) -> std::io::Result<Logins> {
        let cookie_key = match data_key.and_then(|text| store::DataKey::parse(text).ok()) {
            Some(key) => derive_key(&key),
            None => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                key
            }
        };
        Ok(Logins {
            pool: HashPool::new(config.hash_workers, config.hash_queue)?,
            config: config.clone(),
            cookie_key,
        })
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.config.window_secs)
    }

    fn signature(&self, username: &str, nonce: &str, expires: i64) -> HmacSha256 {
        // A 32-byte key is always a valid HMAC key.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.cookie_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("{username}|{nonce}|{expires}").as_bytes());
        mac
    }

    /// The `Set-Cookie` value of a fresh device cookie for `username`.
    pub fn device_cookie(&self, username: &str, now: DateTime<Utc>, secure: bool) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let max_age = u64::from(self.config.device_cookie_days) * 24 * 3600;
        let expires = now.timestamp() + i64::try_from(max_age).unwrap_or(i64::MAX / 4);
        let signature = hex::encode(
            self.signature(username, &nonce, expires)
                .finalize()
                .into_bytes(),
        );
        let secure = if secure { "; Secure" } else { "" };
        format!(
            "{DEVICE_COOKIE_PREFIX}{username}={nonce}.{expires}.{signature}; Path={DEVICE_COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
        )
    }

    /// The nonce of the request's device cookie for `username`, when it
    /// carries one this server signed for that account and it has not
    /// expired at `now`.
    pub fn trusted_device(
        &self,
        headers: &HeaderMap,
        username: &str,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let name = format!("{DEVICE_COOKIE_PREFIX}{username}");
        cookies(headers, &name).find_map(|value| {
            let mut parts = value.split('.');
            let (nonce, expires, signature) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || nonce.len() != 32 {
                return None;
            }
            let expires: i64 = expires.parse().ok()?;
            let signature = hex::decode(signature).ok()?;
            // Constant-time comparison (hmac's verify_slice).
            self.signature(username, nonce, expires)
                .verify_slice(&signature)
                .ok()?;
            (expires > now.timestamp()).then(|| nonce.to_owned())
        })
    }

    /// Counts the attempt and says whether it may go on to the password
    /// check. `username` is None when it cannot name an account (bad
    /// format): only the address is counted then.
    pub async fn admit(
        &self,
        storage: &dyn Storage,
        username: Option<&str>,
        device: Option<String>,
        client: &ClientKey,
    ) -> Result<Result<Admitted, Locked>, ApiError> {
        let window = self.window();
        if let Some(nonce) = device {
            let failures = storage
                .count_login_attempt(&format!("device:{nonce}"), window)
                .await?;
            if failures <= u64::from(self.config.device_max_failures) {
                return Ok(Ok(Admitted {
                    device: Some(nonce),
                }));
            }
            // This device failed too often itself: from now until its
            // window ends it is a stranger like any other.
        }
        let address = address_text(client);
        let from_address = storage
            .count_login_attempt(&format!("address:{address}"), window)
            .await?;
        let on_account = match username {
            Some(username) => {
                storage
                    .count_login_attempt(&format!("account:{username}"), window)
                    .await?
            }
            None => 0,
        };
        let locked = |message| Locked {
            retry_after_secs: self.config.window_secs,
            message,
        };
        let max = u64::from(self.config.max_failures);
        if on_account > max {
            if on_account == max + 1 {
                tracing::warn!(
                    account = username.unwrap_or_default(),
                    client = %address,
                    "too many failed logins: clients without this account's device cookie are refused until the window ends"
                );
            }
            return Ok(Err(locked(
                "too many failed logins for this account from unrecognised devices; log in from a device that has logged in before, or wait",
            )));
        }
        let address_max = u64::from(self.config.address_max_failures);
        if from_address > address_max {
            if from_address == address_max + 1 {
                tracing::warn!(client = %address, "too many failed logins from this address: refused until the window ends");
            }
            return Ok(Err(locked(
                "too many failed logins from this address; wait and try again",
            )));
        }
        Ok(Ok(Admitted { device: None }))
    }

    /// After a successful login: forgets the counter it was admitted under
    /// (the device's, or the account's for an unrecognised client). The
    /// address counter stays: one right password does not excuse an
    /// address's guesses at other accounts.
    pub async fn succeeded(
        &self,
        storage: &dyn Storage,
        admitted: &Admitted,
        username: &str,
    ) -> Result<(), ApiError> {
        let key = match &admitted.device {
            Some(nonce) => format!("device:{nonce}"),
            None => format!("account:{username}"),
        };
        storage.clear_login_attempts(&key).await?;
        Ok(())
    }
}

/// HMAC-SHA256(data key, label): a key for device cookies that is not the
/// data key itself.
fn derive_key(data_key: &store::DataKey) -> [u8; 32] {
    let bytes = hex::decode(data_key.to_hex()).unwrap_or_default();
    let mut mac = <HmacSha256 as Mac>::new_from_slice(&bytes)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(KEY_LABEL);
    mac.finalize().into_bytes().into()
}

/// The non-empty values of every cookie `name` the request carries.
pub fn cookies<'a>(
    headers: &'a axum::http::HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(cookie, _)| *cookie == name)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::http::header::COOKIE;

    fn logins(data_key: Option<&str>) -> Logins {
        Logins::new(&LoginsConfig::default(), data_key).unwrap()
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// The request headers of a browser holding `set_cookie`.
    fn holding(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=b; {pair}")).unwrap(),
        );
        headers
    }

    #[test]
    fn a_device_cookie_is_trusted_for_its_account_only_until_it_expires() {
        let key = "42".repeat(32);
        let signer = logins(Some(&key));
        let cookie = signer.device_cookie("wudao-issuer", t0(), true);
        assert!(cookie.starts_with("hazardline_device_wudao-issuer="));
        for attribute in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/api/v1/auth/login",
        ] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!signer.device_cookie("x", t0(), false).contains("Secure"));
        let headers = holding(&cookie);
        let nonce = signer.trusted_device(&headers, "wudao-issuer", t0());
        assert_eq!(nonce.as_ref().map(String::len), Some(32));
        // Another process with the same data key trusts it too.
        assert_eq!(
            logins(Some(&key)).trusted_device(&headers, "wudao-issuer", t0()),
            nonce
        );
        // Not for another account, even renamed to its cookie name.
        let renamed = cookie.replacen("wudao-issuer", "yunhai-issuer", 1);
        assert_eq!(
            signer.trusted_device(&holding(&renamed), "yunhai-issuer", t0()),
            None
        );
        // Not under another key, nor past its expiry.
        assert_eq!(
            logins(None).trusted_device(&headers, "wudao-issuer", t0()),
            None
        );
        let later = t0() + chrono::Duration::days(91);
        assert_eq!(signer.trusted_device(&headers, "wudao-issuer", later), None);
    }

    #[test]
    fn a_forged_or_altered_device_cookie_is_not_trusted() {
        let logins = logins(None);
        let cookie = logins.device_cookie("ops", t0(), false);
        let value = cookie
            .split(';')
            .next()
            .and_then(|p| p.split_once('='))
            .map(|(_, v)| v.to_owned())
            .unwrap();
        let mut parts: Vec<String> = value.split('.').map(str::to_owned).collect();
        // A later expiry with the old signature.
        parts[1] = (t0().timestamp() + 10 * 365 * 86_400).to_string();
        let altered = format!("hazardline_device_ops={}", parts.join("."));
        for forged in [
            altered.as_str(),
            "hazardline_device_ops=00000000000000000000000000000000.9999999999.00",
            "hazardline_device_ops=garbage",
            "hazardline_device_ops=",
        ] {
            assert_eq!(
                logins.trusted_device(&holding(forged), "ops", t0()),
                None,
                "{forged}"
            );
        }
    }
}
