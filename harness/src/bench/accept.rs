//! `netrepro bench accept`: how fast each built-in TCP server takes
//! connections that abort at once (connect, then RST), side by side with
//! the minimal blocking accept loop of `sinks`, under the same raw storm
//! client (`raw::storm`) in one run.
//!
//! The storm client is one thread doing blocking `connect`, SO_LINGER 0,
//! close, as fast as it can, for a fixed number of cycles (bounded also in
//! time). A connect that takes a second or more means a SYN was dropped
//! (listen queue full) and retransmitted after the initial RTO (RFC 6298:
//! 1 s): those are counted as stalls and printed in the notes.

use super::figures::Results;
use super::raw::{self, Storm};
use super::sinks::TcpSink;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to print `LISTENING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A `netrepro serve` child; killed and reaped on drop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Why a server could not be started for a storm (printed as "not run: ...").
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("current exe: {0}")]
    CurrentExe(std::io::Error),
    #[error("spawn serve: {0}")]
    Spawn(std::io::Error),
    #[error("no stdout")]
    NoStdout,
    #[error("no LISTENING line in time")]
    NotReady,
    #[error("read stdout: {0}")]
    ReadStdout(std::io::Error),
    #[error("unexpected first line {0:?}")]
    UnexpectedLine(String),
}

fn serve(args: &[String]) -> Result<(Served, SocketAddr), ServeError> {
    let exe = std::env::current_exe().map_err(ServeError::CurrentExe)?;
    let mut child = Command::new(exe)
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(ServeError::Spawn)?;
    let stdout = child.stdout.take().ok_or(ServeError::NoStdout)?;
    let served = Served(child);
    // The first line, read on a thread so a silent server cannot hang us.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let mut r = BufReader::new(stdout);
        let _ = tx.send(r.read_line(&mut line).map(|_| line));
        // Keep draining so the server never blocks on stdout.
        let mut sink = String::new();
        while matches!(r.read_line(&mut sink), Ok(n) if n > 0) {
            sink.clear();
        }
    });
    let line = rx
        .recv_timeout(READY_TIMEOUT)
        .map_err(|_| ServeError::NotReady)?
        .map_err(ServeError::ReadStdout)?;
    let addr = line
        .trim()
        .strip_prefix("LISTENING ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| ServeError::UnexpectedLine(line.trim().to_string()))?;
    Ok((served, addr))
}

/// The accept comparison: `cycles` storm cycles (each server's storm at
/// most `max`) against the minimal accept loop, then against each built-in
/// TCP server as an echo and as a forwarder to that loop.
pub fn accept(cycles: u32, max: Duration, out: &mut Results) {
    let sink = match TcpSink::start() {
        Ok(s) => s,
        Err(e) => return out.note(format!("accept: cannot bind the minimal accept loop: {e}")),
    };
    let base = raw::storm(sink.addr(), cycles, max);
    record(out, "baseline", "minimal accept loop", &base, "");
    let up = sink.addr().to_string();
    for forward in [false, true] {
        for imp in ["naive", "naive-seq", "hardened"] {
            let mut args: Vec<String> =
                ["--impl", imp, "--proto", "tcp"].map(String::from).to_vec();
            if forward {
                args.extend(["--mode", "forward", "--upstream", &up].map(String::from));
            }
            let kind = if forward { "forward" } else { "echo" };
            let id = format!("{imp}-{kind}");
            match serve(&args) {
                Ok((mut child, addr)) => {
                    let s = raw::storm(addr, cycles, max);
                    let died = match exited(&mut child.0) {
                        Some(st) => format!("; the server exited: {st}"),
                        None => String::new(),
                    };
                    if record(out, &id, &format!("{imp} {kind}"), &s, &died) {
                        out.ratio(
                            "accept",
                            &format!("accept.{id}"),
                            &format!("{imp} {kind} / minimal accept loop: cycles/s"),
                            &format!("accept.{id}"),
                            "accept.baseline",
                        );
                    }
                }
                Err(e) => out.note(format!("accept: {imp} {kind}: not run: {e}")),
            }
        }
    }
}

/// The server's exit status if it has exited (or does within 500 ms of a
/// failed storm: refused connects mean it is on its way out).
fn exited(child: &mut Child) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + Duration::from_millis(500);
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => return None,
        }
    }
}

/// A storm's rate as a figure if every cycle ran; anything unusual
/// (stalls, failed connects, a server that died) goes to the notes.
fn record(out: &mut Results, id: &str, name: &str, s: &Storm, died: &str) -> bool {
    let measured = s.failed == 0 && s.cycles > 0;
    if measured {
        out.figure(
            "accept",
            format!("accept.{id}"),
            format!("{name}: connect+RST cycles/s ({} cycles)", s.cycles),
            s.per_sec(),
            "cycles/s",
        );
    }
    if s.failed > 0 || s.stalls > 0 || !died.is_empty() {
        out.note(format!(
            "accept: {name}: {} cycles in {:.2} s, {} connects failed, {} stalled (slowest {} ms){died}",
            s.cycles,
            s.elapsed.as_secs_f64(),
            s.failed,
            s.stalls,
            s.slowest.as_millis()
        ));
    }
    measured
}
