//! `kindly train-heads`: trains the emotion heads on the frozen embedding and writes them with a
//! manifest saying what data and command produced them and what they scored.
//!
//! - emotion head: GoEmotions, multi-label over its 28 own labels, read as the 6 Ekman groups,
//!   neutral and disappointment (each group the noisy-OR of its members: one output per raw label
//!   learns the finer distinctions and scored higher than one output per group,
//!   `scripts/explore_goemotions.py`); each group's threshold maximises F1 on dev; scored on test.
//! - negativity head: Twitter airline sentiment ("negative" or not), trained on the seeded 80%
//!   split; its threshold maximises F1 over 5-fold out-of-fold predictions on that 80%; scored on
//!   the other 20% at 0.5 and at the chosen threshold.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use kindly_core::lexicon::{head_input, head_width};
use kindly_core::{CharNgrams, Lexicon, WordGrams};
use kindly_model::{Activation, Head, HeadKind, HeadSpec, SentenceEmbedder, Targets, TrainOptions};
use kindly_pipeline::{
    DataFile, EmbedderRecord, Grouping, HeadRecord, HeadScores, HeadsManifest, LabelGroup, LabelScore,
};
use sha2::{Digest, Sha256};

use crate::datasets::{self, Dataset, EmotionTaxonomy, Example, TWITTER_SPLIT_SEED};

#[derive(Debug, clap::Args)]
pub struct TrainHeadsArgs {
    /// The public data folder, holding goemotions/ and twitter_airline_sentiment/.
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Where the heads and manifest.json are written.
    #[arg(long, default_value = "models/heads")]
    out: PathBuf,
    /// Keep the embeddings in this folder, keyed by the embedder and the texts, so that training
    /// again skips the ~10 minutes of embedding.
    #[arg(long)]
    embedding_cache: Option<PathBuf>,
    /// Width of the emotion head's hidden layer.
    #[arg(long, default_value_t = 256)]
    emotion_hidden: usize,
    /// Passes over GoEmotions' training split. 30 scored best on dev among 20 and 30 epochs,
    /// hidden 256, 512 and 1024, and learning rate 0.001 and 0.002 (README, emotion heads).
    #[arg(long, default_value_t = 30)]
    emotion_epochs: usize,
    /// The emotion head's starting learning rate (AdamW, decaying linearly to a tenth).
    #[arg(long, default_value_t = 1e-3)]
    emotion_lr: f64,
    /// Hash buckets of the character n-grams both heads read next to the embedding (0: the
    /// embedding alone). With 1024, GoEmotions' Ekman macro-F1 rose from 0.523 to 0.558 and
    /// Twitter's negative F1 from 0.888 to 0.897; the policy's emotion thresholds were then set
    /// for these heads (`scripts/calibrate_emotion_policy.py`, README, emotion heads).
    #[arg(long, default_value_t = CharNgrams::default().buckets)]
    lexical_buckets: usize,
    /// Length of the n-gram features against the embedding's.
    #[arg(long, default_value_t = CharNgrams::default().weight)]
    lexical_weight: f32,
}

impl TrainHeadsArgs {
    fn ngrams(&self) -> CharNgrams {
        CharNgrams { buckets: self.lexical_buckets, weight: self.lexical_weight, ..CharNgrams::default() }
    }
}

/// Fits the n-gram weights on a head's training texts, when n-grams are on.
fn lexicon(ngrams: CharNgrams, train: &[Example]) -> Option<Lexicon> {
    ngrams.enabled().then(|| Lexicon::fit(ngrams, WordGrams::none(), train.iter().map(|e| e.text.as_str())))
}

/// Each example's head input, row-major: its embedding, then its n-grams when the head reads them.
fn inputs(lexicon: Option<&Lexicon>, vectors: &[f32], examples: &[Example], dimension: usize) -> Vec<f32> {
    vectors
        .chunks_exact(dimension)
        .zip(examples)
        .flat_map(|(v, e)| head_input(lexicon, v, &e.text).into_owned())
        .collect()
}

/// The labels Kindly reads from the emotion head. The first 7 (Ekman groups and neutral) make the
/// headline macro-F1.
const EMOTION_LABELS: [&str; 8] =
    ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral", "disappointment"];
const EKMAN_AND_NEUTRAL: usize = 7;
const EKMAN: usize = 6;

fn emotion_options(args: &TrainHeadsArgs) -> TrainOptions {
    TrainOptions {
        epochs: args.emotion_epochs,
        batch_size: 128,
        learning_rate: args.emotion_lr,
        weight_decay: 1e-4,
        seed: 7,
    }
}

fn negativity_options() -> TrainOptions {
    TrainOptions { epochs: 30, batch_size: 64, learning_rate: 1e-2, weight_decay: 0.0, seed: 7 }
}

const FOLDS: usize = 5;

/// Texts embedded per call: the texts are sorted by length first, so each call pads little.
const EMBED_BATCH: usize = 64;

pub fn run(model_dir: &Path, args: &TrainHeadsArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let embedder_sha256 = check_embedder(model_dir)?;
    let embedder = SentenceEmbedder::load(model_dir)?;
    let dimension = embedder.dimension();
    let goemotions_dir = args.data.join("goemotions");
    let tweets = args.data.join("twitter_airline_sentiment/Tweets.csv");
    let go = datasets::load(&goemotions_dir)?;
    let twitter = datasets::load(&tweets)?;

    let splits = [&go.train, &go.validation, &go.test, &twitter.train, &twitter.test];
    let texts: Vec<&str> = splits.iter().flat_map(|s| s.iter().map(|e| e.text.as_str())).collect();
    let vectors = embed_all(&embedder, &embedder_sha256, &texts, args.embedding_cache.as_deref())?;
    let mut rest = vectors.as_slice();
    let [go_train, go_dev, go_test, tw_train, tw_test] = splits.map(|s| {
        let (head, tail) = rest.split_at(s.len() * dimension);
        rest = tail;
        head
    });
    let embedded_in = started.elapsed();

    let (emotion_record, emotion) =
        emotion_head(args, &goemotions_dir, &go, [go_train, go_dev, go_test], dimension)?;
    let (negativity_record, negativity) =
        negativity_head(args.ngrams(), &tweets, &twitter, [tw_train, tw_test], dimension)?;

    let manifest = HeadsManifest {
        embedder: EmbedderRecord { name: embedder.id().into(), sha256: embedder_sha256, dimension },
        command: std::env::args().collect::<Vec<_>>().join(" "),
        trained_at: Utc::now(),
        heads: vec![emotion_record, negativity_record],
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    write("emotion.safetensors", &emotion.to_safetensors()?)?;
    write("negativity.safetensors", &negativity.to_safetensors()?)?;
    write("manifest.json", format!("{}\n", serde_json::to_string_pretty(&manifest)?).as_bytes())?;
    print_scores(&manifest)?;
    outln!(
        "\nwrote {} in {} (embedding {})",
        args.out.display(),
        minutes(started.elapsed()),
        minutes(embedded_in)
    );
    Ok(())
}

/// The GoEmotions head, trained on `train` and read by group; thresholds on dev, scores on test.
fn emotion_head(
    args: &TrainHeadsArgs,
    dir: &Path,
    go: &Dataset,
    [go_train, go_dev, go_test]: [&[f32]; 3],
    dimension: usize,
) -> anyhow::Result<(HeadRecord, Head)> {
    eprintln!("training the emotion head on {} GoEmotions texts", go.train.len());
    let lexicon = lexicon(args.ngrams(), &go.train);
    let [go_train, go_dev, go_test] = [(go_train, &go.train), (go_dev, &go.validation), (go_test, &go.test)]
        .map(|(vectors, examples)| inputs(lexicon.as_ref(), vectors, examples, dimension));
    let taxonomy = EmotionTaxonomy::load(dir)?;
    let groups: Vec<LabelGroup> = EMOTION_LABELS
        .iter()
        .map(|&label| {
            let group = taxonomy.groups.iter().find(|g| g.label == label).cloned();
            group.with_context(|| format!("{}: GoEmotions has no group {label}", dir.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    let spec = HeadSpec {
        kind: HeadKind::MultiLabel,
        labels: taxonomy.raw_labels.clone(),
        dimension: head_width(lexicon.as_ref(), dimension),
        hidden: args.emotion_hidden,
        activation: Activation::Relu,
    };
    let grouping = Grouping::new(&spec.labels, &groups).map_err(anyhow::Error::msg)?;
    let options = emotion_options(args);
    let raw_hot = multi_hot(&go.train, &spec.labels, |e| &e.raw_emotions);
    let emotion = Head::train(spec.clone(), &go_train, Targets::MultiHot(&raw_hot), &options)?;
    let grouped = |inputs: &[f32]| -> anyhow::Result<Vec<Vec<f32>>> {
        Ok(emotion.predict(inputs)?.iter().map(|row| grouping.apply(row)).collect())
    };
    let group_labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    let dev = Labelled::new(grouped(&go_dev)?, &go.validation, &group_labels);
    let (thresholds, dev_f1): (Vec<f32>, Vec<f32>) =
        (0..group_labels.len()).map(|l| best_threshold(&dev.column(l))).unzip();
    // For comparing recipes without looking at test (optimistic: the thresholds were chosen there).
    eprintln!("Ekman macro-F1 on dev.tsv: {:.3}", dev_f1[..EKMAN].iter().sum::<f32>() / EKMAN as f32);
    let test = Labelled::new(grouped(&go_test)?, &go.test, &group_labels);
    let labels: Vec<LabelScore> = group_labels
        .iter()
        .enumerate()
        .map(|(l, name)| score(name, thresholds[l], &test.column(l)))
        .collect();
    let macro_f1 = |n: usize| labels[..n].iter().map(|s| s.f1).sum::<f32>() / n as f32;
    let emotion_record = HeadRecord {
        file: "emotion.safetensors".into(),
        spec: spec.clone(),
        lexicon,
        groups,
        train_options: options,
        data: [
            ("train.tsv", go.train.len()),
            ("dev.tsv", go.validation.len()),
            ("test.tsv", go.test.len()),
            ("emotions.txt", taxonomy.raw_labels.len()),
            ("ekman_mapping.json", EKMAN),
        ]
        .iter()
        .map(|(name, rows)| data_file(&dir.join(name), *rows))
        .collect::<anyhow::Result<_>>()?,
        split: "GoEmotions' own train/dev/test".into(),
        thresholds: group_labels.iter().cloned().zip(thresholds.iter().copied()).collect(),
        threshold_rule: "per group, the threshold maximising F1 on dev.tsv".into(),
        scores: HeadScores {
            split: "test.tsv".into(),
            rows: go.test.len(),
            macro_f1: BTreeMap::from([
                ("ekman_and_neutral".into(), macro_f1(EKMAN_AND_NEUTRAL)),
                ("ekman".into(), macro_f1(EKMAN)),
            ]),
            labels,
        },
    };
    Ok((emotion_record, emotion))
}

/// The Twitter airline negativity head: trained on the 80% split, its threshold from
/// cross-validation there, scored on the other 20%.
fn negativity_head(
    ngrams: CharNgrams,
    tweets: &Path,
    twitter: &Dataset,
    [tw_train, tw_test]: [&[f32]; 2],
    dimension: usize,
) -> anyhow::Result<(HeadRecord, Head)> {
    eprintln!(
        "training the negativity head on {} tweets ({FOLDS}-fold CV for its threshold)",
        twitter.train.len()
    );
    let lexicon = lexicon(ngrams, &twitter.train);
    let tw_train = inputs(lexicon.as_ref(), tw_train, &twitter.train, dimension);
    let tw_test = inputs(lexicon.as_ref(), tw_test, &twitter.test, dimension);
    let spec = HeadSpec {
        kind: HeadKind::MultiLabel,
        labels: vec!["negative".into()],
        dimension: head_width(lexicon.as_ref(), dimension),
        hidden: 0,
        activation: Activation::default(),
    };
    let options = negativity_options();
    let threshold = cross_validated_threshold(&spec, &options, &tw_train, &twitter.train)?;
    let negativity = Head::train(
        spec.clone(),
        &tw_train,
        Targets::MultiHot(&multi_hot(&twitter.train, &spec.labels, |e| &e.emotions)),
        &options,
    )?;
    let test = Labelled::new(negativity.predict(&tw_test)?, &twitter.test, &spec.labels);
    let negativity_record = HeadRecord {
        file: "negativity.safetensors".into(),
        spec,
        lexicon,
        groups: Vec::new(),
        train_options: options,
        data: vec![data_file(tweets, twitter.train.len() + twitter.test.len())?],
        split: format!(
            "no official split: rows shuffled with StdRng::seed_from_u64({TWITTER_SPLIT_SEED}), first 80% train, last 20% test"
        ),
        thresholds: BTreeMap::from([("negative".into(), threshold)]),
        threshold_rule: format!(
            "the threshold maximising F1 over {FOLDS}-fold out-of-fold predictions on the train split"
        ),
        scores: HeadScores {
            split: "the 20% test split".into(),
            rows: twitter.test.len(),
            macro_f1: BTreeMap::new(),
            labels: vec![
                score("negative", 0.5, &test.column(0)),
                score("negative", threshold, &test.column(0)),
            ],
        },
    };
    Ok((negativity_record, negativity))
}

/// The sha256 of the embedder's weights, checked against `<model dir>.sha256` when present.
fn check_embedder(model_dir: &Path) -> anyhow::Result<String> {
    let sha256 = file_sha256(&model_dir.join("model.safetensors"))?;
    let pinned = model_dir.with_extension("sha256");
    if let Ok(pin) = std::fs::read_to_string(&pinned) {
        let expected = pin.split_whitespace().next().unwrap_or_default();
        if expected != sha256 {
            bail!(
                "{}: the weights' sha256 is {sha256}, {} pins {expected}",
                model_dir.display(),
                pinned.display()
            );
        }
    }
    Ok(sha256)
}

fn file_sha256(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

fn data_file(path: &Path, rows: usize) -> anyhow::Result<DataFile> {
    Ok(DataFile { path: path.display().to_string(), sha256: file_sha256(path)?, rows })
}

/// Embeds `texts` (row-major, in order), shortest first, with a progress bar on stderr.
fn embed_all(
    embedder: &SentenceEmbedder,
    embedder_sha256: &str,
    texts: &[&str],
    cache: Option<&Path>,
) -> anyhow::Result<Vec<f32>> {
    let dimension = embedder.dimension();
    let cached = cache.map(|dir| {
        let mut key = Sha256::new();
        key.update(embedder_sha256);
        for text in texts {
            key.update(text.as_bytes());
            key.update([0]);
        }
        dir.join(format!("{:x}.f32", key.finalize()))
    });
    if let Some(bytes) = cached.as_ref().and_then(|path| std::fs::read(path).ok())
        && bytes.len() == texts.len() * dimension * 4
    {
        eprintln!(
            "embeddings of {} texts read from {}",
            texts.len(),
            cached.as_ref().map_or(String::new(), |p| p.display().to_string())
        );
        return Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect());
    }
    let bar = ProgressBar::new(texts.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} embedding {bar:30} {pos}/{len} texts, {per_sec}, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let vectors = embedder.embed_rows(texts, EMBED_BATCH, |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    if let Some(path) = cached {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for v in &vectors {
            file.write_all(&v.to_le_bytes())?;
        }
        file.flush()?;
    }
    Ok(vectors)
}

/// Row-major `examples × labels` of 1.0 where the example carries the label (among the labels
/// `of` it gives).
fn multi_hot(examples: &[Example], labels: &[String], of: fn(&Example) -> &[String]) -> Vec<f32> {
    examples.iter().flat_map(|e| labels.iter().map(|l| f32::from(u8::from(of(e).contains(l))))).collect()
}

/// Predicted probabilities beside the truth, per example and label.
struct Labelled {
    probabilities: Vec<Vec<f32>>,
    truth: Vec<Vec<bool>>,
}

impl Labelled {
    fn new(probabilities: Vec<Vec<f32>>, examples: &[Example], labels: &[String]) -> Self {
        let truth =
            examples.iter().map(|e| labels.iter().map(|l| e.emotions.contains(l)).collect()).collect();
        Self { probabilities, truth }
    }

    /// One label's (probability, truth) pairs.
    fn column(&self, label: usize) -> Vec<(f32, bool)> {
        self.probabilities.iter().zip(&self.truth).map(|(p, t)| (p[label], t[label])).collect()
    }
}

/// The threshold (predict the label when p ≥ it) that maximises F1, and that F1. Cuts fall
/// halfway between neighbouring probabilities.
fn best_threshold(pairs: &[(f32, bool)]) -> (f32, f32) {
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = sorted.iter().filter(|p| p.1).count();
    let (mut best, mut true_positives) = ((0.5, 0.0), 0usize);
    for (i, &(p, truth)) in sorted.iter().enumerate() {
        true_positives += usize::from(truth);
        let next = sorted.get(i + 1).map(|n| n.0);
        if next == Some(p) {
            continue; // a cut must not split equal probabilities
        }
        let f1 = 2.0 * true_positives as f32 / (i + 1 + positives) as f32;
        if f1 > best.1 {
            best = (next.map_or(p, |n| (p + n) / 2.0), f1);
        }
    }
    best
}

/// Precision, recall and F1 of "p ≥ threshold".
fn score(label: &str, threshold: f32, pairs: &[(f32, bool)]) -> LabelScore {
    let predicted = pairs.iter().filter(|p| p.0 >= threshold).count();
    let support = pairs.iter().filter(|p| p.1).count();
    let hits = pairs.iter().filter(|p| p.1 && p.0 >= threshold).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
    LabelScore {
        label: label.into(),
        threshold,
        precision: ratio(hits, predicted),
        recall: ratio(hits, support),
        f1: ratio(2 * hits, predicted + support),
        support,
    }
}

/// The F1-maximising threshold over out-of-fold predictions: each fold (every FOLDS-th row of
/// the already shuffled split) is predicted by a head trained on the others.
fn cross_validated_threshold(
    spec: &HeadSpec,
    options: &TrainOptions,
    inputs: &[f32],
    examples: &[Example],
) -> anyhow::Result<f32> {
    let dimension = spec.dimension;
    let mut pairs = Vec::with_capacity(examples.len());
    for fold in 0..FOLDS {
        let (mut fit_x, mut fit_examples, mut held_x, mut held_examples) = (vec![], vec![], vec![], vec![]);
        for (i, example) in examples.iter().enumerate() {
            let row = &inputs[i * dimension..(i + 1) * dimension];
            if i % FOLDS == fold {
                held_x.extend_from_slice(row);
                held_examples.push(example.clone());
            } else {
                fit_x.extend_from_slice(row);
                fit_examples.push(example.clone());
            }
        }
        let head = Head::train(
            spec.clone(),
            &fit_x,
            Targets::MultiHot(&multi_hot(&fit_examples, &spec.labels, |e| &e.emotions)),
            options,
        )?;
        pairs.extend(Labelled::new(head.predict(&held_x)?, &held_examples, &spec.labels).column(0));
    }
    Ok(best_threshold(&pairs).0)
}

fn print_scores(manifest: &HeadsManifest) -> anyhow::Result<()> {
    for head in &manifest.heads {
        let s = &head.scores;
        outln!("\n## {} ({}, {} rows)", head.file, s.split, s.rows);
        outln!("| label | threshold | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|---:|");
        for l in &s.labels {
            outln!(
                "| {} | {:.2} | {:.3} | {:.3} | {:.3} | {} |",
                l.label,
                l.threshold,
                l.precision,
                l.recall,
                l.f1,
                l.support
            );
        }
        for (group, f1) in &s.macro_f1 {
            outln!("macro-F1 {group}: {f1:.3}");
        }
    }
    Ok(())
}

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_threshold_separates_and_scores() {
        // cutting at 0.7 gives F1 4/5; at 0.25, 6/7 (one false positive, every true one found)
        let pairs = [(0.9, true), (0.8, true), (0.6, false), (0.4, true), (0.1, false)];
        let (threshold, f1) = best_threshold(&pairs);
        assert!((threshold - 0.25).abs() < 1e-6, "{threshold}");
        assert!((f1 - 6.0 / 7.0).abs() < 1e-6, "{f1}");
        let s = score("x", threshold, &pairs);
        assert_eq!((s.precision, s.recall, s.support), (0.75, 1.0, 3));
        assert!((s.f1 - f1).abs() < 1e-6);
        assert!((score("x", 0.7, &pairs).f1 - 0.8).abs() < 1e-6);
    }

    #[test]
    fn best_threshold_never_splits_ties() {
        let pairs = [(0.5, true), (0.5, false), (0.2, false)];
        let (threshold, _) = best_threshold(&pairs);
        assert!((threshold - 0.35).abs() < 1e-6, "{threshold}");
    }
}
