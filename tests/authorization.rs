//! Every route × every kind of caller: each route a caller must not use is
//! refused (401 or 403; 404 where an object outside the caller's
//! jurisdiction is not even disclosed), and every unsafe staff route
//! refuses a session cookie sent without its CSRF token.
//!
//! The table below is the list of routes; it is checked against the
//! OpenAPI document the service serves, so a route added there without a
//! line here fails this test, and so does a route whose roles the
//! document states (`x-roles`) otherwise than the table.

mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::staff::{Caller, OPERATOR, PASSWORD, Seed, Server, compose};

/// Kinds of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Resident,
    Issuer,
    Supervisor,
    Chief,
    Operator,
    /// An issuer of another county: may use issuer routes, but not on the
    /// first county's drafts, alerts or shelters.
    OtherIssuer,
}

const ALL: [Who; 7] = [
    Who::Anonymous,
    Who::Resident,
    Who::Issuer,
    Who::Supervisor,
    Who::Chief,
    Who::Operator,
    Who::OtherIssuer,
];

use Who::*;

const EVERYONE: &[Who] = &ALL;
const RESIDENT: &[Who] = &[Resident];
const STAFF: &[Who] = &[Issuer, Supervisor, Chief, Operator, OtherIssuer];
const ISSUERS: &[Who] = &[Issuer, Supervisor, OtherIssuer];
/// Issuer routes on an object of the first county.
const ISSUERS_HERE: &[Who] = &[Issuer, Supervisor];
const SUPERVISOR_HERE: &[Who] = &[Supervisor];
const OPERATOR_ONLY: &[Who] = &[Operator];
const AUDITORS: &[Who] = &[Operator, Supervisor];
const CHIEF: &[Who] = &[Chief];

/// One route: method, path (with `{draft}`, `{alert}`, `{village}`,
/// `{shelter}`, `{place}` filled in from the fixture), who may call it, and
/// a body that would be accepted.
struct Route {
    method: Method,
    path: &'static str,
    allowed: &'static [Who],
    body: Option<fn() -> Value>,
}

fn route(
    method: Method,
    path: &'static str,
    allowed: &'static [Who],
    body: Option<fn() -> Value>,
) -> Route {
    Route {
        method,
        path,
        allowed,
        body,
    }
}

fn table() -> Vec<Route> {
    use Method as M;
    vec![
        // Public.
        route(M::GET, "/healthz", EVERYONE, None),
        route(M::GET, "/readyz", EVERYONE, None),
        route(M::GET, "/metrics", EVERYONE, None),
        route(M::GET, "/openapi.json", EVERYONE, None),
        route(M::GET, "/", EVERYONE, None),
        route(M::GET, "/console", EVERYONE, None),
        route(M::GET, "/chief", EVERYONE, None),
        route(M::GET, "/assets/{path}", EVERYONE, None),
        route(M::POST, "/api/v1/subscribers", EVERYONE, Some(|| json!({}))),
        route(M::GET, "/api/v1/alerts", EVERYONE, None),
        route(M::GET, "/api/v1/alerts/live", EVERYONE, None),
        route(M::GET, "/api/v1/geocode", EVERYONE, None),
        route(M::GET, "/api/v1/geo/areas", EVERYONE, None),
        route(M::POST, "/api/v1/auth/login", EVERYONE, Some(|| json!({}))),
        // Residents, by device key.
        route(M::GET, "/api/v1/me", RESIDENT, None),
        route(M::PATCH, "/api/v1/me", RESIDENT, Some(|| json!({}))),
        route(M::DELETE, "/api/v1/me", RESIDENT, None),
        route(
            M::POST,
            "/api/v1/me/places",
            RESIDENT,
            Some(|| json!({"label": "x", "lon": 123.1, "lat": 23.1})),
        ),
        route(M::DELETE, "/api/v1/me/places/{place}", RESIDENT, None),
        route(
            M::PUT,
            "/api/v1/me/location",
            RESIDENT,
            Some(|| json!({"lon": 123.1, "lat": 23.1, "ttl_minutes": 10})),
        ),
        route(M::DELETE, "/api/v1/me/location", RESIDENT, None),
        route(
            M::PUT,
            "/api/v1/me/relay",
            RESIDENT,
            Some(|| json!({"name": "x"})),
        ),
        route(M::DELETE, "/api/v1/me/relay", RESIDENT, None),
        route(M::GET, "/api/v1/me/alerts", RESIDENT, None),
        route(M::GET, "/api/v1/me/inbox", RESIDENT, None),
        // Any staff session.
        route(M::POST, "/api/v1/auth/logout", STAFF, Some(|| json!({}))),
        route(M::GET, "/api/v1/auth/me", STAFF, None),
        // Operators.
        route(
            M::POST,
            "/api/v1/accounts",
            OPERATOR_ONLY,
            Some(|| json!({})),
        ),
        route(M::GET, "/api/v1/accounts", OPERATOR_ONLY, None),
        route(M::GET, "/api/v1/audit", AUDITORS, None),
        // Offices.
        route(
            M::POST,
            "/api/v1/drafts",
            ISSUERS,
            Some(|| compose("flood", json!({"codes": ["99000010"]}), "Severe", false)),
        ),
        route(M::GET, "/api/v1/drafts", ISSUERS, None),
        route(M::POST, "/api/v1/drafts/cap", ISSUERS, None),
        route(M::GET, "/api/v1/drafts/{draft}", ISSUERS_HERE, None),
        route(M::GET, "/api/v1/drafts/{draft}/preview", ISSUERS_HERE, None),
        route(
            M::POST,
            "/api/v1/drafts/{draft}/approve",
            SUPERVISOR_HERE,
            Some(|| json!({})),
        ),
        route(
            M::POST,
            "/api/v1/drafts/{draft}/send",
            ISSUERS_HERE,
            Some(|| json!({})),
        ),
        route(
            M::POST,
            "/api/v1/alerts/{alert}/cancel",
            ISSUERS_HERE,
            Some(|| json!({"reason": "x"})),
        ),
        route(
            M::POST,
            "/api/v1/alerts/{alert}/correct",
            ISSUERS_HERE,
            Some(|| json!({})),
        ),
        route(
            M::POST,
            "/api/v1/alerts/{alert}/recovery",
            ISSUERS_HERE,
            Some(|| json!({})),
        ),
        route(
            M::GET,
            "/api/v1/alerts/{alert}/progress",
            ISSUERS_HERE,
            None,
        ),
        route(M::GET, "/api/v1/shelters", ISSUERS, None),
        route(
            M::POST,
            "/api/v1/shelters/{shelter}/open",
            ISSUERS_HERE,
            Some(|| json!({})),
        ),
        route(
            M::POST,
            "/api/v1/shelters/{shelter}/close",
            ISSUERS_HERE,
            Some(|| json!({})),
        ),
        // Village chiefs.
        route(M::GET, "/api/v1/relay", CHIEF, None),
        route(
            M::POST,
            "/api/v1/relay/{alert}/{village}/ack",
            CHIEF,
            Some(|| json!({"person": "s_x", "outcome": "reached"})),
        ),
        route(
            M::POST,
            "/api/v1/relay/{alert}/{village}/dismiss",
            CHIEF,
            Some(|| json!({"person": "s_x"})),
        ),
        route(M::GET, "/relay/{alert}/{village}/print", CHIEF, None),
    ]
}

/// The document's names (`x-roles`) of the callers admitted: `anyone`,
/// or the roles (an issuer of another county is an `issuer`).
fn role_names(allowed: &[Who]) -> BTreeSet<&'static str> {
    if allowed.contains(&Anonymous) {
        return BTreeSet::from(["anyone"]);
    }
    allowed
        .iter()
        .map(|who| match who {
            Anonymous => "anyone",
            Resident => "resident",
            Issuer | OtherIssuer => "issuer",
            Supervisor => "supervisor",
            Chief => "village_chief",
            Operator => "operator",
        })
        .collect()
}

/// `{anything}` → `{}`, to compare templates whatever the parameter names.
fn template(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

struct Fixture {
    callers: Vec<(Who, Caller)>,
    draft: String,
    alert: String,
    village: String,
    shelter: String,
    /// The issuer again, as a machine client with a bearer token.
    bearer_issuer: Caller,
}

impl Fixture {
    fn fill(&self, path: &str) -> String {
        path.replace("{draft}", &self.draft)
            .replace("{alert}", &self.alert)
            .replace("{village}", &self.village)
            .replace("{shelter}", &self.shelter)
            .replace("{place}", "0")
    }
}

/// The relay village of the fixture and the resident living there.
fn resident() -> (String, Seed) {
    let atlas = geodata::demo::atlas();
    let village = atlas
        .villages()
        .iter()
        .find(|v| v.code.starts_with("99000010"))
        .unwrap();
    let p = village.label_point.unwrap();
    (
        village.code.clone(),
        Seed::resident("s_chen", p.x, p.y, Some("陳先生")),
    )
}

async fn fixture(server: &Server, village: String, resident: Caller) -> Fixture {
    let operator = server.login(OPERATOR, PASSWORD).await;
    let issuer = server
        .account(&operator, "issuer-a", "issuer", &["99000"])
        .await;
    let supervisor = server
        .account(&operator, "supervisor-a", "supervisor", &["99000"])
        .await;
    let other = server
        .account(&operator, "issuer-b", "issuer", &["99100"])
        .await;
    let chief = server
        .account(&operator, "chief-a", "village_chief", &[&village])
        .await;

    // An alert in force and an unsent draft, both in county 99000.
    let (status, draft) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose("flood", json!({"codes": ["99000010"]}), "Severe", false),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let sent_id = draft["id"].as_str().unwrap().to_owned();
    let (status, sent) = server
        .post(
            &issuer,
            &format!("/api/v1/drafts/{sent_id}/send"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (status, pending) = server
        .post(
            &issuer,
            "/api/v1/drafts",
            compose("fog", json!({"codes": ["99000010"]}), "Extreme", false),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pending}");
    let (status, shelters) = server.get(&issuer, "/api/v1/shelters").await;
    assert_eq!(status, StatusCode::OK);
    let shelter = shelters["shelters"][0]["id"]
        .as_str()
        .expect("a demo shelter in county 99000")
        .to_owned();
    let bearer_issuer = server.login_bearer("issuer-a", PASSWORD).await;

    Fixture {
        callers: vec![
            (Anonymous, Caller::Anonymous),
            (Resident, resident),
            (Issuer, issuer),
            (Supervisor, supervisor),
            (Chief, chief),
            (Operator, operator),
            (OtherIssuer, other),
        ],
        draft: pending["id"].as_str().unwrap().to_owned(),
        alert: sent["alert_id"].as_str().unwrap().to_owned(),
        village,
        shelter,
        bearer_issuer,
    }
}

fn refused(status: StatusCode, who: Who) -> bool {
    status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        // An other county's objects are not disclosed at all.
        || (who == OtherIssuer && status == StatusCode::NOT_FOUND)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_every_caller_it_is_not_for() {
    let (village, seed) = resident();
    let server = Server::start(std::slice::from_ref(&seed)).await;
    let routes = table();

    // The table covers every route the OpenAPI document lists.
    let (status, openapi) = server.get(&Caller::Anonymous, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let listed: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.as_str().to_owned(), template(r.path)))
        .collect();
    let mut documented = BTreeSet::new();
    for (path, item) in openapi["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), template(path)));
            }
        }
    }
    let missing: Vec<_> = documented.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "routes without an authorization line: {missing:?}"
    );
    // The roles the document states (`x-roles`) are the ones this table
    // admits, and so the ones the checks below hold the service to.
    let mut misstated = Vec::new();
    for route in &routes {
        let template_path = template(route.path);
        let operation = openapi["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .find(|(path, _)| template(path) == template_path)
            .map(|(_, item)| &item[route.method.as_str().to_lowercase()])
            .expect("documented");
        let stated: BTreeSet<&str> = operation["x-roles"]
            .as_array()
            .expect("x-roles")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if stated != role_names(route.allowed) {
            misstated.push(format!(
                "{} {}: x-roles {stated:?}, admitted {:?}",
                route.method,
                route.path,
                role_names(route.allowed)
            ));
        }
    }
    assert!(misstated.is_empty(), "{}", misstated.join("\n"));

    let fixture = fixture(&server, village, seed.caller()).await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for route in &routes {
        let path = fixture.fill(route.path);
        for (who, caller) in &fixture.callers {
            if route.allowed.contains(who) {
                continue;
            }
            let (status, body) = server
                .call(caller, route.method.clone(), &path, route.body.map(|b| b()))
                .await;
            checked += 1;
            if !refused(status, *who) {
                failures.push(format!("{who:?} {} {path}: {status} {body}", route.method));
            }
        }
    }
    assert!(failures.is_empty(), "not refused:\n{}", failures.join("\n"));
    assert!(checked > 150, "only {checked} refusals checked");

    // A session cookie without its CSRF token moves nothing, even for a
    // caller the route is for.
    let mut csrf_checked = 0;
    for route in routes
        .iter()
        .filter(|r| r.method != Method::GET && r.allowed != EVERYONE && r.allowed != RESIDENT)
    {
        let path = fixture.fill(route.path);
        let (_, caller) = fixture
            .callers
            .iter()
            .find(|(who, _)| route.allowed.contains(who))
            .unwrap();
        let (status, body) = server
            .call(
                &caller.without_csrf(),
                route.method.clone(),
                &path,
                route.body.map(|b| b()),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{} {path}: {body}",
            route.method
        );
        assert_eq!(
            body["error"]["code"], "csrf_rejected",
            "{} {path}",
            route.method
        );
        csrf_checked += 1;
    }
    assert!(csrf_checked >= 12);

    // A bearer token carries no cookie, so it needs no CSRF token.
    let (status, body) = server
        .post(
            &fixture.bearer_issuer,
            "/api/v1/drafts",
            compose("heat", json!({"codes": ["99000010"]}), "Moderate", false),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The routes are there for those they are for (so the refusals above
    // are not a missing route): safe reads answer 200 for every allowed
    // caller.
    for route in routes
        .iter()
        .filter(|r| r.method == Method::GET && r.allowed != EVERYONE)
    {
        if route.path.ends_with("/live") {
            continue;
        }
        let path = fixture.fill(route.path);
        for (who, caller) in &fixture.callers {
            if route.allowed.contains(who) {
                let (status, body) = server.get(caller, &path).await;
                assert_eq!(status, StatusCode::OK, "{who:?} GET {path}: {body}");
            }
        }
    }
    // A resident's device key is no staff token, and a staff token no key.
    let (status, _) = server
        .get(&Caller::Bearer("not-a-token".into()), "/api/v1/auth/me")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
