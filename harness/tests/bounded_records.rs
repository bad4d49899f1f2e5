//! Issue 11.7 (client side): repeated step runs are merged into one record
//! per distinct outcome, end to end through `netrepro run` and its report.

use std::path::Path;
use std::process::Command;

#[test]
fn a_repeat_block_is_recorded_by_distinct_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let storm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/tcp/abort-storm.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .arg("run")
        .arg(&storm)
        .args(["--impl", "hardened", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let result = &json["results"][0];
    let steps = result["steps"].as_array().unwrap();
    // 200 x (connect, send, abort) + 3 single steps = 603 runs.
    let runs: u64 = steps.iter().map(|s| s["runs"].as_u64().unwrap_or(1)).sum();
    assert_eq!(runs, 603, "{steps:#?}");
    // Hardened: every run of a step has the same outcome.
    assert_eq!(steps.len(), 6, "{steps:#?}");
    let connect = &steps[0];
    assert_eq!(connect["iteration"], 1);
    assert_eq!(connect["runs"], 200);
    assert_eq!(connect["last"]["iteration"], 200);
    let notes = result["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().contains("597")),
        "the result says how many runs were merged: {notes:?}"
    );
}
