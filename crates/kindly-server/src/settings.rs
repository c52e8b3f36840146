//! One `Settings`: compiled-in defaults, then an optional TOML file, then `KINDLY__SECTION__KEY`
//! environment variables (e.g. `KINDLY__SERVER__BIND=0.0.0.0:8080`). Validated at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use kindly_pipeline::PipelineSettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub data: DataSettings,
    pub model: ModelSettings,
    pub knowledge: KnowledgeSettings,
    pub worker: WorkerSettings,
    pub pipeline: PipelineSettings,
    pub integrations: crate::integrations::IntegrationSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Requests taking longer are answered 503.
    pub request_timeout_secs: u64,
    /// Mark the session cookie `Secure` (sent over HTTPS only). Turn it on when Kindly is served
    /// behind TLS; it is off by default because Kindly itself serves plain HTTP.
    pub secure_cookies: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: ([127, 0, 0, 1], 8080).into(),
            max_body_bytes: 256 * 1024,
            request_timeout_secs: 30,
            secure_cookies: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSettings {
    /// Where Kindly keeps its database (`kindly.db`).
    pub dir: PathBuf,
}

impl Default for DataSettings {
    fn default() -> Self {
        Self { dir: "data".into() }
    }
}

impl DataSettings {
    pub fn database(&self) -> PathBuf {
        self.dir.join("kindly.db")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// A sentence-transformers folder (config.json, tokenizer.json, model.safetensors, 1_Pooling).
    pub dir: PathBuf,
    /// Embedding requests that may wait for the model at once.
    pub queue_capacity: usize,
    /// Requests waiting together are merged up to this many texts.
    pub max_batch_texts: usize,
    /// How long a caller waits for room in the model queue before giving up.
    pub queue_timeout_ms: u64,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            dir: "models/all-MiniLM-L6-v2".into(),
            queue_capacity: 256,
            max_batch_texts: 64,
            queue_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnowledgeSettings {
    /// The knowledge-base folder `kindly kb ingest` reads by default.
    pub dir: PathBuf,
    /// Sensitive-category exemplars (TOML).
    pub exemplars: PathBuf,
    /// Reply templates.
    pub prompts: PathBuf,
    /// Trained emotion heads (`manifest.json` and weights, from `kindly train-heads`).
    pub emotion_heads: PathBuf,
}

impl Default for KnowledgeSettings {
    fn default() -> Self {
        Self {
            dir: "knowledge-base".into(),
            exemplars: "models/sensitivity-exemplars.toml".into(),
            prompts: "prompts".into(),
            emotion_heads: "models/heads".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Tickets triaged at once (their embeddings are batched together by the model worker).
    pub concurrency: usize,
    /// How often the worker looks for work it was not told about (e.g. after a restart), and
    /// for knowledge another process wrote (`kindly kb ingest` beside the server).
    pub poll_interval_ms: u64,
    /// Accepted-but-unprocessed tickets beyond which intake answers 429.
    pub max_backlog: u64,
    /// How often the worker retries indexing that failed (an article or a resolution stored
    /// but not yet searchable); every start-up retries it too.
    pub retry_indexing_secs: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self { concurrency: 4, poll_interval_ms: 1_000, max_backlog: 10_000, retry_indexing_secs: 60 }
    }
}

impl Settings {
    /// Defaults, then `file` if given, then `KINDLY__…` environment variables; validated.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(format!("settings file {} does not exist", file.display()));
            }
            figment = figment.merge(Toml::file(file));
        }
        let settings: Settings = figment
            .merge(Env::prefixed("KINDLY__").split("__"))
            .extract()
            .map_err(|e| format!("settings: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), String> {
        self.pipeline.validate()?;
        self.integrations.validate()?;
        if self.worker.concurrency == 0 {
            return Err("worker.concurrency must be at least 1".into());
        }
        if self.worker.retry_indexing_secs == 0 {
            return Err("worker.retry_indexing_secs must be at least 1".into());
        }
        if self.server.max_body_bytes < 1024 {
            return Err("server.max_body_bytes must be at least 1024".into());
        }
        for (name, path) in [
            ("model.dir", &self.model.dir),
            ("knowledge.exemplars", &self.knowledge.exemplars),
            ("knowledge.prompts", &self.knowledge.prompts),
            ("knowledge.emotion_heads", &self.knowledge.emotion_heads),
        ] {
            if !path.exists() {
                let hint =
                    if name == "model.dir" { " (run `make model` to fetch the default model)" } else { "" };
                return Err(format!("{name}: {} does not exist{hint}", path.display()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure returns figment's own error
    fn environment_overrides_file_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "kindly.toml",
                "[server]\nbind = \"127.0.0.1:9000\"\n[worker]\nconcurrency = 2\n",
            )?;
            jail.set_env("KINDLY__WORKER__CONCURRENCY", "7");
            jail.set_env("KINDLY__PIPELINE__POLICY__MIN_KNOWLEDGE_SCORE", "0.7");
            let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
                .merge(Toml::file("kindly.toml"))
                .merge(Env::prefixed("KINDLY__").split("__"))
                .extract()?;
            assert_eq!(s.server.bind.port(), 9000);
            assert_eq!(s.worker.concurrency, 7);
            assert_eq!(s.pipeline.policy.min_knowledge_score, 0.7);
            Ok(())
        });
    }

    #[test]
    fn the_example_file_documents_exactly_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kindly.example.toml");
        assert!(path.exists());
        let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&path))
            .extract()
            .unwrap();
        assert_eq!(serde_json::to_value(&s).unwrap(), serde_json::to_value(Settings::default()).unwrap());
    }

    #[test]
    fn invalid_values_are_named() {
        let mut s = Settings::default();
        s.pipeline.policy.min_knowledge_score = 1.5;
        assert!(s.validate().unwrap_err().contains("min_knowledge_score"));
        let mut s = Settings::default();
        s.pipeline.policy.max_rival_lead = -0.1;
        assert!(s.validate().unwrap_err().contains("max_rival_lead"));
        let mut s = Settings::default();
        s.pipeline.intent.words.weight = 0.0;
        assert!(s.validate().unwrap_err().contains("pipeline.intent.words needs"));
        let mut s = Settings::default();
        s.pipeline.intent.nearest_example_exponent = -0.3;
        assert!(s.validate().unwrap_err().contains("nearest_example_exponent must be 0 (off) or more"));
        let mut s = Settings::default();
        s.pipeline.intent.head_temperature = 0.0;
        assert!(s.validate().unwrap_err().contains("head_temperature must be a positive number"));
        let mut s = Settings::default();
        s.worker.retry_indexing_secs = 0;
        assert!(s.validate().unwrap_err().contains("worker.retry_indexing_secs must be at least 1"));
        let mut s = Settings::default();
        s.model.dir = "/nonexistent".into();
        assert!(s.validate().unwrap_err().contains("make model"));
    }
}
