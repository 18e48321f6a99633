//! Who is calling: accounts of emergency offices, village chiefs and
//! operators; their passwords (argon2id), sessions and CSRF tokens; and the
//! extractors every staff handler names so that it states who may call it.
//!
//! Two ways in:
//! - a browser logs in and gets the `hazardline_session` cookie (HttpOnly,
//!   SameSite=Strict) plus a CSRF token; every unsafe request must carry
//!   that token in `X-CSRF-Token`, so a page on another site cannot act
//!   with the cookie;
//! - a machine client logs in with `"bearer": true` and sends the token in
//!   `Authorization: Bearer …`; no cookie, hence no CSRF check.
//!
//! Logging in is guarded by `login_throttle` (device cookies, failure
//! counters in the store) and every argon2 call runs on `login_pool`'s
//! bounded workers, so neither lockouts nor memory can be driven by
//! strangers.
//!
//! Both tokens are 256 random bits; only their SHA-256 is stored, with a
//! fixed expiry of `[limits] session_secs` (default 8 h: a working shift,
//! long enough not to log an officer out mid-event, short enough that a
//! forgotten browser does not stay signed in overnight).

use std::sync::LazyLock;
use std::time::Duration;

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{Account, AccountId, KeyHash, Role, Session};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::http::extract::{JsonBody, cookies};
use crate::serve::audit;
use crate::serve::login_pool::{HashPool, PoolError, Priority};
use crate::serve::login_throttle::{Locked, address_text};
use crate::serve::ratelimit::ClientKey;
use crate::serve::state::AppState;
use app::ids::new_id;

pub const SESSION_COOKIE: &str = "hazardline_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Each failure costs the caller this long, on top of argon2's own cost.
const LOGIN_FAILURE_DELAY: Duration = Duration::from_millis(200);
/// Passwords shorter than this are refused when accounts are created.
const MIN_PASSWORD_CHARS: usize = 12;
/// Environment variable `user:password` creating the first operator.
pub const BOOTSTRAP_ENV: &str = "HAZARDLINE_BOOTSTRAP_OPERATOR";

/// A fresh random token (256 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> KeyHash {
    KeyHash(Sha256::digest(token.as_bytes()).into())
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

thread_local! {
    /// argon2's working memory (19 MiB at the default cost), kept by each
    /// password worker for its lifetime. Allocated per call instead, the
    /// freed block raises glibc's mmap threshold and is then kept in the
    /// thread's arena together with whatever lands beside it: under a
    /// flood the process grew by over 100 MiB and kept it. Reused, it is
    /// one allocation per worker, and the figure stays flat.
    static ARGON2_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `argon2` over `password` and raw `salt` into `out`, in this
/// thread's reused working memory.
fn argon2_into(
    argon2: &Argon2<'_>,
    blocks: usize,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..blocks])
            .is_ok()
    })
}

/// PHC string of `password` under argon2id with the crate's default
/// (OWASP-recommended) cost.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let error = |e: argon2::password_hash::Error| PasswordError(e.to_string());
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt_text = SaltString::encode_b64(&salt).map_err(error)?;
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !argon2_into(&argon2, params.block_count(), password, &salt, &mut out) {
        return Err(PasswordError("argon2 refused its input".into()));
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(error)?,
        salt: Some(salt_text.as_salt()),
        hash: Some(Output::new(&out).map_err(error)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string (compared in constant time).
/// An unreadable hash never matches.
pub fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
        Algorithm::try_from(hash.algorithm),
        Params::try_from(&hash),
        hash.hash,
        hash.salt,
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    argon2_into(&argon2, blocks, password, salt, &mut out)
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// A hash no password matches in practice, verified for unknown usernames
/// so that they take as long as known ones (computed on a password worker,
/// at the first unknown username).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&new_token()).unwrap_or_default());

/// What a staff route answers when it is not a success: an API error, or
/// a refusal to be retried later (429 with `Retry-After`).
#[derive(Debug)]
pub enum AuthError {
    Api(ApiError),
    RetryLater {
        message: String,
        retry_after_secs: u64,
    },
}

impl From<ApiError> for AuthError {
    fn from(error: ApiError) -> AuthError {
        AuthError::Api(error)
    }
}

impl From<store::StoreError> for AuthError {
    fn from(error: store::StoreError) -> AuthError {
        AuthError::Api(error.into())
    }
}

impl From<Locked> for AuthError {
    fn from(locked: Locked) -> AuthError {
        AuthError::RetryLater {
            message: locked.message.to_owned(),
            retry_after_secs: locked.retry_after_secs,
        }
    }
}

impl From<PoolError> for AuthError {
    fn from(error: PoolError) -> AuthError {
        match error {
            PoolError::Busy => AuthError::RetryLater {
                message: "too many logins at once; retry in a second".to_owned(),
                retry_after_secs: 1,
            },
            PoolError::Stopped => AuthError::Api(ApiError::new(
                ErrorCode::Unavailable,
                "password checks are unavailable; retry later",
            )),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            AuthError::Api(error) => error.into_response(),
            AuthError::RetryLater {
                message,
                retry_after_secs,
            } => {
                let mut response = ApiError::new(ErrorCode::RateLimited, message).into_response();
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Session cookie; unsafe methods were checked against its CSRF token.
    Cookie,
    Bearer,
}

/// An authenticated staff member: the account and its session.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: Account,
    pub session: Session,
    pub credential: Credential,
}

impl Principal {
    pub fn id(&self) -> &AccountId {
        &self.account.id
    }

    pub fn role(&self) -> Role {
        self.account.role
    }

    /// Refuses unless the account has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.account.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                role_name(self.account.role)
            )))
        }
    }

    /// Whether `village` (an 11-digit MOI code) lies in this account's
    /// jurisdiction: one of its county, town or village codes is a prefix.
    pub fn may_act_in(&self, village: &str) -> bool {
        in_jurisdiction(&self.account.jurisdiction, village)
    }
}

pub fn in_jurisdiction(jurisdiction: &[String], village: &str) -> bool {
    jurisdiction
        .iter()
        .any(|code| !code.is_empty() && village.starts_with(code.as_str()))
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Issuer => "issuer",
        Role::Supervisor => "supervisor",
        Role::VillageChief => "village_chief",
        Role::Operator => "operator",
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookies(headers, SESSION_COOKIE).next()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "log in first: session cookie or bearer token missing, expired or unknown",
    )
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Principal> {
        let (token, credential) = match bearer_token(&parts.headers) {
            Some(token) => (token, Credential::Bearer),
            None => match session_cookie(&parts.headers) {
                Some(token) => (token, Credential::Cookie),
                None => return Err(unauthenticated()),
            },
        };
        let now = state.app.clock.now();
        let session = state
            .app
            .storage
            .session(&token_hash(token), now)
            .await?
            .ok_or_else(unauthenticated)?;
        if matches!(credential, Credential::Cookie) && !is_safe(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let expected = session.csrf_token.as_bytes();
            if sent.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected)) {
                return Err(ApiError::new(
                    ErrorCode::CsrfRejected,
                    "missing or wrong X-CSRF-Token for this session",
                ));
            }
        }
        let account = state
            .app
            .storage
            .account(&session.account)
            .await?
            .filter(|a| !a.disabled)
            .ok_or_else(unauthenticated)?;
        Ok(Principal {
            account,
            session,
            credential,
        })
    }
}

/// Extractors naming the roles that may call a handler.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, [$($role:ident),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Principal);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<$name> {
                let principal = Principal::from_request_parts(parts, state).await?;
                principal.require(&[$(Role::$role),+])?;
                Ok($name(principal))
            }
        }
    };
}

role_extractor!(
    /// Composes and sends alerts: an issuer or a supervisor.
    Issuer, [Issuer, Supervisor]);
role_extractor!(
    /// Approves another person's draft.
    Supervisor, [Supervisor]);
role_extractor!(
    /// Works the relay lists of their villages.
    Chief, [VillageChief]);
role_extractor!(
    /// Runs the service: accounts.
    Operator, [Operator]);
role_extractor!(
    /// Reads the audit log: operators and supervisors.
    Auditor, [Operator, Supervisor]);

/// What the API shows of an account (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account)]
pub struct AccountView {
    #[schema(value_type = String)]
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = crate::schemas::Role)]
    pub role: Role,
    /// County or town codes (issuers, supervisors), village codes (chiefs).
    pub jurisdiction: Vec<String>,
    /// The office an issuer or supervisor sends for: its alerts carry
    /// `<office>@<sender domain>` and only that office, or a supervisor
    /// whose jurisdiction covers an alert's whole area, may change them.
    pub office: Option<String>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> AccountView {
        AccountView {
            id: a.id.clone(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            jurisdiction: a.jurisdiction.clone(),
            office: matches!(a.role, Role::Issuer | Role::Supervisor)
                .then(|| a.office_name().to_owned()),
        }
    }
}

/// The body [`me`] writes, for the OpenAPI document.
#[derive(ToSchema)]
#[schema(as = Whoami, description = "The logged-in account and its session.")]
#[allow(
    dead_code,
    reason = "describes a body for the OpenAPI document; never built"
)]
struct WhoamiBody {
    account: AccountView,
    /// Send as `X-CSRF-Token` on every unsafe request of this session.
    csrf_token: String,
    expires: DateTime<Utc>,
}

/// The body [`list_accounts`] writes, for the OpenAPI document.
#[derive(ToSchema)]
#[schema(as = Accounts, description = "Every account, without password hashes.")]
#[allow(
    dead_code,
    reason = "describes a body for the OpenAPI document; never built"
)]
struct AccountsBody {
    accounts: Vec<AccountView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// A machine client: return the token in the body, set no session
    /// cookie (the device cookie is set all the same).
    #[serde(default)]
    pub bearer: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LoginResult)]
pub struct LoginResponse {
    pub account: AccountView,
    /// Send as `X-CSRF-Token` on every unsafe request of this session.
    pub csrf_token: String,
    pub expires: DateTime<Utc>,
    /// Bearer token, when the request asked for one (`bearer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Staff routes of this module: login, logout, whoami, accounts.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_account, list_accounts))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    operation_id = "login",
    summary = "Log in (issuers, supervisors, chiefs, operators)",
    description = "Failed logins are throttled with device cookies: a successful login also sets `hazardline_device_<username>` (signed; HttpOnly, SameSite=Strict, Path=/api/v1/auth/login, Secure over HTTPS; bearer logins get it too). Attempts sending a valid device cookie for the account are counted per device; all others per account and per client address, and past `[logins]` limits only those are refused (429, `Retry-After` up to the window). Password checks run on a bounded pool: when it is full, 429 with `Retry-After: 1`. Each failure is answered after a short delay.",
    request_body(content = LoginRequest, content_type = "application/json"),
    extensions(("x-roles" = json!(["anyone"]))),
    responses(
        (status = 200, description = "Session cookie `hazardline_session` set (HttpOnly, SameSite=Strict), unless `bearer` was asked for, and the device cookie `hazardline_device_<username>`", body = LoginResponse),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: unknown username or wrong password (the same answer for both).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over `server.body_limit` (64 KiB by default).", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed logins for this account, device or address (`[logins]`), or too many logins at once.", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a request will be accepted."))),
        (status = 503, description = "`unavailable`: the store or the password workers failed; retry later.", body = ErrorBody),
    ),
)]
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    body: JsonBody<LoginRequest>,
) -> Result<Response, AuthError> {
    let request = body.0;
    let logins = &state.logins;
    let now = state.app.clock.now();
    let client =
        ClientKey::from_address(&headers, &extensions, state.config.limits.trust_forwarded);
    // A name outside the username format cannot be an account: it is not
    // looked up, and counted against the address only (no counter per
    // made-up name).
    let username = valid_username(&request.username).then_some(request.username.as_str());
    let device = username.and_then(|name| logins.trusted_device(&headers, name, now));
    let trusted = device.is_some();
    let admitted = logins
        .admit(state.app.storage.as_ref(), username, device, &client)
        .await??;
    // A place on the password workers before anything else is spent.
    let place = logins.pool.admit(admitted.priority())?;
    let account = match username {
        Some(name) => state.app.storage.account_by_username(name).await?,
        None => None,
    }
    .filter(|a| !a.disabled);
    let password = request.password.clone();
    let phc = account.as_ref().map(|a| a.password_hash.clone());
    let matches = place
        .run(move || verify_password(phc.as_deref().unwrap_or(&DUMMY_HASH), &password))
        .await?;
    // The name only when it is an account's: a password typed into the
    // username field must not reach the log.
    let known = account.as_ref().map(|a| a.username.clone());
    let Some(account) = account.filter(|_| matches) else {
        tracing::warn!(
            account = known.as_deref().unwrap_or("(no such account)"),
            client = %address_text(&client),
            trusted_device = trusted,
            "failed staff login"
        );
        tokio::time::sleep(LOGIN_FAILURE_DELAY).await;
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "unknown username or wrong password",
        )
        .into());
    };
    logins
        .succeeded(state.app.storage.as_ref(), &admitted, &account.username)
        .await?;
    let now = state.app.clock.now();
    let token = new_token();
    let lifetime_secs = state.config.limits.session_secs;
    let session = Session {
        token_hash: token_hash(&token),
        account: account.id.clone(),
        created: now,
        expires: now
            + chrono::Duration::seconds(i64::try_from(lifetime_secs).unwrap_or(i64::MAX / 2)),
        csrf_token: new_token(),
    };
    state.app.storage.put_session(&session).await?;
    audit::record(
        &state,
        &account.id.0,
        "login",
        &account.id.0,
        serde_json::json!({ "bearer": request.bearer }),
    )
    .await?;
    tracing::info!(account = %account.id.0, "staff login");
    let body = LoginResponse {
        account: AccountView::from(&account),
        csrf_token: session.csrf_token.clone(),
        expires: session.expires,
        token: request.bearer.then(|| token.clone()),
    };
    let mut response = Json(body).into_response();
    let https = is_https(&state, &headers);
    let mut set_cookies = Vec::new();
    if !request.bearer {
        let secure = if https { "; Secure" } else { "" };
        set_cookies.push(format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={lifetime_secs}{secure}"
        ));
    }
    // Machine clients that keep cookies are recognised next time as well.
    set_cookies.push(logins.device_cookie(&account.username, now, https));
    for cookie in set_cookies {
        let value = HeaderValue::from_str(&cookie)
            .map_err(|_| ApiError::new(ErrorCode::Internal, "cookie could not be written"))?;
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

/// Whether the service is reached over HTTPS (its public URL, or a proxy
/// saying so), so the cookie is marked Secure.
fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.server.public_url.starts_with("https://")
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    operation_id = "logout",
    summary = "Log out",
    description = "Ends the session (cookie or bearer token) and clears the session cookie. Any staff account.",
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor", "village_chief", "operator"]))),
    responses(
        (status = 204, description = "Session ended"),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn logout(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    state
        .app
        .storage
        .delete_session(&principal.session.token_hash)
        .await?;
    audit::record(
        &state,
        &principal.id().0,
        "logout",
        &principal.id().0,
        serde_json::json!({}),
    )
    .await?;
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    operation_id = "authMe",
    summary = "The logged-in account",
    description = "The account and its session's CSRF token and expiry. Any staff account.",
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["issuer", "supervisor", "village_chief", "operator"]))),
    responses(
        (status = 200, description = "Account and session", body = WhoamiBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn me(principal: Principal) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "account": AccountView::from(&principal.account),
        "csrf_token": principal.session.csrf_token,
        "expires": principal.session.expires,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 2-64 characters of a-z, 0-9, '.', '_' or '-'.
    #[schema(min_length = 2, max_length = 64, pattern = "^[a-z0-9._-]+$")]
    pub username: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[schema(value_type = crate::schemas::Role)]
    pub role: Role,
    /// County or town codes for issuers and supervisors, village codes for
    /// chiefs, none for operators.
    #[serde(default)]
    pub jurisdiction: Vec<String>,
    /// The office an issuer or supervisor sends for (required for them,
    /// refused for other roles): its alerts carry `<office>@<sender
    /// domain>`, never a login name.
    #[serde(default)]
    pub office: Option<String>,
}

/// The office of a new account: issuers and supervisors belong to one,
/// named like a username because it becomes a CAP sender; nobody else
/// sends alerts, so nobody else has one.
fn office_of(role: Role, office: Option<&str>) -> ApiResult<Option<String>> {
    match (role, office) {
        (Role::Issuer | Role::Supervisor, Some(office)) if valid_username(office) => {
            Ok(Some(office.to_owned()))
        }
        (Role::Issuer | Role::Supervisor, _) => Err(ApiError::field(
            ErrorCode::InvalidField,
            "office",
            "issuers and supervisors belong to an office: 2-64 characters of a-z, 0-9, '.', '_' or '-'",
        )),
        (_, None) => Ok(None),
        (_, Some(_)) => Err(ApiError::field(
            ErrorCode::InvalidField,
            "office",
            "only issuers and supervisors belong to an office",
        )),
    }
}

/// Usernames become part of CAP senders (`user@domain`): CAP forbids
/// spaces, commas and markup there, so only a plain set is allowed.
fn valid_username(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Checks an account's jurisdiction against the atlas: issuers hold county
/// or town codes, chiefs village codes, operators none.
fn check_jurisdiction(state: &AppState, role: Role, codes: &[String]) -> ApiResult<()> {
    use geodata::codes::Level;
    let allowed: &[Level] = match role {
        Role::Issuer | Role::Supervisor => &[Level::County, Level::Town],
        Role::VillageChief => &[Level::Village],
        Role::Operator => &[],
    };
    if allowed.is_empty() {
        if !codes.is_empty() {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "jurisdiction",
                "operators have no jurisdiction",
            ));
        }
        return Ok(());
    }
    if codes.is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "jurisdiction",
            "at least one area code is required for this role",
        ));
    }
    for (i, code) in codes.iter().enumerate() {
        let level = state.app.atlas.area(code).map(|a| a.level);
        if !level.is_some_and(|l| allowed.contains(&l)) {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                &format!("jurisdiction[{i}]"),
                format!("`{code}` is not a known area code of a level this role may hold"),
            ));
        }
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "operators",
    operation_id = "createAccount",
    summary = "Create an account (operators)",
    description = "Operators only. Issuers and supervisors need an `office`, and county or town codes; chiefs village codes; operators none. Audited.",
    request_body(content = NewAccount, content_type = "application/json"),
    security(("session" = [], "csrf" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["operator"]))),
    responses(
        (status = 201, description = "Created", body = AccountView),
        (status = 400, description = "`malformed_request`: the body is not JSON of this shape (unknown fields are refused); `field` names where reading stopped.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: only operators may create accounts; `csrf_rejected`: a session cookie without this session's `X-CSRF-Token`.", body = ErrorBody),
        (status = 409, description = "`conflict` (`username`): an account with this username exists.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over `server.body_limit` (64 KiB by default).", body = ErrorBody),
        (status = 422, description = "`invalid_field`: username, password (at least 12 characters), office or jurisdiction not allowed; `field` names it.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn create_account(
    State(state): State<AppState>,
    Operator(operator): Operator,
    body: JsonBody<NewAccount>,
) -> Result<(StatusCode, Json<AccountView>), AuthError> {
    let request = body.0;
    if !valid_username(&request.username) {
        return Err(AuthError::Api(ApiError::field(
            ErrorCode::InvalidField,
            "username",
            "2-64 characters of a-z, 0-9, '.', '_' or '-'",
        )));
    }
    if request.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::Api(ApiError::field(
            ErrorCode::InvalidField,
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        )));
    }
    check_jurisdiction(&state, request.role, &request.jurisdiction)?;
    let office = office_of(request.role, request.office.as_deref())?;
    if state
        .app
        .storage
        .account_by_username(&request.username)
        .await?
        .is_some()
    {
        return Err(AuthError::Api(ApiError::field(
            ErrorCode::Conflict,
            "username",
            "an account with this username exists",
        )));
    }
    let mut account = new_account(
        &state.logins.pool,
        &request.username,
        request.display_name.as_deref(),
        request.role,
        request.jurisdiction,
        request.password,
    )
    .await?;
    account.office = office;
    state.app.storage.put_account(&account).await?;
    audit::record(
        &state,
        &operator.id().0,
        "account.create",
        &account.id.0,
        serde_json::json!({
            "role": role_name(account.role),
            "jurisdiction": account.jurisdiction,
            "office": account.office,
        }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AccountView::from(&account))))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    tag = "operators",
    operation_id = "listAccounts",
    summary = "List accounts (operators)",
    description = "Operators only.",
    security(("session" = []), ("apiToken" = [])),
    extensions(("x-roles" = json!(["operator"]))),
    responses(
        (status = 200, description = "Every account, without password hashes", body = AccountsBody),
        (status = 401, description = "`unauthenticated`: no session cookie or bearer token, or an expired or unknown one.", body = ErrorBody),
        (status = 403, description = "`forbidden`: only operators may list accounts.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the store failed; retry later.", body = ErrorBody),
    ),
)]
async fn list_accounts(
    State(state): State<AppState>,
    Operator(_operator): Operator,
) -> ApiResult<Json<serde_json::Value>> {
    let accounts: Vec<AccountView> = state
        .app
        .storage
        .accounts()
        .await?
        .iter()
        .map(AccountView::from)
        .collect();
    Ok(Json(serde_json::json!({ "accounts": accounts })))
}

/// Builds an account record, hashing the password on the password pool.
pub async fn new_account(
    pool: &HashPool,
    username: &str,
    display_name: Option<&str>,
    role: Role,
    jurisdiction: Vec<String>,
    password: String,
) -> Result<Account, AuthError> {
    let password_hash = pool
        .run(Priority::Normal, move || hash_password(&password))
        .await?
        .map_err(|error| {
            tracing::error!(%error, "password hashing failed");
            ApiError::new(ErrorCode::Internal, "password hashing failed")
        })?;
    Ok(Account {
        id: AccountId(new_id("a")),
        username: username.to_owned(),
        display_name: display_name.unwrap_or(username).to_owned(),
        role,
        jurisdiction,
        password_hash,
        disabled: false,
        office: None,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(
        "{BOOTSTRAP_ENV} must be `user:password` with a valid username and a password of at least {MIN_PASSWORD_CHARS} characters"
    )]
    Malformed,
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("creating the operator failed: {0}")]
    Account(String),
}

/// Creates the first operator from `user:password` (the value of
/// [`BOOTSTRAP_ENV`]) when the store holds no account at all. Returns
/// whether one was created. Logs the username, never the password.
pub async fn bootstrap_operator(
    storage: &dyn store::Storage,
    pool: &HashPool,
    spec: &str,
) -> Result<bool, BootstrapError> {
    let (username, password) = spec.split_once(':').ok_or(BootstrapError::Malformed)?;
    if !valid_username(username) || password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(BootstrapError::Malformed);
    }
    if !storage.accounts().await?.is_empty() {
        tracing::info!("accounts exist; {BOOTSTRAP_ENV} ignored");
        return Ok(false);
    }
    let account = new_account(
        pool,
        username,
        None,
        Role::Operator,
        Vec::new(),
        password.to_owned(),
    )
    .await
    .map_err(|e| {
        BootstrapError::Account(match e {
            AuthError::Api(error) => error.message,
            AuthError::RetryLater { message, .. } => message,
        })
    })?;
    storage.put_account(&account).await?;
    tracing::warn!(
        username,
        "created the first operator account from {BOOTSTRAP_ENV}; remove the variable now"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    #[test]
    fn password_round_trip_and_wrong_password() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse batterY"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        // Hashes written by argon2's own hasher (every stored account's)
        // still verify.
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let stored = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password(&stored, "correct horse battery"));
        assert!(!verify_password(&stored, "correct horse batterY"));
    }

    #[test]
    fn jurisdiction_is_a_code_prefix() {
        let codes = vec!["99000010".to_owned(), "99100".to_owned()];
        assert!(in_jurisdiction(&codes, "99000010001"));
        assert!(in_jurisdiction(&codes, "99100020003"));
        assert!(!in_jurisdiction(&codes, "99000020001"));
        assert!(!in_jurisdiction(&[String::new()], "99000020001"));
    }

    #[test]
    fn cookie_and_bearer_are_read_from_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=b; hazardline_session=tok; c=d"),
        );
        assert_eq!(session_cookie(&headers), Some("tok"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer  xyz "));
        assert_eq!(bearer_token(&headers), Some("xyz"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(bearer_token(&headers), None);
    }

    #[test]
    fn usernames_fit_a_cap_sender() {
        assert!(valid_username("ops.taipei-1"));
        assert!(!valid_username("Ops"));
        assert!(!valid_username("a,b"));
        assert!(!valid_username("a b"));
    }
}
