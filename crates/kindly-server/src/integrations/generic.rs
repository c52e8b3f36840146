//! The generic intake, for any system that can POST signed JSON:
//! `X-Kindly-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`, and
//! `{"id", "event": "ticket.created" | "ticket.reply", "ticket": {...}, "message": {...}}`.
//! Actions go to the connection's callback URL as signed JSON (see the README).

use axum::http::Method;
use kindly_core::Customer;
use kindly_core::integration::{HelpdeskEvent, InboundReply, InboundTicket};
use serde_json::{Value, json};

use super::{ActionContent, HelpdeskRequest, PayloadError, ignored, required, text, timestamp};

pub(super) fn parse(body: &Value) -> Result<HelpdeskEvent, PayloadError> {
    let event = required(body, "/event")?;
    match event.as_str() {
        "ticket.created" => Ok(HelpdeskEvent::NewTicket(InboundTicket {
            remote_id: required(body, "/ticket/id")?,
            customer: Customer {
                id: required(body, "/ticket/customer/id")?,
                email: text(body, "/ticket/customer/email"),
                name: text(body, "/ticket/customer/name"),
                flagged: body.pointer("/ticket/customer/flagged").and_then(Value::as_bool),
            },
            subject: text(body, "/ticket/subject"),
            body: required(body, "/ticket/body")?,
            created_at: timestamp(body, "/ticket/created_at"),
        })),
        "ticket.reply" => Ok(HelpdeskEvent::CustomerReply(InboundReply {
            remote_id: required(body, "/ticket/id")?,
            message_id: text(body, "/message/id"),
            body: required(body, "/message/body")?,
            opening: None,
        })),
        other => Ok(ignored(other)),
    }
}

/// One POST to the callback URL itself; the outbox adds the action's kind and idempotency key.
pub(super) fn requests(remote_id: &str, content: &ActionContent) -> Vec<HelpdeskRequest> {
    let body = match content {
        ActionContent::Public { body } => {
            json!({ "ticket_id": remote_id, "type": "public_reply", "body": body })
        }
        ActionContent::Internal { body } => {
            json!({ "ticket_id": remote_id, "type": "internal_note", "body": body })
        }
        ActionContent::Update { tags, priority: p, group } => json!({
            "ticket_id": remote_id, "type": "update", "tags": tags, "priority": p.as_str(), "group": group,
        }),
    };
    vec![HelpdeskRequest::new(Method::POST, "", body)]
}
