//! Emotion heads: small networks on the frozen ticket embedding that say how angry, sad, worried,
//! disappointed or negative a ticket reads. Trained by `kindly train-heads` on public data and
//! loaded from a folder (default `models/heads`) holding `manifest.json` and one safetensors
//! file per head. The manifest pins the embedder the heads were trained on and says what data
//! and command produced them and what they scored.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use kindly_core::lexicon::{head_input, head_width};
use kindly_core::{Emotion, EmotionSignal, Lexicon};
use kindly_model::{Head, HeadSpec, TrainOptions};
use serde::{Deserialize, Serialize};

use crate::PipelineError;

/// `manifest.json` of a heads folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadsManifest {
    /// The embedder whose vectors the heads read; other vectors give meaningless scores.
    pub embedder: EmbedderRecord,
    /// The command line that trained the heads.
    pub command: String,
    pub trained_at: DateTime<Utc>,
    pub heads: Vec<HeadRecord>,
}

/// Which embedder the heads were trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedderRecord {
    pub name: String,
    /// sha256 of its `model.safetensors`.
    pub sha256: String,
    pub dimension: usize,
}

/// One head: its weights file, shape, training and evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadRecord {
    /// Weights file, relative to the heads folder.
    pub file: String,
    pub spec: HeadSpec,
    /// The character n-grams the head reads after the embedding (`spec.dimension` counts
    /// both); none for a head on the embedding alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<Lexicon>,
    /// The labels Kindly reads when the head's outputs are finer than them (GoEmotions' 28
    /// labels read as Ekman groups). Empty: each output is read as it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<LabelGroup>,
    pub train_options: TrainOptions,
    /// The files the head was trained and scored on.
    pub data: Vec<DataFile>,
    /// How the examples were split into training, threshold choice and test.
    pub split: String,
    /// The decision threshold per label that maximised F1 on data other than the test split.
    pub thresholds: BTreeMap<String, f32>,
    /// How the thresholds were chosen.
    pub threshold_rule: String,
    pub scores: HeadScores,
}

/// A label read from several of a head's outputs: the probability that any of its members
/// applies, by noisy-OR, `1 − Π(1 − p)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelGroup {
    pub label: String,
    pub members: Vec<String>,
}

/// How a head's outputs become the labels Kindly reads: each label, the noisy-OR of one or more
/// outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    labels: Vec<(String, Vec<usize>)>,
}

impl Grouping {
    /// `groups` over the head's `outputs`; no groups read every output as it is. A member the
    /// head does not output, or a group without members, is an error.
    pub fn new(outputs: &[String], groups: &[LabelGroup]) -> Result<Self, String> {
        if groups.is_empty() {
            return Ok(Self {
                labels: outputs.iter().enumerate().map(|(i, l)| (l.clone(), vec![i])).collect(),
            });
        }
        let labels = groups
            .iter()
            .map(|g| {
                if g.members.is_empty() {
                    return Err(format!("group {:?} has no members", g.label));
                }
                let members = g
                    .members
                    .iter()
                    .map(|m| {
                        outputs
                            .iter()
                            .position(|o| o == m)
                            .ok_or_else(|| format!("group {:?}: the head has no output {m:?}", g.label))
                    })
                    .collect::<Result<_, _>>()?;
                Ok((g.label.clone(), members))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { labels })
    }

    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(|(l, _)| l.as_str())
    }

    /// Each label's probability from one row of the head's outputs.
    pub fn apply(&self, outputs: &[f32]) -> Vec<f32> {
        self.labels
            .iter()
            .map(|(_, members)| match members.as_slice() {
                [only] => outputs[*only],
                _ => 1.0 - members.iter().map(|&i| 1.0 - outputs[i]).product::<f32>(),
            })
            .collect()
    }
}

/// A data file read in training or scoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// As given on the command line (relative to the working directory).
    pub path: String,
    pub sha256: String,
    /// Examples read from it.
    pub rows: usize,
}

/// Scores on the held-out test split (never used for training or thresholds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadScores {
    pub split: String,
    pub rows: usize,
    /// Macro-averaged F1 over named groups of labels, at the chosen thresholds.
    pub macro_f1: BTreeMap<String, f32>,
    /// Precision, recall and F1 per label and threshold scored.
    pub labels: Vec<LabelScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    pub label: String,
    pub threshold: f32,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    /// Test examples carrying the label.
    pub support: usize,
}

/// The trained emotion heads, ready to score ticket embeddings.
pub struct EmotionHeads {
    manifest: HeadsManifest,
    heads: Vec<Loaded>,
}

/// One head ready to score: its weights, the n-grams it reads and the emotions it reports.
struct Loaded {
    head: Head,
    lexicon: Option<Lexicon>,
    grouping: Grouping,
    emotions: Vec<Emotion>,
}

impl std::fmt::Debug for EmotionHeads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmotionHeads").field("manifest", &self.manifest).finish_non_exhaustive()
    }
}

impl EmotionHeads {
    /// Loads `manifest.json` and every head it lists from `dir`, checking that each head reads
    /// vectors of the embedder's dimension and predicts emotions Kindly knows.
    pub fn load(dir: &Path) -> Result<Self, PipelineError> {
        let manifest_path = dir.join("manifest.json");
        let err =
            |path: &Path, message: String| PipelineError::Heads { path: path.display().to_string(), message };
        let raw = std::fs::read(&manifest_path).map_err(|e| err(&manifest_path, e.to_string()))?;
        let manifest: HeadsManifest =
            serde_json::from_slice(&raw).map_err(|e| err(&manifest_path, e.to_string()))?;
        let mut heads = Vec::with_capacity(manifest.heads.len());
        for record in &manifest.heads {
            let path = dir.join(&record.file);
            let expected = head_width(record.lexicon.as_ref(), manifest.embedder.dimension);
            if record.spec.dimension != expected {
                let message = format!(
                    "the head reads {} dimensions but the embedder {} has {} and the head's n-grams {}",
                    record.spec.dimension,
                    manifest.embedder.name,
                    manifest.embedder.dimension,
                    expected - manifest.embedder.dimension
                );
                return Err(err(&path, message));
            }
            if let Some(l) = record.lexicon.as_ref().filter(|l| l.idf.len() != l.buckets()) {
                let message = format!(
                    "the n-grams and words have {} buckets but {} IDF values",
                    l.buckets(),
                    l.idf.len()
                );
                return Err(err(&manifest_path, message));
            }
            let grouping = Grouping::new(&record.spec.labels, &record.groups).map_err(|e| err(&path, e))?;
            let emotions = grouping
                .labels()
                .map(|label| {
                    emotion_of(label).ok_or_else(|| err(&path, format!("unknown emotion label {label:?}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let bytes = std::fs::read(&path).map_err(|e| err(&path, e.to_string()))?;
            let head =
                Head::from_safetensors(record.spec.clone(), &bytes).map_err(|e| err(&path, e.to_string()))?;
            heads.push(Loaded { head, lexicon: record.lexicon.clone(), grouping, emotions });
        }
        Ok(Self { manifest, heads })
    }

    pub fn manifest(&self) -> &HeadsManifest {
        &self.manifest
    }

    /// The width of the vectors the heads read.
    pub fn dimension(&self) -> usize {
        self.manifest.embedder.dimension
    }

    /// One signal per emotion the heads detect in a text and its embedding, its intensity the
    /// head's probability (of any of the group's outputs, for a grouped head). The thresholds
    /// are left to the policy. A vector of the wrong width is a wiring bug: it is logged and
    /// yields no signals.
    pub fn score(&self, text: &str, vector: &[f32]) -> Vec<EmotionSignal> {
        let mut signals = Vec::new();
        for Loaded { head, lexicon, grouping, emotions } in &self.heads {
            let input = head_input(lexicon.as_ref(), vector, text);
            let probabilities = match head.predict(&input) {
                Ok(rows) if rows.len() == 1 => rows.into_iter().next().unwrap_or_default(),
                Ok(rows) => {
                    tracing::error!(
                        rows = rows.len(),
                        width = vector.len(),
                        "emotion heads expect one vector"
                    );
                    return Vec::new();
                }
                Err(e) => {
                    tracing::error!(error = %e, width = vector.len(), "emotion head failed");
                    return Vec::new();
                }
            };
            let intensities = grouping.apply(&probabilities);
            signals.extend(emotions.iter().zip(intensities).map(|(&emotion, intensity)| EmotionSignal {
                emotion,
                intensity,
                threshold: None,
            }));
        }
        signals
    }
}

/// The emotion a head label stands for: Kindly's names, and `negative` (sentiment) for negativity.
fn emotion_of(label: &str) -> Option<Emotion> {
    if label == "negative" { Some(Emotion::Negativity) } else { Emotion::parse(label) }
}

#[cfg(test)]
mod tests {
    use kindly_model::{HeadKind, Targets};

    use super::*;

    fn record(file: &str, labels: &[&str], dimension: usize) -> HeadRecord {
        HeadRecord {
            file: file.into(),
            spec: HeadSpec {
                kind: HeadKind::MultiLabel,
                labels: labels.iter().map(|&l| l.into()).collect(),
                dimension,
                hidden: 0,
                activation: kindly_model::Activation::default(),
            },
            lexicon: None,
            groups: Vec::new(),
            train_options: TrainOptions { epochs: 100, learning_rate: 0.1, ..TrainOptions::default() },
            data: Vec::new(),
            split: "toy".into(),
            thresholds: BTreeMap::new(),
            threshold_rule: "none".into(),
            scores: HeadScores {
                split: "toy".into(),
                rows: 0,
                macro_f1: BTreeMap::new(),
                labels: Vec::new(),
            },
        }
    }

    /// A folder with a two-label emotion head and a negativity head on 2-d vectors, where the
    /// first axis means anger and negativity, the second joy.
    fn heads_dir(dimension_in_manifest: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let inputs: Vec<f32> =
            (0..40).flat_map(|i| if i % 2 == 0 { [1.0, 0.0] } else { [0.0, 1.0] }).collect();
        let emotion_hot: Vec<f32> =
            (0..40).flat_map(|i| if i % 2 == 0 { [1.0, 0.0] } else { [0.0, 1.0] }).collect();
        let negative_hot: Vec<f32> = (0..40).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect();
        let records = [
            record("emotion.safetensors", &["anger", "joy"], 2),
            record("negativity.safetensors", &["negative"], 2),
        ];
        for (r, hot) in records.iter().zip([&emotion_hot, &negative_hot]) {
            let head =
                Head::train(r.spec.clone(), &inputs, Targets::MultiHot(hot), &r.train_options).unwrap();
            std::fs::write(dir.path().join(&r.file), head.to_safetensors().unwrap()).unwrap();
        }
        let manifest = HeadsManifest {
            embedder: EmbedderRecord {
                name: "toy".into(),
                sha256: "0".repeat(64),
                dimension: dimension_in_manifest,
            },
            command: "test".into(),
            trained_at: Utc::now(),
            heads: records.to_vec(),
        };
        std::fs::write(dir.path().join("manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap())
            .unwrap();
        dir
    }

    #[test]
    fn scores_one_signal_per_emotion_without_thresholds() {
        let dir = heads_dir(2);
        let heads = EmotionHeads::load(dir.path()).unwrap();
        assert_eq!(heads.dimension(), 2);
        let signals = heads.score("so angry", &[1.0, 0.0]);
        let emotions: Vec<Emotion> = signals.iter().map(|s| s.emotion).collect();
        assert_eq!(emotions, [Emotion::Anger, Emotion::Joy, Emotion::Negativity]);
        assert!(signals.iter().all(|s| s.threshold.is_none()));
        assert!(signals[0].intensity > 0.5 && signals[1].intensity < 0.5 && signals[2].intensity > 0.5);
        assert!(heads.score("so angry", &[1.0, 0.0, 0.0]).is_empty());
    }

    #[test]
    fn a_group_reads_the_noisy_or_of_its_members() {
        let outputs: Vec<String> = ["anger", "annoyance", "joy"].map(String::from).to_vec();
        let group = |label: &str, members: &[&str]| LabelGroup {
            label: label.into(),
            members: members.iter().map(|&m| m.into()).collect(),
        };
        let grouping =
            Grouping::new(&outputs, &[group("anger", &["anger", "annoyance"]), group("joy", &["joy"])])
                .unwrap();
        assert_eq!(grouping.labels().collect::<Vec<_>>(), ["anger", "joy"]);
        let p = grouping.apply(&[0.5, 0.5, 0.2]);
        assert!((p[0] - 0.75).abs() < 1e-6 && (p[1] - 0.2).abs() < 1e-6, "{p:?}");
        assert_eq!(Grouping::new(&outputs, &[]).unwrap().apply(&[0.1, 0.2, 0.3]), [0.1, 0.2, 0.3]);
        let unknown = Grouping::new(&outputs, &[group("fear", &["fear"])]).unwrap_err();
        assert!(unknown.contains("\"fear\""), "{unknown}");
        assert!(Grouping::new(&outputs, &[group("fear", &[])]).is_err());
    }

    #[test]
    fn a_head_with_ngrams_reads_the_words() {
        // The embedding says nothing (all the same); "furious" against "thanks" decides.
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..40)
            .map(|i| if i % 2 == 0 { format!("furious {i}") } else { format!("thanks {i}") })
            .collect();
        let lexicon = Lexicon::fit(
            kindly_core::CharNgrams { buckets: 64, ..Default::default() },
            kindly_core::WordGrams::none(),
            texts.iter().map(String::as_str),
        );
        let inputs: Vec<f32> = texts.iter().flat_map(|t| lexicon.input(&[0.5, 0.5], t)).collect();
        let hot: Vec<f32> = (0..40).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect();
        let mut r = record("negativity.safetensors", &["negative"], lexicon.width(2));
        r.lexicon = Some(lexicon);
        let head = Head::train(r.spec.clone(), &inputs, Targets::MultiHot(&hot), &r.train_options).unwrap();
        std::fs::write(dir.path().join(&r.file), head.to_safetensors().unwrap()).unwrap();
        let manifest = HeadsManifest {
            embedder: EmbedderRecord { name: "toy".into(), sha256: "0".repeat(64), dimension: 2 },
            command: "test".into(),
            trained_at: Utc::now(),
            heads: vec![r.clone()],
        };
        std::fs::write(dir.path().join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
        let heads = EmotionHeads::load(dir.path()).unwrap();
        assert!(heads.score("I am furious", &[0.5, 0.5])[0].intensity > 0.5);
        assert!(heads.score("thanks a lot", &[0.5, 0.5])[0].intensity < 0.5);
        // a head whose n-grams do not add up to its width is refused
        let mut short = manifest.clone();
        short.heads[0].lexicon.as_mut().unwrap().idf.pop();
        std::fs::write(dir.path().join("manifest.json"), serde_json::to_vec(&short).unwrap()).unwrap();
        assert!(EmotionHeads::load(dir.path()).is_err());
    }

    #[test]
    fn a_dimension_other_than_the_embedders_is_refused() {
        let dir = heads_dir(3);
        let message = EmotionHeads::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains("emotion.safetensors") && message.contains("3"), "{message}");
    }
}
