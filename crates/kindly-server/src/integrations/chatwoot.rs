//! Chatwoot: account webhooks (`message_created`), signed
//! `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">` with
//! `X-Chatwoot-Timestamp` (Unix seconds), delivery id in `X-Chatwoot-Delivery`. A conversation's
//! first incoming message opens the ticket; later ones are replies. Actions through
//! `/api/v1/accounts/{account}/conversations/{id}/messages`, `/labels`, `/toggle_priority` and
//! `/assignments` (`api_access_token` header).

use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Utc};
use kindly_core::integration::{HelpdeskEvent, InboundReply, InboundTicket};
use kindly_core::{Customer, Priority};
use serde_json::{Value, json};

use super::signature::{self, SignatureError};
use super::{
    ActionContent, ConnectionSettings, HelpdeskRequest, PayloadError, ignored, required, text, timestamp,
};

pub(super) fn verify(
    headers: &HeaderMap,
    secret: &str,
    body: &[u8],
    now: DateTime<Utc>,
    window_secs: u64,
) -> Result<(), SignatureError> {
    let given = signature::header(headers, "x-chatwoot-signature")?;
    let at = signature::header(headers, "x-chatwoot-timestamp")?;
    let hex = given.strip_prefix("sha256=").ok_or(SignatureError::Mismatch)?;
    signature::verify_sha256(secret, &[at.as_bytes(), b".", body], &signature::hex_bytes(hex)?)?;
    signature::within_window(signature::unix_seconds(at)?, now, window_secs)
}

pub(super) fn parse(body: &Value) -> Result<HelpdeskEvent, PayloadError> {
    let event = required(body, "/event")?;
    if event != "message_created" {
        return Ok(ignored(event));
    }
    // Chatwoot sends message_type as a name in webhooks ("incoming"), as 0 in some versions.
    let incoming = matches!(body.get("message_type"), Some(Value::String(t)) if t == "incoming")
        || body.get("message_type").and_then(Value::as_u64) == Some(0);
    let private = body.get("private").and_then(Value::as_bool).unwrap_or(false);
    if !incoming || private {
        return Ok(ignored("message_created (not from the contact)"));
    }
    let conversation = text(body, "/conversation/display_id").or_else(|| text(body, "/conversation/id"));
    let remote_id =
        conversation.ok_or_else(|| PayloadError("the payload has no `conversation.id`".into()))?;
    let content = required(body, "/content")?;
    let opening = InboundTicket {
        remote_id: remote_id.clone(),
        customer: Customer {
            id: required(body, "/sender/id")?,
            email: text(body, "/sender/email").filter(|e| !e.is_empty()),
            name: text(body, "/sender/name").filter(|n| !n.is_empty()),
            flagged: None,
        },
        subject: text(body, "/conversation/additional_attributes/mail_subject").filter(|s| !s.is_empty()),
        body: content.clone(),
        created_at: timestamp(body, "/created_at"),
    };
    Ok(HelpdeskEvent::CustomerReply(InboundReply {
        remote_id,
        message_id: text(body, "/id"),
        body: content,
        opening: Some(Box::new(opening)),
    }))
}

fn priority(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "urgent",
        Priority::High => "high",
        Priority::Normal => "medium",
        Priority::Low => "low",
    }
}

pub(super) fn requests(
    c: &ConnectionSettings,
    remote_id: &str,
    content: &ActionContent,
) -> Vec<HelpdeskRequest> {
    let account = c.account_id.clone().unwrap_or_default();
    let conversation = format!("/api/v1/accounts/{account}/conversations/{remote_id}");
    let message = |body: &str, private: bool| {
        HelpdeskRequest::new(
            Method::POST,
            format!("{conversation}/messages"),
            json!({ "content": body, "message_type": "outgoing", "private": private }),
        )
    };
    match content {
        ActionContent::Public { body } => vec![message(body, false)],
        ActionContent::Internal { body } => vec![message(body, true)],
        ActionContent::Update { tags, priority: p, group } => {
            let mut calls = vec![
                HelpdeskRequest::new(
                    Method::POST,
                    format!("{conversation}/labels"),
                    json!({ "labels": tags }),
                ),
                HelpdeskRequest::new(
                    Method::POST,
                    format!("{conversation}/toggle_priority"),
                    json!({ "priority": priority(*p) }),
                ),
            ];
            if let Some(team) = group {
                let team = team.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(team));
                calls.push(HelpdeskRequest::new(
                    Method::POST,
                    format!("{conversation}/assignments"),
                    json!({ "team_id": team }),
                ));
            }
            calls
        }
    }
}
