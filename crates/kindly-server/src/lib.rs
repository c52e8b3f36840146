//! Kindly's composition root: the one place that picks implementations (candle model worker,
//! SQLite store, exact index), wires them into the pipeline, and serves the HTTP API with the
//! durable triage worker beside it.
//!
//! [`Kindly::build`] assembles the application from [`Settings`]; [`Kindly::run_until_stopped`]
//! serves an already-bound listener until a shutdown future resolves, so tests bind port 0.

pub mod auth;
pub mod error;
pub mod integrations;
mod openapi;
pub mod outbox;
mod pages;
mod routes;
pub mod settings;
pub mod telemetry;
mod worker;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kindly_core::{Embedder, RecordStore, VectorIndex};
use kindly_index::ExactIndex;
use kindly_model::{ModelWorker, WorkerSettings};
use kindly_pipeline::{EmotionHeads, Pipeline, Prompts, SensitivityDetector, SensitivityExemplars};
use kindly_store::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

pub use routes::openapi_json;
pub use settings::Settings;

/// The assembled application.
#[derive(Clone)]
pub struct Kindly {
    pub settings: Settings,
    pub pipeline: Pipeline,
    pub store: Arc<SqliteStore>,
    pub index: Arc<ExactIndex>,
    pub embedder: Arc<ModelWorker>,
    nudge: Arc<Notify>,
    outbox: Arc<outbox::Outbox>,
}

impl std::fmt::Debug for Kindly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kindly").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Kindly {
    /// Opens the store, loads the model and the index, and finishes any indexing a crash
    /// interrupted.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Arc::new(
            SqliteStore::open(&settings.data.database())
                .await
                .with_context(|| format!("opening the database {}", settings.data.database().display()))?,
        );
        let model_dir = settings.model.dir.clone();
        let worker_settings = WorkerSettings {
            queue_capacity: settings.model.queue_capacity,
            max_batch_texts: settings.model.max_batch_texts,
            queue_timeout: Duration::from_millis(settings.model.queue_timeout_ms),
        };
        let embedder = Arc::new(
            tokio::task::spawn_blocking(move || ModelWorker::start(&model_dir, worker_settings))
                .await?
                .with_context(|| format!("loading the model from {}", settings.model.dir.display()))?,
        );
        let index = Arc::new(
            ExactIndex::load(store.clone(), embedder.dimension())
                .await
                .context("loading the vector index")?,
        );
        let exemplars = SensitivityExemplars::load(&settings.knowledge.exemplars)?;
        let sensitivity = Arc::new(SensitivityDetector::new(exemplars, embedder.as_ref()).await?);
        let prompts = Arc::new(Prompts::load(&settings.knowledge.prompts)?);
        let emotions = Arc::new(EmotionHeads::load(&settings.knowledge.emotion_heads)?);
        anyhow::ensure!(
            emotions.dimension() == embedder.dimension(),
            "the emotion heads read {} dimensions, the embedder makes {}",
            emotions.dimension(),
            embedder.dimension()
        );
        let pipeline = Pipeline::new(
            store.clone() as Arc<dyn RecordStore>,
            index.clone() as Arc<dyn VectorIndex>,
            embedder.clone() as Arc<dyn Embedder>,
            sensitivity,
            emotions,
            prompts,
            settings.pipeline.clone(),
        );
        let (articles, resolutions) = pipeline.reconcile().await.context("finishing interrupted indexing")?;
        if articles + resolutions > 0 {
            tracing::info!(articles, resolutions, "re-indexed records a previous run left unindexed");
        }
        if pipeline.load_intent_model_checked().await.context("loading the intent model")? {
            tracing::info!("the intent model is older than the labels; retraining in the background");
            pipeline.intent_models().labels_changed();
        }
        let outbox = Arc::new(outbox::Outbox::new(&settings, store.clone())?);
        Ok(Self { settings, pipeline, store, index, embedder, nudge: Arc::new(Notify::new()), outbox })
    }

    /// Serves the API and runs the triage worker until `shutdown` resolves, then drains both.
    pub async fn run_until_stopped(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = tokio::spawn(worker::run(
            self.pipeline.clone(),
            self.nudge.clone(),
            self.settings.worker.clone(),
            stop_rx.clone(),
        ));
        let outbox = tokio::spawn(self.outbox.clone().run(self.pipeline.clone(), stop_rx));
        let trainer = {
            let pipeline = self.pipeline.clone();
            tokio::spawn(async move { pipeline.run_intent_trainer().await })
        };
        tracing::info!(addr = %listener.local_addr()?, "Kindly is listening");
        let app = routes::router(&self);
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: finishing requests and tickets in hand");
            })
            .await?;
        let _ = stop_tx.send(true);
        trainer.abort();
        worker.await?;
        outbox.await?;
        self.store.close().await;
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
