//! Tickets, the customers who write them, and the messages of their conversation.
//!
//! Intake is validated here, purely, so that every entry point (the generic API, helpdesk
//! webhooks, the CLI) applies the same rules and the same human error sentences.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValidationError;

/// Longest ticket or message text Kindly accepts, in characters. Longer texts are refused, not
/// truncated, so that nobody's words are silently dropped.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest identifier (external id, customer id, agent) accepted.
pub const MAX_ID_CHARS: usize = 200;
/// Longest subject accepted.
pub const MAX_SUBJECT_CHARS: usize = 500;

/// Kindly's own id for a ticket (a UUIDv7, so ids sort by arrival).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct TicketId(pub Uuid);

impl TicketId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for TicketId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for TicketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TicketId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Where a ticket stands. Every ticket ends `answered` or `handed_off` exactly once; a person's
/// resolution then moves a handed-off ticket to `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Accepted and durable, waiting for the pipeline.
    Received,
    /// Kindly answered it from approved knowledge.
    Answered,
    /// A person has it in the handoff queue.
    HandedOff,
    /// A person resolved it.
    Resolved,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Answered => "answered",
            Self::HandedOff => "handed_off",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => Self::Received,
            "answered" => Self::Answered,
            "handed_off" => Self::HandedOff,
            "resolved" => Self::Resolved,
            _ => return None,
        })
    }
}

/// The person who wrote in, as the helpdesk knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The helpdesk flagged this account (VIP, at risk, under dispute): always a person.
    /// `None` keeps what was stored before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged: Option<bool>,
}

/// A validated ticket, ready to be stored. Build it with [`NewTicket::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    pub external_id: String,
    pub customer: Customer,
    pub subject: Option<String>,
    pub body: String,
    pub channel: String,
    pub created_at: DateTime<Utc>,
}

impl NewTicket {
    /// Normalises (trims, collapses blank subjects, defaults the channel and time) and validates
    /// an incoming ticket. The error names the first offending field in API terms.
    pub fn validate(
        external_id: &str,
        customer: Customer,
        subject: Option<&str>,
        body: &str,
        channel: Option<&str>,
        created_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let external_id = required_id("external_id", external_id)?;
        let customer = Customer {
            id: required_id("customer.id", &customer.id)?,
            email: optional_text("customer.email", customer.email.as_deref(), MAX_ID_CHARS)?,
            name: optional_text("customer.name", customer.name.as_deref(), MAX_ID_CHARS)?,
            flagged: customer.flagged,
        };
        if let Some(email) = &customer.email
            && !email.contains('@')
        {
            return Err(ValidationError::new("customer.email", "is not an email address"));
        }
        let subject = optional_text("subject", subject, MAX_SUBJECT_CHARS)?;
        let body = required_text("body", body)?;
        let channel = optional_text("channel", channel, 50)?.unwrap_or_else(|| "api".to_owned());
        Ok(Self { external_id, customer, subject, body, channel, created_at: created_at.unwrap_or(now) })
    }

    /// The text the models read: subject and body together.
    pub fn text(&self) -> String {
        ticket_text(self.subject.as_deref(), &self.body)
    }
}

/// The text the models read: the subject, unless the body already says it, then the body.
pub fn ticket_text(subject: Option<&str>, body: &str) -> String {
    match subject {
        Some(s) if !body.to_lowercase().contains(&s.to_lowercase()) => format!("{s}\n{body}"),
        _ => body.to_owned(),
    }
}

/// Validates free text a person wrote (a ticket body, a follow-up, an agent's reply).
pub fn required_text(field: &str, text: &str) -> Result<String, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationError::new(field, "must not be empty or only whitespace"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ValidationError::new(field, format!("is longer than {MAX_TEXT_CHARS} characters")));
    }
    Ok(text.to_owned())
}

/// Validates an identifier: non-empty, bounded, no control characters.
pub fn required_id(field: &str, id: &str) -> Result<String, ValidationError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(ValidationError::new(field, format!("is longer than {MAX_ID_CHARS} characters")));
    }
    if id.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(id.to_owned())
}

fn optional_text(field: &str, text: Option<&str>, max: usize) -> Result<Option<String>, ValidationError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(ValidationError::new(field, format!("is longer than {max} characters")))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// A stored ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: TicketId,
    pub external_id: String,
    pub customer: Customer,
    pub subject: Option<String>,
    pub body: String,
    pub channel: String,
    pub status: TicketStatus,
    /// The intent triage predicted, or the one a person confirmed or corrected on resolving.
    pub intent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    /// The text the models read: subject and body together.
    pub fn text(&self) -> String {
        ticket_text(self.subject.as_deref(), &self.body)
    }
}

/// One line of a customer's history, shown to agents beside a handoff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketSummary {
    pub id: TicketId,
    pub subject: Option<String>,
    pub status: TicketStatus,
    pub intent: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Which tickets to list, newest first. `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    /// The ticket's intent (as triage predicted it, or a person corrected it).
    pub intent: Option<String>,
    /// The intent the ticket's latest decision predicted, whatever a person made of it since:
    /// with `intent`, the tickets triage took for one intent and a person for another.
    pub predicted_intent: Option<String>,
    pub customer_id: Option<String>,
    /// Words that must all appear in the ticket (its helpdesk id, the customer's name and email,
    /// subject and body) or in what the customer and agents wrote after. Text without a letter or
    /// digit matches nothing.
    pub text: Option<String>,
    /// Only tickets whose latest decision was made in shadow mode, and of those which.
    pub shadow: Option<crate::ShadowFilter>,
    /// Only tickets received before this one (the next page of a list).
    pub before: Option<TicketId>,
    pub limit: u32,
}

/// One line of the ticket list: the ticket and the gist of its latest decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketListing {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// The latest decision (`None` while the ticket waits for triage).
    pub decision: Option<DecisionGist>,
}

/// A decision in brief: what was decided, by which rule, in one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionGist {
    /// `answer` or `handoff`.
    pub outcome: String,
    pub rule: String,
    pub summary: String,
    pub decided_at: DateTime<Utc>,
    /// Made in shadow mode: `would_answer` or `would_hand_off` (absent for a live decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<crate::ShadowOutcome>,
}

/// Who wrote a message of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Customer,
    Kindly,
    Agent,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Kindly => "kindly",
            Self::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "customer" => Self::Customer,
            "kindly" => Self::Kindly,
            "agent" => Self::Agent,
            _ => return None,
        })
    }
}

/// A message to add to a ticket's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub ticket_id: TicketId,
    pub author: Author,
    /// The agent's name when `author` is `agent`.
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A stored message of a ticket's conversation (the ticket body itself is not repeated here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub id: i64,
    pub ticket_id: TicketId,
    pub author: Author,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: &str) -> Customer {
        Customer { id: id.into(), email: None, name: None, flagged: None }
    }

    #[test]
    fn validation_trims_and_defaults() {
        let now = Utc::now();
        let t =
            NewTicket::validate(" x-1 ", customer("c1"), Some("  "), "  hi there ", None, None, now).unwrap();
        assert_eq!(t.external_id, "x-1");
        assert_eq!(t.subject, None);
        assert_eq!(t.body, "hi there");
        assert_eq!(t.channel, "api");
        assert_eq!(t.created_at, now);
    }

    #[test]
    fn validation_names_the_field() {
        let now = Utc::now();
        let cases = [
            ("", "c", "body", "external_id"),
            ("x", " ", "body", "customer.id"),
            ("x", "c", " \n\t ", "body"),
        ];
        for (ext, cust, body, field) in cases {
            let err = NewTicket::validate(ext, customer(cust), None, body, None, None, now).unwrap_err();
            assert_eq!(err.field, field);
        }
        let long = "a".repeat(MAX_TEXT_CHARS + 1);
        let err = NewTicket::validate("x", customer("c"), None, &long, None, None, now).unwrap_err();
        assert_eq!(err.field, "body");
    }

    #[test]
    fn text_does_not_repeat_a_subject_already_in_the_body() {
        assert_eq!(ticket_text(Some("Refund"), "I want a refund"), "I want a refund");
        assert_eq!(ticket_text(Some("Order 12"), "where is it?"), "Order 12\nwhere is it?");
    }
}
