//! Keepalive on Windows. socket2 sets idle and interval together through
//! SIO_KEEPALIVE_VALS, where a value left out is sent as 0 ms; so the
//! documented defaults (2 hours idle, 1 second interval: "SIO_KEEPALIVE_VALS
//! control code", Microsoft Learn) stand in for what the scenario left
//! unset. TCP_KEEPCNT is a socket option (Windows 10 1703+). Reading back
//! uses TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT ("IPPROTO_TCP socket
//! options", Microsoft Learn: Windows 10 1709+); an older Windows or Wine
//! may refuse, which the caller records as unread.

use super::Keepalive;
use std::io;
use std::os::windows::io::AsRawSocket;
use std::time::Duration;
use windows_sys::Win32::Networking::WinSock::{
    getsockopt, WSAGetLastError, IPPROTO_TCP, SOCKET, SOCKET_ERROR, TCP_KEEPCNT, TCP_KEEPIDLE,
    TCP_KEEPINTVL,
};

/// Windows' keepalive idle time when none is configured (2 hours).
const DEFAULT_IDLE: Duration = Duration::from_secs(2 * 60 * 60);
/// Windows' keepalive interval when none is configured (1 second).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

pub(super) fn set_keepalive(sock: &socket2::Socket, k: &Keepalive) -> io::Result<()> {
    let mut p = socket2::TcpKeepalive::new()
        .with_time(
            k.idle_s
                .map_or(DEFAULT_IDLE, |s| Duration::from_secs(u64::from(s))),
        )
        .with_interval(
            k.interval_s
                .map_or(DEFAULT_INTERVAL, |s| Duration::from_secs(u64::from(s))),
        );
    if let Some(n) = k.count {
        p = p.with_retries(n);
    }
    sock.set_tcp_keepalive(&p)
}

fn tcp_int(sock: &socket2::Socket, name: i32) -> io::Result<u64> {
    let mut value: u32 = 0;
    let mut len = std::mem::size_of::<u32>() as i32;
    // SAFETY: valid socket handle owned by `sock`; the buffer is a live u32
    // whose size is passed in `len`.
    let rc = unsafe {
        getsockopt(
            sock.as_raw_socket() as SOCKET,
            IPPROTO_TCP,
            name,
            (&mut value as *mut u32).cast(),
            &mut len,
        )
    };
    if rc == SOCKET_ERROR {
        // SAFETY: plain FFI call, no arguments.
        return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
    }
    Ok(u64::from(value))
}

pub(super) fn keepalive_idle_s(sock: &socket2::Socket) -> io::Result<u64> {
    tcp_int(sock, TCP_KEEPIDLE)
}

pub(super) fn keepalive_interval_s(sock: &socket2::Socket) -> io::Result<u64> {
    tcp_int(sock, TCP_KEEPINTVL)
}

pub(super) fn keepalive_count(sock: &socket2::Socket) -> io::Result<u32> {
    tcp_int(sock, TCP_KEEPCNT).map(|n| n as u32)
}
