//! Client socket options (issue 14.2): what a scenario's `[sockopts.<actor>]`
//! asks for ([`SockOpts`]), setting them on a socket before it connects or
//! binds ([`apply`]), and reading back what the OS granted ([`read_back`],
//! [`Granted`]), which is not always what was asked: Linux doubles
//! SO_RCVBUF / SO_SNDBUF and clamps them to `net.core.rmem_max` /
//! `wmem_max` (socket(7)); Windows and macOS keep the value asked.
//!
//! Options go through socket2, which covers the three OSes; what differs
//! lives here and in `sockopt/os_*.rs`: Windows sets keepalive idle and
//! interval together (SIO_KEEPALIVE_VALS, where one left unset would be 0,
//! so its documented defaults are filled in), and reads them back with
//! TCP_KEEPIDLE / TCP_KEEPINTVL (Windows 10 1709+) instead of socket2's
//! Unix-only getters.

use serde::{Deserialize, Serialize};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[cfg(unix)]
#[path = "sockopt/os_unix.rs"]
mod os;

#[cfg(windows)]
#[path = "sockopt/os_windows.rs"]
mod os;

/// TCP keepalive (SO_KEEPALIVE on) with optional parameters; an unset one
/// keeps the OS default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keepalive {
    /// Idle time before the first probe, seconds (TCP_KEEPIDLE; macOS
    /// TCP_KEEPALIVE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_s: Option<u32>,
    /// Time between probes, seconds (TCP_KEEPINTVL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<u32>,
    /// Unanswered probes before the connection is dropped (TCP_KEEPCNT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// The options one client actor's sockets get before connect (UDP: before
/// bind). Every field is optional; an unset one keeps the OS default
/// (except TCP_NODELAY, which the harness's clients set unless told).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SockOpts {
    /// SO_RCVBUF, bytes asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcvbuf: Option<u32>,
    /// SO_SNDBUF, bytes asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sndbuf: Option<u32>,
    /// TCP_NODELAY (TCP only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodelay: Option<bool>,
    /// SO_LINGER {on, N seconds} (TCP only). 0: close discards unsent data
    /// and sends RST instead of FIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linger_s: Option<u32>,
    /// SO_KEEPALIVE and its parameters (TCP only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Keepalive>,
    /// Local address to bind before connect (port chosen by the OS).
    /// The scenario parser allows loopback addresses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<IpAddr>,
}

impl SockOpts {
    /// Whether any option here exists for TCP only.
    pub fn tcp_only(&self) -> bool {
        self.nodelay.is_some() || self.linger_s.is_some() || self.keepalive.is_some()
    }
}

/// SO_LINGER as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GrantedLinger {
    pub on: bool,
    /// Linger time in seconds (0 when off).
    pub s: u64,
}

/// Keepalive as read back; a parameter is absent when it was not asked
/// for, or could not be read on this OS (see `Granted::unread`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct GrantedKeepalive {
    /// SO_KEEPALIVE.
    pub on: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// What the OS granted for the options an actor asked for, read back with
/// getsockopt after setting them (before connect). Only the options asked
/// for are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Granted {
    /// SO_RCVBUF in bytes (Linux: twice the value asked, see socket(7)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcvbuf: Option<u64>,
    /// SO_SNDBUF in bytes (Linux: twice the value asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sndbuf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodelay: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linger: Option<GrantedLinger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<GrantedKeepalive>,
    /// The local IP the socket is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Options asked for whose value could not be read back here, each as
    /// `option: OS error name` (e.g. `keepalive.idle_s: WSAENOPROTOOPT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

/// An option the OS refused to set.
#[derive(Debug)]
pub struct Refused {
    /// The option's scenario-file name (`rcvbuf`, `keepalive`, `source`, …).
    pub option: &'static str,
    pub error: io::Error,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = crate::errors::observe(&self.error);
        let raw = e.raw.map_or("-".to_string(), |r| r.to_string());
        write!(
            f,
            "setting {} failed with {} (raw {raw})",
            self.option, e.name
        )
    }
}

fn refused(option: &'static str) -> impl FnOnce(io::Error) -> Refused {
    move |error| Refused { option, error }
}

/// Set `opts` on `sock`, which is not connected (nor bound) yet, and bind
/// it to `source` if asked. The first option the OS refuses ends it.
pub fn apply(sock: &socket2::Socket, opts: &SockOpts) -> Result<(), Refused> {
    if let Some(n) = opts.rcvbuf {
        sock.set_recv_buffer_size(n as usize)
            .map_err(refused("rcvbuf"))?;
    }
    if let Some(n) = opts.sndbuf {
        sock.set_send_buffer_size(n as usize)
            .map_err(refused("sndbuf"))?;
    }
    if let Some(on) = opts.nodelay {
        sock.set_tcp_nodelay(on).map_err(refused("nodelay"))?;
    }
    if let Some(s) = opts.linger_s {
        sock.set_linger(Some(Duration::from_secs(u64::from(s))))
            .map_err(refused("linger_s"))?;
    }
    if let Some(k) = opts.keepalive {
        os::set_keepalive(sock, &k).map_err(refused("keepalive"))?;
    }
    if let Some(ip) = opts.source {
        sock.bind(&SocketAddr::new(ip, 0).into())
            .map_err(refused("source"))?;
    }
    Ok(())
}

/// The value, or `None` with the option noted in `unread`.
fn read<T>(unread: &mut Vec<String>, name: &str, r: io::Result<T>) -> Option<T> {
    r.map_err(|e| unread.push(format!("{name}: {}", crate::errors::observe(&e).name)))
        .ok()
}

/// Read back, for each option in `opts`, what `sock` has now.
pub fn read_back(sock: &socket2::Socket, opts: &SockOpts) -> Granted {
    let mut g = Granted::default();
    let u = &mut g.unread;
    if opts.rcvbuf.is_some() {
        g.rcvbuf = read(u, "rcvbuf", sock.recv_buffer_size().map(|n| n as u64));
    }
    if opts.sndbuf.is_some() {
        g.sndbuf = read(u, "sndbuf", sock.send_buffer_size().map(|n| n as u64));
    }
    if opts.nodelay.is_some() {
        g.nodelay = read(u, "nodelay", sock.tcp_nodelay());
    }
    if opts.linger_s.is_some() {
        g.linger = read(u, "linger_s", sock.linger()).map(|l| GrantedLinger {
            on: l.is_some(),
            s: l.map_or(0, |d| d.as_secs()),
        });
    }
    if let Some(k) = opts.keepalive {
        if let Some(on) = read(u, "keepalive", sock.keepalive()) {
            let mut gk = GrantedKeepalive {
                on,
                ..GrantedKeepalive::default()
            };
            if k.idle_s.is_some() {
                gk.idle_s = read(u, "keepalive.idle_s", os::keepalive_idle_s(sock));
            }
            if k.interval_s.is_some() {
                gk.interval_s = read(u, "keepalive.interval_s", os::keepalive_interval_s(sock));
            }
            if k.count.is_some() {
                gk.count = read(u, "keepalive.count", os::keepalive_count(sock));
            }
            g.keepalive = Some(gk);
        }
    }
    if opts.source.is_some() {
        g.source = read(u, "source", read_addr(sock));
    }
    g
}

fn read_addr(sock: &socket2::Socket) -> io::Result<String> {
    let a = sock.local_addr()?;
    a.as_socket()
        .map(|s| s.ip().to_string())
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
}

#[cfg(all(test, target_os = "linux"))]
mod tests;
