//! One test per scenario file x implementation: start the built-in server,
//! run the scenario, and fail with the expectation diff if they disagree.
//! Scenario files are found when the tests run, so a new file needs no
//! rebuild; each case is named `<folder>/<file>::<impl>` (e.g.
//! `udp/tribler-vanished-client::naive`), so `cargo nextest run -E
//! 'test(tribler)'` picks cases by name and CI shows each one.

use libtest_mimic::{Arguments, Failed, Trial};
use netrepro_report::ResultRecord;
use netrepro_runner::{run_one, RunConfig};
use netrepro_scenario::{load_file, Impl};
use std::path::{Path, PathBuf};

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            scenario_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

fn run_case(path: &Path, imp: Impl) -> Result<(), Failed> {
    let sc = load_file(path).map_err(|e| Failed::from(e.to_string()))?;
    let cfg = RunConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_netrepro")));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("tokio runtime: {e}")))?;
    let rec: ResultRecord = rt.block_on(run_one(&sc, imp, &cfg));
    if rec.failed() {
        return Err(format!(
            "{} [{}] did not meet its expectation:\n  {}\nsteps: {:#?}\nserver errors: {:#?}",
            sc.name,
            imp.as_str(),
            rec.diff.join("\n  "),
            rec.steps,
            rec.server_errors
        )
        .into());
    }
    // Skipped (an option with no meaning on this OS) is a decision, not a
    // verdict; everything that ran must have one.
    if !rec.notes.is_empty() {
        println!("{}", rec.notes.join("\n"));
    }
    if rec.status != netrepro_report::Status::Skipped && rec.verdict.is_none() {
        return Err(format!(
            "no verdict: setup error {:?}, harness error {:?}",
            rec.setup_error, rec.harness_error
        )
        .into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files = Vec::new();
    scenario_files(&root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no scenario files under {}",
        root.display()
    );
    let mut trials = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&root).unwrap_or(&path).with_extension("");
        let rel = rel.to_string_lossy().replace('\\', "/");
        for imp in Impl::ALL {
            let path = path.clone();
            trials.push(Trial::test(format!("{rel}::{}", imp.as_str()), move || {
                run_case(&path, imp)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
