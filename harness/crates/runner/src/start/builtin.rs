//! Starting a built-in server: `netrepro serve` with the scenario's target
//! (protocol, mode, bind, upstream) and the server options that apply on
//! this OS, ready when it prints `LISTENING <addr>`.
//!
//! Its port is the harness's pick (`command::free_port`: outside the
//! ephemeral range, not handed out again by this process for the next 511
//! picks), not the kernel's: a port the kernel picks for a server that
//! then crashed can go to the next run's server at once, and the crashed
//! run's next client reached that one. Seen at 64 runs at once:
//! tcp-listen-overflow-storm [naive-seq], whose server had died (the second
//! burst's 1,000 connects all refused), had its last client connect and get
//! a 16-byte echo back, from another run's server on the same port.

use crate::subject::{RunningTarget, TargetCommand, TargetError};
use netrepro_scenario::{Impl, Mode, Proto, Scenario, ServerOptions};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// Arguments for `netrepro serve` that reproduce the scenario's target on
/// `port` (0: the kernel's pick), with the server `options` that apply on
/// this OS (see `os_options`).
pub fn serve_args(
    sc: &Scenario,
    imp: Impl,
    port: u16,
    upstream: Option<SocketAddr>,
    options: &ServerOptions,
) -> Vec<String> {
    let t = &sc.target;
    let mut args = vec![
        "serve".to_string(),
        "--impl".into(),
        imp.as_str().into(),
        "--proto".into(),
        match t.proto {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
        .into(),
        "--mode".into(),
        match t.mode {
            Mode::Echo => "echo",
            Mode::Forward => "forward",
        }
        .into(),
        "--bind".into(),
        t.bind.clone(),
        "--port".into(),
        port.to_string(),
    ];
    if let Some(up) = upstream {
        args.extend(["--upstream".into(), up.to_string()]);
    }
    if options.ip_recverr {
        args.push("--ip-recverr".into());
    }
    if let Some(ms) = options.reply_delay_ms {
        args.extend(["--reply-delay-ms".into(), ms.to_string()]);
    }
    if let Some(ms) = t.options.idle_timeout_ms {
        args.extend(["--idle-timeout-ms".into(), ms.to_string()]);
    }
    args
}

/// Start `program serve ...` for `sc` on `bind` and wait for its readiness
/// line.
pub async fn spawn(
    program: &Path,
    sc: &Scenario,
    imp: Impl,
    bind: IpAddr,
    upstream: Option<SocketAddr>,
    options: &ServerOptions,
    ready_timeout: Duration,
) -> Result<RunningTarget, TargetError> {
    // The harness's port (module doc); if none is free, the kernel's.
    let port = super::command::free_port(bind, sc.target.proto).map_or(0, |at| at.port());
    let cmd = TargetCommand {
        program: program.to_path_buf(),
        args: serve_args(sc, imp, port, upstream, options),
        max_fds: options.max_fds,
    };
    RunningTarget::spawn(&cmd, ready_timeout).await
}
