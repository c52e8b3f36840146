//! Training a version: held-out folds give the predictions that calibrate the thresholds and
//! the validation scores, then the head is trained once more on everything.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::Utc;
use kindly_core::calibration::{self, IntentThresholds, Prediction};
use kindly_core::lexicon::{head_input, head_width};
use kindly_core::{CharNgrams, IntentModelRecord, Lexicon, ValidationScores, WordGrams};
use kindly_model::{Head, HeadKind, HeadSpec, Targets, TrainOptions, similarity_matrix};
use serde::{Deserialize, Serialize};

use super::model::IntentModel;
use crate::PipelineError;

/// One labelled example: an article's sample question, a resolution an agent labelled, or an
/// imported label, with its text and embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingExample {
    pub intent: String,
    pub text: String,
    pub vector: Vec<f32>,
    /// Whether triage can find it among a ticket's labelled neighbours: the vector index holds
    /// articles' titles and questions and reusable resolutions, not imported labels. The held-out
    /// folds vote with the same neighbours triage has, or their calibration would assume votes
    /// that serving never sees.
    pub votes: bool,
}

/// How intent models are trained and calibrated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntentTraining {
    /// Automatic answers should be right at least this often (held-out precision).
    pub target_precision: f32,
    /// Held-out folds for calibration and validation scores.
    pub folds: usize,
    /// An intent needs this many held-out predictions for its own threshold; the others use the
    /// conservative global threshold.
    pub min_support: usize,
    /// No calibrated threshold goes below this.
    pub threshold_floor: f32,
    /// Weight of the head against the neighbour vote (0–1), preferred on ties.
    pub head_weight: f32,
    /// Other weights tried on the held-out folds. One is kept instead of `head_weight` when
    /// its calibrated thresholds answer more held-out examples at no lower precision, and it
    /// names the intent right at least as often (handoffs show agents the intent too): the
    /// vote helps where intents are phrased in few ways (BANKING77), the head where
    /// out-of-scope questions sit near known ones (CLINC150).
    pub head_weight_candidates: Vec<f32>,
    /// The confidence is the blend times the similarity of the nearest labelled example of the
    /// predicted intent raised to this power (0: the blend alone). The head is sure of some
    /// intent even for a question outside every intent; its distance from the examples tells.
    /// 0.3 was chosen on development splits of the training data (README, "Nearest example").
    pub nearest_example_exponent: f32,
    /// The head's logits are divided by this before the softmax. Above 1 the probabilities are
    /// flatter in the same order, so a lead over the second intent counts for more and the
    /// nearest example's similarity weighs more against the head's certainty. 1.5 was chosen on
    /// development splits of the training data (`scripts/study_head_temperature.py`; README,
    /// "The intent model").
    pub head_temperature: f32,
    /// Width of the head's hidden layer (0: a linear head).
    pub hidden: usize,
    /// Character n-grams the head reads next to the embedding (`buckets = 0`: none).
    pub lexical: CharNgrams,
    /// Whole words the head reads after the n-grams (`buckets = 0`: none). With both off the
    /// head reads the embedding alone.
    pub words: WordGrams,
    pub head: TrainOptions,
    /// Retrain this long after the last label change (debounce), in seconds.
    pub debounce_seconds: u64,
    /// The intent confidence needed when the neighbours' vote decides alone: before the first
    /// training, or for an intent added since. The vote of a few nearest examples is confident
    /// and uncalibrated (the BANKING77 replay answered at 70% precision before training at 0.5).
    pub vote_only_threshold: f32,
}

impl Default for IntentTraining {
    fn default() -> Self {
        Self {
            target_precision: 0.98,
            folds: 5,
            min_support: 20,
            threshold_floor: 0.3,
            head_weight: 0.5,
            head_weight_candidates: vec![0.3, 0.7, 0.85, 1.0],
            nearest_example_exponent: 0.3,
            head_temperature: 1.5,
            hidden: 0,
            lexical: CharNgrams::default(),
            words: WordGrams::default(),
            head: TrainOptions::default(),
            debounce_seconds: 10,
            vote_only_threshold: 0.9,
        }
    }
}

/// Trains a version from labelled examples; `None` with fewer than two intents. The neighbour
/// vote of the held-out folds uses `neighbours` examples at `temperature`, like triage does.
pub fn train(
    examples: &[TrainingExample],
    settings: &IntentTraining,
    neighbours: usize,
    temperature: f32,
    fallback_threshold: f32,
) -> Result<Option<IntentModel>, PipelineError> {
    let labels: Vec<String> = examples
        .iter()
        .map(|e| e.intent.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if labels.len() < 2 {
        return Ok(None);
    }
    let dimension = examples[0].vector.len();
    if let Some(bad) = examples.iter().find(|e| e.vector.len() != dimension) {
        return Err(PipelineError::Model(format!(
            "example of {} has dimension {}, expected {dimension}",
            bad.intent,
            bad.vector.len()
        )));
    }
    // The IDF is fitted on every example, the held-out folds' too: document frequencies carry no
    // labels, and the version serves with the same IDF it was calibrated with.
    let lexicon = (settings.lexical.enabled() || settings.words.enabled())
        .then(|| Lexicon::fit(settings.lexical, settings.words, examples.iter().map(|e| e.text.as_str())));
    let inputs: Vec<Cow<[f32]>> =
        examples.iter().map(|e| head_input(lexicon.as_ref(), &e.vector, &e.text)).collect();
    let index: BTreeMap<&str, u32> = labels.iter().enumerate().map(|(i, l)| (l.as_str(), i as u32)).collect();
    let classes: Vec<u32> = examples.iter().map(|e| index[e.intent.as_str()]).collect();
    let spec = HeadSpec {
        kind: HeadKind::SingleLabel,
        labels: labels.clone(),
        dimension: head_width(lexicon.as_ref(), dimension),
        hidden: settings.hidden,
        activation: Default::default(),
    };
    let shell = |head_weight: f32| IntentModelRecord {
        version: 0,
        trained_at: Utc::now(),
        examples: examples.len(),
        labels: labels.clone(),
        dimension,
        hidden: settings.hidden,
        head_weight,
        nearest_example_exponent: settings.nearest_example_exponent,
        head_temperature: settings.head_temperature,
        new_intents: Vec::new(),
        lexicon: lexicon.clone(),
        thresholds: kindly_core::calibration::IntentThresholds::uncalibrated(settings.target_precision, 1.0),
        scores: ValidationScores::default(),
        weights: Vec::new(),
    };

    // Held-out predictions, fold by fold, with the same blend triage uses, once per weight.
    let weights: Vec<f32> = std::iter::once(settings.head_weight)
        .chain(settings.head_weight_candidates.iter().copied().filter(|w| *w != settings.head_weight))
        .collect();
    let fold_count = settings.folds.max(2);
    let folds = stratified_folds(&classes, fold_count);
    // Each fold's head, and the final head on every example, is independent of the others:
    // they train side by side, one per core (`side_by_side`), the final head as the last job.
    let predict_fold = |fold: usize| -> Result<Vec<HeldOut>, PipelineError> {
        let (test, fit): (Vec<usize>, Vec<usize>) = (0..examples.len()).partition(|&i| folds[i] == fold);
        if test.is_empty() || fit.is_empty() {
            return Ok(Vec::new());
        }
        let fit_y: Vec<u32> = fit.iter().map(|&i| classes[i]).collect();
        let fit_x = rows(&fit, |i| &inputs[i]);
        let head =
            Head::train(spec.clone(), &fit_x, Targets::Classes(&fit_y), &settings.head).map_err(model)?;
        let probabilities = head
            .predict_at_temperature(&rows(&test, |i| &inputs[i]), settings.head_temperature)
            .map_err(model)?;
        let vectors = |of: &[usize]| rows(of, |i| &examples[i].vector);
        let voters: Vec<usize> = fit.iter().copied().filter(|&i| examples[i].votes).collect();
        let similarities = similarity_matrix(&vectors(&test), &vectors(&voters), dimension).map_err(model)?;
        let fold_model = IntentModel::with_head(shell(settings.head_weight), head);
        Ok(test
            .iter()
            .enumerate()
            .map(|(row, &i)| {
                let sims = &similarities[row * voters.len()..(row + 1) * voters.len()];
                let nearest: Vec<(String, f32)> = top_k(sims, neighbours)
                    .into_iter()
                    .map(|j| (examples[voters[j]].intent.clone(), sims[j]))
                    .collect();
                // The threshold blend() attaches is unused here: calibration reads the confidence.
                let per_weight = weights
                    .iter()
                    .map(|weight| {
                        fold_model
                            .blend_weighted(*weight, Some(&probabilities[row]), &nearest, temperature, 1.0)
                            .map(|p| Prediction {
                                correct: p.intent == examples[i].intent,
                                intent: p.intent,
                                confidence: p.confidence,
                            })
                    })
                    .collect();
                (i, per_weight)
            })
            .collect())
    };
    let all_x: Vec<f32> = inputs.iter().flat_map(|x| x.iter().copied()).collect();
    let train_final = || Head::train(spec.clone(), &all_x, Targets::Classes(&classes), &settings.head);
    let mut jobs = side_by_side(fold_count + 1, |job| match job {
        fold if fold < fold_count => Job::Fold(predict_fold(fold)),
        _ => Job::Final(train_final().map_err(model)),
    });
    let head = match jobs.pop() {
        Some(Job::Final(head)) => head?,
        _ => unreachable!("side_by_side returns the jobs in order, the final head last"),
    };
    let mut held_out: Vec<Vec<Option<Prediction>>> = vec![vec![None; examples.len()]; weights.len()];
    for job in jobs {
        let Job::Fold(predictions) = job else { unreachable!("every job before the last is a fold") };
        for (i, per_weight) in predictions? {
            for (predictions, p) in held_out.iter_mut().zip(per_weight) {
                predictions[i] = p;
            }
        }
    }
    let mut calibrated = weights
        .iter()
        .zip(held_out)
        .map(|(&head_weight, held_out)| Calibrated::new(head_weight, held_out, settings, fallback_threshold));
    let preferred = calibrated
        .next()
        .unwrap_or_else(|| Calibrated::new(settings.head_weight, Vec::new(), settings, fallback_threshold));
    let chosen = choose_weight(preferred, calibrated, settings.target_precision);
    let truth: Vec<&str> = examples.iter().map(|e| e.intent.as_str()).collect();
    let predicted: Vec<Option<&str>> =
        chosen.held_out.iter().map(|p| p.as_ref().map(|p| p.intent.as_str())).collect();
    let scores = ValidationScores {
        folds: settings.folds.max(2),
        accuracy: chosen.accuracy,
        macro_f1: macro_f1(&truth, &predicted),
        coverage: chosen.coverage,
        precision: chosen.precision,
    };

    let weights = head.to_safetensors().map_err(model)?;
    let mut examples_of = vec![0usize; labels.len()];
    classes.iter().for_each(|&c| examples_of[c as usize] += 1);
    let new_intents =
        labels.iter().zip(&examples_of).filter(|&(_, &n)| n < fold_count).map(|(l, _)| l.clone()).collect();
    let record = IntentModelRecord {
        thresholds: chosen.thresholds,
        scores,
        weights,
        new_intents,
        ..shell(chosen.head_weight)
    };
    Ok(Some(IntentModel::with_head(record, head)))
}

/// A held-out example's index and its prediction at each blend weight.
type HeldOut = (usize, Vec<Option<Prediction>>);

/// One job of a training: a fold's held-out predictions, or the final head.
enum Job {
    Fold(Result<Vec<HeldOut>, PipelineError>),
    Final(Result<Head, PipelineError>),
}

/// Runs `work(0..count)` on up to one thread per core and returns the results in order.
fn side_by_side<T: Send>(count: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(count).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let job = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if job >= count {
                            return mine;
                        }
                        mine.push((job, work(job)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    done.sort_by_key(|(job, _)| *job);
    done.into_iter().map(|(_, result)| result).collect()
}

/// The held-out predictions of one blend weight, and the thresholds calibrated on them.
struct Calibrated {
    head_weight: f32,
    held_out: Vec<Option<Prediction>>,
    thresholds: IntentThresholds,
    /// Share of held-out examples answered at those thresholds, and how often rightly.
    coverage: f32,
    precision: f32,
    /// Share of held-out examples whose predicted intent is right, answered or not.
    accuracy: f32,
}

impl Calibrated {
    fn new(
        head_weight: f32,
        held_out: Vec<Option<Prediction>>,
        settings: &IntentTraining,
        fallback_threshold: f32,
    ) -> Self {
        let predictions: Vec<Prediction> = held_out.iter().flatten().cloned().collect();
        let thresholds = calibration::calibrate(
            &predictions,
            settings.target_precision,
            settings.min_support,
            settings.threshold_floor,
            fallback_threshold,
        );
        let (coverage, precision) = calibration::coverage_and_precision(
            held_out
                .iter()
                .map(|p| (p.as_ref(), p.as_ref().map_or(1.0, |p| thresholds.for_intent(&p.intent).0))),
        );
        let right = held_out.iter().flatten().filter(|p| p.correct).count();
        let accuracy = if held_out.is_empty() { 0.0 } else { right as f32 / held_out.len() as f32 };
        Self { head_weight, held_out, thresholds, coverage, precision, accuracy }
    }
}

/// The preferred weight unless another answers strictly more held-out examples at a precision
/// no lower than the target (or than the preferred weight reached), with no lower accuracy.
fn choose_weight(
    preferred: Calibrated,
    others: impl Iterator<Item = Calibrated>,
    target_precision: f32,
) -> Calibrated {
    let floor = target_precision.min(preferred.precision);
    let preferred_accuracy = preferred.accuracy;
    let mut chosen = preferred;
    for candidate in others {
        if candidate.precision >= floor
            && candidate.accuracy >= preferred_accuracy
            && candidate.coverage > chosen.coverage
        {
            chosen = candidate;
        }
    }
    chosen
}

/// The rows `of` one after another, as the head and the similarity matrix take them.
fn rows<'a>(of: &[usize], row: impl Fn(usize) -> &'a [f32]) -> Vec<f32> {
    of.iter().flat_map(|&i| row(i).iter().copied()).collect()
}

fn model(e: kindly_model::ModelError) -> PipelineError {
    PipelineError::Model(e.to_string())
}

/// Fold of each example: within each class, examples are dealt round-robin.
fn stratified_folds(classes: &[u32], folds: usize) -> Vec<usize> {
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    classes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let n = seen.entry(*c).or_default();
            *n += 1;
            // offset by the example's position so that small classes do not all start at fold 0
            (*n + i / 7) % folds
        })
        .collect()
}

/// Indices of the `k` largest values, best first.
fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    let k = k.min(order.len());
    if k == 0 {
        return Vec::new();
    }
    order.select_nth_unstable_by(k - 1, |a, b| values[*b].total_cmp(&values[*a]));
    order.truncate(k);
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    order
}

/// Share of examples whose prediction is right (no prediction counts as wrong).
pub fn accuracy(truth: &[&str], predicted: &[Option<&str>]) -> f32 {
    let right = truth.iter().zip(predicted).filter(|(t, p)| Some(**t) == **p).count();
    if truth.is_empty() { 0.0 } else { right as f32 / truth.len() as f32 }
}

/// Macro-averaged F1 over the true labels.
pub fn macro_f1(truth: &[&str], predicted: &[Option<&str>]) -> f32 {
    // every true intent is a class; a prediction outside them counts against recall only
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = truth.iter().map(|t| (*t, (0, 0, 0))).collect(); // tp, fp, fn
    for (t, p) in truth.iter().zip(predicted) {
        match p {
            Some(p) if p == t => counts.entry(t).or_default().0 += 1,
            Some(p) => {
                counts.entry(t).or_default().2 += 1;
                if let Some(c) = counts.get_mut(p) {
                    c.1 += 1;
                }
            }
            None => counts.entry(t).or_default().2 += 1,
        }
    }
    let f1s: Vec<f32> = counts
        .values()
        .map(|&(tp, fp, fn_)| if tp == 0 { 0.0 } else { 2.0 * tp as f32 / (2 * tp + fp + fn_) as f32 })
        .collect();
    if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f32>() / f1s.len() as f32 }
}

#[cfg(test)]
mod tests {
    use kindly_core::calibration::ThresholdSource;

    use super::*;

    /// Three intents around orthogonal directions, with noise.
    fn examples() -> Vec<TrainingExample> {
        (0..150)
            .map(|i| {
                let c = i % 3;
                let mut v = vec![0.05 * ((i * 7 % 11) as f32 / 11.0); 6];
                v[c] += 1.0;
                v[c + 3] += 0.3 * ((i % 5) as f32 / 5.0);
                let intent = ["refund", "track", "reset"][c];
                TrainingExample {
                    intent: intent.into(),
                    text: format!("{intent} please"),
                    vector: v,
                    votes: true,
                }
            })
            .collect()
    }

    #[test]
    fn trains_calibrates_and_scores() {
        let model = train(&examples(), &IntentTraining::default(), 5, 0.05, 0.5).unwrap().unwrap();
        let r = model.record();
        assert_eq!(r.labels, ["refund", "reset", "track"]);
        assert_eq!(r.examples, 150);
        assert!(r.scores.accuracy > 0.99, "{:?}", r.scores);
        assert_eq!(r.thresholds.per_intent.len(), 3, "50 examples each is enough support");
        let p =
            model.predict("refund please", &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[], 0.05, 0.9).unwrap().unwrap();
        assert_eq!(p.intent, "refund");
    }

    #[test]
    fn an_intent_with_fewer_examples_than_folds_is_answered_by_a_sure_vote() {
        // An agent marked one resolution reusable for a new intent: one example among 150.
        let mut examples = examples();
        let fresh = vec![0.0, 0.0, 0.0, 0.7, 0.7, 0.0];
        examples.push(TrainingExample {
            intent: "water_resistance".into(),
            text: "is it waterproof".into(),
            vector: fresh.clone(),
            votes: true,
        });
        let model = train(&examples, &IntentTraining::default(), 5, 0.05, 0.5).unwrap().unwrap();
        assert_eq!(model.record().new_intents, ["water_resistance"]);
        // its paraphrase, right next to that one example: the vote decides, at the vote-only bar
        let neighbours = [("water_resistance".to_owned(), 0.95), ("track".to_owned(), 0.4)];
        let p = model.predict("can it get wet", &fresh, &neighbours, 0.05, 0.9).unwrap().unwrap();
        assert_eq!((p.intent.as_str(), p.source), ("water_resistance", ThresholdSource::VoteOnly));
        assert!(p.confidence >= p.threshold, "{p:?}");
    }

    #[test]
    fn held_out_folds_vote_only_with_what_triage_can_find() {
        // "reset" is known only from imported labels: triage never finds them among a ticket's
        // neighbours, so its nearest example is missing and it is never answered. The held-out
        // calibration must see the same, not neighbours that serving lacks.
        let imported = |mut e: TrainingExample| {
            e.votes = e.intent != "reset";
            e
        };
        let all_vote = train(&examples(), &IntentTraining::default(), 5, 0.05, 0.5).unwrap().unwrap();
        let some_imported: Vec<TrainingExample> = examples().into_iter().map(imported).collect();
        let skewed = train(&some_imported, &IntentTraining::default(), 5, 0.05, 0.5).unwrap().unwrap();
        assert!(all_vote.record().scores.coverage > 0.9, "{:?}", all_vote.record().scores);
        let coverage = skewed.record().scores.coverage;
        assert!((0.5..0.7).contains(&coverage), "a third of the examples cannot be answered: {coverage}");
    }

    #[test]
    fn the_head_learns_the_words_the_embedding_blurs() {
        // Two intents whose embeddings are the same: only the spelling tells them apart.
        let blurred: Vec<TrainingExample> = (0..120)
            .map(|i| {
                let (intent, words) =
                    if i % 2 == 0 { ("card_arrival", "arrive") } else { ("card_delivery", "deliver") };
                let vector = vec![0.5, 0.5, 0.5, 0.5];
                TrainingExample {
                    intent: intent.into(),
                    text: format!("when will my card {words} {i}"),
                    vector,
                    votes: true,
                }
            })
            .collect();
        let settings = IntentTraining {
            head_weight: 1.0,
            head_weight_candidates: Vec::new(),
            ..IntentTraining::default()
        };
        let model = train(&blurred, &settings, 5, 0.05, 0.5).unwrap().unwrap();
        let lexicon = model.record().lexicon.as_ref().expect("n-grams are on by default");
        assert_eq!(lexicon.idf.len(), settings.lexical.buckets + settings.words.buckets);
        assert!(model.record().scores.accuracy > 0.95, "{:?}", model.record().scores);
        let p = model.predict("my card should deliver soon", &[0.5; 4], &[], 0.05, 0.9).unwrap().unwrap();
        assert_eq!(p.intent, "card_delivery");
        // without n-grams or words the head cannot do better than a coin
        let plain = IntentTraining {
            lexical: CharNgrams { buckets: 0, ..CharNgrams::default() },
            words: WordGrams::none(),
            ..settings
        };
        let model = train(&blurred, &plain, 5, 0.05, 0.5).unwrap().unwrap();
        assert!(model.record().lexicon.is_none());
        assert!(model.record().scores.accuracy < 0.6, "{:?}", model.record().scores);
    }

    fn calibrated(head_weight: f32, coverage: f32, precision: f32) -> Calibrated {
        Calibrated {
            head_weight,
            held_out: Vec::new(),
            thresholds: IntentThresholds::uncalibrated(0.98, 0.5),
            coverage,
            precision,
            accuracy: 0.9,
        }
    }

    #[test]
    fn another_weight_is_kept_only_when_it_answers_more_as_precisely() {
        let chosen = |preferred, others: Vec<Calibrated>| {
            choose_weight(preferred, others.into_iter(), 0.98).head_weight
        };
        // more answers at the target precision
        assert_eq!(
            chosen(
                calibrated(0.5, 0.80, 0.985),
                vec![calibrated(0.7, 0.82, 0.981), calibrated(1.0, 0.81, 0.99)]
            ),
            0.7
        );
        // more answers below the target: not kept; a tie keeps the preferred weight
        assert_eq!(
            chosen(
                calibrated(0.5, 0.80, 0.985),
                vec![calibrated(0.7, 0.90, 0.97), calibrated(1.0, 0.80, 0.99)]
            ),
            0.5
        );
        // when even the preferred weight misses the target, another must do at least as well
        assert_eq!(
            chosen(
                calibrated(0.5, 0.40, 0.95),
                vec![calibrated(0.3, 0.45, 0.94), calibrated(1.0, 0.42, 0.96)]
            ),
            1.0
        );
        // more answers at the target, but the intent is named right less often: not kept
        let less_accurate = Calibrated { accuracy: 0.89, ..calibrated(0.3, 0.85, 0.985) };
        assert_eq!(chosen(calibrated(0.5, 0.80, 0.985), vec![less_accurate]), 0.5);
    }

    #[test]
    fn the_chosen_weight_is_a_candidate_and_scores_its_own_predictions() {
        let settings = IntentTraining { head_weight_candidates: vec![0.0, 1.0], ..IntentTraining::default() };
        let model = train(&examples(), &settings, 5, 0.05, 0.5).unwrap().unwrap();
        let r = model.record();
        assert!([0.5, 0.0, 1.0].contains(&r.head_weight), "{}", r.head_weight);
        assert!(r.scores.coverage > 0.9 && r.scores.precision >= 0.98, "{:?}", r.scores);
        // no candidates: the configured weight
        let fixed = IntentTraining {
            head_weight: 0.8,
            head_weight_candidates: Vec::new(),
            ..IntentTraining::default()
        };
        assert_eq!(train(&examples(), &fixed, 5, 0.05, 0.5).unwrap().unwrap().record().head_weight, 0.8);
    }

    #[test]
    fn one_intent_is_not_enough() {
        let one: Vec<TrainingExample> = examples().into_iter().filter(|e| e.intent == "refund").collect();
        assert!(train(&one, &IntentTraining::default(), 5, 0.05, 0.5).unwrap().is_none());
    }

    #[test]
    fn macro_f1_averages_over_labels() {
        let truth = ["a", "a", "b", "b"];
        let predicted = [Some("a"), Some("a"), Some("a"), None];
        assert_eq!(accuracy(&truth, &predicted), 0.5);
        // a: tp 2, fp 1 → 0.8; b: tp 0 → 0
        assert!((macro_f1(&truth, &predicted) - 0.4).abs() < 1e-6);
    }

    #[test]
    fn macro_f1_counts_false_positives_whatever_the_order() {
        // b is predicted for an a before any b appears in the truth
        let truth = ["a", "a", "b", "b"];
        let predicted = [Some("b"), Some("a"), Some("b"), Some("b")];
        let f1 = macro_f1(&truth, &predicted);
        // a: tp 1, fn 1 → 2/3; b: tp 2, fp 1 → 4/5
        assert!((f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-6, "{f1}");
    }
}
