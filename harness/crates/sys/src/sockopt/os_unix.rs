//! Keepalive on Unix: socket2 sets and reads TCP_KEEPIDLE (macOS:
//! TCP_KEEPALIVE), TCP_KEEPINTVL and TCP_KEEPCNT where the OS has them
//! (Linux, macOS, the BSDs; tcp(7), macOS tcp(4)); elsewhere a parameter
//! asked for is refused as unsupported rather than silently dropped.

use super::Keepalive;
use std::io;
use std::time::Duration;

pub(super) use probes::{keepalive_count, keepalive_interval_s};

// Used only on the Unixes that lack a keepalive parameter.
#[allow(dead_code)]
fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} is not available on this OS"),
    )
}

/// TCP_KEEPINTVL and TCP_KEEPCNT, on the Unixes that have them.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "dragonfly",
    target_os = "illumos"
))]
mod probes {
    use super::*;

    pub(super) fn with_probes(
        p: socket2::TcpKeepalive,
        k: &Keepalive,
    ) -> io::Result<socket2::TcpKeepalive> {
        let p = match k.interval_s {
            Some(s) => p.with_interval(Duration::from_secs(u64::from(s))),
            None => p,
        };
        Ok(match k.count {
            Some(n) => p.with_retries(n),
            None => p,
        })
    }

    pub(in super::super) fn keepalive_interval_s(sock: &socket2::Socket) -> io::Result<u64> {
        sock.tcp_keepalive_interval().map(|d| d.as_secs())
    }

    pub(in super::super) fn keepalive_count(sock: &socket2::Socket) -> io::Result<u32> {
        sock.tcp_keepalive_retries()
    }
}

/// The other Unixes: no TCP_KEEPINTVL / TCP_KEEPCNT.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "dragonfly",
    target_os = "illumos"
)))]
mod probes {
    use super::*;

    pub(super) fn with_probes(
        p: socket2::TcpKeepalive,
        k: &Keepalive,
    ) -> io::Result<socket2::TcpKeepalive> {
        if k.interval_s.is_some() || k.count.is_some() {
            return Err(unsupported("TCP_KEEPINTVL / TCP_KEEPCNT"));
        }
        Ok(p)
    }

    pub(in super::super) fn keepalive_interval_s(_sock: &socket2::Socket) -> io::Result<u64> {
        Err(unsupported("TCP_KEEPINTVL"))
    }

    pub(in super::super) fn keepalive_count(_sock: &socket2::Socket) -> io::Result<u32> {
        Err(unsupported("TCP_KEEPCNT"))
    }
}

pub(super) fn set_keepalive(sock: &socket2::Socket, k: &Keepalive) -> io::Result<()> {
    let mut p = socket2::TcpKeepalive::new();
    if let Some(s) = k.idle_s {
        p = p.with_time(Duration::from_secs(u64::from(s)));
    }
    sock.set_tcp_keepalive(&probes::with_probes(p, k)?)
}

pub(super) fn keepalive_idle_s(sock: &socket2::Socket) -> io::Result<u64> {
    #[cfg(not(any(target_os = "openbsd", target_os = "haiku")))]
    return sock.tcp_keepalive_time().map(|d| d.as_secs());
    #[cfg(any(target_os = "openbsd", target_os = "haiku"))]
    {
        let _ = sock;
        Err(unsupported("TCP_KEEPIDLE"))
    }
}
