//! What the intent model learns from, and the versions it produces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calibration::IntentThresholds;
use crate::lexicon::Lexicon;

/// A labelled example imported from history (`kindly labels import`), with its embedding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub text: String,
    pub intent: String,
    /// Where it came from, e.g. the imported file's name.
    pub source: String,
    pub vector: Vec<f32>,
}

/// How a model version did on held-out folds of its own training data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct ValidationScores {
    pub folds: usize,
    pub accuracy: f32,
    pub macro_f1: f32,
    /// Share of held-out examples answered with the calibrated thresholds, and their precision.
    pub coverage: f32,
    pub precision: f32,
}

/// One trained version of the intent model: the head's weights, its calibrated thresholds and
/// what it was trained and validated on. Versions are numbered by the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentModelRecord {
    pub version: i64,
    pub trained_at: DateTime<Utc>,
    pub examples: usize,
    pub labels: Vec<String>,
    pub dimension: usize,
    pub hidden: usize,
    /// Weight of the head's probabilities against the nearest-neighbour vote.
    pub head_weight: f32,
    /// The blend is multiplied by the similarity of the nearest labelled example of the
    /// predicted intent raised to this power (0, as in versions trained before it existed: the
    /// blend alone). The thresholds were calibrated on that product.
    #[serde(default)]
    pub nearest_example_exponent: f32,
    /// The head's logits are divided by this before the softmax (1, as in versions trained
    /// before it existed: the plain softmax). The thresholds were calibrated on that reading.
    #[serde(default = "plain_softmax")]
    pub head_temperature: f32,
    /// Intents the head learnt from fewer examples than it has held-out folds (an intent an
    /// agent just taught with one reusable resolution). The head gives such an intent a small
    /// probability, so where the nearest examples' vote for it reaches the vote-only threshold,
    /// the vote decides, as before the intent was trained (empty in versions stored before it
    /// existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_intents: Vec<String>,
    /// The character n-grams the head reads next to the embedding (none in versions trained
    /// before they existed, or with `pipeline.intent.lexical.buckets = 0`).
    #[serde(default)]
    pub lexicon: Option<Lexicon>,
    pub thresholds: IntentThresholds,
    pub scores: ValidationScores,
    /// The head, as safetensors. Empty in version listings.
    #[serde(skip)]
    pub weights: Vec<u8>,
}

fn plain_softmax() -> f32 {
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_stored_before_the_nearest_example_keep_the_blend_alone() {
        let stored = r#"{"version": 3, "trained_at": "2026-11-01T00:00:00Z", "examples": 40,
            "labels": ["refund", "track"], "dimension": 384, "hidden": 0, "head_weight": 0.5,
            "thresholds": {"target_precision": 0.98, "global": 0.6, "per_intent": {}},
            "scores": {"folds": 5, "accuracy": 0.9, "macro_f1": 0.9, "coverage": 0.8, "precision": 0.98}}"#;
        let record: IntentModelRecord = serde_json::from_str(stored).unwrap();
        assert_eq!((record.version, record.nearest_example_exponent), (3, 0.0));
        assert_eq!(record.head_temperature, 1.0, "versions before the temperature read the plain softmax");
        assert!(record.lexicon.is_none());
    }
}
