//! A target flooding its stderr (issue 11.7, server-event part) does not
//! grow the harness or the report without bound: 100,000 repeated JSON
//! events merge into one entry with a count, 300 distinct events with
//! 60 KB names are cut and capped, 300 lines of 100 KB are cut with a note.
//! The target is an independent Python program (a UDP echo that floods
//! before it announces itself). Prints the measured figures.
#![cfg(target_os = "linux")]

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const FLOOD: &str = r#"
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
e = sys.stderr
for i in range(100000):
    e.write(json.dumps({"op": "recv", "raw": 104, "name": "ECONNRESET", "class": "reset", "fatal": False, "t_ms": i}) + "\n")
for i in range(300):
    e.write(json.dumps({"op": "recv", "raw": i + 1000, "name": "E" + "X" * 60000, "class": "other", "fatal": False}) + "\n")
for i in range(300):
    e.write("x" * 100000 + "\n")
e.flush()
print("LISTENING 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d, a)
"#;

/// Peak RSS (bytes) of the children this process has waited for, and
/// their descendants (getrusage(RUSAGE_CHILDREN); ru_maxrss is in KiB on Linux).
fn children_max_rss() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0);
    ru.ru_maxrss as u64 * 1024
}

#[test]
fn a_flooding_target_keeps_harness_memory_and_report_size_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("flood.py");
    std::fs::write(&script, FLOOD).unwrap();
    let report = dir.path().join("r.json");
    let cmd = format!("python3 {} {{port}}", script.display());
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["run", "scenarios/udp/zero-length-datagram.toml", "--quiet"])
        .args(["--target-cmd", &cmd, "--report"])
        .arg(&report)
        .output()
        .unwrap();
    let rss = children_max_rss();
    let size = std::fs::metadata(&report).map(|m| m.len()).unwrap_or(0);
    let rep: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let r = &rep["results"][0];
    eprintln!(
        "flood: peak RSS of netrepro and its target {:.1} MB, report {:.1} KB, exit {:?}",
        rss as f64 / 1e6,
        size as f64 / 1e3,
        out.status.code()
    );
    let o = &r["output"];
    assert_eq!(o["events_read"], 100_300, "{o}");
    assert_eq!(o["events_merged"], 99_999, "{o}");
    assert_eq!(o["events_dropped"], 300 + 1 - 256, "{o}");
    assert_eq!(o["cut_lines"], 300, "{o}");
    let ev = r["server_errors"].as_array().unwrap();
    assert_eq!(ev.len(), 256);
    assert_eq!(ev[0]["name"], "ECONNRESET");
    assert_eq!(ev[0]["count"], 100_000);
    assert_eq!(ev[0]["last_t_ms"], 99_999);
    assert!(ev[1]["name"].as_str().unwrap().len() <= 128);
    let tail = o["stderr_tail"].as_array().unwrap();
    assert!(tail.len() <= 40);
    assert!(tail[0]
        .as_str()
        .unwrap()
        .ends_with("[netrepro: line of 100000 bytes cut]"));
    assert!(size < 5_000_000, "report is {size} bytes");
    assert!(rss < 200_000_000, "peak RSS {rss} bytes");
}
