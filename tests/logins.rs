//! Staff logins under attack: strangers' guesses never lock the owner out
//! of a device that logged in before, failures are counted exactly under
//! any concurrency, and the password workers refuse work beyond their
//! queue instead of taking memory. Runs `hazardline serve` with the demo
//! region and a bootstrap operator (see `staff/mod.rs`); client addresses
//! come from `X-Forwarded-For` (`trust_forwarded = true`), so one machine
//! plays the owner's office and the attackers'.

mod support;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;
use support::staff::{OPERATOR, PASSWORD, Server};

const WRONG: &str = "not the password at all";

/// One login attempt's outcome.
struct Outcome {
    status: StatusCode,
    headers: HeaderMap,
    code: String,
}

impl Outcome {
    /// `name=value` of the device cookie this response set, if any.
    fn device_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("hazardline_device_"))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned)
    }
}

/// A login attempt from client address `from`, with `device` (a device
/// cookie's `name=value`) when given.
async fn attempt(
    server: &Server,
    username: &str,
    password: &str,
    from: &str,
    device: Option<&str>,
) -> Outcome {
    let mut request = server
        .http
        .post(server.url("/api/v1/auth/login"))
        .header("x-forwarded-for", from)
        .json(&json!({ "username": username, "password": password }));
    if let Some(cookie) = device {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Outcome {
        status,
        headers,
        code: body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Every test client connects from 127.0.0.1 and names its address in
/// `X-Forwarded-For`, so the per-address connection cap is off (the lines
/// before the first table belong to `[server]`).
fn config(logins: &str) -> String {
    format!(
        "max_connections_per_address = 0\n\n[limits]\ntrust_forwarded = true\n\n[logins]\n{logins}\n"
    )
}

const OFFICE: &str = "198.51.100.10";

/// The owner logs in once from the office and keeps the device cookie.
async fn owners_device(server: &Server) -> String {
    let first = attempt(server, OPERATOR, PASSWORD, OFFICE, None).await;
    assert_eq!(first.status, StatusCode::OK);
    let cookie = first.device_cookie().expect("a device cookie");
    let set = first
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hazardline_device_"))
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    cookie
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_logs_in_with_a_device_cookie_during_a_flood() {
    let server = Server::start_configured(&[], &config("")).await;
    let device = owners_device(&server).await;

    // 200 wrong passwords for the owner's account from 20 other addresses,
    // all at once; the owner logs in from the office in the middle of it.
    let mut flood = Vec::new();
    for n in 0..200 {
        let server_url = server.url("/api/v1/auth/login");
        let http = server.http.clone();
        flood.push(tokio::spawn(async move {
            http.post(server_url)
                .header("x-forwarded-for", format!("203.0.113.{}", n % 20))
                .json(&json!({ "username": OPERATOR, "password": WRONG }))
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    let during = attempt(&server, OPERATOR, PASSWORD, OFFICE, Some(&device)).await;
    let mut refused = 0;
    for task in flood {
        let status = task.await.unwrap().unwrap();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
        refused += usize::from(status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(
        during.status,
        StatusCode::OK,
        "the owner was refused: {}",
        during.code
    );
    assert!(
        refused >= 190,
        "strangers were locked out: {refused} refused"
    );
    // After the flood, too.
    let after = attempt(&server, OPERATOR, PASSWORD, OFFICE, Some(&device)).await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(
        server.log().contains("failed staff login"),
        "failures are logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_locked_out_after_n_failures_but_not_the_owners_device() {
    let server =
        Server::start_configured(&[], &config("max_failures = 3\ndevice_max_failures = 2\n")).await;
    let device = owners_device(&server).await;
    let stranger = "203.0.113.99";
    for _ in 0..3 {
        let wrong = attempt(&server, OPERATOR, WRONG, stranger, None).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = attempt(&server, OPERATOR, WRONG, stranger, None).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.code, "rate_limited");
    assert!(locked.headers.get("retry-after").is_some());
    // Locked for every unrecognised client, the right password included,
    // from any address (the office's own new browser too).
    for from in [stranger, OFFICE] {
        let right = attempt(&server, OPERATOR, PASSWORD, from, None).await;
        assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "{from}");
    }
    // A cookie signed by someone else is a stranger's.
    let forged = device.replace(|c: char| c.is_ascii_digit(), "0");
    let forged = attempt(&server, OPERATOR, PASSWORD, OFFICE, Some(&forged)).await;
    assert_eq!(forged.status, StatusCode::TOO_MANY_REQUESTS);

    // The owner's device is not locked: a typo is a plain 401 and the
    // right password gets in.
    let typo = attempt(&server, OPERATOR, WRONG, OFFICE, Some(&device)).await;
    assert_eq!(typo.status, StatusCode::UNAUTHORIZED);
    let owner = attempt(&server, OPERATOR, PASSWORD, OFFICE, Some(&device)).await;
    assert_eq!(owner.status, StatusCode::OK);

    // Unless the device itself fails too often: then it is a stranger too.
    let device = owner.device_cookie().expect("a renewed device cookie");
    for _ in 0..2 {
        let wrong = attempt(&server, OPERATOR, WRONG, OFFICE, Some(&device)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let spent = attempt(&server, OPERATOR, PASSWORD, OFFICE, Some(&device)).await;
    assert_eq!(spent.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_logins_are_all_counted() {
    let server = Server::start_configured(
        &[],
        &config("max_failures = 5\naddress_max_failures = 1000\n"),
    )
    .await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let server_url = server.url("/api/v1/auth/login");
        let http = server.http.clone();
        tasks.push(tokio::spawn(async move {
            http.post(server_url)
                .header("x-forwarded-for", "203.0.113.7")
                .json(&json!({ "username": OPERATOR, "password": WRONG }))
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    let mut checked = 0;
    for task in tasks {
        let status = task.await.unwrap().unwrap();
        checked += usize::from(status == StatusCode::UNAUTHORIZED);
    }
    // Exactly the allowance reached the password check; every other
    // attempt was counted and refused.
    assert_eq!(checked, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_workers_refuse_beyond_their_queue() {
    let server = Server::start_configured(
        &[],
        &config(
            "hash_workers = 1\nhash_queue = 0\nmax_failures = 1000\naddress_max_failures = 1000\n",
        ),
    )
    .await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        let server_url = server.url("/api/v1/auth/login");
        let http = server.http.clone();
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(server_url)
                .header("x-forwarded-for", format!("203.0.113.{n}"))
                .json(&json!({ "username": OPERATOR, "password": WRONG }))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: serde_json::Value = response.json().await.unwrap();
            (status, retry_after, body)
        }));
    }
    let (mut checked, mut busy) = (0, 0);
    for task in tasks {
        let (status, retry_after, body) = task.await.unwrap();
        match status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                busy += 1;
                assert_eq!(body["error"]["code"], "rate_limited");
                assert_eq!(retry_after.as_deref(), Some("1"));
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // One worker, no queue: forty guesses at once cannot all be taken.
    assert!(checked >= 1 && busy >= 1, "{checked} checked, {busy} busy");
    // And the pool is free again afterwards.
    let owner = attempt(&server, OPERATOR, PASSWORD, "198.51.100.1", None).await;
    assert_eq!(owner.status, StatusCode::OK);
}
