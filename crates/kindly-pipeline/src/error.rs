//! Errors of the pipeline's entry points, each with its core [`ErrorKind`].

use kindly_core::{EmbedError, ErrorKind, IndexError, StoreError, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0} was not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("template {name} failed: {message}")]
    Prompt { name: String, message: String },
    #[error("intent model: {0}")]
    Model(String),
    #[error("knowledge file {path}: {message}")]
    Knowledge { path: String, message: String },
    /// The emotion heads' folder is missing, unreadable, or does not fit the embedder.
    #[error("emotion heads {path}: {message}")]
    Heads { path: String, message: String },
}

impl PipelineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) | Self::Knowledge { .. } => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Store(e) => e.kind(),
            Self::Index(e) => e.kind(),
            Self::Embed(e) => e.kind(),
            Self::Prompt { .. } | Self::Model(_) | Self::Heads { .. } => ErrorKind::Internal,
        }
    }
}
