//! The target's own words (issue 10.6): servers that print no netrepro JSON
//! events and die of an unhandled ECONNRESET get their error code into the
//! report's server errors, read from their stderr text (`source = text`),
//! and their stderr tail into the result and the failure text of every
//! format. Independent programs: a plain Python echo server and a Node `net`
//! echo server with no 'error' handler (examples/targets).

// The example programs run on Linux here (ECONNRESET is errno 104 there).
#![cfg(target_os = "linux")]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RST_MID_REQUEST: &str = "scenarios/tcp/rst-mid-request.toml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `run SCENARIO --target-cmd CMD --expect EXPECT` with every report format.
fn run(cmd: &str, expect: &str, dir: &Path) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .current_dir(root())
        .args(["run", RST_MID_REQUEST, "--quiet", "--target-cmd", cmd])
        .args(["--expect", expect])
        .arg("--report")
        .arg(dir.join("r.json"))
        .arg("--junit")
        .arg(dir.join("r.xml"))
        .arg("--ctrf")
        .arg(dir.join("r.ctrf.json"))
        .arg("--markdown")
        .arg(dir.join("r.md"))
        .output()
        .expect("run netrepro");
    let rep: Value = serde_json::from_slice(&std::fs::read(dir.join("r.json")).unwrap_or_default())
        .unwrap_or(Value::Null);
    (out, rep)
}

fn text_errors(r: &Value) -> Vec<(i64, String, String)> {
    r["server_errors"]
        .as_array()
        .expect("server_errors")
        .iter()
        .filter(|e| e["source"] == "text")
        .map(|e| {
            (
                e["raw"].as_i64().unwrap_or(-1),
                e["name"].as_str().unwrap_or("").to_string(),
                e["class"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Both programs die of ECONNRESET on Linux (errno 104; the class is the
/// portable part). Expectation met: exit 0, crashed, ECONNRESET from text.
#[cfg(target_os = "linux")]
#[test]
fn unmodified_python_and_node_servers_crash_with_econnreset_read_from_their_stderr() {
    // In CI (.ci/run installs both) a missing runtime is a failure, not a skip.
    for (prog, cmd) in [
        (
            "python3",
            "python3 examples/targets/py_echo_unhandled.py --port {port}",
        ),
        ("node", "node examples/targets/node_echo.js --port {port}"),
    ] {
        assert!(
            have(prog),
            "{prog} is needed for this test (Debian package)"
        );
        let dir = tempfile::tempdir().unwrap();
        let (out, rep) = run(cmd, "crashed", dir.path());
        let r = &rep["results"][0];
        assert_eq!(
            out.status.code(),
            Some(0),
            "{prog}: {}\n{r}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(rep["schema_version"], 2);
        assert_eq!(r["verdict"], "crashed", "{prog}: {r}");
        assert_eq!(r["exit"]["code"], 1, "{prog}: {r}");
        assert_eq!(
            text_errors(r),
            vec![(104, "ECONNRESET".to_string(), "reset".to_string())],
            "{prog}: {r}"
        );
        let tail = r["output"]["stderr_tail"].to_string();
        assert!(
            tail.contains("ECONNRESET") || tail.contains("[Errno 104]"),
            "{tail}"
        );
        assert!(r["output"]["stdout_tail"].to_string().contains("LISTENING"));
    }
}

/// A failed expectation shows the server's own words in the failure text of
/// JUnit, CTRF and Markdown (the HTML page renders the same cell).
#[cfg(target_os = "linux")]
#[test]
fn a_failure_shows_the_targets_stderr_in_junit_ctrf_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let (out, rep) = run(
        "python3 examples/targets/py_echo_unhandled.py --port {port}",
        "survived",
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{rep}");
    assert_eq!(rep["results"][0]["status"], "failed");
    let line = "ConnectionResetError: [Errno 104] Connection reset by peer";

    let xml = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    let failure = xml.split("<failure").nth(1).expect("a <failure> element");
    let failure = failure.split("</failure>").next().unwrap();
    assert!(failure.contains(line), "{failure}");
    assert!(failure.contains("stderr |"), "{failure}");
    assert!(failure.contains("[from stderr text: "), "{failure}");

    let ctrf: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.ctrf.json")).unwrap()).unwrap();
    let msg = ctrf["results"]["tests"][0]["message"].as_str().unwrap();
    assert!(msg.contains(line), "{msg}");

    let md = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    let failures = md.split("### Failures").nth(1).expect("a failures section");
    assert!(failures.contains("ConnectionResetError"), "{failures}");

    let html = dir.path().join("r.html");
    let o = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .args(["report", "html"])
        .arg(dir.path().join("r.json"))
        .arg("-o")
        .arg(&html)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("stderr | ConnectionResetError"),
        "no stderr tail in the page"
    );
}
