//! `netrepro bench all --quick --json`: the output is well-formed, every
//! figure is a positive finite number, and every ratio is exactly a / b of
//! two printed figures. Nothing here says how fast anything must be: the
//! figures of a loaded machine are whatever they are.

use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;

#[test]
fn bench_all_quick_json_prints_positive_figures_and_consistent_ratios() {
    let out = Command::new(env!("CARGO_BIN_EXE_netrepro"))
        .args(["bench", "all", "--quick", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}:\n{stdout}"));
    assert_eq!(v["quick"], Value::Bool(true), "{stdout}");

    let mut figures = HashMap::new();
    for f in v["figures"].as_array().expect("figures") {
        let id = f["id"].as_str().expect("figure id").to_string();
        let value = f["value"].as_f64().unwrap_or(f64::NAN);
        assert!(
            value.is_finite() && value > 0.0,
            "{id}: {value} is not a positive finite number"
        );
        for key in ["bench", "what", "unit"] {
            assert!(
                f[key].as_str().is_some_and(|s| !s.is_empty()),
                "{id}: {key}"
            );
        }
        assert!(figures.insert(id.clone(), value).is_none(), "{id} twice");
    }
    let mut want: Vec<String> = [
        "storm.netrepro",
        "storm.raw",
        "udp.netrepro",
        "udp.raw",
        "overhead.median",
        "overhead.min",
        "overhead.ready",
        "overhead.tail",
        "accept.baseline",
        "accept.hardened-echo",
    ]
    .map(String::from)
    .to_vec();
    for n in [10, 100, 1000] {
        want.push(format!("scaling.{n}.ms"));
        want.push(format!("scaling.{n}.bytes"));
    }
    for id in &want {
        assert!(figures.contains_key(id), "no figure {id}:\n{stdout}");
    }

    let mut ratios = Vec::new();
    for r in v["ratios"].as_array().expect("ratios") {
        let id = r["id"].as_str().expect("ratio id");
        let (a, b) = (r["a"].as_str().unwrap(), r["b"].as_str().unwrap());
        let value = r["value"].as_f64().unwrap_or(f64::NAN);
        let (Some(x), Some(y)) = (figures.get(a), figures.get(b)) else {
            panic!("ratio {id}: {a} or {b} is not a printed figure");
        };
        let expected = x / y;
        assert!(
            (value - expected).abs() <= expected.abs() * 1e-12,
            "ratio {id}: {value} != {a} / {b} = {expected}"
        );
        assert!(!ratios.contains(&id), "ratio {id} twice");
        ratios.push(id);
    }
    for id in [
        "storm",
        "storm.best",
        "udp",
        "udp.best",
        "scaling.ms",
        "scaling.bytes",
    ] {
        assert!(ratios.contains(&id), "no ratio {id}:\n{stdout}");
    }
    assert!(v["notes"].is_array());
}
