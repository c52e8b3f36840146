//! Helpdesk integrations in domain terms: what a verified webhook delivery means (a new ticket, a
//! customer's reply, or nothing Kindly handles), the actions Kindly owes a helpdesk (the outbox),
//! the retry schedule, and the store port that keeps both durable.
//!
//! Provider specifics (signatures, payload shapes, REST endpoints) live in `kindly-server`; this
//! module only names the things every provider shares.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::ticket::{Customer, NewTicket, TicketId};

/// The helpdesks Kindly speaks to, plus `generic` for any system that can POST signed JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Zendesk,
    Freshdesk,
    Intercom,
    Zammad,
    Chatwoot,
    Generic,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Zendesk => "zendesk",
            Self::Freshdesk => "freshdesk",
            Self::Intercom => "intercom",
            Self::Zammad => "zammad",
            Self::Chatwoot => "chatwoot",
            Self::Generic => "generic",
        }
    }
}

/// A new ticket as a helpdesk describes it, before validation.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundTicket {
    /// The helpdesk's own id of the ticket (conversation), used to address actions back to it.
    pub remote_id: String,
    pub customer: Customer,
    pub subject: Option<String>,
    pub body: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// A customer's reply on a ticket the helpdesk already sent.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundReply {
    pub remote_id: String,
    /// The helpdesk's id of the reply (comment, article, message part), when it sends one.
    pub message_id: Option<String>,
    pub body: String,
    /// The ticket to open when Kindly has not seen this one (Chatwoot announces a conversation's
    /// first message as a message, not as a new conversation).
    pub opening: Option<Box<InboundTicket>>,
}

/// What one verified delivery asks of Kindly.
#[derive(Debug, Clone, PartialEq)]
pub enum HelpdeskEvent {
    NewTicket(InboundTicket),
    CustomerReply(InboundReply),
    /// An event Kindly does not act on (an agent's comment, a status change, ...): answered 200
    /// so the helpdesk does not retry it forever.
    Ignored {
        event: String,
    },
}

impl HelpdeskEvent {
    /// The key a delivery is idempotent on when the helpdesk sends no delivery id:
    /// (ticket, event), the event including the reply's id (or a digest of its text).
    pub fn natural_key(&self) -> String {
        match self {
            Self::NewTicket(t) => format!("ticket:{}:created", t.remote_id),
            Self::CustomerReply(r) => match &r.message_id {
                Some(m) => format!("ticket:{}:reply:{m}", r.remote_id),
                None => format!("ticket:{}:reply:{:016x}", r.remote_id, fnv1a(&r.body)),
            },
            Self::Ignored { event } => format!("ignored:{event}"),
        }
    }
}

/// A stable (across builds and machines) 64-bit digest, for idempotency keys only.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// What Kindly does on the helpdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A public reply: Kindly's answer, or the agent's reply from Kindly's queue.
    Reply,
    /// An internal note with the handoff's context packet.
    Note,
    /// Tags, priority and group (or assignee) of a handed-off ticket.
    Update,
    /// The customer's acknowledgement: who will help, and by when.
    Acknowledge,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Note => "note",
            Self::Update => "update",
            Self::Acknowledge => "acknowledge",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "reply" => Self::Reply,
            "note" => Self::Note,
            "update" => Self::Update,
            "acknowledge" => Self::Acknowledge,
            _ => return None,
        })
    }
}

/// Where an action is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    Pending,
    Delivered,
    /// Every attempt failed; waits for a person to retry it.
    Dead,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "dead" => Self::Dead,
            _ => return None,
        })
    }
}

/// One action in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxAction {
    pub id: i64,
    pub connection: String,
    pub ticket_id: TicketId,
    /// The helpdesk's id of the ticket.
    pub remote_id: String,
    pub kind: ActionKind,
    /// The message (reply) or handoff (note, update, acknowledge) whose content is sent.
    pub source_id: String,
    /// Sent with every attempt, so a helpdesk that saw an attempt already can drop the repeat.
    pub idempotency_key: String,
    pub state: ActionState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Exponential backoff with jitter: attempt `n` (1-based) waits about `base · 2^(n-1)`, capped at
/// `max`, scaled by a factor in [0.5, 1) so that actions failing together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// `jitter` is a uniform sample from [0, 1).
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << exponent).min(self.max);
        full.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// What accepting a new-ticket delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedDelivery {
    pub ticket_id: TicketId,
    /// The delivery had been accepted before: nothing was written.
    pub duplicate: bool,
    /// A new ticket was stored (false for a duplicate, or a second delivery about a ticket Kindly
    /// already has).
    pub created: bool,
}

/// A customer's reply accepted from a webhook and not yet added to its ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingReply {
    pub connection: String,
    pub delivery_key: String,
    pub ticket_id: TicketId,
    pub body: String,
}

/// Durable webhook intake and the outbox.
///
/// Contract: accepting a delivery is idempotent on (connection, delivery key) and durable when it
/// returns; a new ticket and its link to the helpdesk ticket are written in one transaction.
/// Outbox actions are created by the store itself in the transaction that records what they
/// announce (an answer, a handoff, a resolution), so none can be lost between the two.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn accept_ticket_delivery(
        &self,
        connection: &str,
        delivery_key: &str,
        remote_id: &str,
        ticket: &NewTicket,
        now: DateTime<Utc>,
    ) -> Result<AcceptedDelivery, StoreError>;
    /// The Kindly ticket made from a helpdesk ticket.
    async fn linked_ticket(&self, connection: &str, remote_id: &str) -> Result<Option<TicketId>, StoreError>;
    /// Stores a customer's reply as a pending delivery. `false` when the delivery was seen before.
    async fn accept_reply_delivery(
        &self,
        connection: &str,
        delivery_key: &str,
        ticket: TicketId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Replies accepted before `before` but not yet added to their tickets (after a crash, or a
    /// conflict with a concurrent change), oldest first.
    async fn pending_replies(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingReply>, StoreError>;
    async fn mark_reply_applied(&self, connection: &str, delivery_key: &str) -> Result<(), StoreError>;
    /// How many deliveries a connection has accepted.
    async fn delivery_count(&self, connection: &str) -> Result<u64, StoreError>;

    /// Pending actions whose next attempt is due, oldest first.
    async fn due_actions(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxAction>, StoreError>;
    async fn action(&self, id: i64) -> Result<Option<OutboxAction>, StoreError>;
    /// Actions in one state (all when `None`), newest first.
    async fn actions(&self, state: Option<ActionState>, limit: u32) -> Result<Vec<OutboxAction>, StoreError>;
    /// Every action owed to a helpdesk for one ticket, oldest first.
    async fn ticket_actions(&self, ticket: TicketId) -> Result<Vec<OutboxAction>, StoreError>;
    async fn action_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Records a failed attempt: retried at `retry_at`, or dead when it is `None`.
    async fn action_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// Puts a dead action back in the queue with a fresh set of attempts. A delivered action is a
    /// [`StoreError::Conflict`].
    async fn retry_action(&self, id: i64, now: DateTime<Utc>) -> Result<OutboxAction, StoreError>;
    /// How many actions are in each state.
    async fn outbox_counts(&self) -> Result<Vec<(ActionState, u64)>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_within_half() {
        let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1) };
        assert_eq!(b.delay(1, 0.999_999).as_millis(), 99);
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(50));
        assert_eq!(b.delay(3, 0.0), Duration::from_millis(200));
        assert_eq!(b.delay(20, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(u32::MAX, 0.0), Duration::from_millis(500));
    }

    #[test]
    fn natural_keys_tell_replies_apart() {
        let reply = |id: Option<&str>, body: &str| {
            HelpdeskEvent::CustomerReply(InboundReply {
                remote_id: "7".into(),
                message_id: id.map(str::to_owned),
                body: body.into(),
                opening: None,
            })
            .natural_key()
        };
        assert_eq!(reply(Some("m1"), "a"), "ticket:7:reply:m1");
        assert_eq!(reply(None, "a"), reply(None, "a"));
        assert_ne!(reply(None, "a"), reply(None, "b"));
    }
}
