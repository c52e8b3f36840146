//! The model worker: one thread owns the model, fed by a bounded channel.
//!
//! Why a thread and not `spawn_blocking` per call: the model is CPU-bound and happiest running
//! one batch at a time with all cores; a single owner lets requests that arrive together be
//! merged into one batch (dynamic batching), and the bounded channel turns overload into a clear
//! `Overloaded` error instead of an ever-growing queue.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use kindly_core::{EmbedError, Embedder};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::embedder::{ModelError, SentenceEmbedder};

/// How the model worker queues and batches.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// Requests that may wait for the model at once.
    pub queue_capacity: usize,
    /// Requests waiting together are merged until the batch holds this many texts.
    pub max_batch_texts: usize,
    /// How long a caller waits for room in the queue before getting `Overloaded`.
    pub queue_timeout: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self { queue_capacity: 256, max_batch_texts: 64, queue_timeout: Duration::from_secs(10) }
    }
}

type Reply = Result<Vec<Vec<f32>>, String>;

struct Request {
    texts: Vec<String>,
    reply: oneshot::Sender<Reply>,
    span: tracing::Span,
}

/// A handle to the model worker thread. Cheap to clone; the thread stops when every handle is
/// dropped.
#[derive(Clone)]
pub struct ModelWorker {
    tx: mpsc::Sender<Request>,
    dimension: usize,
    max_tokens: usize,
    id: String,
    queue_timeout: Duration,
}

impl std::fmt::Debug for ModelWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelWorker").field("id", &self.id).finish()
    }
}

impl ModelWorker {
    /// Loads the model on a new thread and returns once it is ready (or failed to load).
    /// Blocking: call it before the runtime starts, or from `spawn_blocking`.
    pub fn start(dir: &Path, settings: WorkerSettings) -> Result<Self, ModelError> {
        let (tx, rx) = mpsc::channel::<Request>(settings.queue_capacity.max(1));
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let dir = dir.to_owned();
        std::thread::Builder::new()
            .name("kindly-model".into())
            .spawn(move || match SentenceEmbedder::load(&dir) {
                Ok(model) => {
                    let meta = (model.dimension(), model.max_tokens(), model.id().to_owned());
                    let _ = ready_tx.send(Ok(meta));
                    serve(model, rx, settings.max_batch_texts.max(1));
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| ModelError::Load {
                path: Default::default(),
                message: format!("cannot start thread: {e}"),
            })?;
        let (dimension, max_tokens, id) = ready_rx.recv().map_err(|_| ModelError::Load {
            path: Default::default(),
            message: "model thread died while loading".into(),
        })??;
        Ok(Self { tx, dimension, max_tokens, id, queue_timeout: settings.queue_timeout })
    }

    /// The model's token limit; longer texts are truncated to it.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }
}

/// The worker loop: wait for a request, take whatever else is already waiting (up to the batch
/// size), embed them all in one call, and answer each caller with its own slice.
fn serve(model: SentenceEmbedder, mut rx: mpsc::Receiver<Request>, max_batch_texts: usize) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        let mut texts = batch[0].texts.len();
        while texts < max_batch_texts {
            match rx.try_recv() {
                Ok(next) => {
                    texts += next.texts.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let span = tracing::debug_span!(parent: &batch[0].span, "embed_batch", requests = batch.len(), texts);
        let _enter = span.enter();
        let all: Vec<&str> = batch.iter().flat_map(|r| r.texts.iter().map(String::as_str)).collect();
        match model.embed(&all) {
            Ok(vectors) => {
                let mut vectors = vectors.into_iter();
                for request in batch {
                    let mine: Vec<Vec<f32>> = vectors.by_ref().take(request.texts.len()).collect();
                    let _ = request.reply.send(Ok(mine));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "embedding batch failed");
                for request in batch {
                    let _ = request.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

#[async_trait]
impl Embedder for ModelWorker {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn model_id(&self) -> &str {
        &self.id
    }

    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        let request = Request { texts, reply, span: tracing::Span::current() };
        match tokio::time::timeout(self.queue_timeout, self.tx.send(request)).await {
            Err(_) => return Err(EmbedError::Overloaded),
            Ok(Err(_)) => return Err(EmbedError::WorkerGone),
            Ok(Ok(())) => {}
        }
        rx.instrument(tracing::trace_span!("await_model"))
            .await
            .map_err(|_| EmbedError::WorkerGone)?
            .map_err(EmbedError::Model)
    }
}
