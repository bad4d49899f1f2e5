//! Which local ports the OS hands out on its own (the ephemeral range), so
//! that a port the harness picks for a program it starts is one no
//! outgoing connection can take in the moment between the harness
//! releasing it and the program binding it.
//!
//! Sources for the ranges: Linux reads `net.ipv4.ip_local_port_range`
//! (default 32768-60999, the kernel's `ip-sysctl` documentation); Windows
//! Vista and later default to 49152-65535 (Microsoft KB 929851, the IANA
//! range; GitHub's windows images set it so since
//! <https://github.com/actions/runner-images/pull/1442>, after
//! <https://github.com/orgs/community/discussions/26011> found all ports
//! dynamic); macOS and FreeBSD default to 49152-65535
//! (`net.inet.ip.portrange.first` / `.last`, FreeBSD `ip(4)`). Only Linux's
//! is read; elsewhere a host configured otherwise costs a retry (a port that
//! does not bind is skipped) or, at worst, the race this module avoids.

use std::ops::Range;

/// Where a port picked for a program should come from: ports are never
/// below this (the privileged range and well-known services stay clear).
pub const LOWEST: u16 = 10_000;

/// Width of the range [`listen_range`] prefers below the ephemeral range.
const WIDTH: u16 = 12_000;

/// The ephemeral (dynamic) port range of this host, `first..=last` as a
/// half-open range.
pub fn ephemeral_range() -> Range<u32> {
    os_range().unwrap_or(49_152..65_536)
}

#[cfg(target_os = "linux")]
fn os_range() -> Option<Range<u32>> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    parse_linux(&text)
}

#[cfg(not(target_os = "linux"))]
fn os_range() -> Option<Range<u32>> {
    None
}

/// `"32768\t60999\n"` -> `32768..61000`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // tested everywhere
fn parse_linux(text: &str) -> Option<Range<u32>> {
    let mut it = text.split_whitespace().map(|w| w.parse::<u32>().ok());
    let (first, last) = (it.next()??, it.next()??);
    (first <= last && last <= 65_535).then_some(first..last + 1)
}

/// Ports to pick a listening port from for a program the harness starts:
/// up to [`WIDTH`] ports just below the ephemeral range, or above it if
/// there is no room below, never below [`LOWEST`]. `None` when the
/// ephemeral range leaves no such room (then only port 0 is left).
pub fn listen_range() -> Option<Range<u16>> {
    outside(ephemeral_range())
}

fn outside(eph: Range<u32>) -> Option<Range<u16>> {
    let lowest = u32::from(LOWEST);
    let width = u32::from(WIDTH);
    let below = eph.start.saturating_sub(width).max(lowest)..eph.start;
    let above = eph.end..(eph.end + width).min(65_536);
    let pick = if below.end.saturating_sub(below.start) >= 1_000 {
        below
    } else if above.end.saturating_sub(above.start) >= 1_000 {
        above
    } else {
        return None;
    };
    Some(u16::try_from(pick.start).ok()?..u16::try_from(pick.end).ok()?)
}

/// Ports for the harness's own UDP client sockets: from [`LOWEST`] up to
/// whichever starts first of the ephemeral range and [`listen_range`], so
/// the OS never hands one out on its own and no program is told to listen
/// on one. A client that closes leaves its port unbound until the harness
/// itself comes round to it again, so a server's late reply to it draws an
/// ICMP port unreachable instead of reaching another run's socket (the
/// kernel's own pick can reuse a port at once). `None` when that leaves
/// fewer than 1,000 ports.
pub fn client_range() -> Option<Range<u16>> {
    below_both(ephemeral_range(), listen_range())
}

fn below_both(eph: Range<u32>, listen: Option<Range<u16>>) -> Option<Range<u16>> {
    let end = listen.map_or(eph.start, |l| eph.start.min(u32::from(l.start)));
    let start = u32::from(LOWEST);
    (end.saturating_sub(start) >= 1_000)
        .then(|| u16::try_from(start).ok().zip(u16::try_from(end).ok()))
        .flatten()
        .map(|(s, e)| s..e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_range_is_below_the_ephemeral_and_the_listen_ranges() {
        // Linux default: 10000 up to the listen range (20768..32768).
        assert_eq!(
            below_both(32768..61000, outside(32768..61000)),
            Some(10_000..20_768)
        );
        // Windows / macOS default.
        assert_eq!(
            below_both(49152..65536, outside(49152..65536)),
            Some(10_000..37_152)
        );
        // A low ephemeral range: the listen range takes all there is below.
        assert_eq!(below_both(20000..30000, outside(20000..30000)), None);
        // No room below at all (the listen range goes above): none.
        assert_eq!(below_both(10500..60000, outside(10500..60000)), None);
        // Without a listen range, up to the ephemeral one.
        assert_eq!(below_both(30000..61000, None), Some(10_000..30_000));
        assert_eq!(below_both(1024..65536, None), None);
        if let Some(r) = client_range() {
            let eph = ephemeral_range();
            assert!(u32::from(r.end) <= eph.start, "{r:?} {eph:?}");
        }
    }

    #[test]
    fn linux_range_text_parses_and_bad_text_does_not() {
        assert_eq!(parse_linux("32768\t60999\n"), Some(32768..61000));
        assert_eq!(parse_linux("1024 65535"), Some(1024..65536));
        assert_eq!(parse_linux("60999 32768"), None);
        assert_eq!(parse_linux("abc"), None);
        assert_eq!(parse_linux("1 70000"), None);
    }

    #[test]
    fn listen_range_stays_out_of_the_ephemeral_range() {
        // Linux default: the 12,000 ports below it.
        assert_eq!(outside(32768..61000), Some(20768..32768));
        // Windows / macOS default.
        assert_eq!(outside(49152..65536), Some(37152..49152));
        // A low ephemeral range: above it.
        assert_eq!(outside(1024..30000), Some(30000..42000));
        // Everything ephemeral: nothing left.
        assert_eq!(outside(1024..65536), None);
        for eph in [32768..61000, 49152..65536, 10500..60000, 1024..30000] {
            if let Some(r) = outside(eph.clone()) {
                assert!(r.start >= LOWEST);
                assert!(u32::from(r.end) <= eph.start || u32::from(r.start) >= eph.end);
            }
        }
    }

    #[test]
    fn this_hosts_range_is_sane() {
        let r = ephemeral_range();
        assert!(r.start >= 1 && r.start < r.end && r.end <= 65_536, "{r:?}");
    }
}
