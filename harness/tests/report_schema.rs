//! The published JSON Schemas: the checked-in files match the types, and
//! real documents (a Linux and a Wine report, a merged matrix) validate
//! against them.

use netrepro_report::{load, merge, schema};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn checked_in_schemas_match_the_types() {
    let dir = repo().join(schema::DIR);
    let stale = schema::stale(&dir);
    assert!(
        stale.is_empty(),
        "the report types changed but these schemas were not regenerated: {stale:?}\n\
         run `cargo run -p netrepro -- report schema` from the repository root and commit \
         reports/schema/ (and document the new fields in reports/README.md)"
    );
}

fn validate(schema_text: &str, doc: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(schema_text).unwrap();
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn real_reports_validate_against_the_report_schema() {
    for f in ["report-linux.json", "report-wine.json"] {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture(f)).unwrap()).unwrap();
        let errs = validate(&schema::report_schema(), &doc);
        assert!(errs.is_empty(), "{f}: {errs:#?}");
    }
}

#[test]
fn schema_rejects_a_report_with_a_wrong_verdict() {
    // The schema must be able to fail: an unknown verdict is not a report.
    let text = std::fs::read_to_string(fixture("report-linux.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["results"][0]["verdict"] = serde_json::json!("exploded");
    let errs = validate(&schema::report_schema(), &doc);
    assert!(!errs.is_empty(), "a bad verdict validated");
}

#[test]
fn merged_matrix_validates_against_the_matrix_schema() {
    let inputs: Vec<_> = ["report-linux.json", "report-wine.json"]
        .iter()
        .map(|f| load::load(&fixture(f)).unwrap())
        .collect();
    let m = merge::merge(&inputs, &[], "2026-01-01T00:00:00Z".into()).unwrap();
    let doc = serde_json::to_value(&m).unwrap();
    let errs = validate(&schema::matrix_schema(), &doc);
    assert!(errs.is_empty(), "{errs:#?}");
}
