//! The per-run backstop: a run that outlives every stage's own bound is cut
//! off, recorded as the harness's error (never a verdict on the server), and
//! its server is killed. Forced here with a 300 ms backstop against a
//! scenario that waits 5 s; in real runs it is twice the stages' bounds.

use netrepro_report::Status;
use netrepro_runner::{run_one, RunConfig};
use netrepro_scenario::{parse::parse_str, Impl};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SLOW: &str = r#"
name = "backstop-slow"
summary = "one client waits longer than the forced backstop"
actors = ["c"]
[target]
proto = "tcp"
[[steps]]
actor = "c"
op = "connect"
[[steps]]
op = "wait"
ms = 5000
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"#;

/// Live (not zombie) processes whose parent is this test process (Linux:
/// /proc). A zombie has exited; tokio reaps it in the background.
#[cfg(target_os = "linux")]
fn children() -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let ppid: Option<u32> = fields.next().and_then(|p| p.parse().ok());
        if ppid == Some(me) && state != Some("Z") {
            out.push(e.file_name().to_string_lossy().parse().unwrap_or(0));
        }
    }
    out
}

/// Whether `pid` exits (or is gone) within `ms`: poll(2) on its pidfd,
/// which becomes readable when the process exits.
#[cfg(target_os = "linux")]
fn exits_within(pid: u32, ms: i32) -> bool {
    // SAFETY: plain syscalls on an fd this function owns and closes.
    unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) as libc::c_int;
        if fd < 0 {
            return true; // ESRCH: already gone
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let n = libc::poll(&mut p, 1, ms);
        libc::close(fd);
        n == 1
    }
}

#[test]
fn a_run_past_its_backstop_is_a_harness_error_and_its_server_is_killed() {
    let sc = parse_str(SLOW, Path::new("backstop.toml")).expect("valid scenario");
    let mut cfg = RunConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_netrepro")));
    cfg.cell_backstop = Some(Duration::from_millis(300));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    let rec = rt.block_on(run_one(&sc, Impl::Naive, &cfg));
    let took = t.elapsed();

    assert_eq!(rec.status, Status::Error, "{rec:#?}");
    assert!(
        rec.verdict.is_none(),
        "a backstop is not a verdict: {rec:#?}"
    );
    let why = rec.harness_error.as_deref().unwrap_or_default();
    assert!(why.contains("backstop of 0.3 s"), "{why}");
    assert!(took < Duration::from_secs(4), "cut off after {took:?}");

    // The server started by the cut-off run was killed when the run was
    // dropped. Its kill is sent at once, but on a loaded machine the exit
    // may land a moment later: wait for each child's exit on a pidfd,
    // bounded by 5 s.
    #[cfg(target_os = "linux")]
    {
        let left: Vec<u32> = children()
            .into_iter()
            .filter(|&p| !exits_within(p, 5_000))
            .collect();
        assert!(
            left.is_empty(),
            "children alive 5 s after the run: {left:?}"
        );
    }
}

#[test]
fn an_ordinary_run_is_not_cut_off_by_the_default_backstop() {
    let quick = SLOW.replace("ms = 5000", "ms = 10");
    let sc = parse_str(&quick, Path::new("quick.toml")).expect("valid scenario");
    let cfg = RunConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_netrepro")));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rec = rt.block_on(run_one(&sc, Impl::Hardened, &cfg));
    assert_eq!(rec.status, Status::Passed, "{rec:#?}");
    assert!(rec.harness_error.is_none());
}
