//! Windows socket options.

use std::io;
use std::os::windows::io::AsRawSocket;
use windows_sys::Win32::Networking::WinSock::{WSAGetLastError, WSAIoctl, SOCKET};

/// `_WSAIOW(IOC_VENDOR, 12)`: report ICMP port unreachable as WSAECONNRESET.
const SIO_UDP_CONNRESET: u32 = 0x9800_000C;
/// `_WSAIOW(IOC_VENDOR, 15)`: report ICMP TTL expired as WSAENETRESET (Windows 8+).
const SIO_UDP_NETRESET: u32 = 0x9800_000F;

fn set_bool_ioctl(sock: &socket2::Socket, code: u32, value: bool) -> io::Result<()> {
    let input: i32 = i32::from(value); // BOOL
    let mut returned: u32 = 0;
    // SAFETY: valid socket handle; input buffer is a live BOOL; no overlapped I/O.
    let rc = unsafe {
        WSAIoctl(
            sock.as_raw_socket() as SOCKET,
            code,
            (&input as *const i32).cast(),
            std::mem::size_of::<i32>() as u32,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        // SAFETY: plain FFI call, no arguments.
        Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }))
    }
}

/// IP_RECVERR does not exist on Windows (ICMP errors are reported by default).
pub fn set_ip_recverr(_sock: &socket2::Socket, _v6: bool) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "IP_RECVERR is Linux-only",
    ))
}

/// No MSG_ERRQUEUE on Windows.
pub fn drain_error_queue(_sock: &tokio::net::UdpSocket, _max: usize) -> usize {
    0
}

/// SIO_UDP_CONNRESET = FALSE: stop ICMP port unreachable from failing the
/// next recv with WSAECONNRESET 10054. Fails under Wine/ReactOS.
pub fn disable_udp_connreset(sock: &socket2::Socket) -> io::Result<()> {
    set_bool_ioctl(sock, SIO_UDP_CONNRESET, false)
}

/// SIO_UDP_NETRESET = FALSE: stop ICMP TTL expired from failing the next
/// recv with WSAENETRESET 10052. Windows 8+; fails under Wine/ReactOS.
pub fn disable_udp_netreset(sock: &socket2::Socket) -> io::Result<()> {
    set_bool_ioctl(sock, SIO_UDP_NETRESET, false)
}

/// Windows has no SIGPIPE: a send to a closed peer fails with WSAECONNRESET
/// / WSAECONNABORTED. Nothing to set.
pub fn set_nosigpipe(_sock: socket2::SockRef<'_>) -> io::Result<()> {
    Ok(())
}

/// Windows has no RLIMIT_NOFILE.
pub fn nofile_soft_limit() -> Option<u64> {
    None
}

/// The listen backlog a hardened server asks for: SOMAXCONN, which Winsock
/// takes as "a reasonable maximum" chosen by the provider
/// (<https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-listen>),
/// the same choice as Go's `maxListenerBacklog` on Windows (syscall.SOMAXCONN).
pub fn max_listen_backlog() -> i32 {
    // winsock2.h's SOMAXCONN; windows-sys exports winsock.h's old value, 5.
    0x7fff_ffff
}

/// Nothing on Windows: SO_REUSEADDR there lets another process take over a
/// port in use (Microsoft, "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE").
pub fn set_fast_rebind(_sock: &socket2::Socket) -> std::io::Result<()> {
    Ok(())
}
