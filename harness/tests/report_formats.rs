//! CTRF and JUnit output of real reports: CTRF validates against the
//! published CTRF schema, JUnit parses back as well-formed XML with one
//! testcase per scenario x impl.

use netrepro_report::json;
use netrepro_report::{ctrf, junit, Report, Status};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn report(name: &str) -> Report {
    json::read(&fixture(name)).unwrap()
}

/// The CTRF JSON Schema, vendored from github.com/ctrf-io/ctrf
/// schema/ctrf.schema.json at commit 84ddec55811b6a9bf9db3bf9638c9568cde88bb5
/// (MIT, see fixtures/ctrf.LICENSE).
fn ctrf_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(fixture("ctrf.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("CTRF schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

#[test]
fn ctrf_of_real_reports_is_valid_ctrf() {
    let v = ctrf_validator();
    for f in ["report-linux.json", "report-wine.json"] {
        let rep = report(f);
        let doc: serde_json::Value =
            serde_json::from_str(&ctrf::render(&rep, f.contains("wine"))).unwrap();
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{f}: {errs:#?}");
        let tests = doc["results"]["tests"].as_array().unwrap();
        assert_eq!(tests.len(), rep.results.len());
        let s = &doc["results"]["summary"];
        assert_eq!(s["tests"], rep.results.len());
        assert_eq!(s["passed"], rep.summary.passed);
        assert_eq!(s["failed"], rep.summary.failed);
        assert!(s["stop"].as_u64().unwrap() >= s["start"].as_u64().unwrap());
        assert!(s["start"].as_u64().unwrap() > 1_600_000_000_000, "epoch ms");
        for (t, r) in tests.iter().zip(&rep.results) {
            assert_eq!(t["rawStatus"], r.verdict.map_or("not-run", |v| v.as_str()));
            assert_eq!(t["labels"]["impl"], r.impl_.as_str());
            assert_eq!(t["labels"]["os"], rep.host.os.as_str());
            if r.status == Status::Failed {
                assert_eq!(t["status"], "failed");
                // The diff first, then the evidence (server errors, output tails).
                let msg = t["message"].as_str().unwrap();
                assert!(msg.starts_with(&r.diff.join("\n")), "{msg}");
                for e in &r.server_errors {
                    assert!(
                        msg.contains(&format!("server +{}ms {}", e.t_ms, e.op)),
                        "{msg}"
                    );
                }
            }
        }
    }
}

#[test]
fn ctrf_validator_rejects_a_broken_document() {
    // The check must be able to fail: a status CTRF does not know.
    let v = ctrf_validator();
    let mut doc: serde_json::Value =
        serde_json::from_str(&ctrf::render(&report("report-linux.json"), false)).unwrap();
    doc["results"]["tests"][0]["status"] = serde_json::json!("unverified");
    assert!(!errors(&v, &doc).is_empty());
}

#[test]
fn ctrf_maps_statuses_and_error_labels() {
    let mut rep = report("report-linux.json");
    rep.results[0].status = Status::Unverified;
    rep.results[1].status = Status::Skipped;
    let doc: serde_json::Value = serde_json::from_str(&ctrf::render(&rep, false)).unwrap();
    let v = ctrf_validator();
    assert!(errors(&v, &doc).is_empty());
    let tests = &doc["results"]["tests"];
    assert_eq!(tests[0]["status"], "other");
    assert_eq!(tests[1]["status"], "skipped");
    assert_eq!(doc["results"]["summary"]["other"], 1);
    assert_eq!(doc["results"]["environment"]["osPlatform"], "linux");
    // natter-client-abort [naive]: the server saw ECONNRESET.
    let names: Vec<_> = rep.results[0]
        .server_errors
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert!(!names.is_empty());
    assert_eq!(tests[0]["labels"]["serverErrors"][0], names[0]);
}

#[test]
fn junit_is_well_formed_and_has_one_case_per_result() {
    for f in ["report-linux.json", "report-wine.json"] {
        let rep = report(f);
        let xml = junit::render(&rep);
        // Well-formed: a strict XML reader gets through every event.
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut cases = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == b"testcase" => {
                    cases += 1
                }
                Ok(_) => {}
                Err(e) => panic!("{f}: malformed XML at {}: {e}", reader.error_position()),
            }
        }
        assert_eq!(cases, rep.results.len(), "{f}");
        // And it reads back as JUnit with the same failures.
        let back = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(back.tests, rep.results.len());
        assert_eq!(back.failures, rep.summary.failed);
        let failing: Vec<String> = back
            .test_suites
            .iter()
            .flat_map(|s| s.test_cases.iter())
            .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::NonSuccess { .. }))
            .map(|c| c.name.to_string())
            .collect();
        let want: Vec<String> = rep
            .results
            .iter()
            .filter(|r| r.failed())
            .map(|r| format!("{} [{}]", r.scenario.name, r.impl_.as_str()))
            .collect();
        let (mut a, mut b) = (failing, want);
        a.sort();
        b.sort();
        assert_eq!(a, b, "{f}");
    }
}

#[test]
fn junit_failure_carries_the_diff_and_system_out_the_error_codes() {
    let rep = report("report-wine.json");
    let failed = rep
        .results
        .iter()
        .find(|r| r.failed())
        .expect("wine fixture has failures");
    let xml = junit::render(&rep);
    let back = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let name = format!("{} [{}]", failed.scenario.name, failed.impl_.as_str());
    let case = back
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .find(|c| c.name.as_str() == name)
        .unwrap();
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess { description, .. } => {
            assert_eq!(
                description.as_ref().unwrap().as_str(),
                failed.diff.join("\n")
            );
        }
        other => panic!("{name}: {other:?}"),
    }
    let out = case.system_out.as_ref().unwrap().as_str();
    for e in &failed.server_errors {
        assert!(out.contains(&e.name), "{name}: {} missing in {out}", e.name);
    }
    assert_eq!(
        case.classname.as_ref().unwrap().as_str(),
        failed.scenario.path
    );
}

#[test]
fn junit_escapes_markup_in_scenario_text() {
    let mut rep = report("report-linux.json");
    rep.results[0].scenario.name = "a<b>&\"c\"]]>".into();
    rep.results[0].status = Status::Failed;
    rep.results[0].diff = vec!["x < y & </failure>".into()];
    let xml = junit::render(&rep);
    let back = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let case = &back
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .find(|c| c.name.as_str().starts_with("a<b>"))
        .unwrap();
    assert_eq!(case.name.as_str(), "a<b>&\"c\"]]> [naive]");
}
