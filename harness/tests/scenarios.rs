//! One test per scenario file x implementation: start the built-in server,
//! run the scenario, and fail with the expectation diff if they disagree.
//! Each case shows in `cargo nextest list` by file and impl.

use netrepro::runner::{run_one, RunConfig};
use netrepro::scenario::{load_file, Impl};
use rstest::rstest;
use std::path::PathBuf;

#[rstest]
fn scenario(
    #[files("../scenarios/**/*.toml")] path: PathBuf,
    #[values(Impl::Naive, Impl::Hardened)] imp: Impl,
) {
    let sc = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let cfg = RunConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_netrepro")));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let rec = rt.block_on(run_one(&sc, imp, &cfg));
    assert!(
        !rec.failed(),
        "{} [{}] did not meet its expectation:\n  {}\nsteps: {:#?}\nserver errors: {:#?}",
        sc.name,
        imp.as_str(),
        rec.diff.join("\n  "),
        rec.steps,
        rec.server_errors
    );
    // The verdict is always decided when the server started.
    assert!(rec.verdict.is_some(), "no verdict: {:?}", rec.setup_error);
}
