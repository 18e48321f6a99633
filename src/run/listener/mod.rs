//! The HTTP accept loop: serves the axum `Router` over HTTP/1.1 on hyper
//! with the limits `axum::serve` lacks, so that clients holding sockets
//! cannot starve the service of descriptors, the operator routes or the
//! store.
//!
//! - a cap on open connections and one per client address (`admission`);
//!   past the cap, a small reserve serves only `/healthz`, `/readyz` and
//!   `/metrics`; anything beyond gets a 503 and is closed at once;
//! - a request head must be complete `header_timeout` after the connection
//!   starts waiting for it (hyper's timer), its body `body_timeout` after
//!   that, and a connection on which nothing moves for `idle_timeout` while
//!   no handler works is closed (`watch`);
//! - the caps are fitted under the open-file limit at start (`open_files`);
//! - shutdown stops accepting, lets each connection finish the request in
//!   hand and closes idle ones; the caller bounds the wait.

pub mod admission;
pub mod open_files;
mod watch;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use self::admission::{Admission, Caps, Kind, Refusal};
use self::watch::{Activity, DeadlineBody, Watched};
use crate::error::{ApiError, ErrorCode};
use crate::serve::config::ServerConfig;

/// Open connections on the separate operator listener: probes and scrapes
/// come from a handful of monitors.
pub const OPS_MAX_CONNECTIONS: usize = 32;
/// Pause after a failed accept (out of descriptors): retrying at once
/// would spin while nothing can change.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Sent, best effort, to a connection over the caps before it is closed.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: text/plain\r\nContent-Length: 34\r\nConnection: close\r\n\r\n\
too many connections; retry later\n";

/// The time limits of every connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header: Duration,
    pub body: Duration,
    pub idle: Duration,
}

impl Timeouts {
    pub fn from_config(server: &ServerConfig) -> Timeouts {
        Timeouts {
            header: Duration::from_secs(server.header_timeout_secs),
            body: Duration::from_secs(server.body_timeout_secs),
            idle: Duration::from_secs(server.idle_timeout_secs),
        }
    }
}

/// One listening socket and what it serves.
pub struct Listener {
    /// `main` or `ops`, in logs and metric labels.
    pub name: &'static str,
    tcp: TcpListener,
    /// Served on regular connections.
    app: Router,
    /// Served on reserve connections: the operator routes, 503 otherwise.
    reserve_app: Router,
    admission: Admission,
    timeouts: Timeouts,
}

impl Listener {
    pub fn new(
        name: &'static str,
        tcp: TcpListener,
        app: Router,
        ops_app: Router,
        caps: Caps,
        timeouts: Timeouts,
    ) -> Listener {
        Listener {
            name,
            tcp,
            app,
            reserve_app: reserve_router(ops_app),
            admission: Admission::new(caps),
            timeouts,
        }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// Accepts and serves until `shutdown`, then stops accepting and
    /// waits for open connections to finish their request in hand.
    pub async fn run(self, shutdown: CancellationToken) {
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(error) if is_connection_error(&error) => continue,
                    Err(error) => {
                        tracing::warn!(listener = self.name, %error, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
                // Reap finished connections so the set stays as large as
                // the open ones.
                Some(_) = connections.join_next() => continue,
                _ = shutdown.cancelled() => break,
            };
            let slot = match self.admission.admit(peer.ip()) {
                Ok(slot) => slot,
                Err(refusal) => {
                    refuse(self.name, refusal, stream);
                    continue;
                }
            };
            self.spawn(&graceful, &mut connections, stream, peer, slot);
        }
        drop(self.tcp);
        graceful.shutdown().await;
        while connections.join_next().await.is_some() {}
    }
}

impl Listener {
    /// Serves one admitted connection over HTTP/1.1 on its own task.
    fn spawn(
        &self,
        graceful: &GracefulShutdown,
        connections: &mut JoinSet<()>,
        stream: TcpStream,
        peer: SocketAddr,
        slot: admission::Slot,
    ) {
        let _ = stream.set_nodelay(true);
        let kind = slot.kind;
        let app = TowerToHyperService::new(match kind {
            Kind::Regular => self.app.clone(),
            Kind::Reserve => self.reserve_app.clone(),
        });
        let activity = Activity::new();
        let io = TokioIo::new(Watched::new(stream, activity.clone()));
        let body_timeout = self.timeouts.body;
        let on_request = activity.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let busy = on_request.busy();
            let mut request =
                request.map(|body| DeadlineBody::new(body, body_timeout, body_timed_out));
            request.extensions_mut().insert(ConnectInfo(peer));
            let response = app.call(request);
            async move {
                let response = response.await;
                drop(busy);
                response
            }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.timeouts.header)
            // A reserve connection answers one probe and makes room again.
            .keep_alive(kind == Kind::Regular);
        let connection = graceful.watch(http.serve_connection(io, service));

        let (name, idle) = (self.name, self.timeouts.idle);
        let slot_label = slot_label(kind);
        metrics::counter!("hazardline_http_connections_total", "listener" => name, "slot" => slot_label)
            .increment(1);
        let open = metrics::gauge!("hazardline_http_connections", "listener" => name, "slot" => slot_label);
        open.increment(1.0);
        connections.spawn(async move {
            tokio::select! {
                served = connection => match served {
                    Ok(()) => {}
                    Err(error) if error.is_timeout() => cut("header_timeout"),
                    Err(error) => tracing::debug!(listener = name, %error, "connection ended"),
                },
                _ = activity.idle_for(idle) => cut("idle"),
            }
            open.decrement(1.0);
            drop(slot);
        });
    }
}

/// The operator routes, and 503 for everything else.
fn reserve_router(ops: Router) -> Router {
    ops.fallback(|| async {
        ApiError::new(
            ErrorCode::Unavailable,
            "the server is at its connection limit; retry later",
        )
        .into_response()
    })
}

fn refuse(listener: &'static str, refusal: Refusal, stream: TcpStream) {
    metrics::counter!(
        "hazardline_http_connections_refused_total",
        "listener" => listener,
        "reason" => refusal.label()
    )
    .increment(1);
    // Best effort and never waiting: a client that cannot take these
    // bytes at once gets the close alone.
    let _ = stream.try_write(REFUSED);
}

fn cut(reason: &'static str) {
    metrics::counter!("hazardline_http_connections_cut_total", "reason" => reason).increment(1);
}

fn body_timed_out() {
    cut("body_timeout");
}

fn slot_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Regular => "regular",
        Kind::Reserve => "reserve",
    }
}

/// Errors that concern one connection only (the next accept may work).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
