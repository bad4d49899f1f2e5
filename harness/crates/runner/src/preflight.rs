//! Before the server starts: the checks that decide whether a scenario runs
//! here at all, in order, each in the file for its rule. An external target
//! skips scenarios of the other mode or that pause the server (`external`);
//! options that do not exist on this OS are dropped with a note or skip the
//! scenario (`os_options`); a scenario whose sockets do not fit under the
//! harness's descriptor limit is a harness error (`harness_error`); the
//! scenario's address family must be available and match a `--target-addr`
//! (`family`); a scenario with link faults needs `tc` / `nft` (`link`) and a
//! server it starts itself (a `--target-addr` server is outside the run's
//! network namespace).

use crate::external::{self, ExternalKind};
use crate::family::{self, BadBind};
use crate::plan::Plan;
use crate::{harness_error, link, os_options};
use netrepro_scenario::{Platform, Scenario, ServerOptions};
use std::net::IpAddr;

/// The scenario runs: with these server options, bound to this address.
pub struct Cleared {
    pub options: ServerOptions,
    pub bind: IpAddr,
    /// `netns = true`: the link-fault tools the steps need.
    pub link: Option<link::Tools>,
}

/// The scenario does not run.
#[derive(Debug)]
pub enum NotRun {
    /// Not for this subject or this host; the note says why.
    Skipped(String),
    /// The harness itself cannot run it.
    HarnessError(String),
    /// The scenario cannot be set up.
    Setup(BadBind),
}

/// The checks, in order. Notes about what was adapted (an external target,
/// an option dropped on this OS) go to `notes` either way.
pub fn check(
    sc: &Scenario,
    plan: &Plan<'_>,
    platform: Platform,
    notes: &mut Vec<String>,
) -> Result<Cleared, NotRun> {
    if let Some(x) = plan.ext {
        if let Some(note) = external::mode_skip(sc, x).or_else(|| external::pause_skip(sc, x)) {
            return Err(NotRun::Skipped(note));
        }
        notes.extend(external::notes(sc, x));
    }
    // Options that do not exist on this OS: run without (noted) or skip.
    let options = match os_options::decide(&sc.target.options, platform) {
        os_options::Decision::Run {
            options,
            notes: dropped,
        } => {
            notes.extend(dropped);
            options
        }
        os_options::Decision::Skip { note } => return Err(NotRun::Skipped(note)),
    };
    // The harness's own limits must not become the server's verdict.
    if let Some(why) = harness_error::over_budget(sc, netrepro_sys::fdlimit::available()) {
        return Err(NotRun::HarnessError(why));
    }
    let bind = family::bind_ip(&sc.target.bind).map_err(NotRun::Setup)?;
    if let Some(note) = family::unavailable_skip(bind) {
        return Err(NotRun::Skipped(note));
    }
    if let Some(ExternalKind::Addr(a)) = plan.ext.map(|x| &x.kind) {
        if let Some(note) = family::addr_skip(bind, *a) {
            return Err(NotRun::Skipped(note));
        }
    }
    let link = if sc.target.netns {
        if let Some(ExternalKind::Addr(a)) = plan.ext.map(|x| &x.kind) {
            return Err(NotRun::Skipped(format!(
                "needs a server started inside the run's own network namespace; the --target-addr server at {a} is outside it (use --target-cmd)"
            )));
        }
        Some(link::find_tools(sc).map_err(NotRun::Skipped)?)
    } else {
        None
    };
    Ok(Cleared {
        options,
        bind,
        link,
    })
}
