//! The verdict of a server that does not serve the probe (issue 10 item
//! 12), against programs netrepro did not write: socat turning every new
//! client away is `rejecting` (alive, the probe failed at once), not `hung`
//! (which is a timeout); a Python server whose serving thread died while
//! another thread keeps the process alive a little longer is `crashed`, not
//! `hung`: it gets a bounded grace to exit before its verdict is taken.

#![cfg(unix)]

mod common;

/// python3 is installed by .ci/run; say SKIP where it is not.
fn python_installed() -> bool {
    let here = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        eprintln!("SKIP: python3 is not installed");
    }
    here
}

#[test]
fn socat_closing_every_new_client_is_rejecting_not_hung() {
    if !common::socat_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Accepts, runs `false`, closes: every client (the probe too) gets EOF at once.
    let (out, res) = common::run_report(
        &[
            "scenarios/tcp/rst-mid-request.toml",
            "--target-cmd",
            "socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork EXEC:false",
            "--expect",
            "rejecting",
        ],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(res.len(), 1, "{err}");
    let r = &res[0];
    assert_eq!(r["verdict"], "rejecting", "{r}");
    assert_eq!(r["status"], "passed", "{r}");
    assert_eq!(r["probe"]["served"], false, "{r}");
    // Failed at once, not by the probe's timeout.
    assert!(r["probe"]["elapsed_ms"].as_u64().unwrap() < 1000, "{r}");
    assert!(r["exit"].is_null(), "{r}");
}

#[test]
fn a_server_dying_slowly_after_its_serving_thread_died_is_crashed_not_hung() {
    if !python_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Lingers 1.5 s after the serving thread died: longer than the old 0.5 s
    // grace after a refused probe, shorter than the probe timeout + grace.
    let (out, res) = common::run_report(
        &[
            "scenarios/tcp/rst-mid-request.toml",
            "--target-cmd",
            "python3 examples/targets/dying_echo.py --port {port} --linger-ms 1500",
            "--expect",
            "crashed",
        ],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(res.len(), 1, "{err}");
    let r = &res[0];
    assert_eq!(r["verdict"], "crashed", "{r}");
    assert_eq!(r["status"], "passed", "{r}");
    // Its own exit, not the harness's kill.
    assert_eq!(r["exit"]["code"], 3, "{r}");
}
