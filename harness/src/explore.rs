//! `netrepro explore`: search for a client step sequence that breaks a
//! server, shrink it, and write it as a scenario file.
//!
//! Random sequences come from proptest strategies (`gen`); each runs against
//! a fresh target through the normal runner (`runner::run_subject` on an
//! in-memory scenario). The property is "verdict = survived" (no crash, no
//! hang, no leak, and a fresh client is served). On a failure proptest's
//! shrinker minimises the sequence; the minimal one is written with the
//! observed verdict and server errors as its expectation for this OS, the
//! seed and command line in its refs, then run once more to confirm that
//! `netrepro run FILE` reproduces it. Deterministic generation for a seed
//! (a fixed-seed `TestRng`); bounded by `--cases`, `--max-shrink-iters` and
//! `--time-limit`.

use crate::external_args::ExternalArgs;
use netrepro_report::ResultRecord;
use netrepro_runner::watchdog::{self, Watchdog};
use netrepro_runner::{self as runner, RunConfig, Subject};
use netrepro_scenario::generate as gen;
use netrepro_scenario::{
    self as scenario, Builtin, ExpectKey, Impl, Mode, Os, PartialExpectation, Proto, Scenario,
    ScenarioError, ServerOptions, Step, TargetSpec, Verdict,
};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct ExploreArgs {
    /// Protocol of the server under test.
    #[arg(long = "proto", value_enum, id = "explore_proto")]
    pub proto: Proto,
    #[arg(long, value_enum, default_value = "echo")]
    pub mode: Mode,
    /// Built-in server to explore (ignored with --target-cmd / --target-addr).
    #[arg(long = "impl", value_enum, default_value = "naive")]
    pub imp: Builtin,
    /// Random sequences to try before giving up.
    #[arg(long, default_value_t = 30)]
    pub cases: u32,
    /// Seed of the generator: the same seed tries the same sequences.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Longest generated sequence.
    #[arg(long, default_value_t = 8)]
    pub max_steps: usize,
    /// Bound on shrinking steps after a failure.
    #[arg(long, default_value_t = 48)]
    pub max_shrink_iters: u32,
    /// Overall time bound (search + shrink), e.g. 60s, 2m.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub time_limit: Duration,
    /// Where to write the minimal failing scenario.
    #[arg(long, default_value = "explored.toml")]
    pub out: PathBuf,
    /// Target option: IP_RECVERR on the built-in server's UDP socket (Linux).
    #[arg(long)]
    pub ip_recverr: bool,
    /// Target option: built-in echo servers delay each reply this long.
    #[arg(long)]
    pub reply_delay_ms: Option<u64>,
    /// Target option: RLIMIT_NOFILE of the server process (Unix).
    #[arg(long)]
    pub max_fds: Option<u64>,
    /// Explore your own server instead (same flags as `run`; `--proto` above applies).
    #[command(flatten)]
    pub external: ExploreExternal,
}

/// The external-target flags of `run`, minus `--proto` (explore has its own).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExploreExternal {
    /// Your server's command line ({port}, {host}, {addr}, {upstream}).
    #[arg(long, value_name = "COMMAND", conflicts_with = "target_addr")]
    pub target_cmd: Option<String>,
    /// Your already running server (loopback only unless --allow-remote).
    #[arg(long, value_name = "HOST:PORT")]
    pub target_addr: Option<std::net::SocketAddr>,
    /// Allow a non-loopback address (given, or announced by --target-cmd).
    #[arg(long)]
    pub allow_remote: bool,
    /// Probe: send this text instead of a fresh echo payload.
    #[arg(long, value_name = "TEXT")]
    pub probe_send: Option<String>,
    /// Probe: the reply that counts: this text, or `any`.
    #[arg(long, value_name = "TEXT|any")]
    pub probe_expect: Option<String>,
}

/// What the search found.
pub struct Found {
    pub scenario: Scenario,
    pub record: ResultRecord,
    /// Cases run before the first failure (1-based index of the failing one).
    pub cases_run: u32,
    pub shrink_runs: u32,
}

/// The outcome of a search.
pub enum Outcome {
    /// Every case survived (`cases` run, or the time limit hit after `cases`).
    NoneFound {
        cases: u32,
        timed_out: bool,
    },
    Found(Box<Found>),
}

/// Validate through the file format: what the parser accepts is what `run`
/// will accept from the written file.
fn round_trip(sc: &Scenario) -> Result<Scenario, ScenarioError> {
    let text = scenario::write::to_toml(sc, &[]);
    scenario::parse_str(&text, &sc.path)
}

/// Why a search ended without an answer (a usage or setup error: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The first setup error of any case (the target does not start, ...).
    #[error("the target could not be set up: {0}")]
    Setup(String),
    #[error("exploration aborted: {0}")]
    Aborted(proptest::test_runner::Reason),
    #[error("a failure was reported but no failing run was recorded")]
    NoFailingRun,
    /// The minimal sequence, written as a scenario, does not parse back.
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, chunk) in b.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    b
}

/// Search settings, independent of the command line.
pub struct Search {
    pub proto: Proto,
    pub target: TargetSpec,
    pub subject: Subject,
    pub cases: u32,
    pub seed: u64,
    pub max_steps: usize,
    pub max_shrink_iters: u32,
    pub time_limit: Duration,
}

/// One run of `sc` driven to its end on `rt`, awaited by the watchdog
/// (`netrepro_runner::watchdog`) if there is one.
fn run_case(
    rt: &tokio::runtime::Runtime,
    dog: Option<&Watchdog>,
    sc: &Scenario,
    subject: &Subject,
    cfg: &RunConfig,
) -> ResultRecord {
    let work = || rt.block_on(runner::run_subject(sc, subject, cfg));
    match dog {
        Some(d) => d.watch(watchdog::bound(cfg, sc), work),
        None => work(),
    }
}

/// Run the search on the current thread (`rt` drives each case, under
/// `dog` if given).
pub fn search(
    rt: &tokio::runtime::Runtime,
    dog: Option<&Watchdog>,
    s: &Search,
    cfg: &RunConfig,
) -> Result<Outcome, ExploreError> {
    let started = Instant::now();
    let config = Config {
        cases: s.cases,
        max_shrink_iters: s.max_shrink_iters,
        max_shrink_time: s.time_limit.as_millis().min(u32::MAX as u128) as u32,
        failure_persistence: None,
        max_local_rejects: 1_000,
        max_global_rejects: 1_000,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(s.seed));
    let mut runner = TestRunner::new_with_rng(config, rng);
    let name = format!(
        "explored-{}-{}-seed-{}",
        s.proto.as_str(),
        s.target.mode.as_str(),
        s.seed
    );
    // Every failing run, so the minimal value's record can be found again.
    let failures: RefCell<Vec<(Vec<Step>, ResultRecord)>> = RefCell::new(Vec::new());
    let runs = RefCell::new(0u32);
    let first_fail_at = RefCell::new(None::<u32>);
    let timed_out = RefCell::new(false);
    let setup_error = RefCell::new(None::<String>);

    let result = runner.run(&gen::steps(s.proto, s.target.mode, s.max_steps), |steps| {
        if started.elapsed() >= s.time_limit {
            // Out of time: count as passing so the search (or shrink) stops.
            *timed_out.borrow_mut() = true;
            return Ok(());
        }
        let sc = round_trip(&gen::scenario_for(steps.clone(), &s.target, &name))
            .map_err(|e| TestCaseError::reject(format!("generated scenario is invalid: {e}")))?;
        *runs.borrow_mut() += 1;
        let rec = run_case(rt, dog, &sc, &s.subject, cfg);
        if let Some(e) = &rec.setup_error {
            setup_error.borrow_mut().get_or_insert_with(|| e.clone());
            return Ok(());
        }
        if rec.verdict == Some(Verdict::Survived) {
            return Ok(());
        }
        first_fail_at.borrow_mut().get_or_insert(*runs.borrow());
        let v = rec.verdict.map_or("not run", Verdict::as_str);
        failures.borrow_mut().push((steps, rec));
        Err(TestCaseError::fail(format!("verdict {v}")))
    });
    if let Some(e) = setup_error.into_inner() {
        return Err(ExploreError::Setup(e));
    }
    match result {
        Ok(()) => Ok(Outcome::NoneFound {
            cases: *runs.borrow(),
            timed_out: timed_out.into_inner(),
        }),
        Err(TestError::Abort(why)) => Err(ExploreError::Aborted(why)),
        Err(TestError::Fail(_, minimal)) => {
            let failures = failures.into_inner();
            // The shrinker's answer is the last value that failed; find its run.
            let (steps, record) = failures
                .iter()
                .rev()
                .find(|(st, _)| *st == minimal)
                .or(failures.last())
                .cloned()
                .ok_or(ExploreError::NoFailingRun)?;
            let first = first_fail_at.into_inner().unwrap_or(0);
            let total = *runs.borrow();
            let sc = round_trip(&gen::scenario_for(steps, &s.target, &name))?;
            Ok(Outcome::Found(Box::new(Found {
                scenario: sc,
                record,
                cases_run: first,
                shrink_runs: total.saturating_sub(first),
            })))
        }
    }
}

/// Put what was observed into the scenario as its expectation: the verdict
/// and the server's error names, for this OS only (other OSes stay unknown).
pub fn with_observed(
    mut sc: Scenario,
    imp: Impl,
    rec: &ResultRecord,
    refs: Vec<String>,
) -> Scenario {
    sc.refs = refs;
    if let (Some(v), true) = (rec.verdict, imp != Impl::External) {
        let mut names: Vec<String> = Vec::new();
        for e in &rec.server_errors {
            if !names.contains(&e.name) {
                names.push(e.name.clone());
            }
        }
        let here = PartialExpectation {
            server: Some(vec![v]),
            server_errors: (!names.is_empty()).then_some(names),
            steps: None,
            observed: None,
        };
        if let Some(e) = sc.expect.get_mut(&imp) {
            e.per_os.insert(ExpectKey::from(Os::current()), here);
        }
    }
    sc
}

/// `netrepro explore`: exit 0 nothing found, 1 failure found and written,
/// 2 usage or setup error, 5 the harness's runtime stalled (the watchdog
/// killed every server; nothing is written).
pub fn main(args: ExploreArgs) -> u8 {
    use crate::exit::{EXIT_FAILED, EXIT_HARNESS, EXIT_INPUT, EXIT_OK};
    let (proto, mode) = (args.proto, args.mode);
    if mode == Mode::Forward && proto == Proto::Udp {
        netrepro_sys::errln!("error: --mode forward requires --proto tcp");
        return EXIT_INPUT;
    }
    let x = &args.external;
    let ext_args = ExternalArgs {
        target_cmd: x.target_cmd.clone(),
        target_addr: x.target_addr,
        allow_remote: x.allow_remote,
        proto: Some(args.proto),
        // Explore's --mode is for built-in servers too; it is the target's
        // mode (checked against {upstream}) only when there is a target.
        mode: (x.target_cmd.is_some() || x.target_addr.is_some()).then_some(mode),
        expect: Vec::new(),
        probe_send: x.probe_send.clone(),
        probe_expect: x.probe_expect.clone(),
    };
    let (subject, imp) = match ext_args.target() {
        Err(e) => {
            netrepro_sys::errln!("error: {e}");
            return EXIT_INPUT;
        }
        Ok(Some(t)) => (Subject::External(t), Impl::External),
        Ok(None) => {
            let i = Impl::from(args.imp);
            (Subject::Builtin(i), i)
        }
    };
    let target = TargetSpec {
        proto,
        mode,
        bind: "127.0.0.1".into(),
        options: ServerOptions {
            ip_recverr: args.ip_recverr,
            max_fds: args.max_fds,
            reply_delay_ms: args.reply_delay_ms,
            idle_timeout_ms: None,
        },
        netns: false,
        upstream: Default::default(),
    };
    let cfg = match crate::runtime::config_for_this_binary() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rt = match crate::runtime::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let search_cfg = Search {
        proto,
        target,
        subject,
        cases: args.cases,
        seed: args.seed,
        max_steps: args.max_steps,
        max_shrink_iters: args.max_shrink_iters,
        time_limit: args.time_limit,
    };
    let dog = match Watchdog::start(|stalled_for| {
        netrepro_sys::errln!(
            "\nerror: {}; nothing was written",
            watchdog::reason(stalled_for)
        );
        EXIT_HARNESS
    }) {
        Ok(d) => d,
        Err(e) => {
            netrepro_sys::errln!("error: cannot start the watchdog thread: {e}");
            return EXIT_INPUT;
        }
    };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let started = Instant::now();
    let outcome = match search(&rt, Some(&dog), &search_cfg, &cfg) {
        Ok(o) => o,
        Err(e) => {
            netrepro_sys::errln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let found = match outcome {
        Outcome::NoneFound { cases, timed_out } => {
            netrepro_sys::outln!(
                "no failure found in {cases} case(s) ({:.1}s{})",
                started.elapsed().as_secs_f64(),
                if timed_out {
                    ", time limit reached"
                } else {
                    ""
                }
            );
            return EXIT_OK;
        }
        Outcome::Found(f) => f,
    };
    let verdict = found.record.verdict.map_or("not run", Verdict::as_str);
    let refs = vec![
        format!("found by: {command}"),
        format!(
            "seed {} (failing case {}, {} shrink run(s))",
            args.seed, found.cases_run, found.shrink_runs
        ),
    ];
    let sc = with_observed(found.scenario, imp, &found.record, refs);
    let mut header = vec![format!(
        "Minimal failing sequence found by netrepro explore: verdict {verdict}."
    )];
    match &search_cfg.subject {
        Subject::External(t) => header.push(format!(
            "Reproduce: netrepro run {} --{} '{}' --expect {verdict}",
            args.out.display(),
            if matches!(t.kind, netrepro_runner::ExternalKind::Cmd(_)) {
                "target-cmd"
            } else {
                "target-addr"
            },
            t.info().spec
        )),
        Subject::Builtin(i) => header.push(format!(
            "Reproduce: netrepro run {} --impl {}",
            args.out.display(),
            i.as_str()
        )),
    }
    if let Err(e) = write_file(&args.out, &scenario::write::to_toml(&sc, &header)) {
        netrepro_sys::errln!("error: cannot write {}: {e}", args.out.display());
        return EXIT_INPUT;
    }
    netrepro_sys::outln!(
        "failure found: verdict {verdict} after {} case(s); shrunk to {} step(s) in {} run(s); {:.1}s",
        found.cases_run,
        sc.steps.len(),
        found.shrink_runs,
        started.elapsed().as_secs_f64()
    );
    for e in &found.record.server_errors {
        netrepro_sys::outln!(
            "  server error: {} {} ({}){}",
            e.op,
            e.name,
            e.class.as_str(),
            if e.fatal { " fatal" } else { "" }
        );
    }
    netrepro_sys::outln!("written: {}", args.out.display());
    // Confirm that the file, as written, reproduces.
    let confirm = match scenario::load_file(&args.out) {
        Ok(sc) => run_case(&rt, Some(&dog), &sc, &search_cfg.subject, &cfg),
        Err(e) => {
            netrepro_sys::errln!("error: the written file does not load: {e}");
            return EXIT_INPUT;
        }
    };
    if confirm.verdict == found.record.verdict {
        netrepro_sys::outln!("re-run of the file: verdict {verdict} again (reproduced)");
    } else {
        netrepro_sys::outln!(
            "re-run of the file: verdict {} (did NOT reproduce; the failure may depend on timing)",
            confirm.verdict.map_or("not run", Verdict::as_str)
        );
    }
    EXIT_FAILED
}

fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target that cannot start ends the search with a setup error (exit
    /// 2), not with "no failure found".
    #[test]
    fn a_target_that_cannot_start_is_a_setup_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let search_cfg = Search {
            proto: Proto::Tcp,
            target: TargetSpec {
                proto: Proto::Tcp,
                mode: Mode::Echo,
                bind: "127.0.0.1".into(),
                options: ServerOptions::default(),
                netns: false,
                upstream: Default::default(),
            },
            subject: Subject::Builtin(Impl::Naive),
            cases: 2,
            seed: 0,
            max_steps: 2,
            max_shrink_iters: 0,
            time_limit: Duration::from_secs(30),
        };
        let cfg = RunConfig::new(PathBuf::from("/nonexistent/netrepro-no-such-binary"));
        let err = search(&rt, None, &search_cfg, &cfg)
            .err()
            .expect("setup error");
        assert!(matches!(err, ExploreError::Setup(_)), "{err:?}");
    }
}
