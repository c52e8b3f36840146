//! Per-intent answer thresholds, calibrated on held-out predictions so that automatic answers
//! reach a target precision. Pure: the trainer feeds it out-of-fold predictions, `kindly eval`
//! uses the same functions to report coverage at fixed precisions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One held-out prediction: what the model said, how sure it was, and whether it was right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub intent: String,
    pub confidence: f32,
    pub correct: bool,
}

/// The thresholds for one intent, and how many held-out predictions they rest on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentThreshold {
    pub confidence: f32,
    pub support: usize,
    /// Held-out precision at this threshold.
    pub precision: f32,
}

/// Where a threshold came from, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdSource {
    /// Calibrated on this intent's own held-out predictions.
    Intent,
    /// Too few examples: the conservative global threshold.
    Global,
    /// No head knows this intent yet (before the first training, or an intent added since), or
    /// the head learnt it from fewer examples than folds and the vote for it is sure: the
    /// neighbours' vote alone decides. Its confidence is not calibrated, so it is held to the
    /// stricter `pipeline.intent.vote_only_threshold`.
    VoteOnly,
}

/// Versioned with the intent model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentThresholds {
    pub target_precision: f32,
    /// For intents with too few held-out predictions (or none): calibrated on all predictions
    /// pooled, at a stricter precision than the target.
    pub global: f32,
    pub per_intent: BTreeMap<String, IntentThreshold>,
}

impl IntentThresholds {
    /// Nothing calibrated: every intent uses `global`.
    pub fn uncalibrated(target_precision: f32, global: f32) -> Self {
        Self { target_precision, global, per_intent: BTreeMap::new() }
    }

    pub fn for_intent(&self, intent: &str) -> (f32, ThresholdSource) {
        match self.per_intent.get(intent) {
            Some(t) => (t.confidence, ThresholdSource::Intent),
            None => (self.global, ThresholdSource::Global),
        }
    }
}

/// Calibrates per-intent thresholds so that automatic answers, all intents together, reach
/// `target` precision while answering as many tickets as possible.
///
/// - Each intent with at least `min_support` held-out predictions of its own gets the lowest
///   threshold at which *its* predictions reach the relaxed precision `1 - 2 × (1 - target)`
///   (0.96 for 0.98): an intent the model often confuses is held back.
/// - Over the predictions that clear their intent's bar, the pooled threshold at `target` is the
///   base every such intent must also reach. So all intents together reach the target without
///   each having to reach it alone, which would cost coverage for no gain in overall precision.
/// - Intents with fewer predictions use the pooled threshold at the stricter precision
///   `1 - (1 - target) / 2` (`global`), calibrated on their own predictions pooled (on all
///   predictions while those are fewer than `5 × min_support`). So does a well-supported intent
///   whose predictions are too few to prove the relaxed precision, unless its precision at
///   `global` is measurably (95% Wilson interval) below it: then it is never answered (1).
///
/// No threshold goes below `floor` nor the configured `fallback`. With fewer than
/// `5 × min_support` predictions in all, or when no pooled threshold reaches the precision (a
/// small, noisy knowledge base), the pooled thresholds are `fallback`.
pub fn calibrate(
    predictions: &[Prediction],
    target: f32,
    min_support: usize,
    floor: f32,
    fallback: f32,
) -> IntentThresholds {
    let strict = 1.0 - (1.0 - target) / 2.0;
    let relaxed = 1.0 - 2.0 * (1.0 - target);
    let enough = predictions.len() >= 5 * min_support;
    let pooled_at = |ps: &[&Prediction], precision: f32| {
        let pooled = if enough { threshold_at(ps, precision) } else { None };
        pooled.map_or(fallback, |(t, _)| t.max(floor)).max(fallback)
    };
    let mut by_intent: BTreeMap<&str, Vec<&Prediction>> = BTreeMap::new();
    for p in predictions {
        by_intent.entry(p.intent.as_str()).or_default().push(p);
    }
    // The global threshold is calibrated on the predictions it governs: those of the intents too
    // rare for a threshold of their own. A well-supported intent the model confuses has its own
    // bar and should not raise the rare intents' one. With too few rare predictions, all of them.
    let rare: Vec<&Prediction> =
        predictions.iter().filter(|p| by_intent[p.intent.as_str()].len() < min_support).collect();
    let governed: Vec<&Prediction> =
        if rare.len() >= 5 * min_support { rare } else { predictions.iter().collect() };
    let global = pooled_at(&governed, strict);
    // Each well-supported intent's own bar, then the pooled threshold over what clears it.
    let own: BTreeMap<&str, f32> = by_intent
        .iter()
        .filter(|(_, ps)| ps.len() >= min_support)
        .filter_map(|(intent, ps)| match threshold_at(ps, relaxed) {
            Some((t, _)) => Some((*intent, t)),
            // No bar of its own: held back only when it is measurably worse than the relaxed
            // precision at the global threshold (the 95% interval lies below it). Otherwise it is
            // too small to tell (20 right out of 20 estimate 20/21 < 0.96): the global
            // threshold applies, as for rarer intents.
            None if precision_upper_bound(ps, global) >= relaxed => None,
            None => Some((*intent, 1.0)),
        })
        .collect();
    let cleared: Vec<&Prediction> = predictions
        .iter()
        .filter(|p| own.get(p.intent.as_str()).is_some_and(|t| p.confidence >= *t))
        .collect();
    let base = pooled_at(&cleared, target);
    let per_intent = own
        .into_iter()
        .map(|(intent, own)| {
            let confidence = own.max(base).max(floor);
            let answered: Vec<&&Prediction> =
                by_intent[intent].iter().filter(|p| p.confidence >= confidence).collect();
            let precision = if answered.is_empty() {
                0.0
            } else {
                answered.iter().filter(|p| p.correct).count() as f32 / answered.len() as f32
            };
            (intent.to_owned(), IntentThreshold { confidence, support: by_intent[intent].len(), precision })
        })
        .collect();
    IntentThresholds { target_precision: target, global, per_intent }
}

/// The upper end of the 95% Wilson interval of the precision of the predictions at or above
/// `threshold` (1 when there are none).
fn precision_upper_bound(predictions: &[&Prediction], threshold: f32) -> f32 {
    let answered: Vec<&&Prediction> = predictions.iter().filter(|p| p.confidence >= threshold).collect();
    let wrong = answered.iter().filter(|p| !p.correct).count() as u64;
    crate::shadow::wilson_lower_bound(wrong, answered.len() as u64).map_or(1.0, |w| 1.0 - w as f32)
}

/// The lowest confidence threshold at which the predictions at or above it reach `precision`,
/// with that precision; `None` when no threshold does. The precision is estimated with one
/// imaginary error added (`correct / (answered + 1)`), so a handful of lucky predictions do not
/// earn a low threshold.
pub fn threshold_at(predictions: &[&Prediction], precision: f32) -> Option<(f32, f32)> {
    let mut sorted: Vec<&&Prediction> = predictions.iter().collect();
    sorted.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut correct = 0usize;
    let mut best = None;
    for (i, p) in sorted.iter().enumerate() {
        correct += usize::from(p.correct);
        let tied = sorted.get(i + 1).is_some_and(|next| next.confidence == p.confidence);
        let estimate = correct as f32 / (i + 2) as f32;
        if !tied && estimate >= precision {
            best = Some((p.confidence, correct as f32 / (i + 1) as f32));
        }
    }
    best
}

/// The share of all items answered, and the precision, when answering every prediction at or
/// above its intent's threshold. Items with no prediction (`None`) are never answered and
/// count in the denominator.
pub fn coverage_and_precision<'a>(
    items: impl IntoIterator<Item = (Option<&'a Prediction>, f32)>,
) -> (f32, f32) {
    let (mut total, mut answered, mut correct) = (0usize, 0usize, 0usize);
    for (p, threshold) in items {
        total += 1;
        if let Some(p) = p.filter(|p| p.confidence >= threshold) {
            answered += 1;
            correct += usize::from(p.correct);
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
    (ratio(answered, total), ratio(correct, answered))
}

/// The largest share of `total` items that can be answered with one global confidence threshold
/// while keeping the answered precision at or above `precision` (exact, no smoothing).
pub fn coverage_at_precision(predictions: &[Prediction], total: usize, precision: f32) -> f32 {
    let mut sorted: Vec<&Prediction> = predictions.iter().collect();
    sorted.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut correct = 0usize;
    let mut best = 0usize;
    for (i, p) in sorted.iter().enumerate() {
        correct += usize::from(p.correct);
        let tied = sorted.get(i + 1).is_some_and(|next| next.confidence == p.confidence);
        if !tied && correct as f32 >= precision * (i + 1) as f32 {
            best = i + 1;
        }
    }
    if total == 0 { 0.0 } else { best as f32 / total as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(intent: &str, confidence: f32, correct: bool) -> Prediction {
        Prediction { intent: intent.into(), confidence, correct }
    }

    #[test]
    fn threshold_stops_above_the_first_cluster_of_errors() {
        let mut ps: Vec<Prediction> = (0..100).map(|i| p("a", 0.99 - i as f32 * 0.005, true)).collect();
        ps.push(p("a", 0.6, false));
        ps.push(p("a", 0.58, false));
        ps.push(p("a", 0.57, true));
        let refs: Vec<&Prediction> = ps.iter().collect();
        let (t, precision) = threshold_at(&refs, 0.98).unwrap();
        assert!(t > 0.6 - 1e-6, "{t}");
        assert_eq!(precision, 1.0);
        // looser target: the errors are tolerated
        let (t, _) = threshold_at(&refs, 0.95).unwrap();
        assert!(t < 0.58, "{t}");
    }

    #[test]
    fn intents_with_few_examples_use_the_global_threshold() {
        let mut ps: Vec<Prediction> = (0..160).map(|i| p("a", 0.5 + i as f32 * 0.003, true)).collect();
        ps.extend((0..5).map(|_| p("b", 0.9, true)));
        let t = calibrate(&ps, 0.98, 30, 0.3, 0.6);
        assert_eq!(t.for_intent("a").1, ThresholdSource::Intent);
        assert_eq!(t.for_intent("b"), (t.global, ThresholdSource::Global));
        assert_eq!(t.for_intent("never-seen"), (t.global, ThresholdSource::Global));
        assert!(t.global >= 0.3);
    }

    #[test]
    fn a_confused_well_supported_intent_does_not_raise_the_rare_intents_threshold() {
        // 300 rare intents of 3 predictions each, always right, confidences 0.5 to 0.95
        let mut ps: Vec<Prediction> =
            (0..900).map(|i| p(&format!("rare-{}", i / 3), 0.5 + (i % 90) as f32 * 0.005, true)).collect();
        // one big intent, wrong on every third prediction below 0.9
        ps.extend((0..90).map(|i| {
            let confidence = 0.5 + i as f32 * 0.005;
            p("confused", confidence, confidence >= 0.9 || i % 3 != 0)
        }));
        let t = calibrate(&ps, 0.98, 20, 0.3, 0.5);
        assert_eq!(t.global, 0.5, "the rare intents are never wrong: {t:?}");
        assert!(t.for_intent("confused").0 >= 0.89, "{t:?}");
        // pooled with the confused intent, the rare ones would have been held above 0.8
        let all: Vec<&Prediction> = ps.iter().collect();
        assert!(threshold_at(&all, 0.99).unwrap().0 > 0.8);
    }

    #[test]
    fn nothing_reaches_the_target_means_never_answer() {
        let ps: Vec<Prediction> = (0..200).map(|i| p("a", 0.9, i % 2 == 0)).collect();
        let t = calibrate(&ps, 0.98, 30, 0.3, 0.6);
        assert_eq!(t.for_intent("a").0, 1.0, "an intent that is never right enough is never answered");
        assert_eq!(t.global, 0.6, "nothing calibrates: the configured fallback");
        // too little data to calibrate anything: the configured fallback
        let t = calibrate(&ps[..40], 0.98, 30, 0.3, 0.6);
        assert_eq!(t.global, 0.6);
    }

    #[test]
    fn a_small_intent_that_is_never_wrong_is_not_held_back() {
        // 22 right out of 22: the smoothed estimate 22/23 cannot prove 0.96, nothing says worse
        let mut ps: Vec<Prediction> = (0..22).map(|i| p("small", 0.6 + i as f32 * 0.01, true)).collect();
        // 22 with one error near the top: too few to tell, the global threshold
        ps.extend((0..22).map(|i| p("unsure", 0.6 + i as f32 * 0.01, i != 20)));
        // 22 with seven errors: measurably worse, held back
        ps.extend((0..22).map(|i| p("shaky", 0.6 + i as f32 * 0.01, i % 3 != 0)));
        ps.extend((0..200).map(|i| p("big", 0.4 + i as f32 * 0.0025, true)));
        let t = calibrate(&ps, 0.98, 20, 0.3, 0.5);
        assert_eq!(t.for_intent("small"), (t.global, ThresholdSource::Global));
        assert_eq!(t.for_intent("unsure"), (t.global, ThresholdSource::Global));
        assert_eq!(t.for_intent("shaky"), (1.0, ThresholdSource::Intent));
        assert_eq!(t.for_intent("big").1, ThresholdSource::Intent);
    }

    #[test]
    fn a_confused_intent_is_held_back_and_the_others_share_the_pooled_threshold() {
        // "easy" is always right; "confused" is wrong on every fifth prediction below 0.8
        let mut ps: Vec<Prediction> = (0..200).map(|i| p("easy", 0.4 + i as f32 * 0.0025, true)).collect();
        ps.extend((0..100).map(|i| {
            let confidence = 0.5 + i as f32 * 0.0049;
            p("confused", confidence, confidence >= 0.8 || i % 5 != 0)
        }));
        let t = calibrate(&ps, 0.98, 30, 0.3, 0.35);
        let (easy, confused) = (t.for_intent("easy").0, t.for_intent("confused").0);
        assert!(easy < 0.7, "the easy intent answers most of its tickets: {easy}");
        assert!(confused >= 0.78, "the confused intent only where it is reliable: {confused}");
        assert!(t.per_intent["confused"].precision >= 0.96);
        // all intents together reach the target on these predictions
        let (_, precision) = coverage_and_precision(ps.iter().map(|q| (Some(q), t.for_intent(&q.intent).0)));
        assert!(precision >= 0.98, "{precision}");
    }

    #[test]
    fn coverage_counts_unanswered_items() {
        let ps = [p("a", 0.9, true), p("a", 0.8, true), p("b", 0.7, false), p("b", 0.2, true)];
        assert_eq!(coverage_at_precision(&ps, 5, 0.99), 0.4);
        assert_eq!(coverage_at_precision(&ps, 4, 0.75), 1.0);
        let (coverage, precision) =
            coverage_and_precision(ps.iter().map(|p| (Some(p), 0.75)).chain([(None, 0.0)]));
        assert_eq!((coverage, precision), (0.4, 1.0));
    }
}
