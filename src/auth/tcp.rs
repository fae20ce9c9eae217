//! The TCP listener (`--tcp ADDR`) and authentication: a non-loopback address is refused
//! unless authentication is on, before anything is bound. The Unix socket keeps its
//! file-permission model (`--socket-mode`, 0600 by default) and may run without it.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::error::{Error, Result};

/// Whether `a` is a loopback address (`127.0.0.0/8`, `::1`, or `::ffff:127.x.y.z`).
fn loopback(a: &SocketAddr) -> bool {
    match a {
        SocketAddr::V4(v4) => v4.ip().is_loopback(),
        SocketAddr::V6(v6) => {
            v6.ip().is_loopback() || v6.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Refuse to listen on TCP address `addr` beyond loopback without authentication. Every
/// address `addr` resolves to must be loopback, or `auth_enabled` set.
pub fn check_listen(addr: &str, auth_enabled: bool) -> Result<()> {
    if auth_enabled {
        return Ok(());
    }
    let resolved: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| Error::Config(format!("--tcp {addr:?}: not an address ({e})")))?
        .collect();
    if resolved.is_empty() || !resolved.iter().all(loopback) {
        return Err(Error::TcpWithoutAuth {
            addr: addr.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_without_auth() {
        for a in ["127.0.0.1:8086", "127.1.2.3:0", "[::1]:8086", "localhost:0"] {
            assert!(check_listen(a, false).is_ok(), "{a}");
        }
        for a in [
            "0.0.0.0:0",
            "[::]:8086",
            "10.0.0.1:8086",
            "[::ffff:10.0.0.1]:1",
        ] {
            assert!(
                matches!(check_listen(a, false), Err(Error::TcpWithoutAuth { .. })),
                "{a}"
            );
            assert!(check_listen(a, true).is_ok(), "{a}");
        }
        assert!(matches!(
            check_listen("nonsense", false),
            Err(Error::Config(_))
        ));
    }
}
