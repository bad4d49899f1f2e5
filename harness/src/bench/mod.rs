//! `netrepro bench`: benchmarks that print figures and never fail on them.
//! Each compares netrepro with what a programmer writes by hand, in one
//! run on the same machine, against the same minimal server (`sinks`):
//!
//! - `storm`: connect+RST cycles/s of the runner's client actors running a
//!   scenario with a large repeat block (`actors`) vs a raw blocking
//!   socket2 client (`raw`);
//! - `udp`: UDP echo round trips/s, the same way;
//! - `overhead`: wall time of one whole result of an empty scenario
//!   against the built-in hardened server (`full_run`);
//! - `scaling`: one result of a 100 / 1,000 / 10,000-cycle storm: wall
//!   time and JSON report size;
//! - `accept`: connect+RST cycles/s of every built-in TCP server vs the
//!   minimal accept loop (`accept`);
//! - `all`: every one of them, one table.
//!
//! The output (`figures`) is one table, ratios first, or JSON with
//! `--json`. Every loop is bounded in count and in time; all traffic is on
//! loopback.

mod accept;
mod actors;
mod figures;
mod full_run;
mod raw;
mod sinks;

use crate::exit::{EXIT_INPUT, EXIT_OK};
use figures::Results;
use netrepro_scenario::Scenario;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchWhat {
    /// Everything below, one table (ratios first).
    All(Common),
    /// connect+RST cycles/s: netrepro's client actors vs a raw socket2 client.
    Storm(Common),
    /// UDP echo round trips/s: netrepro's client actors vs a raw std client.
    Udp(Common),
    /// Wall time of one result of an empty scenario (start, ready, probe, settle, stop).
    Overhead(Common),
    /// One storm result of 100 / 1,000 / 10,000 cycles: wall time and report size.
    Scaling(Common),
    /// connect+RST cycles/s of a minimal accept loop and of every built-in TCP server.
    Accept(AcceptArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Small counts (a few seconds in all; figures are noisier).
    #[arg(long)]
    pub quick: bool,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    #[command(flatten)]
    pub common: Common,
    /// Storm cycles (connect, abort) per server [default: 5000, --quick 300].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub cycles: Option<u32>,
    /// Stop a server's storm after this many seconds even if cycles remain.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub max_secs: u64,
}

/// The counts of one run: full, or `--quick`.
struct Sizes {
    storm: u32,
    udp: u32,
    overhead_runs: u32,
    scaling: [u64; 3],
    accept: u32,
    /// Interleaved rounds of the storm and UDP comparisons (odd: a real median).
    rounds: u32,
    /// Bound of each storm, each round-trip run and each benchmark's loop.
    max: Duration,
}

impl Sizes {
    fn of(quick: bool) -> Sizes {
        if quick {
            Sizes {
                storm: 3_000,
                udp: 3_000,
                overhead_runs: 3,
                scaling: [10, 100, 1_000],
                accept: 300,
                rounds: 3,
                max: Duration::from_secs(10),
            }
        } else {
            Sizes {
                storm: 21_000,
                udp: 21_000,
                overhead_runs: 20,
                scaling: [100, 1_000, 10_000],
                accept: 5_000,
                rounds: 7,
                max: Duration::from_secs(60),
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Storm,
    Udp,
    Overhead,
    Scaling,
    Accept,
}

/// `netrepro bench ...`.
pub fn main(args: BenchArgs) -> u8 {
    use Which::*;
    let (common, which, accept_cycles, accept_max) = match args.what {
        BenchWhat::All(c) => (c, vec![Storm, Udp, Overhead, Scaling, Accept], None, None),
        BenchWhat::Storm(c) => (c, vec![Storm], None, None),
        BenchWhat::Udp(c) => (c, vec![Udp], None, None),
        BenchWhat::Overhead(c) => (c, vec![Overhead], None, None),
        BenchWhat::Scaling(c) => (c, vec![Scaling], None, None),
        BenchWhat::Accept(a) => (
            a.common,
            vec![Accept],
            a.cycles,
            Some(Duration::from_secs(a.max_secs)),
        ),
    };
    let mut sizes = Sizes::of(common.quick);
    if let Some(c) = accept_cycles {
        sizes.accept = c;
    }
    let cfg = match crate::runtime::config_for_this_binary() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rt = match crate::runtime::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut out = Results::new(common.quick);
    for w in which {
        let r = match w {
            Storm => rt.block_on(storm(&sizes, &mut out)),
            Udp => rt.block_on(udp(&sizes, &mut out)),
            Overhead => rt.block_on(overhead(&cfg, &sizes, &mut out)),
            Scaling => rt.block_on(scaling(&cfg, &sizes, &mut out)),
            Accept => {
                accept::accept(sizes.accept, accept_max.unwrap_or(sizes.max), &mut out);
                Ok(())
            }
        };
        if let Err(e) = r {
            netrepro_sys::errln!("error: netrepro bench: {e}");
            return EXIT_INPUT;
        }
    }
    if common.json {
        out.print_json();
    } else {
        out.print_text();
    }
    EXIT_OK
}

/// What keeps a benchmark from running at all (a generated scenario that
/// does not parse is a bug; a failed bind is this machine's).
#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("{0}")]
    Scenario(#[from] netrepro_scenario::ScenarioError),
    #[error("cannot start the minimal server: {0}")]
    Sink(std::io::Error),
    #[error("cannot create a folder for the reports: {0}")]
    TempDir(std::io::Error),
}

/// Rates of both sides of a comparison over interleaved rounds.
#[derive(Debug, Default)]
struct Rounds {
    ours: Vec<f64>,
    theirs: Vec<f64>,
}

impl Rounds {
    /// Each side's median rate and best round (on a loaded machine the
    /// best round is the closer estimate of what a side can do), the
    /// ratios of both, and a note with every round's rate (the spread says
    /// how much the machine's load moved the figures).
    fn record(mut self, bench: &'static str, what: &str, unit: &'static str, out: &mut Results) {
        let list = |v: &[f64]| {
            v.iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.note(format!(
            "{bench}: {unit} per round: netrepro [{}], raw [{}]",
            list(&self.ours),
            list(&self.theirs)
        ));
        if let Some(p) = paired_median(&self.ours, &self.theirs) {
            // Each round's two turns ran back to back, so their ratio is
            // the one least moved by the load and by where the kernel put
            // the threads (docs/benchmarks.md).
            out.note(format!(
                "{bench}: netrepro / raw of each round's two turns: median {p:.3}"
            ));
        }
        for (side, who, v) in [
            ("netrepro", "netrepro actors", &mut self.ours),
            ("raw", "raw client", &mut self.theirs),
        ] {
            let n = v.len();
            out.figure(
                bench,
                format!("{bench}.{side}"),
                format!("{who}: {what}, median of {n} rounds"),
                median(v),
                unit,
            );
            out.figure(
                bench,
                format!("{bench}.{side}.best"),
                format!("{who}: {what}, best of {n} rounds"),
                v.last().copied().unwrap_or(0.0),
                unit,
            );
        }
        for (id, kind) in [("", "median"), (".best", "best round")] {
            out.ratio(
                bench,
                &format!("{bench}{id}"),
                &format!("netrepro / raw: {what}, {kind}"),
                &format!("{bench}.netrepro{id}"),
                &format!("{bench}.raw{id}"),
            );
        }
    }
}

/// The median of the per-round ratios `ours[i] / theirs[i]`; `None` unless
/// both sides have every round (a failed raw run leaves a gap) and none is 0.
fn paired_median(ours: &[f64], theirs: &[f64]) -> Option<f64> {
    if ours.is_empty() || ours.len() != theirs.len() || theirs.contains(&0.0) {
        return None;
    }
    let mut r: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    Some(median(&mut r))
}

/// The middle value (0 for none), sorting `v` (ascending: its last is the
/// largest).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0.0)
}

/// One comparison: `rounds` turns of netrepro's actors running `sc`
/// against `addr` (counting the runs of `op` that went as asked) and of the
/// raw client `theirs` (blocking, so on a thread of its own, off the
/// runtime's workers), each round the other one first, so a change in the
/// machine's load hits both alike.
async fn interleave<F>(
    bench: &'static str,
    rounds: u32,
    (sc, addr, op): (&Arc<Scenario>, SocketAddr, &'static str),
    theirs: F,
    out: &mut Results,
) -> Rounds
where
    F: Fn() -> std::io::Result<raw::Tally> + Send + Clone + 'static,
{
    let mut r = Rounds::default();
    for round in 0..rounds {
        for side in [round % 2, 1 - round % 2] {
            if side == 0 {
                let c = actors::run_steps(sc, addr, op).await;
                if c.failed > 0 {
                    out.note(format!(
                        "{bench}: netrepro: {} runs of a step failed",
                        c.failed
                    ));
                }
                r.ours.push(raw::per_sec(c.ok, c.elapsed));
                continue;
            }
            match tokio::task::spawn_blocking(theirs.clone()).await {
                Ok(Ok(t)) => {
                    if t.failed > 0 {
                        out.note(format!("{bench}: raw: {} failed", t.failed));
                    }
                    r.theirs.push(raw::per_sec(t.ok, t.elapsed));
                }
                Ok(Err(e)) => out.note(format!("{bench}: raw client: {e}")),
                Err(e) => out.note(format!("{bench}: raw client: {e}")),
            }
        }
    }
    r
}

/// connect+RST cycles against the minimal accept loop.
async fn storm(sizes: &Sizes, out: &mut Results) -> Result<(), BenchError> {
    let sink = sinks::TcpSink::start().map_err(BenchError::Sink)?;
    let per_round = sizes.storm / sizes.rounds;
    let sc = actors::storm_scenario(u64::from(per_round), sizes.max)?;
    let (addr, max) = (sink.addr(), sizes.max);
    let theirs = move || Ok(raw::storm(addr, per_round, max).tally());
    let rounds = interleave("storm", sizes.rounds, (&sc, addr, "abort"), theirs, out).await;
    let what = format!("connect+RST cycles/s ({per_round} cycles)");
    rounds.record("storm", &what, "cycles/s", out);
    Ok(())
}

/// UDP echo round trips against the echo thread.
async fn udp(sizes: &Sizes, out: &mut Results) -> Result<(), BenchError> {
    let echo = sinks::UdpEcho::start().map_err(BenchError::Sink)?;
    let per_round = sizes.udp / sizes.rounds;
    let sc = actors::udp_scenario(u64::from(per_round), sizes.max)?;
    let (addr, max, n) = (echo.addr(), sizes.max, u64::from(per_round));
    let theirs = move || raw::udp_echo(addr, n, actors::DATAGRAM, max);
    let rounds = interleave("udp", sizes.rounds, (&sc, addr, "recv"), theirs, out).await;
    let what = format!("echo round trips/s ({per_round} x {} B)", actors::DATAGRAM);
    rounds.record("udp", &what, "round trips/s", out);
    Ok(())
}

async fn overhead(
    cfg: &netrepro_runner::RunConfig,
    sizes: &Sizes,
    out: &mut Results,
) -> Result<(), BenchError> {
    let (times, mut parts, notes) = full_run::overhead(cfg, sizes.overhead_runs, sizes.max).await?;
    notes.into_iter().for_each(|n| out.note(n));
    let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
    out.figure(
        "overhead",
        "overhead.median",
        format!(
            "one result of an empty scenario, median of {} (hardened)",
            times.len()
        ),
        ms(full_run::median(&times)),
        "ms",
    );
    out.figure(
        "overhead",
        "overhead.min",
        "one result of an empty scenario, fastest",
        ms(times.first().copied()),
        "ms",
    );
    // Where it went (whole ms from the record; a part under 1 ms is a note).
    for (id, what, v) in [
        (
            "ready",
            "of which: spawn, LISTENING, first sample",
            &mut parts.ready_ms,
        ),
        (
            "sample",
            "of which: one resource sample",
            &mut parts.sample_ms,
        ),
        (
            "tail",
            "of which: settled to end (busy check, stop)",
            &mut parts.tail_ms,
        ),
    ] {
        out.figure(
            "overhead",
            format!("overhead.{id}"),
            format!("{what}, median"),
            median(v),
            "ms",
        );
    }
    Ok(())
}

async fn scaling(
    cfg: &netrepro_runner::RunConfig,
    sizes: &Sizes,
    out: &mut Results,
) -> Result<(), BenchError> {
    let dir = tempfile::tempdir().map_err(BenchError::TempDir)?;
    for n in sizes.scaling {
        let s = full_run::scaling(cfg, n, sizes.max, dir.path()).await?;
        s.notes.into_iter().for_each(|n| out.note(n));
        out.figure(
            "scaling",
            format!("scaling.{n}.ms"),
            format!("storm of {n} cycles: one result + its report (hardened)"),
            s.elapsed.as_secs_f64() * 1e3,
            "ms",
        );
        out.figure(
            "scaling",
            format!("scaling.{n}.bytes"),
            format!("storm of {n} cycles: JSON report size"),
            s.report_bytes as f64,
            "bytes",
        );
    }
    let [small, _, large] = sizes.scaling;
    out.ratio(
        "scaling",
        "scaling.ms",
        &format!("{large} / {small} cycles: wall time of the result"),
        &format!("scaling.{large}.ms"),
        &format!("scaling.{small}.ms"),
    );
    out.ratio(
        "scaling",
        "scaling.bytes",
        &format!("{large} / {small} cycles: report size"),
        &format!("scaling.{large}.bytes"),
        &format!("scaling.{small}.bytes"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_median_pairs_rounds_and_refuses_gaps() {
        // Rounds 0.5, 2.0, 1.0: the median of the paired ratios is 1.0,
        // whatever the medians of the sides are (2 / 3 here).
        assert_eq!(paired_median(&[1.0, 4.0, 3.0], &[2.0, 2.0, 3.0]), Some(1.0));
        assert_eq!(paired_median(&[1.0, 2.0], &[1.0]), None);
        assert_eq!(paired_median(&[1.0], &[0.0]), None);
        assert_eq!(paired_median(&[], &[]), None);
    }
}
