//! The command line as a user meets it: exit codes and located errors.

mod common;

use std::path::Path;
use std::process::Command;

fn netrepro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netrepro"))
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The one small valid scenario the CLI tests share (named "one-connect").
use common::ONE_CONNECT as VALID;

#[test]
fn validate_accepts_the_shipped_catalog() {
    let out = netrepro()
        .args([
            "validate",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn validate_names_file_line_and_column_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = VALID.replace("op = \"connect\"", "op = \"conect\"");
    let p = write(dir.path(), "bad.toml", &bad);
    let out = netrepro().arg("validate").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:10:", p.display());
    assert!(err.contains(&want), "expected {want:?} in: {err}");
    assert!(err.contains("conect"), "{err}");
}

#[test]
fn validate_reports_every_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", "name = \n");
    write(
        dir.path(),
        "b.toml",
        &VALID.replace("proto = \"tcp\"", "proto = \"sctp\""),
    );
    write(dir.path(), "c.toml", VALID);
    let out = netrepro().arg("validate").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.toml:1:"), "{err}");
    assert!(err.contains("b.toml:6:"), "{err}");
    assert!(!err.contains("c.toml"), "{err}");
}

#[test]
fn missing_path_and_bad_flags_exit_2() {
    let out = netrepro()
        .args(["run", "/nonexistent/netrepro"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = netrepro()
        .args(["run", "--impl", "clever"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `serve` options no server can run are usage errors (2) that start
/// nothing: no `LISTENING` line.
#[test]
fn serve_refuses_forward_over_udp_or_without_upstream_with_exit_2() {
    for args in [
        &[
            "--proto",
            "udp",
            "--mode",
            "forward",
            "--upstream",
            "127.0.0.1:9",
        ][..],
        &["--proto", "tcp", "--mode", "forward"],
    ] {
        let out = netrepro()
            .args(["serve", "--impl", "naive"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn run_writes_a_report_and_exits_1_on_a_broken_expectation() {
    let dir = tempfile::tempdir().unwrap();
    // Hardened survives an RST before data; claiming it crashes must fail.
    let wrong = VALID
        .replace(
            "[expect.hardened]\nserver = \"survived\"",
            "[expect.hardened]\nserver = \"crashed\"",
        )
        .replace(
            "op = \"connect\"\n",
            "op = \"connect\"\n[[steps]]\nactor = \"a\"\nop = \"abort\"\n",
        );
    let p = write(dir.path(), "wrong.toml", &wrong);
    let report = dir.path().join("out/report.json");
    let out = netrepro()
        .arg("run")
        .arg(&p)
        // naive-seq dies of the abort: only the two that survive it.
        .args(["--impl", "naive,hardened"])
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("server: expected crashed, got survived"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["complete"], true);
    assert_eq!(json["summary"]["total"], 2);
    assert_eq!(json["summary"]["failed"], 1);
    let results = json["results"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["verdict"] == "survived"),
        "{results:?}"
    );
}

/// Ctrl-C in the middle of a run: the server being tested is killed, the
/// run exits 130, and the report keeps the results finished so far.
#[cfg(target_os = "linux")]
#[test]
fn interrupted_run_kills_its_servers_and_keeps_a_partial_report() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a-quick.toml", VALID);
    let slow = VALID
        .replace("name = \"one-connect\"", "name = \"slow\"")
        .replace(
            "op = \"connect\"\n",
            "op = \"connect\"\n[[steps]]\nop = \"wait\"\nms = 10000\n",
        );
    write(dir.path(), "b-slow.toml", &slow);
    let report = dir.path().join("r.json");
    let mut child = netrepro()
        .args(["run", "--impl", "naive"])
        .arg(dir.path())
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let run_pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = lines.next().expect("a header line").unwrap();
    assert!(
        header.starts_with("netrepro ") && header.contains(" on linux "),
        "{header}"
    );
    let first = lines.next().expect("a progress line").unwrap();
    assert!(
        first.contains("PASS") && first.contains(" one-connect "),
        "{first}"
    );

    // Wait (bounded) until the slow scenario's server is running.
    let deadline = Instant::now() + Duration::from_secs(10);
    let servers = loop {
        let kids = children_of(run_pid);
        if !kids.is_empty() {
            break kids;
        }
        assert!(Instant::now() < deadline, "no server process appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    unsafe { libc::kill(run_pid as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "run did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    for pid in servers {
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) {
            assert!(Instant::now() < deadline, "server {pid} outlived the run");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["complete"], false);
    assert_eq!(json["results"].as_array().unwrap().len(), 1);
    assert_eq!(json["results"][0]["scenario"]["name"], "one-connect");
}

#[cfg(target_os = "linux")]
fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

/// Running or sleeping (a zombie or a vanished pid is not alive).
#[cfg(target_os = "linux")]
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next())
        })
        .flatten()
        .is_some_and(|c| !matches!(c, 'Z' | 'X' | 'x'))
}

#[test]
fn default_folder_missing_says_where_to_run_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = netrepro()
        .arg("run")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scenarios"), "{err}");
    assert!(err.contains("hint: run from the repository root"), "{err}");
}

/// `--version` prints the package version, and the commit it was built
/// from when the source is a git checkout (build.rs); outside one (a crates
/// tarball) only the version.
#[test]
fn version_shows_the_package_version_and_the_commit() {
    let out = netrepro().arg("--version").output().expect("run netrepro");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let line = text.trim_end();
    let want = format!("netrepro {}", env!("CARGO_PKG_VERSION"));
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(head) => {
            let rest = line
                .strip_prefix(&format!("{want} (commit "))
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or_else(|| panic!("no commit in {line:?}"));
            assert_eq!(rest.len(), 12, "{line:?}");
            assert!(head.starts_with(rest), "{line:?} is not HEAD {head}");
        }
        None => assert_eq!(line, want),
    }
}
