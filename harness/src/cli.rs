//! The command line: every clap type of the top level and the dispatch to
//! the commands (`run`, `validate` and `list` are here; `explore`, `report`,
//! `bench` and `serve` in their own modules). Exit codes are in [`crate::exit`].

use crate::exit::{
    exit_code, EXIT_FAILED, EXIT_HARNESS, EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_REPORT,
};
use crate::runtime::{config_for_this_binary, runtime};
use clap::{Parser, Subcommand};
use netrepro_report::{self as report, Summary};
use netrepro_runner as runner;
use netrepro_scenario::{self as scenario, Builtin, Impl, Mode, Proto, Scenario};
use netrepro_servers as servers;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "netrepro",
    // Package version plus the git commit when built from a checkout (build.rs).
    version = env!("NETREPRO_VERSION_LONG"),
    about = "Run client-disconnect and abort scenarios against real TCP/UDP servers and report which errors came up where"
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run scenarios against the built-in servers (naive, naive-seq, hardened).
    Run(RunArgs),
    /// Check scenario files without running them.
    Validate(PathsArg),
    /// List scenarios with their expected verdicts.
    List(ListArgs),
    /// Run a built-in reference server (used by `run`; handy for debugging).
    Serve(ServeArgs),
    /// Search for a failing step sequence, shrink it, write it as a scenario file.
    Explore(crate::explore::ExploreArgs),
    /// Work with reports: schema, merge, diff, html, markdown.
    Report(crate::report_command::ReportArgs),
    /// Benchmarks (figures, never a pass/fail): `bench all`, storm, udp, overhead, scaling, accept.
    Bench(crate::bench::BenchArgs),
    /// Write what reports observed into the scenario files as per-OS expectations (diff first; --accept writes).
    Bless(crate::bless::BlessArgs),
}

#[derive(Debug, clap::Args)]
pub struct PathsArg {
    /// Scenario files or folders (searched recursively for *.toml).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Scenario files or folders (searched recursively for *.toml).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Print the catalog as a Markdown table, per impl and OS (this is
    /// scenarios/README.md: `netrepro list --markdown > scenarios/README.md`).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files or folders (searched recursively for *.toml).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Which built-in implementations to run against.
    #[arg(long = "impl", value_enum, value_delimiter = ',', default_values = ["naive", "naive-seq", "hardened"])]
    pub impls: Vec<Builtin>,
    /// Only scenarios whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Where to write the JSON report. Default: reports/latest.json for the
    /// full run (every scenario in scenarios/, every built-in impl);
    /// reports/latest-narrowed.json for a run narrowed by --filter, --impl
    /// or paths; reports/latest-external.json for --target-cmd/--target-addr.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print only the final table (no line per result).
    #[arg(long, short)]
    pub quiet: bool,
    /// Your own server instead of the built-in ones (see docs/reproduce.md).
    #[command(flatten)]
    pub external: crate::external_args::ExternalArgs,
    /// Also write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a CTRF JSON report here.
    #[arg(long, value_name = "FILE")]
    pub ctrf: Option<PathBuf>,
    /// Also write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// How many scenario runs at once (each has its own server process and
    /// ports); default: 32 per CPU for the built-in servers (runs mostly
    /// wait), 4 per CPU for --target-cmd (its start-up costs CPU), at most
    /// 64. A storm
    /// or a scenario with many sockets counts as several runs, so CPUs and
    /// the descriptor limit are shared fairly. Results keep the file order.
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
}

pub fn main() -> ExitCode {
    report::write::catch_file_size_signal();
    // The supervisor takes the target's command line verbatim: not clap's.
    let mut argv = std::env::args_os().skip(1);
    if argv
        .next()
        .is_some_and(|a| a == netrepro_runner::subject::SUPERVISE_SUBCOMMAND)
    {
        return netrepro_runner::subject::supervise_main(argv.collect());
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version go to stdout: a full disk is an error
            // there too, a closed pipe is not.
            let printed = e.print();
            let code = match (e.use_stderr(), printed) {
                (true, _) => EXIT_INPUT,
                (false, Err(w)) if w.kind() != std::io::ErrorKind::BrokenPipe => EXIT_OUTPUT,
                (false, _) => EXIT_OK,
            };
            return ExitCode::from(code);
        }
    };
    let code = match cli.cmd {
        Cmd::Serve(args) => match servers::run(args.into()) {
            // The server's own exit code (1 after a fatal error).
            Ok(code) => return code,
            Err(e) => {
                netrepro_sys::errln!("netrepro serve: {e}");
                EXIT_INPUT
            }
        },
        Cmd::Validate(p) => validate(&p.paths),
        Cmd::List(p) if p.markdown => list_markdown(&p.paths),
        Cmd::List(p) => list(&p.paths),
        Cmd::Run(args) => run(args),
        Cmd::Explore(args) => crate::explore::main(args),
        Cmd::Report(args) => crate::report_command::run(args),
        Cmd::Bench(args) => crate::bench::main(args),
        Cmd::Bless(args) => crate::bless::main(args),
    };
    ExitCode::from(exit_code(code))
}

fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, u8> {
    scenario::load_paths(paths).map_err(|errs| {
        for e in &errs {
            netrepro_sys::errln!("error: {e}");
        }
        netrepro_sys::errln!("{} error(s) in scenario files", errs.len());
        // The default folder is relative: the likely mistake is the directory.
        if paths == [PathBuf::from(DEFAULT_SCENARIOS)] && !Path::new(DEFAULT_SCENARIOS).exists() {
            netrepro_sys::errln!(
                "hint: run from the repository root (where {DEFAULT_SCENARIOS}/ is), \
                 or pass scenario files or folders as arguments"
            );
        }
        EXIT_INPUT
    })
}

/// Where scenario files are looked for when no path is given.
const DEFAULT_SCENARIOS: &str = "scenarios";

fn validate(paths: &[PathBuf]) -> u8 {
    match load(paths) {
        Ok(s) => {
            netrepro_sys::outln!("{} scenario(s) OK", s.len());
            EXIT_OK
        }
        Err(code) => code,
    }
}

fn list_markdown(paths: &[PathBuf]) -> u8 {
    match load(paths) {
        Ok(s) => {
            // Links are relative to the folder given (the README's own folder).
            let root = paths
                .first()
                .filter(|p| p.is_dir())
                .map_or(Path::new(""), |p| p);
            netrepro_sys::out!("{}", crate::catalog::render(root, &s));
            EXIT_OK
        }
        Err(code) => code,
    }
}

fn list(paths: &[PathBuf]) -> u8 {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let platform = netrepro_scenario::Platform::current();
    for sc in &scenarios {
        netrepro_sys::outln!("{}", list_row(sc, platform));
    }
    EXIT_OK
}

/// One line of `list`; name and summary come from the file, escaped.
pub fn list_row(sc: &Scenario, platform: netrepro_scenario::Platform) -> String {
    let exp = |i: Impl| {
        let e = sc
            .expect
            .get(&i)
            .map(|e| e.resolve(platform))
            .unwrap_or_default();
        netrepro_scenario::verdicts_label(&e.server)
    };
    format!(
        "{:<40} {:<4} {:<8} naive={:<10} naive-seq={:<10} hardened={:<10} {}",
        netrepro_sys::escape::terminal(&sc.name),
        format!("{:?}", sc.target.proto).to_lowercase(),
        format!("{:?}", sc.target.mode).to_lowercase(),
        exp(Impl::Naive),
        exp(Impl::NaiveSeq),
        exp(Impl::Hardened),
        netrepro_sys::escape::terminal(&sc.summary)
    )
}

/// Where a run's report goes without `--report`: only the full run of the
/// built-in servers owns `reports/latest.json`, so trying one scenario or
/// one's own server does not silently replace the full record.
fn default_report(args: &RunArgs) -> PathBuf {
    let full_impls = Builtin::ALL
        .iter()
        .all(|want| args.impls.iter().any(|i| i == want));
    let name = if args.external.target_cmd.is_some() || args.external.target_addr.is_some() {
        "latest-external.json"
    } else if args.filter.is_some()
        || !full_impls
        || args.paths != [PathBuf::from(DEFAULT_SCENARIOS)]
    {
        "latest-narrowed.json"
    } else {
        "latest.json"
    };
    Path::new("reports").join(name)
}

/// The durations of the report this run is about to replace, if it is one
/// that loads; anything else (no file yet, another version, a matrix) is
/// no history, silently: it only decides which runs start first.
fn earlier_runs(report_path: &Path) -> runner::estimate::History {
    match report::load::load(report_path) {
        Ok(report::load::Loaded {
            doc: report::load::Document::Report(r),
            ..
        }) => runner::estimate::History::from_report(&r),
        _ => runner::estimate::History::default(),
    }
}

fn run(args: RunArgs) -> u8 {
    let mut scenarios = match load(&args.paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if scenarios.is_empty() {
        netrepro_sys::errln!(
            "error: no scenarios in {} (scenario files end in .toml)",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return EXIT_INPUT;
    }
    if let Some(f) = &args.filter {
        scenarios.retain(|s| s.name.contains(f.as_str()));
        if scenarios.is_empty() {
            netrepro_sys::errln!("error: no scenario name contains {f:?}");
            return EXIT_INPUT;
        }
    }
    let external = match args.external.target() {
        Ok(x) => x,
        Err(e) => {
            netrepro_sys::errln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    if external.is_some() {
        scenarios.retain(|s| args.external.wants(s));
        if scenarios.is_empty() {
            netrepro_sys::errln!("error: no scenario matches --proto");
            return EXIT_INPUT;
        }
    }
    let subjects: Vec<runner::Subject> = match &external {
        Some(x) => vec![runner::Subject::External(x.clone())],
        None => args
            .impls
            .iter()
            .map(|&i| runner::Subject::Builtin(i.into()))
            .collect(),
    };
    let cfg = match config_for_this_binary() {
        Ok(c) => c,
        Err(code) => return code,
    };
    // One already-running server (--target-addr) is shared by every scenario:
    // runs against it must not overlap, or one scenario's damage shows up in
    // another's result.
    let jobs = match &external {
        Some(x) if matches!(x.kind, runner::ExternalKind::Addr(_)) => 1,
        Some(_) => netrepro_runner::jobs::jobs(args.jobs, true),
        None => netrepro_runner::jobs::jobs(args.jobs, false),
    };
    let report_path = args.report.clone().unwrap_or_else(|| default_report(&args));
    let extra = crate::outputs::Extra {
        junit: args.junit.clone(),
        ctrf: args.ctrf.clone(),
        markdown: args.markdown.clone(),
    };
    // A directory, a device, a FIFO or a read-only folder is refused before
    // any time is spent on the run.
    if !crate::outputs::preflight(&report_path, &extra) {
        return EXIT_REPORT;
    }
    // Read before this run replaces it: how long each run took last time
    // orders this one (`runner::estimate::History`).
    let history = earlier_runs(&report_path);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let started = std::time::Instant::now();
    let mut rep = report::host::new_report(report::host::now_rfc3339());
    // The watchdog ends the run from outside the runtime if no run finishes
    // within the longest run's own bound (`netrepro_runner::watchdog`).
    let cells: Vec<(Scenario, runner::Subject)> = scenarios
        .iter()
        .flat_map(|sc| subjects.iter().map(move |s| (sc.clone(), s.clone())))
        .collect();
    let longest = cells
        .iter()
        .map(|(sc, _)| runner::watchdog::bound(&cfg, sc))
        .max()
        .unwrap_or_default();
    let seen = crate::stalled::Seen::new(rep.clone());
    let stalled_run = crate::stalled::Run {
        cells,
        cfg: cfg.clone(),
        report_path: report_path.clone(),
        extra: extra.clone(),
        started,
    };
    let dog = match crate::stalled::watchdog(seen.clone(), stalled_run) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let mut json_report = crate::outputs::JsonReport::new(report_path);
    let quiet = args.quiet;
    rt.block_on(async move {
        netrepro_sys::outln!("{}", report::host::header_line(&rep.tool, &rep.host));
        // A report exists from the start: an interrupted run still leaves one.
        if !json_report.write(&rep) {
            return EXIT_REPORT;
        }
        let mut progress = report::progress::Progress::new(scenarios.len() * subjects.len(), quiet);
        let (finished, taken) = (dog.beat(), dog.beat());
        dog.expect_within(longest);
        let mut results = netrepro_runner::jobs::run_all(
            scenarios,
            subjects,
            cfg,
            jobs,
            netrepro_sys::fdlimit::available(),
            &history,
            move || finished.progress(),
        );
        // Refused input (a target announcing a non-loopback address) is
        // the same for every scenario: said once, and the run exits 2.
        let mut input_error = false;
        while let Some(r) = results.recv().await {
            match &r.setup_error {
                Some(e) if r.input_error => {
                    if !input_error {
                        netrepro_sys::errln!("error: {}", netrepro_sys::escape::terminal(e));
                    }
                    input_error = true;
                }
                // May quote the target's stderr.
                Some(e) => {
                    netrepro_sys::errln!("  setup error: {}", netrepro_sys::escape::terminal(e))
                }
                None => {}
            }
            rep.results.push(r);
            rep.summary = Summary::of(&rep.results);
            rep.duration_ms = started.elapsed().as_millis() as u64;
            // Written after every result so an interrupted run keeps what it
            // saw, and before the line is printed: other runs are already
            // going, so an interrupt may come at any moment.
            json_report.write(&rep);
            seen.update(&rep);
            taken.progress();
            if let Some(r) = rep.results.last() {
                progress.finish_one(r);
            }
        }
        drop(dog);
        rep.complete = true;
        rep.duration_ms = started.elapsed().as_millis() as u64;
        json_report.write(&rep);
        progress.finish();
        netrepro_sys::out!("\n{}", report::table::render(&rep));
        if json_report.written() {
            netrepro_sys::outln!("report: {}", json_report.path().display());
        }
        let extras_written = crate::outputs::write_all(&extra, &rep, json_report.path());
        if !json_report.written() || !extras_written {
            EXIT_REPORT
        } else if input_error {
            EXIT_INPUT
        } else if rep.summary.failed > 0 {
            EXIT_FAILED
        } else if rep.summary.errors > 0 {
            EXIT_HARNESS
        } else {
            EXIT_OK
        }
    })
}

/// `netrepro serve`: the reference servers' options (see
/// [`netrepro_servers::ServeConfig`]).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[arg(long = "impl", value_enum)]
    pub impl_: Builtin,
    #[arg(long, value_enum)]
    pub proto: Proto,
    #[arg(long, value_enum, default_value = "echo")]
    pub mode: Mode,
    /// Forward mode: where to connect for each accepted client.
    #[arg(long)]
    pub upstream: Option<std::net::SocketAddr>,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Linux: IP_RECVERR on the UDP socket (ICMP errors surface on recv).
    #[arg(long)]
    pub ip_recverr: bool,
    /// Hardened TCP: most concurrent connections (lowered further to fit the
    /// soft RLIMIT_NOFILE on Unix).
    #[arg(long, default_value_t = 256)]
    pub max_conns: usize,
    /// Hardened TCP: close a connection after this long without traffic.
    #[arg(long, default_value_t = 10_000)]
    pub idle_timeout_ms: u64,
    /// Echo servers: wait this long before each reply, like a server doing
    /// real work (makes "the reply reaches a client that already left" certain).
    #[arg(long, default_value_t = 0)]
    pub reply_delay_ms: u64,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImplArg {
    Naive,
    NaiveSeq,
    Hardened,
}

impl From<ImplArg> for Impl {
    fn from(a: ImplArg) -> Impl {
        match a {
            ImplArg::Naive => Impl::Naive,
            ImplArg::NaiveSeq => Impl::NaiveSeq,
            ImplArg::Hardened => Impl::Hardened,
        }
    }
}

impl From<ServeArgs> for servers::ServeConfig {
    fn from(a: ServeArgs) -> servers::ServeConfig {
        servers::ServeConfig {
            impl_: a.impl_,
            proto: a.proto,
            mode: a.mode,
            upstream: a.upstream,
            bind: a.bind,
            port: a.port,
            ip_recverr: a.ip_recverr,
            max_conns: a.max_conns,
            idle_timeout_ms: a.idle_timeout_ms,
            reply_delay_ms: a.reply_delay_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_for(args: &[&str]) -> PathBuf {
        let mut v = vec!["netrepro", "run"];
        v.extend_from_slice(args);
        match Cli::try_parse_from(v).unwrap().cmd {
            Cmd::Run(r) => default_report(&r),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn only_the_full_run_writes_latest_json_by_default() {
        let p = |n: &str| Path::new("reports").join(n);
        assert_eq!(report_for(&[]), p("latest.json"));
        assert_eq!(
            report_for(&["--impl", "hardened,naive-seq,naive"]),
            p("latest.json")
        );
        assert_eq!(report_for(&["scenarios"]), p("latest.json"));
        for narrowed in [
            &["--filter", "tribler"][..],
            &["--impl", "naive"],
            &["--impl", "hardened,naive"],
            &["scenarios/udp"],
            &["scenarios", "scenarios/udp"],
        ] {
            assert_eq!(
                report_for(narrowed),
                p("latest-narrowed.json"),
                "{narrowed:?}"
            );
        }
        assert_eq!(
            report_for(&["scenarios/tcp", "--target-cmd", "x {port}"]),
            p("latest-external.json")
        );
        assert_eq!(
            report_for(&["--target-addr", "127.0.0.1:9"]),
            p("latest-external.json")
        );
    }
}
