//! `netrepro bench accept`: how fast each built-in TCP server takes
//! connections that abort at once (connect, then RST), side by side with a
//! minimal blocking accept loop, under the same storm client in one run.
//!
//! A benchmark, not a test: it prints figures and never fails on them. The
//! storm client is one thread doing blocking `connect`, SO_LINGER 0, close,
//! as fast as it can, for a fixed number of cycles (bounded also in time).
//! A connect that takes a second or more means a SYN was dropped (listen
//! queue full) and retransmitted after the initial RTO (RFC 6298: 1 s):
//! those are counted as stalls. The baseline is the loop any C or Rust
//! programmer writes first: `accept`, `close`, repeat, on a std listener.

use netrepro_sys::outln;
use socket2::SockRef;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A connect this slow waited for a SYN retransmit (initial RTO is 1 s).
const STALL: Duration = Duration::from_millis(900);
/// Upper bound of one connect (a stalled one retransmits at 1 s, 3 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long a server may take to print `LISTENING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchWhat {
    /// connect+RST cycles/s of a minimal accept loop and of every built-in TCP server.
    Accept(AcceptArgs),
}

#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// Storm cycles (connect, abort) per server.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub cycles: u32,
    /// Stop a server's storm after this many seconds even if cycles remain.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub max_secs: u64,
}

/// What one storm against one server measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Storm {
    pub cycles: u32,
    pub elapsed: Duration,
    /// Connects that took `STALL` or more (a dropped SYN, retransmitted).
    pub stalls: u32,
    /// Connects that failed (refused, timed out: the server died or stopped).
    pub failed: u32,
    pub slowest: Duration,
}

impl Storm {
    pub fn per_sec(&self) -> f64 {
        f64::from(self.cycles) / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Run `cycles` connect+abort cycles against `addr` (at most `max` long).
pub fn storm(addr: SocketAddr, cycles: u32, max: Duration) -> Storm {
    let start = Instant::now();
    let mut s = Storm {
        cycles: 0,
        elapsed: Duration::ZERO,
        stalls: 0,
        failed: 0,
        slowest: Duration::ZERO,
    };
    while s.cycles < cycles && start.elapsed() < max {
        let t = Instant::now();
        let res = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT);
        let took = t.elapsed();
        s.slowest = s.slowest.max(took);
        if took >= STALL {
            s.stalls += 1;
        }
        match res {
            Ok(c) => {
                // Abort: RST, not FIN. If it fails the close is a FIN, which
                // is still a finished cycle.
                let _ = SockRef::from(&c).set_linger(Some(Duration::ZERO));
                drop(c);
                s.cycles += 1;
            }
            Err(_) => {
                s.failed += 1;
                if s.failed >= 10 {
                    break;
                }
            }
        }
    }
    s.elapsed = start.elapsed();
    s
}

/// The baseline: accept and close, nothing else, on its own thread, on a
/// listener with the backlog a C programmer passes (`listen(fd, SOMAXCONN)`;
/// on Linux the kernel caps it at somaxconn), i.e. the kernel's maximum.
fn baseline() -> std::io::Result<SocketAddr> {
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    sock.bind(&addr.into())?;
    sock.listen(netrepro_servers::max_listen_backlog())?;
    let l: TcpListener = sock.into();
    let addr = l.local_addr()?;
    std::thread::spawn(move || {
        for c in l.incoming() {
            drop(c);
        }
    });
    Ok(addr)
}

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

/// `netrepro bench accept`.
pub fn main(args: BenchArgs) -> u8 {
    let BenchWhat::Accept(a) = args.what;
    let max = Duration::from_secs(a.max_secs);
    let upstream = match baseline() {
        Ok(addr) => addr,
        Err(e) => {
            netrepro_sys::errln!("error: cannot bind the baseline listener: {e}");
            return crate::exit::EXIT_INPUT;
        }
    };
    outln!(
        "{:<28} {:>8} {:>9} {:>10} {:>7} {:>7} {:>10}",
        "server",
        "cycles",
        "secs",
        "cycles/s",
        "vs base",
        "stalls",
        "slowest ms"
    );
    let base = storm(upstream, a.cycles, max);
    row("baseline (blocking accept)", &base, &base, "");
    let up = upstream.to_string();
    // Every built-in TCP server: each impl as an echo, then as a forwarder
    // to the baseline listener.
    let mut subjects = Vec::new();
    for forward in [false, true] {
        for imp in ["naive", "naive-seq", "hardened"] {
            let mut args: Vec<String> =
                ["--impl", imp, "--proto", "tcp"].map(String::from).to_vec();
            if forward {
                args.extend(["--mode", "forward", "--upstream", &up].map(String::from));
            }
            let kind = if forward { "forward" } else { "echo" };
            subjects.push((format!("{imp} {kind}"), args));
        }
    }
    for (name, args) in subjects {
        match serve(&args) {
            Ok((mut child, addr)) => {
                let s = storm(addr, a.cycles, max);
                let died = match exited(&mut child.0) {
                    Some(st) => format!(" (server exited: {st})"),
                    None => String::new(),
                };
                row(&name, &s, &base, &died);
            }
            Err(e) => outln!("{name:<28} not run: {e}"),
        }
    }
    crate::exit::EXIT_OK
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

fn row(name: &str, s: &Storm, base: &Storm, note: &str) {
    let ratio = s.per_sec() / base.per_sec().max(1e-9);
    let failed = if s.failed > 0 {
        format!(" ({} connects failed)", s.failed)
    } else {
        String::new()
    };
    outln!(
        "{:<28} {:>8} {:>9.2} {:>10.0} {:>6.0}% {:>7} {:>10}{failed}{note}",
        name,
        s.cycles,
        s.elapsed.as_secs_f64(),
        s.per_sec(),
        ratio * 100.0,
        s.stalls,
        s.slowest.as_millis()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storm_against_the_baseline_counts_every_cycle() {
        let addr = baseline().unwrap();
        let s = storm(addr, 50, Duration::from_secs(30));
        assert_eq!(s.cycles, 50);
        assert_eq!(s.failed, 0);
    }

    #[test]
    fn storm_against_a_closed_port_stops_after_failures() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let s = storm(addr, 50, Duration::from_secs(30));
        assert_eq!(s.cycles, 0);
        assert_eq!(s.failed, 10);
    }
}
