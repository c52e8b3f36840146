//! `kindly labels import`: labelled history for the intent model.

use std::path::Path;

use anyhow::{Context, bail};
use kindly_core::{Embedder, Label, TrainingStore};
use kindly_server::Kindly;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Row {
    text: String,
    #[serde(alias = "category", alias = "label")]
    intent: String,
}

/// Texts embedded per call: large enough for the model worker to batch, small enough to show
/// progress.
const CHUNK: usize = 256;

/// Reads, embeds and stores labelled examples; returns how many were new.
pub async fn import(kindly: &Kindly, path: &Path) -> anyhow::Result<usize> {
    let rows = read(path)?;
    let source = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    let mut added = 0;
    for chunk in rows.chunks(CHUNK) {
        let vectors = kindly.embedder.embed(chunk.iter().map(|r| r.text.clone()).collect()).await?;
        let labels: Vec<Label> = chunk
            .iter()
            .zip(vectors)
            .map(|(r, vector)| Label {
                text: r.text.clone(),
                intent: r.intent.clone(),
                source: source.clone(),
                vector,
            })
            .collect();
        added += kindly.store.add_labels(&labels).await?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(added)
}

fn read(path: &Path) -> anyhow::Result<Vec<Row>> {
    let raw = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let rows: Vec<Row> = if path.extension().is_some_and(|e| e == "jsonl") {
        raw.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), n + 1))
            })
            .collect::<anyhow::Result<_>>()?
    } else {
        let mut reader = csv::Reader::from_reader(raw.as_bytes());
        let header = reader.headers().with_context(|| format!("reading the header of {}", path.display()))?;
        let has = |names: &[&str]| header.iter().any(|h| names.contains(&h.trim()));
        if !has(&["text"]) || !has(&["intent", "category", "label"]) {
            let found = header.iter().collect::<Vec<_>>().join(", ");
            bail!(
                "{}: the header needs a text column and an intent (or category) column; found: {found}",
                path.display()
            );
        }
        reader
            .deserialize()
            .enumerate()
            .map(|(n, r)| {
                r.with_context(|| {
                    format!(
                        "{} line {}: expected columns text and intent (or category)",
                        path.display(),
                        n + 2
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    if rows.is_empty() {
        bail!("{} has no labelled rows", path.display());
    }
    for (n, r) in rows.iter().enumerate() {
        if r.text.trim().is_empty() || kindly_core::ticket::required_id("intent", &r.intent).is_err() {
            bail!(
                "{}: labelled row {} (after the header): text and intent must not be empty",
                path.display(),
                n + 1
            );
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(name: &str, content: &str) -> anyhow::Result<Vec<Row>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        read(&path)
    }

    #[test]
    fn a_file_without_the_expected_columns_or_rows_is_refused_clearly() {
        let err = read_str("history.csv", "question,answer\nwhere is it,tracking\n").unwrap_err().to_string();
        assert!(err.contains("needs a text column") && err.contains("found: question, answer"), "{err}");
        let err = read_str("history.csv", "text,category\n").unwrap_err().to_string();
        assert!(err.contains("has no labelled rows"), "{err}");
        let err = read_str("history.csv", "text,intent\nwhere is my parcel, \n").unwrap_err().to_string();
        assert!(
            err.contains("labelled row 1 (after the header): text and intent must not be empty"),
            "{err}"
        );
        let err = read_str("history.jsonl", "{\"text\": 5, \"intent\": \"x\"}\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn csv_and_jsonl_rows_are_read_with_either_column_name() {
        let rows = read_str("history.csv", "text,category\nwhere is my parcel,track_order\n").unwrap();
        assert_eq!((rows[0].text.as_str(), rows[0].intent.as_str()), ("where is my parcel", "track_order"));
        let rows =
            read_str("history.jsonl", "{\"text\": \"refund please\", \"label\": \"refund\"}\n\n").unwrap();
        assert_eq!((rows.len(), rows[0].intent.as_str()), (1, "refund"));
    }
}
