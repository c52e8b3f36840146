//! The ports: what the pipeline and the server need from the outside world, stated as traits.
//!
//! Adapters implement them (candle in `kindly-model`, SQLite in `kindly-store`, the exact scan in
//! `kindly-index`); only the composition root (`kindly-server`) picks which. Every write that can
//! be repeated is keyed, so repeating it changes nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::decision::Decision;
use crate::error::{EmbedError, IndexError, StoreError};
use crate::knowledge::{Article, KeywordHit, Point, ScoredPoint, SearchFilter, Source};
use crate::queue::{Handoff, HandoffId, NewResolution, QueueFilter, Resolution};
use crate::shadow::ShadowCase;
use crate::ticket::{
    Message, NewMessage, NewTicket, Ticket, TicketFilter, TicketId, TicketListing, TicketStatus,
    TicketSummary,
};
use crate::training::{IntentModelRecord, Label};

/// Turns texts into L2-normalised sentence vectors.
///
/// Contract: one vector per text, in order, each of [`Embedder::dimension`] floats with unit
/// length, so that a dot product is the cosine similarity. Implementations must not block the
/// async runtime: the candle one runs on a model worker thread behind a bounded channel.
#[async_trait]
pub trait Embedder: Send + Sync {
    fn dimension(&self) -> usize;
    /// A short id of the model, for manifests and logs.
    fn model_id(&self) -> &str;
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Nearest-neighbour search over knowledge points, with payload filters.
///
/// Contract: writes are upserts keyed by [`Point::id`]; `replace` makes the points of one record
/// exactly the given set (removing the record's other points); `search` returns at most `limit`
/// points matching the filter, best first, scored by dot product (cosine for unit vectors).
#[async_trait]
pub trait VectorIndex: Send + Sync {
    async fn replace(&self, source: Source, ref_id: &str, points: Vec<Point>) -> Result<(), IndexError>;
    async fn remove(&self, source: Source, ref_id: &str) -> Result<usize, IndexError>;
    async fn search(
        &self,
        query: Vec<f32>,
        limit: usize,
        filter: SearchFilter,
    ) -> Result<Vec<ScoredPoint>, IndexError>;
    /// How many points the index holds.
    async fn len(&self) -> Result<usize, IndexError>;
    /// Catches up with points written by another process (an index that keeps points in memory
    /// must; a server-side index need not). Returns whether anything was reloaded.
    async fn refresh(&self) -> Result<bool, IndexError> {
        Ok(false)
    }
    async fn is_empty(&self) -> Result<bool, IndexError> {
        Ok(self.len().await? == 0)
    }
}

/// What one write to the stored points did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsWritten {
    /// Points removed (for a replace, the record's old points, including those written again).
    pub removed: usize,
    /// The points' version after this write: every write adds exactly one, in its transaction,
    /// so a writer that finds `version` one above the last it knew saw no one else's write.
    pub version: i64,
}

/// The points of every record whose points were written since some version, as the store holds
/// them now: what an index that keeps points in memory applies to catch up with another process,
/// instead of reading every point again.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointsChanged {
    /// The points' version these changes bring a reader up to.
    pub version: i64,
    /// Each record whose points were replaced or removed since, once.
    pub records: Vec<(Source, String)>,
    /// The current points of those records (none for a record whose points were removed).
    pub points: Vec<Point>,
}

/// Durable storage for the embedded vector index: vectors live beside their records, so a vector
/// is durable exactly when its record is.
#[async_trait]
pub trait PointStore: Send + Sync {
    /// Makes the stored points of one record exactly `points`, atomically.
    async fn replace_points(
        &self,
        source: Source,
        ref_id: &str,
        points: &[Point],
    ) -> Result<PointsWritten, StoreError>;
    async fn remove_points(&self, source: Source, ref_id: &str) -> Result<PointsWritten, StoreError>;
    async fn load_points(&self) -> Result<Vec<Point>, StoreError>;
    /// The number of writes to the stored points so far (see [`PointsWritten::version`]).
    async fn points_version(&self) -> Result<i64, StoreError>;
    /// What changed after version `since`, read as one snapshot; `None` when the store no longer
    /// remembers every write since then (the caller loads every point instead).
    async fn points_changed_since(&self, since: i64) -> Result<Option<PointsChanged>, StoreError>;
    /// Lexical (BM25) search over the points' texts, for hybrid retrieval: the best-matching
    /// knowledge records for the words of `query`, best first, at most `limit`.
    async fn keyword_search(
        &self,
        query: &str,
        limit: usize,
        filter: SearchFilter,
    ) -> Result<Vec<KeywordHit>, StoreError>;
}

/// What inserting a ticket did. Intake is idempotent on the external id.
#[derive(Debug, Clone, PartialEq)]
pub struct Inserted {
    pub ticket: Ticket,
    /// `false` when a ticket with the same external id already existed (nothing was written).
    pub created: bool,
}

/// What triage decided, written in one transaction with the ticket's new status.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageRecord {
    pub decision: Decision,
    pub intent: Option<String>,
    /// Kindly's reply when it answered.
    pub answer: Option<NewMessage>,
    /// The queue item when it handed off.
    pub handoff: Option<Handoff>,
}

/// Tickets, their conversations and the decisions about them.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Persists a new ticket (status `received`), or returns the existing one with the same
    /// external id. Durable when it returns.
    async fn insert_ticket(&self, ticket: &NewTicket, now: DateTime<Utc>) -> Result<Inserted, StoreError>;
    async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError>;
    /// Tickets still `received`, oldest first: the worker's backlog, also after a restart.
    async fn pending_tickets(&self, limit: u32) -> Result<Vec<TicketId>, StoreError>;
    /// How many tickets are still `received`: the triage backlog.
    async fn backlog(&self) -> Result<u64, StoreError>;
    async fn messages(&self, id: TicketId) -> Result<Vec<Message>, StoreError>;
    async fn decisions(&self, id: TicketId) -> Result<Vec<Decision>, StoreError>;
    /// Tickets matching the filter, newest first (by arrival), each with its latest decision.
    /// A `before` ticket that does not exist matches nothing.
    async fn tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketListing>, StoreError>;
    /// How many tickets match the filter (its `before` and limit aside).
    async fn count_tickets(&self, filter: &TicketFilter) -> Result<u64, StoreError>;
    /// How many tickets there are in each status.
    async fn ticket_counts(&self) -> Result<Vec<(TicketStatus, u64)>, StoreError>;
    /// The customer's tickets other than `except`, newest first.
    async fn customer_tickets(
        &self,
        customer_id: &str,
        except: TicketId,
        limit: u32,
    ) -> Result<Vec<TicketSummary>, StoreError>;
    /// How many of the customer's other tickets arrived since `since`.
    async fn recent_contacts(
        &self,
        customer_id: &str,
        except: TicketId,
        since: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
    /// Writes triage's outcome atomically, only if the ticket is still `received`. Returns
    /// `false` (and writes nothing) when it was already decided: a ticket is decided once.
    async fn record_triage(&self, record: &TriageRecord) -> Result<bool, StoreError>;
    /// Adds a customer's follow-up. With `reopen`, atomically also records the decision, opens
    /// the handoff and marks the ticket handed off, provided the ticket still has `expected`
    /// status (else [`StoreError::Conflict`]).
    async fn add_follow_up(
        &self,
        message: &NewMessage,
        expected: TicketStatus,
        reopen: Option<(&Decision, &Handoff)>,
    ) -> Result<Message, StoreError>;
}

/// The handoff queue and the resolutions people write.
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Handoffs matching the filter, by priority then SLA due time.
    async fn handoffs(&self, filter: &QueueFilter) -> Result<Vec<Handoff>, StoreError>;
    /// How many handoffs match the filter, whatever its limit.
    async fn count_handoffs(&self, filter: &QueueFilter) -> Result<u64, StoreError>;
    async fn handoff(&self, id: HandoffId) -> Result<Option<Handoff>, StoreError>;
    /// Every handoff of one ticket (a reopened ticket has several), oldest first.
    async fn ticket_handoffs(&self, ticket: TicketId) -> Result<Vec<Handoff>, StoreError>;
    async fn open_handoffs(&self, customer_id: &str) -> Result<u32, StoreError>;
    /// Open (or claimed) handoffs: the queue depth.
    async fn queue_depth(&self) -> Result<u64, StoreError>;
    /// Claims an open handoff for `agent`. Claiming again by the same agent is a no-op;
    /// a handoff claimed by someone else, or resolved, is a [`StoreError::Conflict`].
    async fn claim(&self, id: HandoffId, agent: &str, now: DateTime<Utc>) -> Result<Handoff, StoreError>;
    /// Resolves a handoff atomically: stores the resolution, the agent's reply as a message, and
    /// marks the handoff and ticket resolved. Resolving twice is a [`StoreError::Conflict`].
    async fn resolve(&self, resolution: &NewResolution) -> Result<Resolution, StoreError>;
    async fn resolution(&self, id: uuid::Uuid) -> Result<Option<Resolution>, StoreError>;
    /// Resolutions whose points are not yet in the index (after a crash between the two writes).
    async fn unindexed_resolutions(&self) -> Result<Vec<Resolution>, StoreError>;
    async fn mark_resolution_indexed(&self, id: uuid::Uuid) -> Result<(), StoreError>;
}

/// What writing an article did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleWrite {
    Created,
    Updated,
    Unchanged,
}

/// Knowledge-base articles. The store keeps a content hash per article and the hash last
/// indexed, so ingestion is idempotent and an interrupted re-index is finished at start-up.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    async fn upsert_article(&self, article: &Article, content_hash: &str)
    -> Result<ArticleWrite, StoreError>;
    async fn article(&self, id: &str) -> Result<Option<Article>, StoreError>;
    async fn articles(&self) -> Result<Vec<Article>, StoreError>;
    async fn delete_article(&self, id: &str) -> Result<bool, StoreError>;
    /// Whether the article's points were last indexed from content with this hash.
    async fn is_indexed(&self, id: &str, content_hash: &str) -> Result<bool, StoreError>;
    /// Articles whose current content hash differs from the one last indexed.
    async fn unindexed_articles(&self) -> Result<Vec<Article>, StoreError>;
    /// Records that the article's points were written from content with this hash, if the
    /// stored article still has that content. `false` when it changed or was deleted since (by
    /// another process: a `kindly kb ingest` beside the server): the points written are stale.
    async fn mark_article_indexed(&self, id: &str, content_hash: &str) -> Result<bool, StoreError>;
}

/// What the intent model learns from, the versions it produced, and shadow mode's verdicts.
#[async_trait]
pub trait TrainingStore: Send + Sync {
    /// Adds imported labels; a (text, intent) pair already stored is skipped. Returns how many
    /// were new.
    async fn add_labels(&self, labels: &[Label]) -> Result<usize, StoreError>;
    async fn labels(&self) -> Result<Vec<Label>, StoreError>;
    /// Stores a trained version and returns its number (one more than the latest).
    async fn save_intent_model(&self, model: &IntentModelRecord) -> Result<i64, StoreError>;
    /// The newest version, with its weights.
    async fn latest_intent_model(&self) -> Result<Option<IntentModelRecord>, StoreError>;
    /// The newest version's number alone (a cheap look for a version another process trained).
    async fn latest_intent_model_version(&self) -> Result<Option<i64>, StoreError>;
    /// Every version, newest first, without weights.
    async fn intent_models(&self) -> Result<Vec<IntentModelRecord>, StoreError>;
    /// The latest `limit` decisions taken in shadow mode, newest first, each with the intent a
    /// person gave when resolving its handoff.
    async fn shadow_cases(&self, limit: u32) -> Result<Vec<ShadowCase>, StoreError>;
}

/// Everything the records store provides. SQLite implements it embedded; PostgreSQL at scale.
pub trait RecordStore: TicketStore + QueueStore + KnowledgeStore + PointStore + TrainingStore {}

impl<T: TicketStore + QueueStore + KnowledgeStore + PointStore + TrainingStore> RecordStore for T {}
