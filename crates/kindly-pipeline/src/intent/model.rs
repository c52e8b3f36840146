//! One version of the intent model, and how it predicts.

use std::collections::HashMap;

use kindly_core::calibration::{IntentThresholds, ThresholdSource};
use kindly_core::lexicon::{head_input, head_width};
use kindly_core::{IntentModelRecord, ValidationScores};
use kindly_model::{Head, HeadKind, HeadSpec};

use crate::PipelineError;

/// The predicted intent, how sure the model is, and the threshold it must reach to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentPrediction {
    pub intent: String,
    pub confidence: f32,
    pub threshold: f32,
    pub source: ThresholdSource,
    /// Similarity of the nearest labelled example of the intent, when it is part of the
    /// confidence.
    pub nearest_example: Option<f32>,
}

/// One immutable version: a head (none before the first training) and its thresholds.
pub struct IntentModel {
    record: IntentModelRecord,
    head: Option<Head>,
}

impl std::fmt::Debug for IntentModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentModel").field("version", &self.record.version).finish_non_exhaustive()
    }
}

impl IntentModel {
    /// Before any training: the neighbour vote alone, with one global threshold.
    pub fn untrained(global_threshold: f32, target_precision: f32) -> Self {
        Self {
            record: IntentModelRecord {
                version: 0,
                trained_at: chrono::DateTime::UNIX_EPOCH,
                examples: 0,
                labels: Vec::new(),
                dimension: 0,
                hidden: 0,
                head_weight: 0.0,
                nearest_example_exponent: 0.0,
                head_temperature: 1.0,
                new_intents: Vec::new(),
                lexicon: None,
                thresholds: IntentThresholds::uncalibrated(target_precision, global_threshold),
                scores: ValidationScores::default(),
                weights: Vec::new(),
            },
            head: None,
        }
    }

    pub fn from_record(mut record: IntentModelRecord) -> Result<Self, PipelineError> {
        let spec = HeadSpec {
            kind: HeadKind::SingleLabel,
            labels: record.labels.clone(),
            dimension: head_width(record.lexicon.as_ref(), record.dimension),
            hidden: record.hidden,
            // The intent trainer always uses the default.
            activation: Default::default(),
        };
        let head = Head::from_safetensors(spec, &record.weights)
            .map_err(|e| PipelineError::Model(format!("intent model v{}: {e}", record.version)))?;
        record.weights = Vec::new();
        Ok(Self { record, head: Some(head) })
    }

    pub(crate) fn with_head(record: IntentModelRecord, head: Head) -> Self {
        Self { record, head: Some(head) }
    }

    /// Numbers the version as the store did, and lets go of the serialised weights.
    pub(crate) fn stored_as(&mut self, version: i64) {
        self.record.version = version;
        self.record.weights = Vec::new();
    }

    /// The version's record (with its weights only before it is stored).
    pub fn record(&self) -> &IntentModelRecord {
        &self.record
    }

    pub fn version(&self) -> i64 {
        self.record.version
    }

    /// Blends the head's probabilities for the text and its embedding with the neighbour vote
    /// and picks the best intent. When the vote decides alone, the threshold is at least
    /// `vote_only_threshold`.
    pub fn predict(
        &self,
        text: &str,
        vector: &[f32],
        neighbours: &[(String, f32)],
        temperature: f32,
        vote_only_threshold: f32,
    ) -> Result<Option<IntentPrediction>, PipelineError> {
        let head = self.head_probabilities(text, vector)?;
        Ok(self.blend(head.as_deref(), neighbours, temperature, vote_only_threshold))
    }

    /// The head's probability for each of the version's intents; `None` before the first
    /// training.
    fn head_probabilities(&self, text: &str, vector: &[f32]) -> Result<Option<Vec<f32>>, PipelineError> {
        let Some(head) = &self.head else { return Ok(None) };
        let input = head_input(self.record.lexicon.as_ref(), vector, text);
        let probabilities = head
            .predict_at_temperature(&input, self.record.head_temperature)
            .map_err(|e| PipelineError::Model(e.to_string()))?;
        Ok(Some(probabilities.into_iter().next().unwrap_or_default()))
    }

    /// The blend at the version's head weight, given the head's probabilities (`None`
    /// without a head).
    pub(crate) fn blend(
        &self,
        head: Option<&[f32]>,
        neighbours: &[(String, f32)],
        temperature: f32,
        vote_only_threshold: f32,
    ) -> Option<IntentPrediction> {
        self.blend_weighted(self.record.head_weight, head, neighbours, temperature, vote_only_threshold)
    }

    /// The blend at another head weight (training tries several on held-out folds), times the
    /// similarity of the nearest labelled example of the winning intent raised to the version's
    /// `nearest_example_exponent`. The head is sure of *some* intent even for a question
    /// nobody asked before (out of scope); how close the question is to what customers did ask
    /// about that intent tells the two apart. No example of the intent among the neighbours
    /// counts as similarity 0: the ticket goes to a person.
    pub(crate) fn blend_weighted(
        &self,
        head_weight: f32,
        head: Option<&[f32]>,
        neighbours: &[(String, f32)],
        temperature: f32,
        vote_only_threshold: f32,
    ) -> Option<IntentPrediction> {
        let vote = vote_distribution(neighbours, temperature);
        // An intent the head has not learned yet (knowledge added since training): the
        // neighbours decide alone until the next version. So do they for an intent the head
        // learnt from too few examples to vouch for, when they are sure enough to answer alone:
        // the head's small probability for it would outvote the resolution that taught it.
        let winner = vote.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        let vote_decides = winner.is_some_and(|(intent, share)| {
            !self.record.labels.iter().any(|l| l == intent)
                || (*share >= vote_only_threshold && self.record.new_intents.iter().any(|l| l == intent))
        });
        let head = head.filter(|_| !vote_decides);
        let (head_weight, vote_weight) = match (head.is_some(), vote.is_empty()) {
            (true, false) => (head_weight, 1.0 - head_weight),
            (true, true) => (1.0, 0.0),
            (false, _) => (0.0, 1.0),
        };
        let mut combined: HashMap<&str, f32> = HashMap::new();
        if let Some(probabilities) = head {
            for (label, p) in self.record.labels.iter().zip(probabilities) {
                *combined.entry(label).or_default() += head_weight * p;
            }
        }
        for (label, p) in &vote {
            *combined.entry(label).or_default() += vote_weight * p;
        }
        let (intent, blended) =
            combined.into_iter().max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))?;
        let exponent = self.record.nearest_example_exponent;
        // The vote alone (no head) is held to its own uncalibrated threshold, as it is.
        let nearest_example = (exponent > 0.0 && head.is_some() && !neighbours.is_empty()).then(|| {
            neighbours.iter().filter(|(i, _)| i == intent).map(|(_, s)| s.max(0.0)).fold(0.0, f32::max)
        });
        let confidence = nearest_example.map_or(blended, |n| blended * n.powf(exponent));
        let (threshold, source) = match head {
            Some(_) => self.record.thresholds.for_intent(intent),
            None => {
                let (global, _) = self.record.thresholds.for_intent(intent);
                (global.max(vote_only_threshold), ThresholdSource::VoteOnly)
            }
        };
        Some(IntentPrediction { intent: intent.to_owned(), confidence, threshold, source, nearest_example })
    }
}

/// A softmax vote of the nearest labelled examples: each votes with weight
/// `exp((score - best) / temperature)`; returns each intent's share of the weight.
pub fn vote_distribution(neighbours: &[(String, f32)], temperature: f32) -> Vec<(&str, f32)> {
    let best = neighbours.iter().map(|(_, s)| *s).fold(f32::MIN, f32::max);
    let mut weights: Vec<(&str, f32)> = Vec::new();
    for (intent, score) in neighbours {
        let w = ((score - best) / temperature).exp();
        match weights.iter_mut().find(|(i, _)| i == intent) {
            Some(entry) => entry.1 += w,
            None => weights.push((intent, w)),
        }
    }
    let total: f32 = weights.iter().map(|(_, w)| w).sum();
    weights.iter_mut().for_each(|(_, w)| *w /= total);
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(i: &str, s: f32) -> (String, f32) {
        (i.to_owned(), s)
    }

    #[test]
    fn vote_prefers_close_agreeing_neighbours() {
        let model = IntentModel::untrained(0.5, 0.98);
        let clear =
            model.blend(None, &[n("refund", 0.9), n("refund", 0.85), n("track", 0.6)], 0.05, 0.9).unwrap();
        assert_eq!(clear.intent, "refund");
        assert!(clear.confidence > 0.99);
        // the vote alone is held to the stricter vote-only threshold
        assert_eq!((clear.threshold, clear.source), (0.9, ThresholdSource::VoteOnly));
        let torn = model.blend(None, &[n("refund", 0.8), n("track", 0.8)], 0.05, 0.9).unwrap();
        assert!((torn.confidence - 0.5).abs() < 1e-6);
        assert!(model.blend(None, &[], 0.05, 0.9).is_none());
    }

    #[test]
    fn head_and_vote_are_blended() {
        let mut model = IntentModel::untrained(0.5, 0.98);
        model.record.labels = vec!["refund".into(), "track".into()];
        model.record.head_weight = 0.5;
        // the head is sure of "track", the vote of "refund": a tie broken by name, at 0.5
        let p = model.blend(Some(&[0.0, 1.0]), &[n("refund", 0.9)], 0.05, 0.9).unwrap();
        assert!((p.confidence - 0.5).abs() < 1e-6);
        assert_eq!((p.threshold, p.source), (0.5, ThresholdSource::Global));
        // head alone when no labelled neighbour was found
        let p = model.blend(Some(&[0.2, 0.8]), &[], 0.05, 0.9).unwrap();
        assert_eq!((p.intent.as_str(), p.confidence), ("track", 0.8));
        // an intent the head has never seen is decided by the vote alone
        let p = model.blend(Some(&[0.3, 0.7]), &[n("new_intent", 0.9)], 0.05, 0.9).unwrap();
        assert_eq!((p.intent.as_str(), p.confidence), ("new_intent", 1.0));
        assert_eq!((p.threshold, p.source), (0.9, ThresholdSource::VoteOnly));
        // so is one it learnt from too few examples, when the vote is sure enough to answer
        model.record.new_intents = vec!["refund".into()];
        let sure = [n("refund", 0.9), n("refund", 0.88), n("track", 0.6)];
        let p = model.blend(Some(&[0.1, 0.9]), &sure, 0.05, 0.9).unwrap();
        assert_eq!(p.intent, "refund");
        assert!(p.confidence > 0.99, "{p:?}");
        assert_eq!((p.threshold, p.source), (0.9, ThresholdSource::VoteOnly));
        // an unsure vote for it leaves the blend (and the calibrated threshold) in charge
        let unsure = [n("refund", 0.8), n("track", 0.79)];
        let p = model.blend(Some(&[0.1, 0.9]), &unsure, 0.05, 0.9).unwrap();
        assert_eq!((p.intent.as_str(), p.source), ("track", ThresholdSource::Global));
    }

    #[test]
    fn a_question_far_from_every_example_of_its_intent_is_less_sure() {
        let mut model = IntentModel::untrained(0.5, 0.98);
        model.record.labels = vec!["refund".into(), "track".into()];
        model.record.head_weight = 1.0;
        model.record.nearest_example_exponent = 0.5;
        // asked the way customers ask: the nearest refund example is close
        let near = model.blend(Some(&[0.9, 0.1]), &[n("refund", 0.81), n("track", 0.5)], 0.05, 0.9).unwrap();
        assert!((near.confidence - 0.9 * 0.9).abs() < 1e-5, "{near:?}");
        assert_eq!(near.nearest_example, Some(0.81));
        // the head is as sure, but the question is far from every refund example
        let far = model.blend(Some(&[0.9, 0.1]), &[n("refund", 0.25), n("track", 0.2)], 0.05, 0.9).unwrap();
        assert!((far.confidence - 0.9 * 0.5).abs() < 1e-5, "{far:?}");
        // no refund example among the neighbours at all: nothing to answer from
        let none = model.blend(Some(&[0.9, 0.1]), &[n("track", 0.4)], 0.05, 0.9).unwrap();
        assert_eq!((none.intent.as_str(), none.confidence), ("refund", 0.0));
        // the vote alone keeps its own uncalibrated scale
        let vote = model.blend(None, &[n("refund", 0.64)], 0.05, 0.9).unwrap();
        assert_eq!((vote.confidence, vote.nearest_example), (1.0, None));
        // versions trained before the exponent existed: the blend alone
        model.record.nearest_example_exponent = 0.0;
        let old = model.blend(Some(&[0.9, 0.1]), &[n("refund", 0.25)], 0.05, 0.9).unwrap();
        assert_eq!((old.confidence, old.nearest_example), (0.9, None));
    }
}
