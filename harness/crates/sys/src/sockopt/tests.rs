//! Linux: options set before connect are read back as the kernel keeps
//! them. The buffer sizes are compared to what socket(7) documents
//! (https://man7.org/linux/man-pages/man7/socket.7.html, SO_RCVBUF: "The
//! kernel doubles this value (to allow space for bookkeeping overhead) when
//! it is set using setsockopt(2), and this doubled value is returned by
//! getsockopt(2)"; the value asked is capped by `rmem_max` first).

use super::*;
use socket2::{Domain, Protocol, Socket, Type};

fn tcp() -> Socket {
    Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap()
}

fn sysctl(name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn linux_doubles_the_buffer_sizes_asked_for() {
    let asked = 8192u32;
    let opts = SockOpts {
        rcvbuf: Some(asked),
        sndbuf: Some(asked),
        ..SockOpts::default()
    };
    let s = tcp();
    apply(&s, &opts).unwrap();
    let g = read_back(&s, &opts);
    let doubled = |max: u64| 2 * u64::from(asked).min(max);
    assert_eq!(g.rcvbuf, Some(doubled(sysctl("rmem_max"))), "{g:?}");
    assert_eq!(g.sndbuf, Some(doubled(sysctl("wmem_max"))), "{g:?}");
    assert!(g.unread.is_empty(), "{g:?}");
}

#[test]
fn keepalive_linger_and_nodelay_read_back_as_set() {
    let opts = SockOpts {
        nodelay: Some(true),
        linger_s: Some(0),
        keepalive: Some(Keepalive {
            idle_s: Some(7),
            interval_s: Some(3),
            count: Some(4),
        }),
        ..SockOpts::default()
    };
    let s = tcp();
    apply(&s, &opts).unwrap();
    let g = read_back(&s, &opts);
    assert_eq!(g.nodelay, Some(true));
    assert_eq!(g.linger, Some(GrantedLinger { on: true, s: 0 }));
    assert_eq!(
        g.keepalive,
        Some(GrantedKeepalive {
            on: true,
            idle_s: Some(7),
            interval_s: Some(3),
            count: Some(4),
        })
    );
    // Options not asked for are not reported.
    assert_eq!((g.rcvbuf, g.sndbuf, g.source), (None, None, None));
}

#[test]
fn a_loopback_source_is_bound_and_a_foreign_one_refused() {
    let opts = SockOpts {
        source: Some("127.0.0.2".parse().unwrap()),
        ..SockOpts::default()
    };
    let s = tcp();
    apply(&s, &opts).unwrap();
    assert_eq!(read_back(&s, &opts).source.as_deref(), Some("127.0.0.2"));

    // TEST-NET-1 (RFC 5737) is on no interface here: bind fails before
    // any packet could leave.
    let foreign = SockOpts {
        source: Some("192.0.2.1".parse().unwrap()),
        ..SockOpts::default()
    };
    let err = apply(&tcp(), &foreign).unwrap_err();
    assert_eq!(err.option, "source");
    assert_eq!(err.error.raw_os_error(), Some(libc::EADDRNOTAVAIL));
}
