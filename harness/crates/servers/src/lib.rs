//! Reference servers, run as child processes (`netrepro serve`): two naive
//! flavours (what people really write) and hardened (the known fixes applied).
//!
//! - `naive`: task per connection, `?` everywhere (`tcp_echo::naive`, the
//!   Natter-style `tcp_forward::naive`, the Tribler-style `udp_echo::naive`);
//! - `naive-seq`: Rust-book style, one connection at a time on blocking std
//!   sockets (`tcp_seq`); for UDP it is the same loop as `naive` (a UDP echo
//!   written that way already is one sequential `?` loop);
//! - `hardened`: `accept`, `limits`, timeouts, abort propagation.
//!
//! `run` is the whole process: it binds, prints `LISTENING <addr>` on stdout,
//! logs each handled error as one JSON `ServerEvent` line on stderr, and
//! returns exit code 1 after logging the fatal event that stopped it.
//!
//! Modules: `log` (the stdout/stderr protocol), `sockopt` (every
//! platform-specific socket option, behind one seam), `limits` (connection
//! limit from RLIMIT_NOFILE), `accept` (hardened accept loop), `tcp_echo`,
//! `tcp_forward`, `udp_echo`.

mod accept;
mod limits;
pub mod log;
mod sockopt;
pub use sockopt::max_listen_backlog;
mod tcp_echo;
mod tcp_forward;
mod tcp_seq;
mod udp_echo;

use netrepro_scenario::{Builtin, Mode, Proto};
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// How to run a reference server (the `netrepro serve` options).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub impl_: Builtin,
    pub proto: Proto,
    pub mode: Mode,
    /// Forward mode: where to connect for each accepted client.
    pub upstream: Option<std::net::SocketAddr>,
    pub bind: std::net::IpAddr,
    pub port: u16,
    /// Linux: IP_RECVERR on the UDP socket (ICMP errors surface on recv).
    pub ip_recverr: bool,
    /// Hardened TCP: most concurrent connections (lowered further to fit the
    /// soft RLIMIT_NOFILE on Unix).
    pub max_conns: usize,
    /// Hardened TCP: close a connection after this long without traffic.
    pub idle_timeout_ms: u64,
    /// Echo servers: wait this long before each reply, like a server doing
    /// real work (makes "the reply reaches a client that already left" certain).
    pub reply_delay_ms: u64,
}

/// Wait before a reply (the `--reply-delay-ms` option); no-op when zero.
async fn reply_delay(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

/// The error a server dies from, with the operation that raised it.
#[derive(Debug)]
pub struct Fatal {
    pub op: &'static str,
    pub err: io::Error,
}

impl Fatal {
    /// `map_err` helper: `.map_err(Fatal::op("accept"))?`.
    pub fn op(op: &'static str) -> impl FnOnce(io::Error) -> Fatal {
        move |err| Fatal { op, err }
    }
}

/// A `netrepro serve` command line no server can run (a usage error: the
/// binary prints it and exits 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServeConfigError {
    #[error("--mode forward is TCP only")]
    ForwardIsTcpOnly,
    #[error("--mode forward needs --upstream ADDR")]
    ForwardNeedsUpstream,
}

impl ServeConfig {
    /// Whether a server can run with these options.
    pub fn check(&self) -> Result<(), ServeConfigError> {
        if matches!(self.mode, Mode::Forward) {
            if matches!(self.proto, Proto::Udp) {
                return Err(ServeConfigError::ForwardIsTcpOnly);
            }
            if self.upstream.is_none() {
                return Err(ServeConfigError::ForwardNeedsUpstream);
            }
        }
        Ok(())
    }
}

/// Run a server until it dies; returns the process exit code (1 after a
/// fatal error, which it logged as its last event line), or, before
/// anything starts, why these options cannot work.
pub fn run(args: ServeConfig) -> Result<ExitCode, ServeConfigError> {
    args.check()?;
    log::start_clock();
    Ok(serve_until_fatal(args))
}

fn serve_until_fatal(args: ServeConfig) -> ExitCode {
    if let (Builtin::NaiveSeq, Proto::Tcp) = (args.impl_, args.proto) {
        // Blocking std sockets, no runtime: the code it models has none.
        return exit_code(serve_seq(&args));
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            log::event("runtime", &err, true);
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(serve(args));
    // Tasks may still sit in reads; the process is ending anyway.
    rt.shutdown_background();
    exit_code(result)
}

/// Exit code 1 after logging the fatal event, 0 if the server returned.
fn exit_code(result: Result<(), Fatal>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(fatal) => {
            log::event(fatal.op, &fatal.err, true);
            ExitCode::from(1)
        }
    }
}

/// `--impl naive-seq --proto tcp`: the sequential blocking servers.
fn serve_seq(args: &ServeConfig) -> Result<(), Fatal> {
    let listener = tcp_seq::bind(SocketAddr::new(args.bind, args.port))?;
    match (args.mode, args.upstream) {
        (Mode::Forward, Some(up)) => tcp_seq::forward(listener, up),
        _ => tcp_seq::echo(listener, Duration::from_millis(args.reply_delay_ms)),
    }
}

async fn serve(args: ServeConfig) -> Result<(), Fatal> {
    let addr = SocketAddr::new(args.bind, args.port);
    let idle = Duration::from_millis(args.idle_timeout_ms.max(1));
    let delay = Duration::from_millis(args.reply_delay_ms);
    match (args.proto, args.mode) {
        (Proto::Tcp, mode) => {
            // Naive keeps tokio's default backlog (128, std's value).
            let listener = match args.impl_ {
                Builtin::Hardened => accept::bind(addr),
                Builtin::Naive | Builtin::NaiveSeq => tokio::net::TcpListener::bind(addr).await,
            }
            .map_err(Fatal::op("bind"))?;
            // macOS: XNU copies SOF_NOSIGPIPE to accepted sockets (sonewconn in
            // bsd/kern/uipc_socket2.c); SIGPIPE is ignored anyway (see sockopt).
            if let Err(err) = sockopt::set_nosigpipe(socket2::SockRef::from(&listener)) {
                log::event("setsockopt", &err, false);
            }
            log::listening(listener.local_addr().map_err(Fatal::op("bind"))?);
            let upstream = args.upstream;
            match (args.impl_, mode, upstream) {
                (Builtin::Naive | Builtin::NaiveSeq, Mode::Echo, _) => {
                    tcp_echo::naive(listener, delay).await
                }
                (Builtin::Hardened, Mode::Echo, _) => {
                    let max = limits::conn_limit(args.max_conns, 1);
                    tcp_echo::hardened(listener, max, idle, delay).await
                }
                (Builtin::Naive | Builtin::NaiveSeq, Mode::Forward, Some(up)) => {
                    tcp_forward::naive(listener, up).await
                }
                (Builtin::Hardened, Mode::Forward, Some(up)) => {
                    let max = limits::conn_limit(args.max_conns, 2);
                    tcp_forward::hardened(listener, up, max, idle).await
                }
                (_, Mode::Forward, None) => unreachable!("checked in run"),
            }
        }
        (Proto::Udp, _) => {
            let hardened = matches!(args.impl_, Builtin::Hardened);
            let sock = udp_echo::bind(addr, |s| {
                udp_echo::apply_ip_recverr(s, addr, args.ip_recverr);
                if let Err(err) = sockopt::set_nosigpipe(socket2::SockRef::from(s)) {
                    log::event("setsockopt", &err, false);
                }
                if hardened {
                    udp_echo::harden_socket(s);
                }
            })
            .map_err(Fatal::op("bind"))?;
            log::listening(sock.local_addr().map_err(Fatal::op("bind"))?);
            if hardened {
                udp_echo::hardened(sock, delay).await
            } else {
                udp_echo::naive(sock, delay).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(proto: Proto, mode: Mode, upstream: Option<SocketAddr>) -> ServeConfig {
        ServeConfig {
            impl_: Builtin::Naive,
            proto,
            mode,
            upstream,
            bind: [127, 0, 0, 1].into(),
            port: 0,
            ip_recverr: false,
            max_conns: 1,
            idle_timeout_ms: 1,
            reply_delay_ms: 0,
        }
    }

    #[test]
    fn forward_needs_tcp_and_an_upstream() {
        let up = Some(SocketAddr::from(([127, 0, 0, 1], 9)));
        assert_eq!(config(Proto::Tcp, Mode::Forward, up).check(), Ok(()));
        assert_eq!(config(Proto::Udp, Mode::Echo, None).check(), Ok(()));
        assert_eq!(
            config(Proto::Udp, Mode::Forward, up).check(),
            Err(ServeConfigError::ForwardIsTcpOnly)
        );
        assert_eq!(
            config(Proto::Tcp, Mode::Forward, None).check(),
            Err(ServeConfigError::ForwardNeedsUpstream)
        );
    }
}
