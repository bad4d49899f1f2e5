//! The last bound on one cell (scenario x subject). Every wait inside a run
//! has its own bound; this one catches a wait that turned out not to (a
//! netrepro bug, e.g. a send that never completes under Wine), so one cell
//! can never hang the whole run. It is generous on purpose: twice every
//! stage's own bound added up, plus a fixed margin. When it fires the cell
//! is the harness's error, not the server's verdict, and the server is
//! killed when the dropped run drops it.

use crate::config::RunConfig;
use std::time::Duration;

/// A fixed margin on top of the stages' bounds (process start-up on a
/// loaded machine, the link tools, quiescing a forwarder).
const MARGIN: Duration = Duration::from_secs(30);

/// How long one run of `scenario_timeout_ms` may take in all, with
/// `probe_limit` for each probe.
pub fn limit(cfg: &RunConfig, scenario_timeout_ms: u64, probe_limit: Duration) -> Duration {
    if let Some(fixed) = cfg.cell_backstop {
        return fixed;
    }
    // The ready timeout twice: a turn at the start gate is bounded by it
    // too (`start::STARTS_PER_CPU`).
    let stages = cfg.ready_timeout * 2
        + Duration::from_millis(scenario_timeout_ms)
        + probe_limit * 2
        + cfg.exit_grace
        + cfg.settle_timeout;
    stages * 2 + MARGIN
}

/// [`limit`] for a run of `sc`.
pub fn for_scenario(cfg: &RunConfig, sc: &netrepro_scenario::Scenario) -> Duration {
    limit(cfg, sc.timeout_ms, crate::plan::probe_limit(sc, cfg))
}

/// The harness error recorded when the backstop fires.
pub fn reason(limit: Duration) -> String {
    format!(
        "the harness did not finish this run within its backstop of {:.1} s: a wait inside \
         netrepro was not bounded (a netrepro bug; please report it). The server was killed; \
         this says nothing about it",
        limit.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_stage_and_can_be_fixed() {
        let mut cfg = RunConfig::new("netrepro".into());
        let l = limit(&cfg, 15_000, Duration::from_secs(2));
        // 2 x (2 x 5 + 15 + 4 + 0.2 + 1.5) + 30
        assert_eq!(l, Duration::from_millis(91_400));
        cfg.cell_backstop = Some(Duration::from_millis(10));
        assert_eq!(
            limit(&cfg, 15_000, Duration::from_secs(2)),
            Duration::from_millis(10)
        );
        assert!(reason(l).contains("91.4 s"));
    }
}
