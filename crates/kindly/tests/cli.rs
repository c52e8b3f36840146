//! The `kindly` binary as an operator uses it: `kb ingest` is idempotent and removes the points of
//! deleted articles; `triage` prints the decision and its evidence as JSON on stdout.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn kindly(data_dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kindly"))
        .args(args)
        .current_dir(common::root())
        .env("KINDLY__DATA__DIR", data_dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("running kindly");
    assert!(out.status.success(), "kindly {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn summary(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr.lines().find(|l| l.starts_with("knowledge base")).unwrap_or_default().to_owned()
}

#[test]
fn ingest_twice_changes_nothing_and_removed_articles_leave_the_index() {
    let data = common::data_dir(); // the sample knowledge base, already ingested once
    let again = kindly(data.path(), &["kb", "ingest", "knowledge-base"]);
    assert!(
        summary(&again).contains("0 created, 0 updated, 36 unchanged, 0 removed; 417 points"),
        "{}",
        summary(&again)
    );

    // A folder holding only two of the articles: the other 34 and their points go away.
    let kb = tempfile::tempdir().unwrap();
    for name in ["kb-001-tracking-your-delivery.md", "kb-011-reset-password.md"] {
        std::fs::copy(common::root().join("knowledge-base").join(name), kb.path().join(name)).unwrap();
    }
    let out = kindly(data.path(), &["kb", "ingest", kb.path().to_str().unwrap()]);
    let line = summary(&out);
    assert!(line.contains("0 created, 0 updated, 2 unchanged, 34 removed"), "{line}");
    let points: usize = line.rsplit("; ").next().unwrap().split_whitespace().next().unwrap().parse().unwrap();
    assert!((10..40).contains(&points), "{line}");
}

#[test]
fn triage_prints_the_decision_as_json() {
    let data = common::data_dir();
    let out = kindly(data.path(), &["triage", "How do I reset my password for the Lumo app?"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["decision"]["outcome"]["kind"], "answer");
    assert_eq!(v["decision"]["outcome"]["knowledge"]["id"], "kb-011");
    assert!(v["reply"].as_str().unwrap().contains("kb-011"));
    let out = kindly(
        data.path(),
        &["triage", "--explain", "My father died last week and I need to close his account."],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("handed off: bereavement"), "{text}");
}

#[test]
fn imported_labels_teach_the_intent_model_a_new_intent() {
    let data = common::data_dir();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("history.csv");
    std::fs::write(
        &csv,
        "text,intent\n\
         \"Is the speaker waterproof?\",speaker_water_resistance\n\
         \"Can my Lumo speaker get wet in the rain?\",speaker_water_resistance\n\
         \"Can I take the speaker to the pool?\",speaker_water_resistance\n\
         \"Where is my parcel?\",track_order\n",
    )
    .unwrap();
    let out = kindly(data.path(), &["labels", "import", csv.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 new labels from"), "{stderr}");
    let trained = |stderr: &str| -> (i64, usize) {
        let line =
            stderr.lines().find(|l| l.starts_with("intent model v")).unwrap_or_else(|| panic!("{stderr}"));
        let version = line["intent model v".len()..].split(':').next().unwrap().parse().unwrap();
        let intents = line.split(", ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        (version, intents)
    };
    let (first, intents) = trained(&stderr);
    assert!(first >= 2, "a new version on top of the template's: {stderr}");
    assert_eq!(intents, 36, "the 35 intents of the sample knowledge base and the imported one: {stderr}");

    // The same file again adds nothing new.
    let out = kindly(data.path(), &["labels", "import", csv.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 new labels from"), "{stderr}");

    // A file without the columns is refused with a clear message.
    std::fs::write(&csv, "question,answer\nhi,there\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kindly"))
        .args(["labels", "import", csv.to_str().unwrap()])
        .current_dir(common::root())
        .env("KINDLY__DATA__DIR", data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("history.csv"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_backup_restores_to_the_same_knowledge_and_never_overwrites() {
    let data = common::data_dir();
    let copy = tempfile::tempdir().unwrap();
    let file = copy.path().join("kindly.db");
    let out = kindly(data.path(), &["backup", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("backed up"));
    let again = Command::new(env!("CARGO_BIN_EXE_kindly"))
        .args(["backup", file.to_str().unwrap()])
        .current_dir(common::root())
        .env("KINDLY__DATA__DIR", data.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    // Restoring is putting the file in a data directory: everything is there.
    let restored = kindly(copy.path(), &["kb", "ingest", "knowledge-base"]);
    assert!(summary(&restored).contains("0 created, 0 updated, 36 unchanged, 0 removed; 417 points"));
}
