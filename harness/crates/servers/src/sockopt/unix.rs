//! Unix socket options (Linux-only parts are marked).

use std::io;

/// Linux: enable IP_RECVERR (IPV6_RECVERR for an IPv6 socket).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn set_ip_recverr(sock: &socket2::Socket, v6: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (level, name) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    } else {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    };
    let on: libc::c_int = 1;
    // SAFETY: valid fd owned by `sock`; option value is a c_int of the stated size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// IP_RECVERR is Linux-only.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn set_ip_recverr(_sock: &socket2::Socket, _v6: bool) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "IP_RECVERR is Linux-only",
    ))
}

/// Linux: read and discard up to `max` queued extended errors
/// (`recvmsg(MSG_ERRQUEUE)`); returns how many were drained.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn drain_error_queue(sock: &tokio::net::UdpSocket, max: usize) -> usize {
    use std::os::fd::AsRawFd;
    let fd = sock.as_raw_fd();
    let mut drained = 0;
    while drained < max {
        let mut data = [0u8; 64];
        let mut control = [0u8; 256];
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        // SAFETY: zeroed msghdr is valid; we set the buffers we own.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
        // SAFETY: fd is valid for the socket's lifetime; msg points at live buffers.
        let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
        if n < 0 {
            break; // EAGAIN: queue empty (or any other error: stop, bounded anyway)
        }
        drained += 1;
    }
    drained
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn drain_error_queue(_sock: &tokio::net::UdpSocket, _max: usize) -> usize {
    0
}

/// Windows-only ioctl; nothing to do on Unix.
pub fn disable_udp_connreset(_sock: &socket2::Socket) -> io::Result<()> {
    Ok(())
}

/// Windows-only ioctl; nothing to do on Unix.
pub fn disable_udp_netreset(_sock: &socket2::Socket) -> io::Result<()> {
    Ok(())
}

/// Apple: SO_NOSIGPIPE, so a send on a socket whose peer is gone fails with
/// EPIPE instead of raising SIGPIPE (macOS has no MSG_NOSIGNAL flag for
/// send). Belt and braces: the Rust runtime already sets SIGPIPE to SIG_IGN
/// before `main` on Unix, so EPIPE is an error, not a signal, either way; the
/// option keeps that true for sockets even if a future change (or an
/// embedding program) restores the default handler.
/// https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/setsockopt.2.html
#[cfg(target_vendor = "apple")]
pub fn set_nosigpipe(sock: socket2::SockRef<'_>) -> io::Result<()> {
    sock.set_nosigpipe(true)
}

/// Linux and other Unixes: nothing to set (Linux has MSG_NOSIGNAL per send,
/// which std and tokio already pass; and SIGPIPE is ignored, see above).
#[cfg(not(target_vendor = "apple"))]
pub fn set_nosigpipe(_sock: socket2::SockRef<'_>) -> io::Result<()> {
    Ok(())
}

/// Current soft RLIMIT_NOFILE; `None` if unlimited or unknown.
pub fn nofile_soft_limit() -> Option<u64> {
    // SAFETY: getrlimit writes into the struct we pass.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    if rc != 0 || rl.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(rl.rlim_cur as u64)
}

/// The listen backlog a hardened server asks for: the kernel's maximum, as
/// Go does (`maxListenerBacklog` in src/net/sock_linux.go reads
/// /proc/sys/net/core/somaxconn; sock_bsd.go reads kern.ipc.somaxconn) and
/// as nginx does off Linux (`backlog` defaults to -1, "the maximum", on
/// FreeBSD and macOS: <https://nginx.org/en/docs/http/ngx_http_core_module.html#listen>).
/// Linux: somaxconn, capped at 65535 like Go (older kernels keep it in a
/// u16); elsewhere the platform's SOMAXCONN.
pub fn max_listen_backlog() -> i32 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        if let Some(n) = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .filter(|n| *n > 0)
        {
            return n.min(65_535);
        }
    }
    libc::SOMAXCONN
}

/// SO_REUSEADDR before bind (fast rebinding of a port in TIME_WAIT), as mio
/// and Go do on Unix.
pub fn set_fast_rebind(sock: &socket2::Socket) -> std::io::Result<()> {
    sock.set_reuse_address(true)
}
