//! The human queue: handoffs with everything a person needs, and the resolutions they write.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::decision::{Priority, Reason};
use crate::knowledge::KnowledgeHit;
use crate::ticket::{TicketId, TicketSummary};

/// Kindly's id for a handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct HandoffId(pub Uuid);

impl HandoffId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for HandoffId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for HandoffId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for HandoffId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Where a handoff stands in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffStatus {
    Open,
    Claimed,
    Resolved,
}

impl HandoffStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Claimed => "claimed",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => Self::Open,
            "claimed" => Self::Claimed,
            "resolved" => Self::Resolved,
            _ => return None,
        })
    }
}

/// The context packet a person gets with a handoff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct HandoffContext {
    /// The closest knowledge, approved or not.
    pub knowledge: Vec<KnowledgeHit>,
    /// Similar tickets people resolved before (approved and candidate resolutions).
    pub similar_resolutions: Vec<KnowledgeHit>,
    /// The customer's earlier tickets, newest first.
    pub customer_history: Vec<TicketSummary>,
    /// A suggested reply, from the best knowledge and the handoff template.
    pub draft: Option<String>,
}

/// A ticket waiting for, or worked by, a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Handoff {
    pub id: HandoffId,
    pub ticket_id: TicketId,
    pub customer_id: String,
    pub subject: Option<String>,
    pub status: HandoffStatus,
    pub priority: Priority,
    pub sla_due_at: DateTime<Utc>,
    pub reasons: Vec<Reason>,
    pub intent: Option<String>,
    pub context: HandoffContext,
    pub agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Which handoffs to list. `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueFilter {
    pub status: Option<HandoffStatus>,
    pub agent: Option<String>,
    pub reason: Option<String>,
    pub priority: Option<Priority>,
    /// Only handoffs whose SLA falls due before this time (now: the overdue ones).
    pub due_before: Option<DateTime<Utc>>,
    pub limit: u32,
}

/// A person's resolution of a handoff, as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewResolution {
    pub handoff_id: HandoffId,
    pub agent: String,
    pub reply: String,
    /// May this resolution answer similar tickets automatically?
    pub reusable: bool,
    /// The intent, confirmed or corrected by the agent.
    pub intent: Option<String>,
    pub resolved_at: DateTime<Utc>,
}

/// A stored resolution. Reusable ones are indexed as approved knowledge; the others are kept as
/// candidates, shown to agents as similar cases and never sent to customers automatically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resolution {
    pub id: Uuid,
    pub handoff_id: HandoffId,
    pub ticket_id: TicketId,
    pub agent: String,
    /// The customer's question, as the ticket stated it.
    pub question: String,
    pub reply: String,
    pub reusable: bool,
    pub intent: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Resolution {
    /// The intent label this resolution teaches: the agent's, or one of its own.
    pub fn label(&self) -> String {
        self.intent.clone().unwrap_or_else(|| format!("resolution:{}", self.id))
    }
}
