//! A BERT-family sentence-transformers model run with candle.
//!
//! Batches are sorted by token length and cut into sub-batches, so that short texts do not pay
//! for the padding of long ones; results are returned in the caller's order.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationParams};

use crate::pooling::{Pooling, PoolingConfig, l2_normalise};

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model folder {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("tokenizer failed: {0}")]
    Tokenize(String),
    #[error("classification head: {0}")]
    Head(String),
    #[error("model inference failed: {0}")]
    Inference(#[from] candle_core::Error),
}

#[derive(Debug, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// A loaded sentence embedder. Synchronous and CPU-heavy: call it from a model worker thread,
/// never from the async runtime.
pub struct SentenceEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    pooling: Pooling,
    dimension: usize,
    max_tokens: usize,
    device: Device,
    id: String,
}

impl std::fmt::Debug for SentenceEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEmbedder").field("id", &self.id).field("dimension", &self.dimension).finish()
    }
}

/// Texts of similar length run together in sub-batches of this many. Measured with `kindly bench`
/// on 2 cores: 4 beat 8 and 32 at batch sizes 8 and 32 (less padding, and wider batches buy
/// little on a small CPU), and beat grouping by a length tolerance.
const SUB_BATCH: usize = 4;

impl SentenceEmbedder {
    /// Loads a sentence-transformers folder. Every file is read by path: nothing is fetched.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let err = |message: String| ModelError::Load { path: dir.to_owned(), message };
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| err(format!("cannot read {name}: {e}")))
        };
        let config: Config =
            serde_json::from_str(&read("config.json")?).map_err(|e| err(format!("config.json: {e}")))?;
        let pooling: PoolingConfig = serde_json::from_str(&read("1_Pooling/config.json")?)
            .map_err(|e| err(format!("1_Pooling/config.json: {e}")))?;
        let pooling = pooling.mode().map_err(|e| err(format!("1_Pooling/config.json: {e}")))?;
        // sentence-transformers truncates at max_seq_length when the folder says so, else at
        // the model's position limit.
        let max_tokens = std::fs::read_to_string(dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<SentenceBertConfig>(&s).ok())
            .and_then(|c| c.max_seq_length)
            .unwrap_or(config.max_position_embeddings)
            .min(config.max_position_embeddings);

        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| err(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_tokens, ..Default::default() }))
            .map_err(|e| err(format!("tokenizer truncation: {e}")))?;
        tokenizer.with_padding(None);

        let device = Device::Cpu;
        let weights = dir.join("model.safetensors");
        if !weights.exists() {
            return Err(err("model.safetensors is missing (run `make model`)".into()));
        }
        // SAFETY: the weights are memory-mapped read-only; Kindly never writes model files, and
        // an operator replacing them under a running process is outside the contract (restart).
        #[allow(unsafe_code)]
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device)? };
        let model = BertModel::load(vb, &config)?;
        let id = dir.file_name().map_or_else(|| "model".to_owned(), |n| n.to_string_lossy().into_owned());
        Ok(Self { model, tokenizer, pooling, dimension: config.hidden_size, max_tokens, device, id })
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Embeds texts into L2-normalised vectors, in the order given.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ModelError::Tokenize(e.to_string()))?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());

        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(SUB_BATCH) {
            let longest = chunk.iter().map(|&i| encodings[i].get_ids().len()).max().unwrap_or(1).max(1);
            let mut ids = Vec::with_capacity(chunk.len() * longest);
            let mut mask = Vec::with_capacity(chunk.len() * longest);
            for &i in chunk {
                let e = encodings[i].get_ids();
                ids.extend_from_slice(e);
                ids.extend(std::iter::repeat_n(0u32, longest - e.len()));
                mask.extend(std::iter::repeat_n(1u32, e.len()));
                mask.extend(std::iter::repeat_n(0u32, longest - e.len()));
            }
            let shape = (chunk.len(), longest);
            let ids = Tensor::from_vec(ids, shape, &self.device)?;
            let mask = Tensor::from_vec(mask, shape, &self.device)?;
            let type_ids = ids.zeros_like()?;
            let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
            let pooled = l2_normalise(&self.pooling.apply(&hidden, &mask)?)?;
            for (row, &i) in pooled.to_vec2::<f32>()?.into_iter().zip(chunk) {
                out[i] = row;
            }
        }
        Ok(out)
    }

    /// Embeds many texts into one row-major buffer (`texts.len() × dimension`, in the order
    /// given), `batch` texts per call, shortest first so batches pad little. `progress` hears how
    /// many texts each batch finished.
    pub fn embed_rows(
        &self,
        texts: &[&str],
        batch: usize,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<f32>, ModelError> {
        let d = self.dimension;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut rows = vec![0.0f32; texts.len() * d];
        for chunk in order.chunks(batch.max(1)) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (vector, &i) in self.embed(&batch)?.iter().zip(chunk) {
                rows[i * d..(i + 1) * d].copy_from_slice(vector);
            }
            progress(chunk.len());
        }
        Ok(rows)
    }
}
