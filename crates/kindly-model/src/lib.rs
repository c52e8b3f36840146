//! Sentence embedding with candle, on the CPU by default (CUDA and Metal as cargo features).
//!
//! [`SentenceEmbedder`] loads any BERT-family sentence-transformers folder (`config.json`,
//! `tokenizer.json`, `model.safetensors`, `1_Pooling/config.json`) and embeds synchronously.
//! [`ModelWorker`] owns one on a dedicated thread, fed by a bounded channel, and batches the
//! requests that arrive together; it implements `kindly_core::Embedder` for async callers.

mod embedder;
mod head;
mod pooling;
mod worker;

pub use embedder::{ModelError, SentenceEmbedder};
pub use head::{Activation, Head, HeadKind, HeadSpec, Targets, TrainOptions, argmax, similarity_matrix};
pub use pooling::{Pooling, PoolingConfig};
pub use worker::{ModelWorker, WorkerSettings};
