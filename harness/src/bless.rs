//! `netrepro bless REPORT…`: show (and with `--accept` write) what the
//! reports' observations change in the scenario files' per-OS cells. The
//! work is `netrepro_bless`; this module prints and picks the exit code:
//! 0 nothing left to look at, 1 a disagreement was left unwritten, 2 bad
//! input (named in the message; nothing written), 4 a scenario file could
//! not be written.

use crate::exit::{EXIT_FAILED, EXIT_INPUT, EXIT_OK, EXIT_REPORT};
use netrepro_bless::{Action, Kept, Options, Plan, Source};
use netrepro_scenario::ExpectKey;
use netrepro_sys::escape::{terminal, terminal_lines};
use netrepro_sys::{errln, out, outln};
use std::path::PathBuf;

/// Help text after the options (`netrepro bless --help`).
const AFTER_HELP: &str = "\
Each result of the reports is compared with its scenario file's cell [expect.<impl>.<os>] \
(the OS: --os, else the report's host; `wine` for a run under Wine), as `netrepro run` \
checks it:
  agrees        the cell's values are kept; it is marked `observed = { os_version, netrepro, \
date }` (unless a run on the same host marked it already)
  unknown       filled with the observed verdict, server error classes and step outcomes, \
and marked observed
  contradicted  a disagreement, listed with the scenario's refs; the cell is kept unless the \
scenario cites no refs, or --overwrite-cited is given
Several reports for the same OS merge: any verdict or step outcome seen is accepted, only \
errors seen in every run are required. A set of verdicts or step outcomes that the cell \
inherits (from the base; for wine, from windows) and that accepts the runs is written whole. \
Not written: a `survived` from a host that samples no resources (Wine) where another cell \
of the implementation expects leaked or busy, and a cell that any of the runs cut short.

Without --accept bless prints a unified diff per file and writes nothing. Exit codes: 0 done, \
1 a disagreement was left unwritten, 2 bad input (nothing written), 4 a file could not be \
written. See scenarios/README.md, \"Turning a report into expectations\".";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct BlessArgs {
    /// JSON reports written by `netrepro run --report` (current schema).
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Write these OS cells (default: each report's host OS; `wine` for a run under Wine).
    #[arg(long, value_enum)]
    pub os: Option<ExpectKey>,
    /// `unknown`: only fill cells whose verdict is unknown; never rewrite a stated one.
    #[arg(long, value_enum, value_name = "CELLS")]
    pub only: Option<Only>,
    /// Write the changes (each file atomically). Without it nothing is written.
    #[arg(long)]
    pub accept: bool,
    /// Also rewrite the cells of cited scenarios (with refs) that the reports contradict.
    #[arg(long, conflicts_with = "only")]
    pub overwrite_cited: bool,
    /// Find scenario files by name in these files or folders, instead of at
    /// the paths the report recorded (relative to where the run was made).
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
}

/// Which cells `--only` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    Unknown,
}

fn key_name(k: ExpectKey) -> &'static str {
    netrepro_bless::edit::key_name(k)
}

pub fn main(args: BlessArgs) -> u8 {
    let mut sources: Vec<Source> = Vec::new();
    let mut bad = false;
    for p in &args.reports {
        match netrepro_bless::load(p) {
            Ok(s) => sources.push(s),
            Err(e) => {
                errln!("error: {}", terminal(&e.to_string()));
                bad = true;
            }
        }
    }
    if bad {
        return EXIT_INPUT;
    }
    let opts = Options {
        key: args.os,
        only_unknown: args.only == Some(Only::Unknown),
        overwrite_cited: args.overwrite_cited,
        scenarios: args.scenarios.clone(),
    };
    let plan = match netrepro_bless::plan(&sources, &opts) {
        Ok(p) => p,
        Err(errors) => {
            for e in &errors {
                errln!("error: {}", terminal(&e.to_string()));
            }
            errln!("{} error(s); nothing written", errors.len());
            return EXIT_INPUT;
        }
    };
    print_sources(&sources, &plan, args.os.is_some());
    for f in &plan.files {
        out!("{}", terminal_lines(&f.unified_diff()));
    }
    print_cells(&sources, &plan, &opts);
    let changed = plan.files.iter().filter(|f| f.changed()).count();
    if !args.accept {
        if changed > 0 {
            outln!(
                "preview only: nothing written; `--accept` writes the {changed} changed file(s)"
            );
        }
    } else {
        match netrepro_bless::write(&plan) {
            Ok(done) => {
                for p in done {
                    outln!("wrote {}", terminal(&p.display().to_string()));
                }
            }
            Err((done, errors)) => {
                for p in done {
                    outln!("wrote {}", terminal(&p.display().to_string()));
                }
                for e in errors {
                    errln!("error: {}", terminal(&e.to_string()));
                }
                return EXIT_REPORT;
            }
        }
    }
    if plan.disagreements_kept() > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

fn print_sources(sources: &[Source], plan: &Plan, forced: bool) {
    for (s, key) in sources.iter().zip(&plan.keys) {
        let r = &s.report;
        let wine = r
            .host
            .wine
            .as_ref()
            .map(|w| format!(" under Wine {w}"))
            .unwrap_or_default();
        outln!(
            "{}: {} results from {} ({}, {}){}: the {} cells{}",
            terminal(&s.path.display().to_string()),
            r.results.len(),
            r.host.os.as_str(),
            terminal(&r.host.os_version),
            terminal(&r.host.arch),
            terminal(&wine),
            key_name(*key),
            if forced && *key != s.host_key() {
                format!(" (--os; the report ran as {})", key_name(s.host_key()))
            } else {
                String::new()
            }
        );
        if !r.complete {
            outln!("  note: the report is incomplete (the run was interrupted): only its results are blessed");
        }
    }
}

fn print_cells(sources: &[Source], plan: &Plan, opts: &Options) {
    let several = sources.len() > 1;
    let (mut agree, mut marked, mut filled, mut rewritten, mut kept, mut unfilled) =
        (0, 0, 0, 0, 0, 0);
    for (f, c) in plan.cells() {
        let what = match &c.action {
            Action::Agrees => {
                agree += 1;
                continue;
            }
            Action::Marked => {
                marked += 1;
                "marked"
            }
            Action::Filled => {
                filled += 1;
                "filled"
            }
            Action::Rewritten => {
                rewritten += 1;
                "rewritten"
            }
            Action::Kept(_) => {
                kept += 1;
                "DISAGREES"
            }
            Action::NotFilled(_) => {
                unfilled += 1;
                "not filled"
            }
        };
        let observed = match (&c.action, &c.observed, &c.marker) {
            (Action::Marked, _, Some(m)) => format!(": agrees; observed on {}", m.host()),
            (_, Some(o), _) => format!(": {}", o.describe()),
            _ => String::new(),
        };
        outln!(
            "{what:<10} {} [{}] {}{}",
            terminal(&f.path.display().to_string()),
            c.impl_.as_str(),
            key_name(c.key),
            terminal(&observed)
        );
        match &c.action {
            Action::Kept(Kept::Cited) => {
                outln!("    kept: the scenario cites sources; `--overwrite-cited` rewrites it")
            }
            Action::Kept(Kept::OnlyUnknown) => outln!("    kept: --only unknown"),
            Action::Kept(Kept::NotObservable(why)) => outln!("    kept: {}", terminal(why)),
            Action::NotFilled(why) => outln!("    left unknown: {}", terminal(why)),
            _ => {}
        }
        for (src, line) in &c.lines {
            if several {
                outln!(
                    "    {}: {}",
                    terminal(&sources[*src].path.display().to_string()),
                    terminal(line)
                );
            } else {
                outln!("    {}", terminal(line));
            }
        }
        for n in &c.notes {
            outln!("    note: {}", terminal(n));
        }
        if matches!(c.action, Action::Kept(_) | Action::Rewritten) {
            for r in &c.refs {
                outln!("    ref: {}", terminal(r));
            }
        }
    }
    // One line per report and reason: a run skips whole groups alike.
    let mut groups: Vec<((usize, &str), Vec<String>)> = Vec::new();
    for s in &plan.skipped {
        let item = format!("{} [{}]", s.scenario, s.impl_.as_str());
        let k = (s.source, s.reason.as_str());
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    for ((src, reason), items) in groups {
        outln!(
            "skipped    {} result(s) of {}: {}: {}",
            items.len(),
            terminal(&sources[src].path.display().to_string()),
            terminal(reason),
            terminal(&items.join(", "))
        );
    }
    outln!(
        "{} cell(s): {agree} agree, {marked} marked observed, {filled} filled, {rewritten} rewritten, \
         {kept} disagreement(s) kept, {unfilled} left unknown; {} result(s) skipped",
        agree + marked + filled + rewritten + kept + unfilled,
        plan.skipped.len()
    );
    if kept > 0 && !opts.overwrite_cited && !opts.only_unknown {
        outln!("a disagreement is a bug in the scenario or a finding worth reporting upstream: look at each before `--overwrite-cited`");
    }
}

/// The section of scenarios/README.md about bless (`netrepro list
/// --markdown` appends it, so the generated catalog documents the command).
pub const README_SECTION: &str = r#"
## Turning a report into expectations

`netrepro bless REPORT…` writes what a run observed into these files as the
per-OS cells `[expect.<impl>.<os>]`: the OS is the report's host (`wine` for
a run under Wine) unless `--os windows|macos|linux|wine` says otherwise. It
prints a unified diff per file and writes nothing until `--accept` (each file
atomically):

```sh
netrepro run --report reports/windows.json      # on the Windows host
netrepro bless reports/windows.json             # review the diff
netrepro bless reports/windows.json --accept    # write it
```

Each result is compared with its cell as `netrepro run` checks it:

- a cell the report **agrees** with keeps its values exactly (sets of
  acceptable outcomes and hand-written OS error names included) and is
  *marked observed* (below);
- an **unknown** cell is filled with the observed verdict, server error
  classes (an error of class `other` by its OS name) and step outcomes, with
  a comment saying where they were observed, and marked observed; nothing
  else in the file (comments, refs, formatting) changes;
- a cell the report **contradicts** is a *disagreement*: it is listed with
  the scenario's refs and left unchanged (exit code 1), because it is either
  a bug in the scenario or a finding worth reporting upstream.
  `--overwrite-cited` rewrites it anyway; the cells of a scenario without
  refs are rewritten without it. `--only unknown` fills unknown cells and
  rewrites nothing.

Several reports from the same OS merge into one cell: every verdict and step
outcome seen is accepted, and only the server errors seen in every run are
required. Where the cell inherits a set (from the base, and for `wine` from
`windows`) that accepts what the runs saw, such as `["reset", "eof",
"skipped"]` for a client queued behind a dying server, the whole set is
written: it names a race the scenario already knows, which a few runs cannot
rule out. Not written: a `survived` from a host that samples no resources
(Wine), where another cell of that implementation expects `leaked` or `busy`
(a leak would not show there), and a cell that any of the runs cut short by
the scenario's timeout. Writing a `windows` cell also changes a `wine` cell
that does not state every key; bless says so.

The mark is a key of the cell, which the table above shows as "observed
(…)" instead of "cited":

```toml fragment
[expect.naive.wine]
server = "crashed"
server_errors = ["reset"]
observed = { os_version = "Windows 6.1.7601", arch = "x86_64", wine = "8.0", netrepro = "0.1.0", date = "2026-11-26" }
```

It holds the report's host (OS version, arch, Wine version), the netrepro
version and the day the run started; with several reports, the newest. A
cell that agrees and is marked from the same host already is left alone (a
new date alone is no news); a run on another OS version replaces the mark.
A cell without a mark is *cited*: stated from the scenario's refs or by its
author, not recorded as seen. A mark only says what a run showed on that
day: edit the cell by hand and the mark no longer vouches for it (bless
again). A cell that inherits its values gets a table of its own holding
only the mark; `--only unknown` marks only the cells it fills.

Exit codes: 0 done, 1 a disagreement was left unwritten, 2 bad input (an
unreadable report, a report of another schema version, a missing scenario
file, a result for a scenario that is not there or has changed; each named,
nothing written), 4 a file could not be written.
"#;
