//! Connection limit for the hardened TCP servers: never accept more
//! connections than the process has file descriptors for.

use super::sockopt;

/// Descriptors kept free for the runtime, stdio, the listener and slack.
const RESERVED_FDS: u64 = 16;

/// Maximum concurrent connections: `max_conns`, lowered so that
/// `fds_per_conn` descriptors per connection always fit under the current
/// soft RLIMIT_NOFILE (Unix). At least 1.
pub fn conn_limit(max_conns: usize, fds_per_conn: usize) -> usize {
    derive(max_conns, fds_per_conn, sockopt::nofile_soft_limit())
}

fn derive(max_conns: usize, fds_per_conn: usize, nofile: Option<u64>) -> usize {
    let by_fds = match nofile {
        Some(limit) => {
            let spare = limit.saturating_sub(RESERVED_FDS) / fds_per_conn.max(1) as u64;
            usize::try_from(spare).unwrap_or(usize::MAX)
        }
        None => usize::MAX,
    };
    max_conns.min(by_fds).max(1)
}

#[cfg(test)]
mod tests {
    use super::derive;

    #[test]
    fn low_rlimit_lowers_the_limit() {
        assert_eq!(derive(256, 2, Some(32)), 8);
        assert_eq!(derive(256, 1, Some(32)), 16);
    }

    #[test]
    fn high_or_unknown_rlimit_keeps_max_conns() {
        assert_eq!(derive(256, 2, Some(1 << 20)), 256);
        assert_eq!(derive(256, 2, None), 256);
    }

    #[test]
    fn never_zero() {
        assert_eq!(derive(256, 2, Some(3)), 1);
        assert_eq!(derive(0, 2, None), 1);
    }
}
