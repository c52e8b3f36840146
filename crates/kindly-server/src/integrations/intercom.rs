//! Intercom: webhook notifications (`conversation.user.created`, `conversation.user.replied`)
//! signed `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>` with the app's client secret. Actions
//! through `POST /conversations/{id}/reply` (comment or note), `/tags`, `/parts` (assignment) and
//! `PUT /conversations/{id}` (bearer token).

use axum::http::Method;
use kindly_core::integration::{HelpdeskEvent, InboundReply, InboundTicket};
use kindly_core::{Customer, Priority};
use serde_json::{Value, json};

use super::{
    ActionContent, ConnectionSettings, HelpdeskRequest, PayloadError, ignored, plain_text, required, text,
    timestamp,
};

pub(super) fn parse(body: &Value) -> Result<HelpdeskEvent, PayloadError> {
    let topic = required(body, "/topic")?;
    let item =
        body.pointer("/data/item").ok_or_else(|| PayloadError("the payload has no `data.item`".into()))?;
    match topic.as_str() {
        "conversation.user.created" => Ok(HelpdeskEvent::NewTicket(InboundTicket {
            remote_id: required(item, "/id")?,
            customer: Customer {
                id: required(item, "/source/author/id")?,
                email: text(item, "/source/author/email").filter(|e| !e.is_empty()),
                name: text(item, "/source/author/name").filter(|n| !n.is_empty()),
                flagged: None,
            },
            subject: text(item, "/title").or_else(|| text(item, "/source/subject")).map(|s| plain_text(&s)),
            body: plain_text(&required(item, "/source/body")?),
            created_at: timestamp(item, "/created_at"),
        })),
        "conversation.user.replied" => {
            let parts = item.pointer("/conversation_parts/conversation_parts").and_then(Value::as_array);
            let part = parts
                .and_then(|p| {
                    p.iter()
                        .rev()
                        .find(|p| p.pointer("/author/type").and_then(Value::as_str) != Some("admin"))
                })
                .ok_or_else(|| PayloadError("the payload has no customer's conversation part".into()))?;
            Ok(HelpdeskEvent::CustomerReply(InboundReply {
                remote_id: required(item, "/id")?,
                message_id: text(part, "/id"),
                body: plain_text(&required(part, "/body")?),
                opening: None,
            }))
        }
        other => Ok(ignored(other)),
    }
}

pub(super) fn requests(
    c: &ConnectionSettings,
    remote_id: &str,
    content: &ActionContent,
) -> Vec<HelpdeskRequest> {
    let admin = c.admin_id.clone().unwrap_or_default();
    let conversation = format!("/conversations/{remote_id}");
    let reply = |message_type: &str, body: &str| {
        HelpdeskRequest::new(
            Method::POST,
            format!("{conversation}/reply"),
            json!({ "message_type": message_type, "type": "admin", "admin_id": admin, "body": body }),
        )
    };
    match content {
        ActionContent::Public { body } => vec![reply("comment", body)],
        ActionContent::Internal { body } => vec![reply("note", body)],
        ActionContent::Update { tags, priority, group } => {
            // Intercom tags a conversation by tag id: `handoff_tags` hold ids for this provider.
            let mut calls: Vec<HelpdeskRequest> = tags
                .iter()
                .filter(|t| t.chars().all(|ch| ch.is_ascii_digit()))
                .map(|t| {
                    HelpdeskRequest::new(
                        Method::POST,
                        format!("{conversation}/tags"),
                        json!({ "id": t, "admin_id": admin }),
                    )
                })
                .collect();
            let flag = if matches!(priority, Priority::Urgent | Priority::High) {
                "priority"
            } else {
                "not_priority"
            };
            calls.push(HelpdeskRequest::new(Method::PUT, conversation.clone(), json!({ "priority": flag })));
            if let Some(team) = group {
                calls.push(HelpdeskRequest::new(
                    Method::POST,
                    format!("{conversation}/parts"),
                    json!({ "message_type": "assignment", "type": "team", "admin_id": admin, "assignee_id": team }),
                ));
            }
            calls
        }
    }
}
