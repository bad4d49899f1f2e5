//! Platform socket options behind one seam. Everything OS-specific the
//! reference servers need lives here; callers never use `cfg`.
//!
//! - `set_ip_recverr`: Linux IP_RECVERR / IPV6_RECVERR, so ICMP errors reach
//!   an unconnected UDP socket (next recv fails ECONNREFUSED) — what Windows
//!   does by default. Unsupported elsewhere.
//! - `drain_error_queue`: Linux MSG_ERRQUEUE drain (queued ICMP reports are
//!   charged to the receive buffer; a hardened server empties the queue).
//! - `disable_udp_connreset` / `disable_udp_netreset`: Windows
//!   SIO_UDP_CONNRESET / SIO_UDP_NETRESET = FALSE; no-ops elsewhere.
//! - `set_nosigpipe`: macOS SO_NOSIGPIPE (EPIPE instead of SIGPIPE); no-op
//!   elsewhere.
//! - `nofile_soft_limit`: current soft RLIMIT_NOFILE (Unix), `None` on Windows.
//! - `max_listen_backlog`: the kernel's largest listen backlog (Linux
//!   somaxconn, SOMAXCONN elsewhere), what Go and nginx ask for.
//! - `set_fast_rebind`: SO_REUSEADDR on Unix, as mio and Go do; never on
//!   Windows, where SO_REUSEADDR lets another process take over a port in use.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;
