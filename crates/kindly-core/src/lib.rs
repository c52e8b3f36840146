//! Kindly's domain core: the words of support triage (tickets, knowledge, decisions, the handoff
//! queue), the pure answer-or-handoff policy, and the port traits that adapters implement.
//!
//! This crate does no IO and names no runtime, database or model library: everything here can be
//! unit-tested with plain values, and every other crate depends on it, never the other way round.

pub mod account;
pub mod calibration;
pub mod decision;
pub mod emotion;
pub mod error;
pub mod integration;
pub mod knowledge;
pub mod lexicon;
pub mod policy;
pub mod ports;
pub mod queue;
pub mod sensitivity;
pub mod shadow;
pub mod ticket;
pub mod training;

pub use account::{Permission, Role, User};
pub use decision::{
    Complexity, Decision, Evidence, HandoffReason, IntentScore, Outcome, Priority, Reason, ShadowDecision,
    SlaPolicy,
};
pub use emotion::{Emotion, EmotionSignal};
pub use error::{BoxError, EmbedError, ErrorKind, IndexError, StoreError, ValidationError};
pub use knowledge::{
    Article, ArticleStatus, KeywordHit, KnowledgeHit, KnowledgeRef, LifecycleStage, Point, PointKind,
    PointStatus, ScoredPoint, SearchFilter, Source,
};
pub use lexicon::{CharNgrams, Lexicon, WordGrams};
pub use policy::PolicySettings;
pub use ports::{
    ArticleWrite, Embedder, Inserted, KnowledgeStore, PointStore, PointsChanged, PointsWritten, QueueStore,
    RecordStore, TicketStore, TrainingStore, TriageRecord, VectorIndex,
};
pub use queue::{Handoff, HandoffContext, HandoffId, HandoffStatus, NewResolution, QueueFilter, Resolution};
pub use sensitivity::{SensitiveCategory, SensitivitySignal, SetAside};
pub use shadow::{IntentShadowReport, ShadowCase, ShadowFilter, ShadowOutcome, ShadowReport};
pub use ticket::{
    Author, Customer, DecisionGist, Message, NewMessage, NewTicket, Ticket, TicketFilter, TicketId,
    TicketListing, TicketStatus, TicketSummary,
};
pub use training::{IntentModelRecord, Label, ValidationScores};
