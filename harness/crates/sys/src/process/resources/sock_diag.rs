//! Linux: the TCP and UDP sockets of this thread's network namespace, by
//! state and inode, from the kernel's socket-diagnostics netlink interface
//! (`NETLINK_SOCK_DIAG`, sock_diag(7); what `ss` uses), instead of the text
//! of `/proc/PID/net/tcp`.
//!
//! Why: reading `/proc/net/tcp` walks the whole TCP hash table once per
//! 4 KiB page of output (262,144 buckets on this 2-core machine: 6.5 ms of
//! kernel time per read with 380 rows), and every resource sample read it:
//! most of a catalog run's CPU time was the kernel printing that table
//! (issue 16). A dump asks the kernel for only the states that can belong
//! to a socket (no TIME_WAIT or SYN_RECV rows, which have no inode) in one
//! walk, and sends binary records. The `/proc` text stays the fallback
//! (netlink refused, or the target in another namespace).

use super::TcpRow;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `NLMSG_ERROR`, `NLMSG_DONE` (linux/netlink.h).
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// `NLM_F_REQUEST | NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
const DUMP_REQUEST: u16 = 0x1 | 0x300;
/// `struct nlmsghdr`: len u32, type u16, flags u16, seq u32, pid u32.
const NLMSG_HDR: usize = 16;
/// `struct inet_diag_req_v2`: family, protocol, ext, pad (u8 each),
/// states u32, then `struct inet_diag_sockid` (48 bytes).
const REQ_LEN: usize = 4 + 4 + 48;
/// Offsets in `struct inet_diag_msg`: family u8, state u8, timer u8,
/// retrans u8, sockid (48), expires, rqueue, wqueue, uid, inode (u32 each).
const MSG_STATE: usize = 1;
const MSG_INODE: usize = 4 + 48 + 16;
const MSG_LEN: usize = MSG_INODE + 4;
/// TCP states (the bit numbers of `idiag_states`, linux/tcp_states.h).
const TCP_SYN_RECV: u32 = 3;
const TCP_TIME_WAIT: u32 = 6;
const TCP_NEW_SYN_RECV: u32 = 12;
/// Bounds: a dump is a few messages per 32 KiB buffer; this many reads is
/// far past any real table and ends a misbehaving one.
const MAX_READS: usize = 10_000;

/// Which table to dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// Every socket of `proto` over IPv4 (`v6 = false`) or IPv6 in this
/// thread's network namespace that can belong to a process (inode not 0),
/// as (state, inode) rows; TCP without TIME_WAIT and SYN_RECV.
pub fn dump(proto: Proto, v6: bool) -> io::Result<Vec<TcpRow>> {
    // SAFETY: plain socket(2); the descriptor is owned below.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // The kernel answers a dump at once; the timeout only bounds a reply
    // that never comes.
    let tv = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    // SAFETY: `tv` is a valid timeval for SO_RCVTIMEO, its size given.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    let req = request(proto, v6);
    // SAFETY: a zeroed sockaddr_nl is the kernel's address (pid 0).
    let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: `req` and `to` are valid for the lengths given.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            req.as_ptr().cast(),
            req.len(),
            0,
            (&to as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut rows = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    for _ in 0..MAX_READS {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if parse(&buf[..n as usize], &mut rows)? {
            return Ok(rows);
        }
    }
    Err(io::Error::other("sock_diag dump did not end"))
}

/// The dump request: a netlink header and an `inet_diag_req_v2`.
fn request(proto: Proto, v6: bool) -> [u8; NLMSG_HDR + REQ_LEN] {
    let mut req = [0u8; NLMSG_HDR + REQ_LEN];
    let len = req.len() as u32;
    req[0..4].copy_from_slice(&len.to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&DUMP_REQUEST.to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    let b = NLMSG_HDR;
    req[b] = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
    let (protocol, states) = match proto {
        Proto::Tcp => (
            libc::IPPROTO_TCP,
            !((1 << TCP_TIME_WAIT) | (1 << TCP_SYN_RECV) | (1 << TCP_NEW_SYN_RECV)),
        ),
        Proto::Udp => (libc::IPPROTO_UDP, u32::MAX),
    };
    req[b + 1] = protocol as u8;
    req[b + 4..b + 8].copy_from_slice(&states.to_ne_bytes());
    req
}

/// Add the rows of one datagram of the reply to `rows`; `Ok(true)` once
/// the dump is done, an error for the kernel's error message or a
/// malformed message.
fn parse(mut buf: &[u8], rows: &mut Vec<TcpRow>) -> io::Result<bool> {
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed sock_diag reply");
    while buf.len() >= NLMSG_HDR {
        let len = u32_at(buf, 0).ok_or_else(bad)? as usize;
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        if len < NLMSG_HDR || len > buf.len() {
            return Err(bad());
        }
        let body = &buf[NLMSG_HDR..len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = u32_at(body, 0).ok_or_else(bad)? as i32;
                return Err(io::Error::from_raw_os_error(errno.saturating_neg()));
            }
            SOCK_DIAG_BY_FAMILY if body.len() >= MSG_LEN => {
                let inode = u64::from(u32_at(body, MSG_INODE).ok_or_else(bad)?);
                if inode != 0 {
                    rows.push(TcpRow {
                        state: body[MSG_STATE],
                        inode,
                    });
                }
            }
            _ => {}
        }
        // Messages are 4-byte aligned (NLMSG_ALIGN).
        let next = (len + 3) & !3;
        buf = buf.get(next..).unwrap_or(&[]);
    }
    Ok(false)
}

/// True when `pid` is in this thread's network namespace (then a dump
/// here shows its sockets).
pub fn same_netns(pid: u32) -> bool {
    let ns = |p: &str| std::fs::read_link(p).ok();
    match (
        ns("/proc/thread-self/ns/net"),
        ns(&format!("/proc/{pid}/ns/net")),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::resources::{parse_proc_net_tcp, TCP_CLOSE_WAIT};
    use std::os::unix::fs::MetadataExt;

    fn inode_of(fd: &impl AsRawFd) -> u64 {
        std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .unwrap()
            .ino()
    }

    /// A listener, an accepted socket in CLOSE_WAIT and a UDP socket are
    /// found with the states `/proc/self/net` shows for them.
    #[test]
    fn a_dump_agrees_with_proc_net_on_states_and_inodes() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (accepted, _) = l.accept().unwrap();
        drop(c); // the accepted side goes to CLOSE_WAIT
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let want = [inode_of(&l), inode_of(&accepted)];
        // The FIN arrives on loopback at once, but bound the look anyway.
        let mut tcp = Vec::new();
        for _ in 0..100 {
            tcp = dump(Proto::Tcp, false).unwrap();
            if tcp
                .iter()
                .any(|r| r.inode == want[1] && r.state == TCP_CLOSE_WAIT)
            {
                break;
            }
            std::thread::yield_now();
        }
        let text = std::fs::read_to_string("/proc/self/net/tcp").unwrap();
        let proc_rows = parse_proc_net_tcp(&text);
        for ino in want {
            let from_diag = tcp.iter().find(|r| r.inode == ino).copied();
            let from_proc = proc_rows.iter().find(|r| r.inode == ino).copied();
            assert!(from_diag.is_some(), "inode {ino} missing from the dump");
            assert_eq!(from_diag, from_proc, "inode {ino}");
        }
        let closing = tcp.iter().find(|r| r.inode == want[1]).unwrap();
        assert_eq!(closing.state, TCP_CLOSE_WAIT);
        let udp = dump(Proto::Udp, false).unwrap();
        assert!(udp.iter().any(|r| r.inode == inode_of(&u)));
        assert!(
            !udp.iter().any(|r| r.inode == want[0]),
            "a TCP socket in the UDP dump"
        );
        assert!(same_netns(std::process::id()));
        assert!(!same_netns(u32::MAX));
    }

    #[test]
    fn replies_parse_and_malformed_ones_are_errors() {
        let msg = |kind: u16, body: &[u8]| {
            let mut m = Vec::new();
            m.extend_from_slice(&((NLMSG_HDR + body.len()) as u32).to_ne_bytes());
            m.extend_from_slice(&kind.to_ne_bytes());
            m.extend_from_slice(&[0u8; 10]);
            m.extend_from_slice(body);
            while m.len() % 4 != 0 {
                m.push(0);
            }
            m
        };
        let mut body = vec![0u8; MSG_LEN];
        body[MSG_STATE] = 8;
        body[MSG_INODE..MSG_INODE + 4].copy_from_slice(&77u32.to_ne_bytes());
        let mut no_inode = body.clone();
        no_inode[MSG_INODE..MSG_INODE + 4].copy_from_slice(&0u32.to_ne_bytes());
        let mut buf = msg(SOCK_DIAG_BY_FAMILY, &body);
        buf.extend(msg(SOCK_DIAG_BY_FAMILY, &no_inode));
        let mut rows = Vec::new();
        assert!(!parse(&buf, &mut rows).unwrap());
        assert_eq!(
            rows,
            vec![TcpRow {
                state: 8,
                inode: 77
            }]
        );
        buf.extend(msg(NLMSG_DONE, &[0; 4]));
        assert!(parse(&buf, &mut Vec::new()).unwrap());
        let err = parse(&msg(NLMSG_ERROR, &(-13i32).to_ne_bytes()), &mut rows).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(13));
        let mut short = msg(SOCK_DIAG_BY_FAMILY, &body);
        short[0..4].copy_from_slice(&9999u32.to_ne_bytes());
        assert!(parse(&short, &mut rows).is_err());
    }
}
