//! A private `redis-server` on a free loopback port with AOF persistence
//! in a temporary directory, stopped on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

/// The `redis-server` binary, if installed.
pub fn find_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("redis-server"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin/redis-server")])
        .find(|p| p.is_file())
}

impl RedisServer {
    /// Starts a server keeping its AOF in `dir` (`appendfsync always`, so a
    /// killed server loses nothing and restart tests are deterministic).
    /// `None` when Redis is not installed.
    pub fn start(dir: &Path) -> Option<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        RedisServer::start_on(dir, port)
    }

    /// Starts a server with `appendfsync everysec` (Redis's recommended
    /// AOF setting: a Redis crash may lose the last second), for tests that
    /// crash workers rather than Redis and queue a lot.
    pub fn start_everysec(dir: &Path) -> Option<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        RedisServer::launch(dir, port, "everysec")
    }

    /// Starts a server on a given port (to restart one in the same place).
    pub fn start_on(dir: &Path, port: u16) -> Option<RedisServer> {
        RedisServer::launch(dir, port, "always")
    }

    fn launch(dir: &Path, port: u16, appendfsync: &str) -> Option<RedisServer> {
        let child = Command::new(find_binary()?)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", appendfsync])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = RedisServer {
            port,
            child,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if answers_ping(port) {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server without letting it save anything (a crash), and
    /// starts it again on the same port and directory.
    pub fn crash_and_restart(mut self) -> Option<RedisServer> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        RedisServer::start_on(&self.dir.clone(), self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the server on `port` answers `PING` with `PONG`: accepting
/// connections is not enough, a restarted server answers `LOADING` until it
/// has read its AOF back.
fn answers_ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 16];
    matches!(stream.read(&mut reply), Ok(n) if reply[..n].starts_with(b"+PONG"))
}
