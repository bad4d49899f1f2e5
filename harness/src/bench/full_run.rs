//! The benchmarks that go through a whole `netrepro run` result, the way
//! `run` does it (`netrepro_runner::run_one` against the built-in hardened
//! server as a child process): [`overhead`] (an empty scenario: start the
//! server, see it ready, probe, settle, sample resources, stop) and
//! [`scaling`] (a storm of N cycles, then its JSON report written).

use super::actors;
use netrepro_report::{host, json, ResultRecord, Status, Summary};
use netrepro_runner::RunConfig;
use netrepro_scenario::{Impl, ScenarioError};
use std::path::Path;
use std::time::{Duration, Instant};

/// Where one result's time went, from its record: resource samples carry
/// the ms since the server was spawned, the record its whole duration.
#[derive(Debug, Clone, Default)]
pub struct Parts {
    /// Spawn, `LISTENING`, and the baseline sample.
    pub ready_ms: Vec<f64>,
    /// One resource sample (the "after" sample follows the baseline with
    /// no steps in between).
    pub sample_ms: Vec<f64>,
    /// From the settled sample to the end: the busy check and the stop.
    pub tail_ms: Vec<f64>,
}

impl Parts {
    fn add(&mut self, rec: &ResultRecord) {
        let at = |label: &str| {
            rec.samples
                .iter()
                .find(|s| s.label == label)
                .map(|s| s.t_ms as f64)
        };
        if let Some(b) = at("baseline") {
            self.ready_ms.push(b);
            if let Some(a) = at("after") {
                self.sample_ms.push(a - b);
            }
        }
        if let Some(s) = at("settled") {
            self.tail_ms.push(rec.duration_ms as f64 - s);
        }
    }
}

/// Per-result overhead: the wall time of each of `runs` results of an
/// empty scenario, sorted, where the time went, and a note for any result
/// that did not pass.
pub async fn overhead(
    cfg: &RunConfig,
    runs: u32,
    max: Duration,
) -> Result<(Vec<Duration>, Parts, Vec<String>), ScenarioError> {
    let sc = actors::empty_scenario()?;
    let started = Instant::now();
    let mut times = Vec::new();
    let mut parts = Parts::default();
    let mut notes = Vec::new();
    for _ in 0..runs {
        if started.elapsed() >= max {
            notes.push(format!("overhead: stopped after {max:?}"));
            break;
        }
        let t = Instant::now();
        let rec = netrepro_runner::run_one(&sc, Impl::Hardened, cfg).await;
        times.push(t.elapsed());
        parts.add(&rec);
        notes.extend(not_passed("overhead", &rec));
    }
    times.sort();
    Ok((times, parts, notes))
}

/// The middle of sorted durations (the lower one of an even count).
pub fn median(sorted: &[Duration]) -> Option<Duration> {
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// One storm size of the scaling benchmark.
#[derive(Debug, Clone)]
pub struct Scaled {
    /// The whole result plus writing its report.
    pub elapsed: Duration,
    pub report_bytes: u64,
    pub notes: Vec<String>,
}

/// A storm of `cycles` against the hardened server as one result of a
/// run, then the report holding it written to `dir` as `run` writes it.
pub async fn scaling(
    cfg: &RunConfig,
    cycles: u64,
    max: Duration,
    dir: &Path,
) -> Result<Scaled, ScenarioError> {
    let sc = actors::storm_scenario(cycles, max)?;
    let mut notes = Vec::new();
    let t = Instant::now();
    let rec = netrepro_runner::run_one(&sc, Impl::Hardened, cfg).await;
    notes.extend(not_passed("scaling", &rec));
    let mut report = host::new_report(host::now_rfc3339());
    report.results.push(rec);
    report.summary = Summary::of(&report.results);
    report.complete = true;
    let path = dir.join(format!("storm-{cycles}.json"));
    let report_bytes = match json::write_atomic(&path, &report) {
        Ok(()) => std::fs::metadata(&path).map_or(0, |m| m.len()),
        Err(e) => {
            notes.push(format!("scaling: cannot write {}: {e}", path.display()));
            0
        }
    };
    Ok(Scaled {
        elapsed: t.elapsed(),
        report_bytes,
        notes,
    })
}

/// A note for a result that did not pass: its figure is still printed,
/// but it did not measure what it was meant to.
fn not_passed(bench: &str, rec: &ResultRecord) -> Option<String> {
    (rec.status != Status::Passed).then(|| {
        format!(
            "{bench}: {} against hardened: {} (verdict {:?}; {})",
            rec.scenario.name,
            rec.status.as_str(),
            rec.verdict,
            rec.notes.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_sorted_durations() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        assert_eq!(median(&ms(&[1, 2, 9])), Some(Duration::from_millis(2)));
        assert_eq!(median(&ms(&[1, 2, 3, 9])), Some(Duration::from_millis(2)));
        assert_eq!(median(&[]), None);
    }
}
