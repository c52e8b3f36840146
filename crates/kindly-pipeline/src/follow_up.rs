//! A customer's follow-up. After an automatic answer (or a person's resolution) it always goes
//! to a person: Kindly never answers the same customer twice in a row on one ticket.

use chrono::Utc;
use kindly_core::queue::HandoffContext;
use kindly_core::{
    Author, Decision, Evidence, HandoffId, HandoffReason, Message, NewMessage, Outcome, Priority, Reason,
    TicketId, TicketStatus, ticket,
};
use serde::Serialize;

use crate::{Pipeline, PipelineError};

/// What a follow-up did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub message: Message,
    /// The ticket went (back) to a person because of this follow-up.
    pub reopened: bool,
    pub handoff_id: Option<HandoffId>,
    pub status: TicketStatus,
}

impl Pipeline {
    pub async fn follow_up(&self, id: TicketId, body: &str) -> Result<FollowUp, PipelineError> {
        let body = ticket::required_text("body", body)?;
        let ticket =
            self.store.ticket(id).await?.ok_or_else(|| PipelineError::NotFound(format!("ticket {id}")))?;
        let now = Utc::now();
        let message =
            NewMessage { ticket_id: id, author: Author::Customer, author_name: None, body, created_at: now };
        let after = match ticket.status {
            TicketStatus::Answered => "an automatic answer",
            TicketStatus::Resolved => "a person resolved the ticket",
            TicketStatus::Received | TicketStatus::HandedOff => {
                let message = self.store.add_follow_up(&message, ticket.status, None).await?;
                return Ok(FollowUp { message, reopened: false, handoff_id: None, status: ticket.status });
            }
        };
        let previous = self.store.decisions(id).await?.into_iter().next();
        let reasons = vec![Reason {
            code: HandoffReason::CustomerFollowUp,
            detail: format!("customer_follow_up: the customer wrote again after {after}"),
        }];
        let decision = Decision {
            ticket_id: id,
            outcome: Outcome::Handoff { priority: Priority::for_reasons(&reasons) },
            rule: "handoff.customer_follow_up".into(),
            summary: format!("handed off: {}", reasons[0].detail),
            reasons,
            evidence: previous.map(|d| d.evidence).unwrap_or_else(Evidence::default),
            decided_at: now,
        };
        let handoff = self.handoff_item(&ticket, &decision, HandoffContext::default(), None).await;
        let message = self.store.add_follow_up(&message, ticket.status, Some((&decision, &handoff))).await?;
        metrics::counter!("kindly_reopened_total", "after" => ticket.status.as_str()).increment(1);
        Ok(FollowUp {
            message,
            reopened: true,
            handoff_id: Some(handoff.id),
            status: TicketStatus::HandedOff,
        })
    }
}
