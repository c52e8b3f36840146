//! The flow of one ticket, and how Kindly learns.
//!
//! [`Pipeline::process`] is the table of contents: ingest → embed → classify → retrieve →
//! decide → answer or hand off. Each step is one method with its own tracing span. Any failure on
//! the way hands the ticket to a person with the reason `pipeline_failure`: nothing is dropped.
//!
//! Beside the flow live its neighbours: customer follow-ups ([`Pipeline::follow_up`]), learning
//! from resolutions ([`Pipeline::resolve`]), and the knowledge base ([`knowledge`]).

mod classify;
mod emotion;
mod error;
mod follow_up;
pub mod intent;
pub mod knowledge;
mod learn;
mod process;
mod prompts;
mod retrieve;
mod settings;

use std::sync::Arc;

use kindly_core::{Embedder, RecordStore, VectorIndex};

pub use classify::{SensitivityDetector, SensitivityExemplars};
pub use emotion::{
    DataFile, EmbedderRecord, EmotionHeads, Grouping, HeadRecord, HeadScores, HeadsManifest, LabelGroup,
    LabelScore,
};
pub use error::PipelineError;
pub use follow_up::FollowUp;
use intent::{IntentModel, IntentModels};
pub use knowledge::{ArticleFields, IngestReport, KnowledgeBase};
pub use prompts::Prompts;
pub use settings::PipelineSettings;

/// Everything the flow needs, wired once by the composition root.
#[derive(Clone)]
pub struct Pipeline {
    store: Arc<dyn RecordStore>,
    index: Arc<dyn VectorIndex>,
    embedder: Arc<dyn Embedder>,
    sensitivity: Arc<SensitivityDetector>,
    emotions: Arc<EmotionHeads>,
    intent: Arc<IntentModels>,
    prompts: Arc<Prompts>,
    settings: PipelineSettings,
    indexing: knowledge::IndexingLock,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Pipeline {
    pub fn new(
        store: Arc<dyn RecordStore>,
        index: Arc<dyn VectorIndex>,
        embedder: Arc<dyn Embedder>,
        sensitivity: Arc<SensitivityDetector>,
        emotions: Arc<EmotionHeads>,
        prompts: Arc<Prompts>,
        settings: PipelineSettings,
    ) -> Self {
        let untrained =
            IntentModel::untrained(settings.policy.min_intent_confidence, settings.intent.target_precision);
        let intent = Arc::new(IntentModels::new(untrained));
        Self {
            store,
            index,
            embedder,
            sensitivity,
            emotions,
            intent,
            prompts,
            settings,
            indexing: Default::default(),
        }
    }

    /// The knowledge base this pipeline answers from.
    pub fn knowledge(&self) -> KnowledgeBase {
        KnowledgeBase::new(
            self.store.clone(),
            self.index.clone(),
            self.embedder.clone(),
            self.indexing.clone(),
        )
    }

    pub fn store(&self) -> &Arc<dyn RecordStore> {
        &self.store
    }

    pub fn settings(&self) -> &PipelineSettings {
        &self.settings
    }

    /// The intent model versions: the one serving now, and the retraining signal.
    pub fn intent_models(&self) -> &Arc<IntentModels> {
        &self.intent
    }
}
