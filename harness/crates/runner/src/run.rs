//! The runner: for one scenario x implementation, start a fresh server
//! process, run the client actors, decide the verdict, compare it with the
//! expectation. Every wait is bounded; the server is killed and reaped at
//! the end whatever happened.

use crate::external::{self, ExternalKind, ExternalTarget};
use crate::{busy, cut_short, decide, family, harness_error, os_options, probe, settle};

use crate::client::Session;
use crate::subject::{RunningTarget, TargetCommand};
use external::Live;
use netrepro_observe::ExitInfo;
use netrepro_report::Status;
use netrepro_report::{ResultRecord, ScenarioInfo};
use netrepro_scenario::{Impl, Mode, Platform, Proto, Scenario, ServerOptions, Verdict};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// Bounds and the server binary used by the runner.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The netrepro binary that provides `serve` (normally the current exe).
    pub server_program: PathBuf,
    /// How long a server may take to print `LISTENING`.
    pub ready_timeout: Duration,
    /// How long the liveness probe may take (plus the scenario's reply delay).
    pub probe_timeout: Duration,
    /// After a failed probe: how long to wait for the process to finish dying.
    pub exit_grace: Duration,
    /// How long resources may take to come back after the clients closed.
    pub settle_timeout: Duration,
    /// The platform whose expectations apply (normally this host).
    pub platform: Platform,
}

impl RunConfig {
    pub fn new(server_program: PathBuf) -> RunConfig {
        RunConfig {
            server_program,
            ready_timeout: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(2),
            exit_grace: Duration::from_millis(500),
            settle_timeout: Duration::from_millis(1500),
            platform: Platform::current(),
        }
    }
}

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

fn info(sc: &Scenario) -> ScenarioInfo {
    ScenarioInfo {
        name: sc.name.clone(),
        path: sc.path.display().to_string(),
        summary: sc.summary.clone(),
        refs: sc.refs.clone(),
        proto: sc.target.proto,
        mode: sc.target.mode,
    }
}

/// How long to wait for resources to settle: the built-in servers, whose
/// only timer is the scenario's idle timeout, are judged as soon as their
/// counters are stable past it; an external server gets the whole window.
fn settle_rule(sc: &Scenario, ext: Option<&ExternalTarget>, cfg: &RunConfig) -> settle::Rule {
    if ext.is_some() {
        return settle::Rule::Window(cfg.settle_timeout);
    }
    let timer = Duration::from_millis(sc.target.options.idle_timeout_ms.unwrap_or(0));
    settle::Rule::Stable {
        stable: settle::STABLE_FOR + timer,
        limit: cfg.settle_timeout.max(timer + settle::STABLE_FOR),
    }
}

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

/// Run one scenario against one built-in implementation.
pub async fn run_one(sc: &Scenario, imp: Impl, cfg: &RunConfig) -> ResultRecord {
    run_subject(sc, &Subject::Builtin(imp), cfg).await
}

/// Run one scenario against a built-in implementation or an external target.
pub async fn run_subject(sc: &Scenario, subject: &Subject, cfg: &RunConfig) -> ResultRecord {
    let started = Instant::now();
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
            netrepro_scenario::Expectation {
                server: x.expect.clone(),
                ..Default::default()
            },
            Some(x),
        ),
    };
    let probe_spec = ext.map(|x| x.probe.clone()).unwrap_or_default();
    let mut rec = ResultRecord {
        scenario: info(sc),
        impl_: imp,
        verdict: None,
        expected: expect.server.clone(),
        status: Status::Failed,
        notes: Vec::new(),
        diff: Vec::new(),
        exit: None,
        probe: None,
        steps: Vec::new(),
        server_errors: Vec::new(),
        output: None,
        samples: Vec::new(),
        setup_error: None,
        input_error: false,
        harness_error: None,
        duration_ms: 0,
        target: ext.map(ExternalTarget::info),
        cut_short: None,
    };
    if let Some(x) = ext {
        if let Some(note) = external::mode_skip(sc, x).or_else(|| external::pause_skip(sc, x)) {
            rec.status = Status::Skipped;
            rec.notes.push(note);
            return rec;
        }
        rec.notes = external::notes(sc, x);
    }
    let fail_setup = |mut rec: ResultRecord, msg: String| {
        rec.diff = vec![format!("setup: {msg}")];
        rec.setup_error = Some(msg);
        rec.duration_ms = started.elapsed().as_millis() as u64;
        rec
    };

    // Options that do not exist on this OS: run without (noted) or skip.
    let options = match os_options::decide(&sc.target.options, cfg.platform) {
        os_options::Decision::Run { options, notes } => {
            rec.notes.extend(notes);
            options
        }
        os_options::Decision::Skip { note } => {
            rec.status = Status::Skipped;
            rec.notes.push(note);
            rec.duration_ms = started.elapsed().as_millis() as u64;
            return rec;
        }
    };

    // The harness's own limits must not become the server's verdict.
    if let Some(why) = harness_error::over_budget(sc, netrepro_sys::fdlimit::available()) {
        harness_error::mark(&mut rec, why);
        rec.duration_ms = started.elapsed().as_millis() as u64;
        return rec;
    }

    let bind_ip: IpAddr = match sc.target.bind.parse() {
        Ok(ip) => ip,
        Err(_) => return fail_setup(rec, format!("bad bind address {:?}", sc.target.bind)),
    };
    // A host without IPv6 loopback cannot run a "::1" scenario: skipped, not failed.
    if let Err(e) = std::net::TcpListener::bind(SocketAddr::new(bind_ip, 0)) {
        if bind_ip.is_ipv6() {
            rec.status = Status::Skipped;
            rec.notes
                .push(format!("{bind_ip} is not available on this host: {e}"));
            rec.duration_ms = started.elapsed().as_millis() as u64;
            return rec;
        }
    }
    if let Some(ExternalKind::Addr(a)) = ext.map(|x| &x.kind) {
        if let Some(note) = family::addr_skip(bind_ip, *a) {
            rec.status = Status::Skipped;
            rec.notes.push(note);
            rec.duration_ms = started.elapsed().as_millis() as u64;
            return rec;
        }
    }
    let upstream = if sc.target.mode == Mode::Forward {
        match TcpListener::bind(SocketAddr::new(bind_ip, 0)).await {
            Ok(l) => Some(Arc::new(l)),
            // The harness's own listener: its failure is the harness's.
            Err(e) => {
                harness_error::mark(&mut rec, format!("cannot bind the upstream listener: {e}"));
                rec.duration_ms = started.elapsed().as_millis() as u64;
                return rec;
            }
        }
    } else {
        None
    };
    let up_addr = upstream.as_ref().and_then(|l| l.local_addr().ok());
    let started_target = match ext.map(|x| &x.kind) {
        None => {
            let cmd = TargetCommand {
                program: cfg.server_program.clone(),
                args: serve_args(sc, imp, up_addr, &options),
                max_fds: options.max_fds,
            };
            RunningTarget::spawn(&cmd, cfg.ready_timeout)
                .await
                .map(|t| Live::Process(Box::new(t)))
                .map_err(|e| format!("server did not start: {e}"))
        }
        Some(ExternalKind::Cmd(c)) => {
            external::spawn_cmd(c, sc, &probe_spec, upstream.as_deref(), cfg)
                .await
                .map(|t| Live::Process(Box::new(t)))
        }
        Some(ExternalKind::Addr(a)) => Ok(Live::Attached(*a)),
    };
    let mut target = match started_target {
        Ok(t) => t,
        Err(e) => return fail_setup(rec, e),
    };
    if let Some(Err(e)) = ext.map(|x| external::check_announced(target.addr(), x)) {
        target.kill().await; // before anything connected to it
        rec.input_error = true;
        return fail_setup(rec, e);
    }
    if let Err(e) = family::check_ready(bind_ip, target.addr()) {
        target.kill().await;
        return fail_setup(rec, e);
    }

    let baseline = target.sample("baseline");
    let mut session = Session::new(sc, target.addr(), upstream.clone());
    // `pause` steps freeze the target's tree; `Session::run` never returns
    // with it frozen, so the probe and the kill below see it running.
    session.set_pauser(target.pauser());
    let probe_limit =
        cfg.probe_timeout + Duration::from_millis(sc.target.options.reply_delay_ms.unwrap_or(0));
    session.set_probe(probe_spec.clone(), probe_limit);
    let log = session.run(sc).await;
    if session.resumed_at_end() {
        rec.notes.push(
            "the server was still paused when the steps ended; it was resumed before the probe"
                .to_string(),
        );
    }
    let merged = log.merged();
    rec.steps = log.into_records();
    rec.notes
        .extend(crate::client::merged_note(merged, &rec.steps));
    rec.cut_short = cut_short::check(sc, &rec.steps, session.deadline_reached());
    rec.notes
        .extend(crate::client::repeat_notes(sc, &rec.steps));
    rec.samples.push(baseline.clone());
    rec.samples.push(target.sample("after"));

    // The order (docs/how-it-works.md): the scenario's own sockets are
    // closed first, then the probe, then the leak check. A server that serves
    // one connection at a time is only judged on serving others while a
    // client is open when the scenario says so (a `probe` step).
    let mut exit: Option<ExitInfo> = target.try_exit();
    let mut unserved = None;
    let step_unserved = exit.is_none() && session.probe_unserved();
    if step_unserved {
        // A `probe` step was not served: that is the finding (judged with the
        // clients still open, as the step asked); a second probe after they
        // closed would only hide it.
        exit = target.wait_exit(cfg.exit_grace).await;
        rec.notes
            .push("a probe step was not served while the scenario's clients were open".to_string());
        unserved = Some(Verdict::Hung);
    }
    session.release();
    if !step_unserved && exit.is_none() {
        let limit = probe_limit;
        let p = probe::probe_with(
            &probe_spec,
            sc.target.proto,
            sc.target.mode,
            target.addr(),
            upstream.clone(),
            limit,
        )
        .await;
        if !p.served {
            exit = target
                .wait_exit(decide::grace(limit, cfg.exit_grace, &p))
                .await;
            unserved = Some(decide::unserved(
                sc.target.proto,
                target.attached(),
                exit.as_ref(),
                &p,
            ));
        }
        rec.probe = Some(p);
    }
    let verdict = if exit.is_some() {
        Verdict::Crashed
    } else if let Some(v) = unserved {
        v
    } else {
        let (sample, outcome) = settle::settle(&target, &baseline, settle_rule(sc, ext, cfg)).await;
        let grown = settle::grown(&baseline, &sample);
        if !grown.is_empty() {
            rec.notes.push(format!(
                "leaked: {} ({})",
                settle::describe_growth(&grown, settle::Counter::as_str),
                match outcome {
                    settle::Outcome::Stable => "unchanged for the stable period",
                    _ => "still there when the settle window ended",
                }
            ));
        }
        let info = settle::fd_growth(&baseline, &sample);
        if !info.is_empty() {
            rec.notes.push(format!(
                "descriptors grew (information, not judged as a leak): {}",
                settle::describe_growth(&info, netrepro_observe::FdKind::as_str)
            ));
        }
        let settled_sample = sample.clone();
        rec.samples.push(sample);
        if let Some(e) = target.try_exit() {
            exit = Some(e);
            Verdict::Crashed
        } else {
            // Nothing talks to the server any more: is it still busy?
            let busy = busy::check(&target, &settled_sample).await;
            if let Some(b) = &busy {
                if b.busy {
                    rec.notes.push(b.note());
                }
            }
            if outcome.leaked() {
                Verdict::Leaked
            } else if busy.is_some_and(|b| b.busy) {
                Verdict::Busy
            } else {
                Verdict::Survived
            }
        }
    };
    let killed = target.kill().await;
    if exit.is_none() && verdict == Verdict::Crashed {
        exit = killed;
    }
    target.settle_logs(Duration::from_millis(500)).await;
    rec.server_errors = target.events();
    rec.output = target.output();
    drop(session);

    rec.exit = exit;
    rec.verdict = Some(verdict);
    rec.diff = crate::expect::diff(&expect, verdict, &rec.steps, &rec.server_errors);
    if let Some(c) = rec
        .cut_short
        .as_ref()
        .filter(|_| !expect.server.is_empty() && !cut_short::anticipated(&expect))
    {
        rec.diff.push(cut_short::diff_line(c));
    }
    rec.status = if let Some(why) = harness_error::in_outcomes(&rec.steps, rec.probe.as_ref()) {
        harness_error::mark(&mut rec, why);
        Status::Error
    } else if !rec.diff.is_empty() {
        Status::Failed
    } else if expect.server.is_empty() {
        Status::Unverified
    } else {
        Status::Passed
    };
    rec.duration_ms = started.elapsed().as_millis() as u64;
    rec
}
