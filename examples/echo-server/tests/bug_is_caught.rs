//! The deliberate bug is caught: with `--bug-exit-on-reset` the reset
//! scenarios fail, crashed, and the failure text names the case and carries
//! netrepro's diff; the scenarios without a reset still pass. This is the
//! same `Suite` as tests/netrepro.rs with `ECHO_SERVER_BUG=1` (which
//! `.ci/run` also runs and checks fails), run through `Suite::cases` so each
//! case's outcome can be asserted.

use netrepro_testing::{Suite, Target, Verdict};

const FAILS: [&str; 3] = [
    "tcp/rst-mid-request",
    "tcp/rst-before-data",
    "tcp/close-with-unread-data",
];
const PASSES: [&str; 2] = ["tcp/half-close-read-reply", "tcp/idle-client"];

fn suite(bug: bool) -> Suite {
    let mut server = Target::program(env!("CARGO_BIN_EXE_echo-server")).args(["--port", "{port}"]);
    if bug {
        server = server.arg("--bug-exit-on-reset");
    }
    Suite::new()
        .catalog_only(FAILS.iter().chain(PASSES.iter()).copied())
        .target("echo-server", server)
}

#[test]
fn with_the_bug_the_reset_scenarios_fail_with_the_diff() {
    let cases = suite(true).cases().unwrap();
    assert_eq!(cases.len(), FAILS.len() + PASSES.len());
    for case in &cases {
        let scenario = case.name().strip_suffix("::echo-server").unwrap();
        let outcome = case.run();
        if FAILS.contains(&scenario) {
            let f = outcome.expect_err(case.name());
            assert_eq!(f.verdict, Some(Verdict::Crashed), "{f}");
            assert_eq!(f.diff, ["server: expected survived, got crashed"], "{f}");
            let first = f.to_string().lines().next().unwrap_or("").to_string();
            assert!(first.starts_with(&format!("FAIL {} (", case.name())), "{f}");
        } else {
            let p = outcome.unwrap_or_else(|f| panic!("{f}"));
            assert_eq!(p.verdict, Some(Verdict::Survived));
        }
    }
}
