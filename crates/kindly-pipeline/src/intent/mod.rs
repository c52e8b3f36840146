//! The intent model: a trained head on the frozen embedding, blended with a vote of the nearest
//! labelled examples, with per-intent thresholds calibrated on held-out folds.
//!
//! [`IntentModel`] is one immutable version. [`IntentModels`] holds the version that serves and
//! swaps in a new one when training finishes, so triage never waits for training.

mod model;
mod service;
mod train;

pub use model::{IntentModel, IntentPrediction, vote_distribution};
pub use service::IntentModels;
pub use train::{IntentTraining, TrainingExample, accuracy, macro_f1, train};
