//! Error kinds shared by every layer. Adapters keep their own detailed errors; each maps onto one
//! small [`ErrorKind`], and the server turns kinds into HTTP statuses in exactly one place.

use std::fmt;

/// A boxed error from an adapter's backend (SQLite, candle, ...), kept as the `source`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, in the caller's terms. Stable: the HTTP mapping and error codes rely on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is wrong; repeating it will not help.
    InvalidInput,
    /// The thing named does not exist.
    NotFound,
    /// The request conflicts with the current state (e.g. a handoff claimed by someone else).
    Conflict,
    /// Too much work is queued; retry later.
    Overloaded,
    /// A dependency (model, index, store) is not available right now.
    Unavailable,
    /// A bug or an unexpected backend failure.
    Internal,
}

/// Bad input from a customer, a helpdesk or an agent. The message is safe to show to them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The offending field, as named in the API (`body`, `customer.id`, ...).
    pub field: String,
    /// A human sentence saying what is wrong.
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Failures of a records store ([`crate::ports::TicketStore`] and friends).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} was not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("records store failed")]
    Backend(#[source] BoxError),
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Corrupt(_) | Self::Backend(_) => ErrorKind::Internal,
        }
    }
}

/// Failures of a [`crate::ports::VectorIndex`].
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("vector has {got} dimensions, the index holds {expected}")]
    Dimension { expected: usize, got: usize },
    #[error("vector index failed")]
    Backend(#[source] BoxError),
}

impl IndexError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Dimension { .. } => ErrorKind::Internal,
            Self::Backend(_) => ErrorKind::Unavailable,
        }
    }
}

impl From<StoreError> for IndexError {
    fn from(e: StoreError) -> Self {
        Self::Backend(Box::new(e))
    }
}

/// Failures of an [`crate::ports::Embedder`].
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the model worker's queue is full")]
    Overloaded,
    #[error("the model worker has stopped")]
    WorkerGone,
    #[error("the model failed: {0}")]
    Model(String),
}

impl EmbedError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Overloaded => ErrorKind::Overloaded,
            Self::WorkerGone => ErrorKind::Unavailable,
            Self::Model(_) => ErrorKind::Internal,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Overloaded => "overloaded",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        })
    }
}
