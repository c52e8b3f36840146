//! classify: the ticket's intent from its nearest labelled examples, and sensitivity signals by
//! similarity to configurable exemplar sentences per category.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use kindly_core::{
    Embedder, EmotionSignal, PointStatus, SearchFilter, SensitiveCategory, SensitivitySignal, SetAside,
};
use serde::Deserialize;

use crate::intent::{IntentModel, IntentPrediction};
use crate::{Pipeline, PipelineError};

/// A ticket's text and embeddings: the whole text, each of its clauses and each of its
/// sentences (with its text: the intent head reads the words too).
pub(crate) struct TicketVectors {
    pub text: String,
    pub whole: Vec<f32>,
    pub clauses: Vec<Vec<f32>>,
    pub sentences: Vec<(String, Vec<f32>)>,
}

/// Most clauses (and most sentences) of a ticket embedded on their own.
const MAX_PARTS: usize = 8;

/// The ticket's clauses of three words or more (split at sentence ends, commas, "and", "but"),
/// when it has more than one. A bereavement or a legal threat is often one clause of a routine
/// request, and the whole-text vector dilutes it.
pub(crate) fn clauses(text: &str) -> Vec<String> {
    parts(
        text.split(['.', '!', '?', '\n', ';', ','])
            .flat_map(|s| s.split(" and "))
            .flat_map(|s| s.split(" but ")),
    )
}

/// The ticket's sentences of three words or more, when it has more than one. Several questions
/// are told apart by sentence, not by clause: "I got my card, how do I link it?" is one question
/// with its context.
pub(crate) fn sentences(text: &str) -> Vec<String> {
    parts(text.split(['.', '!', '?', '\n', ';']))
}

fn parts<'a>(pieces: impl Iterator<Item = &'a str>) -> Vec<String> {
    let parts: Vec<String> =
        pieces.map(str::trim).filter(|s| s.split_whitespace().count() >= 3).map(str::to_owned).collect();
    if parts.len() < 2 { Vec::new() } else { parts.into_iter().take(MAX_PARTS).collect() }
}

/// What classify found.
pub(crate) struct Classification {
    pub intent: Option<IntentPrediction>,
    pub model_version: i64,
    pub distinct_intents: Vec<String>,
    pub sensitivity: Vec<SensitivitySignal>,
    pub emotions: Vec<EmotionSignal>,
}

/// One category's exemplars, as written in the exemplar file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryExemplars {
    /// Cosine similarity at or above which the category is flagged.
    pub threshold: f32,
    pub exemplars: Vec<String>,
    /// Routine sentences that come close to the exemplars but are not this situation ("call me
    /// Sam" is not a request for a person). A part of the ticket closer to one of these than to
    /// every exemplar does not count for the category.
    #[serde(default)]
    pub unlike: Vec<String>,
}

/// The exemplar file: one table per sensitive category, e.g. `[bereavement]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct SensitivityExemplars(pub BTreeMap<SensitiveCategory, CategoryExemplars>);

impl SensitivityExemplars {
    pub fn load(path: &Path) -> Result<Self, PipelineError> {
        let err = |message: String| PipelineError::Knowledge { path: path.display().to_string(), message };
        let raw = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let parsed: Self = toml::from_str(&raw).map_err(|e| err(e.to_string()))?;
        for category in SensitiveCategory::ALL {
            match parsed.0.get(&category) {
                None => return Err(err(format!("no exemplars for {}", category.reason().code()))),
                Some(c) if c.exemplars.is_empty() => {
                    return Err(err(format!("{}: exemplars must not be empty", category.reason().code())));
                }
                Some(c) if !(0.0..=1.0).contains(&c.threshold) => {
                    return Err(err(format!(
                        "{}: threshold must be between 0 and 1",
                        category.reason().code()
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(parsed)
    }
}

struct Exemplar {
    category: SensitiveCategory,
    text: String,
    vector: Vec<f32>,
    /// One of the category's `unlike` sentences rather than an exemplar.
    unlike: bool,
}

/// Scores a ticket against every category's exemplars (embedded once, at start-up).
pub struct SensitivityDetector {
    exemplars: Vec<Exemplar>,
    thresholds: HashMap<SensitiveCategory, f32>,
}

/// The closest sentence of one category to one vector.
type Closest<'e> = Option<(f32, &'e str)>;

fn closer<'e>(best: Closest<'e>, score: f32, text: &'e str) -> Closest<'e> {
    match best {
        Some((s, _)) if s >= score => best,
        _ => Some((score, text)),
    }
}

impl std::fmt::Debug for SensitivityDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SensitivityDetector").field("exemplars", &self.exemplars.len()).finish()
    }
}

impl SensitivityDetector {
    pub async fn new(config: SensitivityExemplars, embedder: &dyn Embedder) -> Result<Self, PipelineError> {
        let mut pending = Vec::new();
        let mut thresholds = HashMap::new();
        for (category, c) in config.0 {
            thresholds.insert(category, c.threshold);
            pending.extend(c.exemplars.into_iter().map(|text| (category, text, false)));
            pending.extend(c.unlike.into_iter().map(|text| (category, text, true)));
        }
        let vectors = embedder.embed(pending.iter().map(|(_, t, _)| t.clone()).collect()).await?;
        let exemplars = pending
            .into_iter()
            .zip(vectors)
            .map(|((category, text, unlike), vector)| Exemplar { category, text, vector, unlike })
            .collect();
        Ok(Self { exemplars, thresholds })
    }

    /// The best-matching exemplar per category over all the given vectors (the whole ticket
    /// and its clauses), with the category's threshold. A vector closer to one of the category's
    /// `unlike` sentences than to all its exemplars does not count for that category.
    pub fn score<'v>(&self, vectors: impl IntoIterator<Item = &'v [f32]>) -> Vec<SensitivitySignal> {
        let mut signals: BTreeMap<SensitiveCategory, SensitivitySignal> = self
            .thresholds
            .iter()
            .map(|(&category, &threshold)| {
                let signal = SensitivitySignal {
                    category,
                    score: 0.0,
                    threshold,
                    exemplar: String::new(),
                    set_aside: None,
                };
                (category, signal)
            })
            .collect();
        for vector in vectors {
            let mut closest: HashMap<(SensitiveCategory, bool), Closest<'_>> = HashMap::new();
            for e in &self.exemplars {
                let entry = closest.entry((e.category, e.unlike)).or_default();
                *entry = closer(*entry, dot(vector, &e.vector), &e.text);
            }
            for (category, signal) in &mut signals {
                let Some(Some((score, text))) = closest.get(&(*category, false)).copied() else { continue };
                let closer_unlike =
                    closest.get(&(*category, true)).copied().flatten().filter(|(u, _)| *u >= score);
                let Some((unlike_score, unlike)) = closer_unlike else {
                    if score > signal.score {
                        (signal.score, signal.exemplar) = (score, text.to_owned());
                    }
                    continue;
                };
                if signal.set_aside.as_ref().is_none_or(|s| score > s.score) {
                    let (exemplar, unlike) = (text.to_owned(), unlike.to_owned());
                    signal.set_aside = Some(SetAside { score, exemplar, unlike, unlike_score });
                }
            }
        }
        signals
            .into_values()
            .map(|mut s| {
                // Only a set-aside match closer than the one that counts explains anything.
                s.set_aside = s.set_aside.filter(|a| a.score > s.score);
                s
            })
            .collect()
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Pipeline {
    pub(crate) async fn classify_vectors(
        &self,
        vectors: &TicketVectors,
    ) -> Result<Classification, PipelineError> {
        let vector = &vectors.whole;
        let model = self.intent.current();
        let intent = model.predict(
            &vectors.text,
            vector,
            &self.labelled_neighbours(vector).await?,
            self.settings.intent_temperature,
            self.settings.intent.vote_only_threshold,
        )?;
        Ok(Classification {
            intent,
            model_version: model.version(),
            distinct_intents: self.distinct_intents(&model, &vectors.sentences).await?,
            sensitivity: self
                .sensitivity
                .score(std::iter::once(vector.as_slice()).chain(vectors.clauses.iter().map(Vec::as_slice))),
            emotions: self.emotions(&vectors.text, vector),
        })
    }

    /// The nearest approved labelled examples (titles, sample questions, reusable resolutions).
    async fn labelled_neighbours(&self, vector: &[f32]) -> Result<Vec<(String, f32)>, PipelineError> {
        let filter = SearchFilter { source: None, status: Some(PointStatus::Approved) };
        // Unlabelled points (body chunks) do not vote: fetch enough to find k labelled ones.
        let k = self.settings.intent_neighbours;
        let nearest = self.index.search(vector.to_vec(), k * 4, filter).await?;
        Ok(nearest.into_iter().filter_map(|p| p.intent.map(|i| (i, p.score))).take(k).collect())
    }

    /// Intents recognised confidently in separate sentences: two or more mean several questions
    /// in one ticket. Each sentence is predicted as a whole ticket is (the head at the version's
    /// temperature, blended with the sentence's own labelled neighbours) and compared with the
    /// threshold calibrated for exactly that confidence.
    async fn distinct_intents(
        &self,
        model: &IntentModel,
        sentences: &[(String, Vec<f32>)],
    ) -> Result<Vec<String>, PipelineError> {
        let mut found: Vec<String> = Vec::new();
        for (text, vector) in sentences {
            let neighbours = self.labelled_neighbours(vector).await?;
            if let Some(p) = model.predict(
                text,
                vector,
                &neighbours,
                self.settings.intent_temperature,
                self.settings.intent.vote_only_threshold,
            )? && p.confidence >= p.threshold
                && !found.contains(&p.intent)
            {
                found.push(p.intent);
            }
        }
        Ok(found)
    }

    /// Emotion intensities from the trained heads, with the policy's thresholds.
    fn emotions(&self, text: &str, vector: &[f32]) -> Vec<EmotionSignal> {
        let mut signals = self.emotions.score(text, vector);
        for s in &mut signals {
            s.threshold = self.settings.strong_emotions.get(&s.emotion).copied();
        }
        signals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_split_only_multi_clause_tickets() {
        assert!(clauses("Where is my order?").is_empty());
        let s = clauses("My mum passed away. I need to cancel her subscription! ok");
        assert_eq!(s, ["My mum passed away", "I need to cancel her subscription"]);
        let s = clauses("I wrote to you twice and nobody has replied, it is still broken");
        assert_eq!(s, ["I wrote to you twice", "nobody has replied", "it is still broken"]);
    }

    #[test]
    fn sentences_keep_a_question_with_its_context() {
        assert!(sentences("I have received my card, can you help me put it in the app?").is_empty());
        let s = sentences("Where is my parcel? Also, how do I reset my password?\nthanks");
        assert_eq!(s, ["Where is my parcel", "Also, how do I reset my password"]);
    }

    #[test]
    fn exemplar_file_must_cover_every_category() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        std::fs::write(&path, "[bereavement]\nthreshold = 0.5\nexemplars = [\"my mother died\"]\n").unwrap();
        let err = SensitivityExemplars::load(&path).unwrap_err().to_string();
        assert!(err.contains("no exemplars for"), "{err}");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/sensitivity-exemplars.toml");
        SensitivityExemplars::load(&shipped).unwrap();
    }

    /// With the real model and the shipped file: routine requests that sound like a sensitive
    /// category are set aside by its `unlike` sentences, and the situations still flag.
    #[tokio::test]
    async fn unlike_sentences_set_routine_requests_aside() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let worker = kindly_model::ModelWorker::start(
            &root.join("models/all-MiniLM-L6-v2"),
            kindly_model::WorkerSettings::default(),
        )
        .unwrap();
        let config = SensitivityExemplars::load(&root.join("models/sensitivity-exemplars.toml")).unwrap();
        let mut without_unlike = config.clone();
        without_unlike.0.values_mut().for_each(|c| c.unlike.clear());
        let detector = SensitivityDetector::new(config, &worker).await.unwrap();
        let bare = SensitivityDetector::new(without_unlike, &worker).await.unwrap();
        let flags = |text: &'static str, unlike: bool| {
            let (detector, worker) = (if unlike { &detector } else { &bare }, &worker);
            async move {
                let mut texts = vec![text.to_owned()];
                texts.extend(clauses(text));
                let vectors = worker.embed(texts).await.unwrap();
                let signals = detector.score(vectors.iter().map(Vec::as_slice));
                signals.into_iter().filter(|s| s.flagged()).map(|s| s.category).collect::<Vec<_>>()
            }
        };
        // The evidence says what was set aside, and why.
        let vectors = worker.embed(vec!["Please call me Robin.".to_owned()]).await.unwrap();
        let signals = detector.score(vectors.iter().map(Vec::as_slice));
        let human = signals.iter().find(|s| s.category == SensitiveCategory::HumanRequested).unwrap();
        let set_aside = human.set_aside.as_ref().expect("the naming request is set aside");
        assert!(set_aside.score >= human.threshold && set_aside.unlike_score >= set_aside.score, "{human:?}");
        assert!(!set_aside.unlike.is_empty() && !set_aside.exemplar.is_empty(), "{human:?}");
        use SensitiveCategory::{HumanRequested, Vulnerability};
        for routine in [
            "Please call me Robin.",
            "I'm going to start calling you Joe.",
            "I have to make a phone call.",
            "I'd like to pay my gas bill.",
            "Could you help me pay my water bill?",
            "What is the minimum I can pay on my rent bill this month?",
            "Talk to you later!",
            // Asking what Kindly is, or naming someone, is not asking for a person.
            "Am I talking to a bot or a real person?",
            "Are you a human or an AI?",
            "I'd like you to call me Pam.",
        ] {
            assert_eq!(flags(routine, true).await, [], "{routine}");
            assert!(!flags(routine, false).await.is_empty(), "the exemplars alone flag {routine}");
        }
        for (situation, category) in [
            ("I want a person to call me about my order.", HumanRequested),
            ("Can I talk to an actual human about my refund?", HumanRequested),
            ("Please let me speak to an agent.", HumanRequested),
            // The ways customers most often ask, none of them word for word in the file.
            ("Get me a real person, please.", HumanRequested),
            ("I need to speak to someone.", HumanRequested),
            ("Is this a real person? If not, get me one.", HumanRequested),
            ("Please connect me to a representative.", HumanRequested),
            ("Can you escalate this to a human?", HumanRequested),
            ("Are you a bot? I want a human.", HumanRequested),
            ("Is anyone human there?", HumanRequested),
            ("I want a human to handle my case.", HumanRequested),
            ("I lost my job and I can't afford to pay my bill this month.", Vulnerability),
            ("Money is really tight and this charge means I can't pay my rent.", Vulnerability),
            (
                "I was charged twice for my order. I lost my job and I can't afford this, I'm struggling.",
                Vulnerability,
            ),
        ] {
            assert!(flags(situation, true).await.contains(&category), "{situation}");
        }
    }
}
