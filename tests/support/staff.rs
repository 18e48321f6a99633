//! Shared by the staff API tests: starts `hazardline serve` (on port 0, see
//! the parent module) with the demo region's boundaries, a private embedded store, the system
//! clock and a bootstrap operator, and speaks to it as each kind of caller (staff by session cookie + CSRF token or by
//! bearer token, residents by device key).

use std::process::Command;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

pub const OPERATOR: &str = "root-operator";
pub const PASSWORD: &str = "correct horse battery staple";
const DATA_KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

/// A resident to store before the service starts, and the device key that
/// authenticates them.
pub struct Seed {
    pub record: store::SubscriberRecord,
    pub key: String,
}

impl Seed {
    /// A resident with one place at a point of the demo region, one MQTT
    /// device, and a relay need when `relay_name` is given.
    pub fn resident(id: &str, lon: f64, lat: f64, relay_name: Option<&str>) -> Seed {
        use sha2::Digest;
        use store::{Device, DeviceChannel, PlaceRecord, RelayNeed, Sensitive};
        let atlas = geodata::demo::atlas();
        let village = atlas
            .locate(lon, lat)
            .map(|l| l.village_code().to_owned())
            .expect("a point in the demo region");
        let key = format!("device-key-{id}");
        let record = store::SubscriberRecord {
            id: store::SubscriberId(id.to_owned()),
            created_at: chrono::Utc::now(),
            key_hash: store::KeyHash(sha2::Sha256::digest(key.as_bytes()).into()),
            locale: "zh-TW".into(),
            devices: vec![Device {
                channel: DeviceChannel::Mqtt,
                address: Sensitive(format!("device-{id}")),
                secret: None,
            }],
            places: vec![PlaceRecord {
                id: 0,
                label: Sensitive("家".into()),
                address: None,
                lon,
                lat,
                village: Some(village.clone()),
            }],
            location: None,
            preferences: store::PreferencesRecord::default(),
            relay: relay_name.map(|name| RelayNeed {
                name: Sensitive(name.into()),
                phone: Some(Sensitive("+886912345678".into())),
                village,
                note: Some(Sensitive("wheelchair".into())),
            }),
        };
        Seed { record, key }
    }

    pub fn caller(&self) -> Caller {
        Caller::Bearer(self.key.clone())
    }
}

pub struct Server {
    pub served: super::Served,
    pub base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(residents: &[Seed]) -> Server {
        Server::start_with(residents, "", |_| {}).await
    }

    /// [`Server::start`] with more TOML sections appended to its
    /// configuration (`[logins]`, …).
    pub async fn start_configured(residents: &[Seed], extra_config: &str) -> Server {
        Server::start_with(residents, extra_config, |_| {}).await
    }

    /// [`Server::start`] with `extra` lines appended to the `[server]`
    /// section of the configuration (further sections may follow them;
    /// `{dir}` stands for the server's own temporary folder) and `prepare`
    /// applied to the command before it is spawned.
    pub async fn start_with(
        residents: &[Seed],
        extra: &str,
        prepare: impl FnOnce(&mut Command),
    ) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("store");
        std::fs::create_dir_all(&store_dir).unwrap();
        {
            let storage =
                store::SqliteStorage::open(&store_dir, store::DataKey::parse(DATA_KEY).unwrap())
                    .unwrap();
            for seed in residents {
                store::Storage::put_subscriber(&storage, &seed.record)
                    .await
                    .unwrap();
            }
        }
        let config = dir.path().join("hazardline.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\npublic_url = \"http://127.0.0.1\"\n{}\n\n\
                 [storage]\nkind = \"embedded\"\ndir = \"{}\"\n\n[geodata]\ndemo = true\n",
                extra.replace("{dir}", &dir.path().display().to_string()),
                store_dir.display()
            ),
        )
        .unwrap();
        let log_path = dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut command = super::serve_command();
        prepare(&mut command);
        command
            .arg("--config")
            .arg(&config)
            .env("HAZARDLINE_DATA_KEY", DATA_KEY)
            .env(
                "HAZARDLINE_BOOTSTRAP_OPERATOR",
                format!("{OPERATOR}:{PASSWORD}"),
            )
            .env("RUST_LOG", "info")
            .stderr(log);
        let served = super::Served::start(command, || {
            std::fs::read_to_string(&log_path).unwrap_or_default()
        });
        Server {
            base: served.base(),
            served,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// The server's temporary folder.
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("serve.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in with a session cookie.
    pub async fn login(&self, username: &str, password: &str) -> Caller {
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "login {username}");
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("session cookie")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let token = cookie
            .split(';')
            .next()
            .and_then(|p| p.split_once('='))
            .map(|(_, v)| v.to_owned())
            .unwrap();
        let body: Value = response.json().await.unwrap();
        Caller::Staff {
            cookie: token,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            id: body["account"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Logs in as a machine client (bearer token, no cookie).
    pub async fn login_bearer(&self, username: &str, password: &str) -> Caller {
        let body: Value = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": password, "bearer": true }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Caller::Bearer(body["token"].as_str().expect("bearer token").to_owned())
    }

    pub fn request(&self, caller: &Caller, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method.clone(), self.url(path));
        caller.authorize(builder, &method)
    }

    pub async fn call(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut builder = self.request(caller, method, path);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, caller: &Caller, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(caller, Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> (StatusCode, Value) {
        self.call(caller, Method::GET, path, None).await
    }

    /// Posts a CAP document.
    pub async fn post_cap(&self, caller: &Caller, path: &str, xml: &str) -> (StatusCode, Value) {
        self.post_cap_bytes(caller, path, xml.as_bytes().to_vec())
            .await
    }

    /// Posts a CAP document as bytes (any encoding).
    pub async fn post_cap_bytes(
        &self,
        caller: &Caller,
        path: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let response = self
            .request(caller, Method::POST, path)
            .header("content-type", "application/cap+xml")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates an account as `operator` and logs it in. Issuers and
    /// supervisors belong to the office of their jurisdiction
    /// (`office-99000`), so colleagues of one area share an office.
    pub async fn account(
        &self,
        operator: &Caller,
        username: &str,
        role: &str,
        jurisdiction: &[&str],
    ) -> Caller {
        let office = matches!(role, "issuer" | "supervisor")
            .then(|| format!("office-{}", jurisdiction.join("-")));
        self.account_in(operator, username, role, jurisdiction, office.as_deref())
            .await
    }

    /// Creates an account of `office` as `operator` and logs it in.
    pub async fn account_in(
        &self,
        operator: &Caller,
        username: &str,
        role: &str,
        jurisdiction: &[&str],
        office: Option<&str>,
    ) -> Caller {
        let (status, body) = self
            .post(
                operator,
                "/api/v1/accounts",
                json!({
                    "username": username, "password": PASSWORD,
                    "role": role, "jurisdiction": jurisdiction, "office": office,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(username, PASSWORD).await
    }
}

/// Who makes a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    /// Session cookie; the CSRF token is sent on unsafe methods.
    Staff {
        cookie: String,
        csrf: String,
        id: String,
    },
    /// The same session's cookie without its CSRF token.
    NoCsrf {
        cookie: String,
    },
    /// A staff API token or a resident's device key.
    Bearer(String),
}

impl Caller {
    pub fn id(&self) -> &str {
        match self {
            Caller::Staff { id, .. } => id,
            _ => "",
        }
    }

    pub fn without_csrf(&self) -> Caller {
        match self {
            Caller::Staff { cookie, .. } => Caller::NoCsrf {
                cookie: cookie.clone(),
            },
            other => other.clone(),
        }
    }

    fn authorize(&self, builder: RequestBuilder, method: &Method) -> RequestBuilder {
        match self {
            Caller::Anonymous => builder,
            Caller::Staff { cookie, csrf, .. } => {
                let builder = builder.header("cookie", format!("hazardline_session={cookie}"));
                if matches!(*method, Method::GET | Method::HEAD) {
                    builder
                } else {
                    builder.header("x-csrf-token", csrf)
                }
            }
            Caller::NoCsrf { cookie } => {
                builder.header("cookie", format!("hazardline_session={cookie}"))
            }
            Caller::Bearer(token) => builder.bearer_auth(token),
        }
    }
}

/// A compose form for the demo region.
pub fn compose(hazard: &str, area: Value, severity: &str, exercise: bool) -> Value {
    json!({
        "hazard": hazard,
        "area": area,
        "severity": severity, "urgency": "Immediate", "certainty": "Likely",
        "colour": "orange",
        "texts": {
            "zh-TW": {"headline": "測試警報", "instruction": "請留意"},
            "en": {"headline": "Test warning", "instruction": "Take care"}
        },
        "expires": "2099-01-01T00:00:00+08:00",
        "exercise": exercise,
    })
}

/// Polls `f` until it returns Some, for up to 30 s.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(value) = f().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}
