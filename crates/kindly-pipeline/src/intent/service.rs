//! The serving version, swapped atomically when a new one is trained; training in the
//! background, debounced after label changes.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use kindly_core::{PointKind, PointStatus};
use tokio::sync::{Mutex, Notify};

use super::model::IntentModel;
use super::train::{TrainingExample, train};
use crate::{Pipeline, PipelineError};

/// The version that serves, and the signal that labels changed.
pub struct IntentModels {
    current: RwLock<Arc<IntentModel>>,
    changed: Notify,
    training: Mutex<()>,
}

impl std::fmt::Debug for IntentModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentModels").field("version", &self.current().version()).finish()
    }
}

impl IntentModels {
    pub fn new(initial: IntentModel) -> Self {
        Self { current: RwLock::new(Arc::new(initial)), changed: Notify::new(), training: Mutex::new(()) }
    }

    /// The serving version. Triage holds it for one ticket; a swap does not disturb it.
    pub fn current(&self) -> Arc<IntentModel> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn install(&self, model: IntentModel) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(model);
    }

    /// Labels changed (knowledge, resolutions, imports): the background trainer will retrain.
    pub fn labels_changed(&self) {
        self.changed.notify_one();
    }
}

impl Pipeline {
    /// Serves the newest stored version, if any.
    pub async fn load_intent_model(&self) -> Result<Option<i64>, PipelineError> {
        let Some(record) = self.store.latest_intent_model().await? else { return Ok(None) };
        let model = IntentModel::from_record(record)?;
        let version = model.version();
        self.intent.install(model);
        Ok(Some(version))
    }

    /// Serves the newest stored version and reports whether it is stale (trained on a different
    /// number of examples than there are now, or never trained while two intents exist).
    pub async fn load_intent_model_checked(&self) -> Result<bool, PipelineError> {
        let loaded = self.load_intent_model().await?;
        let examples = self.training_examples().await?;
        let intents: std::collections::BTreeSet<&str> = examples.iter().map(|e| e.intent.as_str()).collect();
        let stale = match loaded {
            Some(_) => self.intent.current().record().examples != examples.len(),
            None => intents.len() >= 2,
        };
        Ok(stale)
    }

    /// The labelled examples the next version learns from: approved titles and questions of
    /// articles and reusable resolutions (the labels an agent confirmed or corrected), and
    /// imported labels.
    pub async fn training_examples(&self) -> Result<Vec<TrainingExample>, PipelineError> {
        let mut examples: Vec<TrainingExample> = self
            .store
            .load_points()
            .await?
            .into_iter()
            .filter(|p| p.status == PointStatus::Approved && p.kind != PointKind::Chunk)
            .filter_map(|p| {
                p.intent.map(|intent| TrainingExample { intent, text: p.text, vector: p.vector, votes: true })
            })
            .collect();
        examples.extend(self.store.labels().await?.into_iter().map(|l| TrainingExample {
            intent: l.intent,
            text: l.text,
            vector: l.vector,
            votes: false,
        }));
        Ok(examples)
    }

    /// Trains, stores and serves a new version; `None` when there are fewer than two intents.
    /// The serving version keeps answering until the new one is installed.
    pub async fn retrain_intent_model(&self) -> Result<Option<i64>, PipelineError> {
        let _one_at_a_time = self.intent.training.lock().await;
        let started = Instant::now();
        let examples = self.training_examples().await?;
        let settings = self.settings.intent.clone();
        let (k, temperature) = (self.settings.intent_neighbours, self.settings.intent_temperature);
        let fallback = self.settings.policy.min_intent_confidence;
        let trained =
            tokio::task::spawn_blocking(move || train(&examples, &settings, k, temperature, fallback))
                .await
                .map_err(|e| PipelineError::Model(format!("training task failed: {e}")))??;
        let Some(mut model) = trained else { return Ok(None) };
        let version = self.store.save_intent_model(model.record()).await?;
        model.stored_as(version);
        let record = model.record().clone();
        self.intent.install(model);
        metrics::gauge!("kindly_intent_model_version").set(version as f64);
        metrics::histogram!("kindly_intent_training_seconds").record(started.elapsed().as_secs_f64());
        tracing::info!(
            version,
            examples = record.examples,
            intents = record.labels.len(),
            accuracy = record.scores.accuracy,
            coverage = record.scores.coverage,
            seconds = started.elapsed().as_secs_f64(),
            "intent model trained"
        );
        Ok(Some(version))
    }

    /// Retrains after label changes, waiting until none arrived for the debounce interval.
    /// Runs until the task is dropped.
    pub async fn run_intent_trainer(&self) {
        let debounce = Duration::from_secs(self.settings.intent.debounce_seconds);
        loop {
            self.intent.changed.notified().await;
            while tokio::time::timeout(debounce, self.intent.changed.notified()).await.is_ok() {}
            if let Err(e) = self.retrain_intent_model().await {
                tracing::error!(error = %e, "intent model training failed; the previous version keeps serving");
            }
        }
    }
}
