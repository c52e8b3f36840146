//! Kindly's vectors against the reference sentence-transformers implementation.
//!
//! The fixture was computed once with `scripts/reference_embeddings.py` and committed. The model
//! folder comes from `make model` (or `KINDLY_MODEL_DIR`).

use std::path::PathBuf;

use kindly_core::Embedder;
use kindly_model::{ModelWorker, SentenceEmbedder, WorkerSettings};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    vector: Vec<f32>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("KINDLY_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models/all-MiniLM-L6-v2"));
    assert!(dir.join("model.safetensors").exists(), "model missing at {}: run `make model`", dir.display());
    dir
}

fn fixture() -> Fixture {
    let raw = std::fs::read_to_string(root().join("tests/fixtures/reference_embeddings.json")).unwrap();
    serde_json::from_str(&raw).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn vectors_match_sentence_transformers() {
    let model = SentenceEmbedder::load(&model_dir()).unwrap();
    let fixture = fixture();
    assert!(fixture.cases.len() >= 5);
    let texts: Vec<&str> = fixture.cases.iter().map(|c| c.text.as_str()).collect();
    let ours = model.embed(&texts).unwrap();
    for (case, v) in fixture.cases.iter().zip(&ours) {
        assert_eq!(v.len(), 384);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not normalised: {norm}");
        let c = cosine(v, &case.vector);
        assert!(c >= 0.999, "cosine {c} < 0.999 for {:?}", &case.text[..case.text.len().min(60)]);
    }
    // One at a time gives the same vectors as the sorted, padded batch.
    for (case, batched) in fixture.cases.iter().zip(&ours) {
        let single = model.embed(&[case.text.as_str()]).unwrap().remove(0);
        assert!(cosine(&single, batched) > 0.99999);
    }
    // Row-major in small length-sorted batches: each row is its text's vector, in order.
    let mut done = 0;
    let rows = model.embed_rows(&texts, 2, |n| done += n).unwrap();
    assert_eq!((rows.len(), done), (texts.len() * 384, texts.len()));
    for (row, v) in rows.chunks_exact(384).zip(&ours) {
        assert!(cosine(row, v) > 0.99999);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_batches_concurrent_requests_without_mixing_them_up() {
    let worker = ModelWorker::start(&model_dir(), WorkerSettings::default()).unwrap();
    let fixture = fixture();
    let calls = fixture.cases.iter().map(|case| {
        let worker = worker.clone();
        let text = case.text.clone();
        tokio::spawn(async move { worker.embed(vec![text]).await })
    });
    let results = futures_join(calls.collect()).await;
    for (case, got) in fixture.cases.iter().zip(results) {
        let got = got.unwrap().remove(0);
        assert!(cosine(&got, &case.vector) >= 0.999);
    }
    assert!(worker.embed(vec![]).await.unwrap().is_empty());
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
