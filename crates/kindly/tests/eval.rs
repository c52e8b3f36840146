//! `kindly eval` end to end on a slice of public data (CLINC150 `data_small`, with
//! out-of-scope queries): the path works and the numbers are sane. Generous floors, not the
//! targets — `make eval` measures those on the full test splits.

mod common;

use std::process::Command;

#[test]
fn eval_on_a_clinc150_slice_reports_sane_numbers() {
    let data = common::root().join("../shared/data/clinc150_oos/data_small.json");
    assert!(data.exists(), "{} is missing: the public datasets must sit beside the project", data.display());
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let md = out.path().join("report.md");
    let status = Command::new(env!("CARGO_BIN_EXE_kindly"))
        .current_dir(common::root())
        .args(["eval", data.to_str().unwrap(), "--limit", "400", "--json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .env("KINDLY__DATA__DIR", out.path().join("unused"))
        .status()
        .unwrap();
    assert!(status.success());
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let metric =
        |name: &str| report["metrics"][name].as_f64().unwrap_or_else(|| panic!("{name} in {report}"));
    assert_eq!(report["tickets"], 400);
    assert!(report["train_examples"].as_u64().unwrap() > 7000, "{report}");
    assert!(metric("intent_accuracy") > 0.8, "{report}");
    assert!(metric("precision_at_target") > 0.9, "{report}");
    assert!(metric("coverage_at_target") > 0.3, "{report}");
    assert!(metric("out_of_scope_handoff_rate") > 0.5, "{report}");
    assert!(metric("coverage_at_precision_0.95") >= metric("coverage_at_precision_0.99"));
    // One intent threshold for all intents, chosen so that 95% of out-of-scope queries go to a
    // person: the policy's other checks still apply, so it cannot answer more than they allow.
    assert!(metric("one_threshold_out_of_scope_handoff_rate") >= 0.95, "{report}");
    assert!(metric("one_threshold_in_scope_answered_correctly") > 0.3, "{report}");
    assert!((0.0..=1.0).contains(&metric("one_threshold_intent_threshold")), "{report}");
    assert!(std::fs::read_to_string(&md).unwrap().contains("| intent_accuracy |"));
}
