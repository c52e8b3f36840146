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
        csv::Reader::from_reader(raw.as_bytes())
            .deserialize()
            .enumerate()
            .map(|(n, r)| {
                r.with_context(|| {
                    format!(
                        "{} row {}: expected columns text and intent (or category)",
                        path.display(),
                        n + 2
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    for (n, r) in rows.iter().enumerate() {
        if r.text.trim().is_empty() || kindly_core::ticket::required_id("intent", &r.intent).is_err() {
            bail!("{} row {}: text and intent must not be empty", path.display(), n + 1);
        }
    }
    Ok(rows)
}
