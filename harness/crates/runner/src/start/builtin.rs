//! Starting a built-in server: `netrepro serve` with the scenario's target
//! (protocol, mode, bind, upstream) and the server options that apply on
//! this OS, ready when it prints `LISTENING <addr>`.

use crate::subject::{RunningTarget, TargetCommand, TargetError};
use netrepro_scenario::{Impl, Mode, Proto, Scenario, ServerOptions};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Arguments for `netrepro serve` that reproduce the scenario's target, with
/// the server `options` that apply on this OS (see `os_options`).
pub fn serve_args(
    sc: &Scenario,
    imp: Impl,
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
        "0".into(),
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

/// Start `program serve ...` for `sc` and wait for its readiness line.
pub async fn spawn(
    program: &Path,
    sc: &Scenario,
    imp: Impl,
    upstream: Option<SocketAddr>,
    options: &ServerOptions,
    ready_timeout: Duration,
) -> Result<RunningTarget, TargetError> {
    let cmd = TargetCommand {
        program: program.to_path_buf(),
        args: serve_args(sc, imp, upstream, options),
        max_fds: options.max_fds,
    };
    RunningTarget::spawn(&cmd, ready_timeout).await
}
