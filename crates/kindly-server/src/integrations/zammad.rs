//! Zammad: trigger webhooks (ticket with its new article), signed
//! `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>`, delivery id in `X-Zammad-Delivery`.
//! Actions through `POST /api/v1/ticket_articles`, `PUT /api/v1/tickets/{id}` and
//! `POST /api/v1/tags/add` (`Authorization: Token token=…`).

use axum::http::Method;
use kindly_core::integration::{HelpdeskEvent, InboundReply, InboundTicket};
use kindly_core::{Customer, Priority};
use serde_json::{Value, json};

use super::{ActionContent, HelpdeskRequest, PayloadError, ignored, plain_text, required, text, timestamp};

pub(super) fn parse(body: &Value) -> Result<HelpdeskEvent, PayloadError> {
    let ticket = body.get("ticket").ok_or_else(|| PayloadError("the payload has no `ticket`".into()))?;
    let Some(article) = body.get("article").filter(|a| !a.is_null()) else {
        return Ok(ignored("ticket change without article"));
    };
    let from_customer = article.get("sender").and_then(Value::as_str) == Some("Customer");
    let internal = article.get("internal").and_then(Value::as_bool).unwrap_or(false);
    if !from_customer || internal {
        return Ok(ignored("article not from the customer"));
    }
    let remote_id = required(ticket, "/id")?;
    let text_body = plain_text(&required(article, "/body")?);
    // The ticket's first article opens it; later ones are replies.
    let count = ticket.get("article_count").and_then(Value::as_u64).unwrap_or(1);
    if count > 1 {
        return Ok(HelpdeskEvent::CustomerReply(InboundReply {
            remote_id,
            message_id: text(article, "/id"),
            body: text_body,
            opening: None,
        }));
    }
    let customer = ticket.get("customer").filter(|c| c.is_object());
    let name = customer.map(|c| {
        [text(c, "/firstname"), text(c, "/lastname")]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    });
    Ok(HelpdeskEvent::NewTicket(InboundTicket {
        remote_id,
        customer: Customer {
            id: customer
                .and_then(|c| text(c, "/id"))
                .or_else(|| text(ticket, "/customer_id"))
                .ok_or_else(|| PayloadError("the payload has no `ticket.customer_id`".into()))?,
            email: customer.and_then(|c| text(c, "/email")).filter(|e| !e.is_empty()),
            name: name.filter(|n| !n.is_empty()),
            flagged: None,
        },
        subject: text(ticket, "/title"),
        body: text_body,
        created_at: timestamp(ticket, "/created_at"),
    }))
}

/// Zammad's default priorities: 1 low, 2 normal, 3 high.
fn priority(p: Priority) -> &'static str {
    match p {
        Priority::Urgent | Priority::High => "3 high",
        Priority::Normal => "2 normal",
        Priority::Low => "1 low",
    }
}

pub(super) fn requests(remote_id: &str, content: &ActionContent) -> Vec<HelpdeskRequest> {
    let id = remote_id.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(remote_id));
    let article = |body: &str, internal: bool| {
        HelpdeskRequest::new(
            Method::POST,
            "/api/v1/ticket_articles",
            json!({ "ticket_id": id, "body": body, "content_type": "text/plain", "type": "note", "internal": internal }),
        )
    };
    match content {
        ActionContent::Public { body } => vec![article(body, false)],
        ActionContent::Internal { body } => vec![article(body, true)],
        ActionContent::Update { tags, priority: p, group } => {
            let mut update = json!({ "priority": priority(*p) });
            if let Some(group) = group {
                update["group"] = json!(group);
            }
            let mut calls =
                vec![HelpdeskRequest::new(Method::PUT, format!("/api/v1/tickets/{remote_id}"), update)];
            calls.extend(tags.iter().map(|t| {
                HelpdeskRequest::new(
                    Method::POST,
                    "/api/v1/tags/add",
                    json!({ "object": "Ticket", "o_id": id, "item": t }),
                )
            }));
            calls
        }
    }
}
