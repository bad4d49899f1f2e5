//! What one run is before anything starts: the subject it runs against (a
//! built-in implementation or the user's external target), the expectation
//! that applies to that subject on this platform, and the probe.

use crate::config::RunConfig;
use crate::external::ExternalTarget;
use crate::probe::ProbeSpec;
use netrepro_scenario::{Expectation, Impl, Scenario};
use std::time::Duration;

/// What a scenario runs against.
#[derive(Debug, Clone)]
pub enum Subject {
    Builtin(Impl),
    External(ExternalTarget),
}

impl Subject {
    /// Short name for progress output: the impl, or "external".
    pub fn label(&self) -> &'static str {
        match self {
            Subject::Builtin(imp) => imp.as_str(),
            Subject::External(_) => Impl::External.as_str(),
        }
    }
}

/// One scenario x subject, resolved.
pub struct Plan<'a> {
    /// The implementation the result is for (`external` for a target).
    pub imp: Impl,
    /// What the scenario expects of it here (an external target: `--expect`).
    pub expect: Expectation,
    pub ext: Option<&'a ExternalTarget>,
    /// What the probe (and `probe` steps) send and which reply counts.
    pub probe: ProbeSpec,
    /// How long a probe may wait: the runner's bound plus the scenario's
    /// reply delay.
    pub probe_limit: Duration,
}

impl<'a> Plan<'a> {
    pub fn new(sc: &Scenario, subject: &'a Subject, cfg: &RunConfig) -> Plan<'a> {
        let (imp, expect, ext) = match subject {
            Subject::Builtin(imp) => (
                *imp,
                sc.expect
                    .get(imp)
                    .map(|e| e.resolve(cfg.platform))
                    .unwrap_or_default(),
                None,
            ),
            Subject::External(x) => (
                Impl::External,
                Expectation {
                    server: x.expect.clone(),
                    ..Default::default()
                },
                Some(x),
            ),
        };
        Plan {
            imp,
            expect,
            ext,
            probe: ext.map(|x| x.probe.clone()).unwrap_or_default(),
            probe_limit: probe_limit(sc, cfg),
        }
    }
}

/// How long a probe of `sc`'s server may wait: the runner's bound plus the
/// scenario's reply delay.
pub fn probe_limit(sc: &Scenario, cfg: &RunConfig) -> Duration {
    cfg.probe_timeout + Duration::from_millis(sc.target.options.reply_delay_ms.unwrap_or(0))
}
