//! Shared by every test that runs `hazardline serve`: starts the binary
//! with its listeners on port 0 and reads the addresses it announces on
//! stdout (`listening on http://ADDR [ops http://ADDR]`), so no test picks
//! a port it might lose to another process before the server binds it.
//!
//! - `staff`: a service on the demo region with a bootstrap operator and
//!   the callers of the staff and resident APIs.
//! - `real`: the real-data harness of the end-to-end tests.

#![allow(dead_code)]

pub mod real;
pub mod staff;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the service may take to announce its listeners (the real-data
/// tests load the whole country's boundaries first).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// `hazardline serve` with its main listener on port 0; add the
/// arguments, environment and stderr wanted, then [`Served::start`].
pub fn serve_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hazardline"));
    command
        .arg("serve")
        .env("HAZARDLINE_SERVER_LISTEN", "127.0.0.1:0");
    command
}

/// A running `hazardline serve`, killed when dropped.
pub struct Served {
    pub child: Child,
    /// The main listener's bound address.
    pub main: SocketAddr,
    /// The operator listener's, when one is configured.
    pub ops: Option<SocketAddr>,
}

impl Served {
    /// Spawns `command` (from [`serve_command`]) and waits until it
    /// announces its listeners. Panics with `log()` when it exits or stays
    /// silent instead.
    pub fn start(mut command: Command, log: impl Fn() -> String) -> Served {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("start hazardline serve");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        // Reads the announcement, then drains stdout for the process's life.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addresses) = parse_announcement(&line)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addresses);
                }
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let addresses = loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(addresses) => break addresses,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "hazardline serve exited ({status}) before listening:\n{}",
                            log()
                        );
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("hazardline serve announced no listener:\n{}", log());
                }
            }
        };
        Served {
            child,
            main: addresses.0,
            ops: addresses.1,
        }
    }

    /// `http://ADDR` of the main listener.
    pub fn base(&self) -> String {
        format!("http://{}", self.main)
    }

    pub fn port(&self) -> u16 {
        self.main.port()
    }

    /// SIGTERM, then the exit status (within 60 s).
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `listening on http://MAIN` with ` ops http://OPS` when there is one.
fn parse_announcement(line: &str) -> Option<(SocketAddr, Option<SocketAddr>)> {
    let mut words = line.strip_prefix("listening on ")?.split_whitespace();
    let main = words.next()?.strip_prefix("http://")?.parse().ok()?;
    let ops = match (words.next(), words.next()) {
        (Some("ops"), Some(url)) => Some(url.strip_prefix("http://")?.parse().ok()?),
        _ => None,
    };
    Some((main, ops))
}
