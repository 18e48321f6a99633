//! File-descriptor headroom. Every client connection is a descriptor, and
//! so is every store file, queue and channel connection: when clients can
//! use them all, the store fails ("unable to open database file") and
//! people's inboxes are lost. At start the soft RLIMIT_NOFILE is raised
//! towards the hard limit, then the connection caps are fitted under it
//! with `server.reserved_files` kept for everything else.
//!
//! When the caps do not fit, the main listener's cap is lowered to what
//! does, with a warning naming the setting: a service that takes fewer
//! connections still warns people, one that refuses to start warns no one.
//! Only when fewer than [`MIN_CONNECTIONS`] would remain does it refuse to
//! start.

use crate::run::listener::OPS_MAX_CONNECTIONS;
use crate::serve::config::ServerConfig;

/// Below this many client connections the service would be of little use:
/// the start fails and names the limit to raise.
pub const MIN_CONNECTIONS: usize = 32;

/// Linux's default per-process ceiling (`fs.nr_open`); asking above it
/// fails even when the hard limit says "unlimited".
const RAISE_CEILING: u64 = 1 << 20;

/// The connection caps could not be fitted.
#[derive(Debug, thiserror::Error)]
#[error(
    "server.max_connections: the open-file limit is {limit}, of which {others} are needed besides client connections \
     (server.reserved_files, server.ops_reserve and the ops listener), leaving {room}, fewer than {MIN_CONNECTIONS}; \
     raise the hard RLIMIT_NOFILE (ulimit -n, systemd LimitNOFILE=) or lower server.reserved_files"
)]
pub struct NoRoom {
    limit: u64,
    others: usize,
    room: usize,
}

/// Descriptors needed besides the main listener's regular connections.
pub fn others(server: &ServerConfig) -> usize {
    let ops = if server.ops_listen.is_some() {
        OPS_MAX_CONNECTIONS
    } else {
        0
    };
    server
        .reserved_files
        .saturating_add(server.ops_reserve)
        .saturating_add(ops)
}

/// The main listener's cap under an open-file limit of `limit`.
pub fn fit(limit: u64, server: &ServerConfig) -> Result<usize, NoRoom> {
    let others = others(server);
    let room = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(others);
    if room >= server.max_connections {
        Ok(server.max_connections)
    } else if room >= MIN_CONNECTIONS {
        Ok(room)
    } else {
        Err(NoRoom {
            limit,
            others,
            room,
        })
    }
}

/// Raises the soft open-file limit and returns the main listener's cap.
pub fn prepare(server: &ServerConfig) -> Result<usize, NoRoom> {
    let limit = raise_limit();
    let cap = fit(limit, server)?;
    if cap < server.max_connections {
        tracing::warn!(
            configured = server.max_connections,
            effective = cap,
            open_file_limit = limit,
            reserved_files = server.reserved_files,
            "server.max_connections lowered to fit the open-file limit; raise the hard RLIMIT_NOFILE to allow more"
        );
    } else {
        tracing::info!(
            max_connections = cap,
            open_file_limit = limit,
            "connection cap fits the open-file limit"
        );
    }
    Ok(cap)
}

/// The soft limit after raising it as far as allowed (unlimited when the
/// platform has none).
fn raise_limit() -> u64 {
    match rlimit::increase_nofile_limit(RAISE_CEILING) {
        Ok(limit) => limit,
        Err(error) => {
            let soft = rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(u64::MAX);
            tracing::warn!(%error, soft, "could not raise the open-file limit");
            soft
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(max: usize, ops: bool) -> ServerConfig {
        ServerConfig {
            max_connections: max,
            ops_listen: ops.then(|| "127.0.0.1:9090".parse().unwrap()),
            ..ServerConfig::default()
        }
    }

    #[test]
    fn a_cap_that_fits_is_kept() {
        let config = server(200, true);
        assert_eq!(fit(1 << 20, &config).unwrap(), 200);
        let exact = 200 + others(&config) as u64;
        assert_eq!(fit(exact, &config).unwrap(), 200);
    }

    #[test]
    fn a_cap_too_large_is_lowered_to_what_fits() {
        // The incident's default limit: 1,024 open files.
        let config = server(4096, true);
        let cap = fit(1024, &config).unwrap();
        assert_eq!(cap, 1024 - others(&config));
        assert!(cap + others(&config) <= 1024);
    }

    #[test]
    fn no_room_refuses_and_names_the_setting() {
        let config = server(4096, false);
        let error = fit(others(&config) as u64 + 10, &config).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("server.max_connections"), "{text}");
        assert!(text.contains("RLIMIT_NOFILE"), "{text}");
    }
}
