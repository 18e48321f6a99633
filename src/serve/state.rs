//! What every request handler shares. Cheap to clone (one `Arc`).
//!
//! The application ([`app::App`]) holds every use case and the parts they
//! are built from; the rest here belongs to the HTTP edge: the
//! configuration, the rate limiter, the metrics, the readiness verdict of
//! the heartbeat, the cache of residents' verified keys and the staff
//! login workers.

use std::ops::Deref;
use std::sync::Arc;

use app::App;

use crate::serve::config::ServeConfig;
use crate::serve::heartbeat_status::HeartbeatStatus;
use crate::serve::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

impl AppState {
    pub fn new(inner: StateInner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

pub struct StateInner {
    pub app: Arc<App>,
    pub config: Arc<ServeConfig>,
    /// Rate limits of the public and resident routes, per client.
    pub limiter: Arc<crate::serve::ratelimit::RateLimiter>,
    pub metrics: Arc<Metrics>,
    /// The end-to-end heartbeat's last verdict (for /readyz).
    pub heartbeat: Arc<HeartbeatStatus>,
    /// Verified device keys.
    pub residents: Arc<crate::serve::device_keys::Residents>,
    /// Staff logins: the password workers and the failure counters.
    pub logins: Arc<crate::serve::login_throttle::Logins>,
}
