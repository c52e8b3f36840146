//! Freshdesk: automation-rule webhooks with a JSON body of placeholders (see the README). Freshdesk
//! signs nothing, so its webhook carries the connection's secret in `X-Kindly-Token` (or as the
//! basic-auth password); deliveries are idempotent on (ticket, event). Actions through
//! `/api/v2/tickets/{id}/reply`, `/notes` and `PUT /api/v2/tickets/{id}` (basic auth
//! `{api_key}:X`).

use axum::http::{HeaderMap, Method};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kindly_core::integration::{HelpdeskEvent, InboundReply, InboundTicket};
use kindly_core::{Customer, Priority};
use serde_json::{Value, json};

use super::signature::{self, SignatureError};
use super::{ActionContent, HelpdeskRequest, PayloadError, ignored, plain_text, required, text};

pub(super) fn verify(headers: &HeaderMap, secret: &str) -> Result<(), SignatureError> {
    let given = match signature::header(headers, "x-kindly-token") {
        Ok(token) => token.to_owned(),
        Err(missing) => {
            let auth = signature::header(headers, "authorization").map_err(|_| missing)?;
            let decoded = auth
                .strip_prefix("Basic ")
                .and_then(|b| BASE64.decode(b).ok())
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(SignatureError::Mismatch)?;
            decoded
                .split_once(':')
                .map(|(_, password)| password.to_owned())
                .ok_or(SignatureError::Mismatch)?
        }
    };
    // Compare MACs of both under a fixed key: constant time whatever the token's length.
    let expected = signature::sign_sha256_hex(secret, &[b"freshdesk"]);
    signature::verify_sha256(&given, &[b"freshdesk"], &signature::hex_bytes(&expected)?)
}

pub(super) fn parse(body: &Value) -> Result<HelpdeskEvent, PayloadError> {
    // Freshdesk's "simple" payload wraps the fields in `freshdesk_webhook`; an advanced JSON body
    // may send them flat.
    let v = body.get("freshdesk_webhook").unwrap_or(body);
    let event = required(v, "/kindly_event")?;
    match event.as_str() {
        "ticket_created" => {
            let email = text(v, "/ticket_requester_email").filter(|e| !e.is_empty());
            Ok(HelpdeskEvent::NewTicket(InboundTicket {
                remote_id: required(v, "/ticket_id")?,
                customer: Customer {
                    id: text(v, "/ticket_requester_id")
                        .filter(|id| !id.is_empty())
                        .or_else(|| email.clone())
                        .ok_or_else(|| PayloadError("the payload has no `ticket_requester_id`".into()))?,
                    email,
                    name: text(v, "/ticket_requester_name").filter(|n| !n.is_empty()),
                    flagged: None,
                },
                subject: text(v, "/ticket_subject"),
                body: plain_text(&required(v, "/ticket_description")?),
                created_at: None,
            }))
        }
        "customer_reply" => Ok(HelpdeskEvent::CustomerReply(InboundReply {
            remote_id: required(v, "/ticket_id")?,
            message_id: None,
            body: plain_text(&required(v, "/ticket_latest_public_comment")?),
            opening: None,
        })),
        other => Ok(ignored(other)),
    }
}

/// Freshdesk's priorities: 1 low, 2 medium, 3 high, 4 urgent.
fn priority(p: Priority) -> u8 {
    match p {
        Priority::Urgent => 4,
        Priority::High => 3,
        Priority::Normal => 2,
        Priority::Low => 1,
    }
}

pub(super) fn requests(remote_id: &str, content: &ActionContent) -> Vec<HelpdeskRequest> {
    let ticket = format!("/api/v2/tickets/{remote_id}");
    let request = match content {
        ActionContent::Public { body } => {
            HelpdeskRequest::new(Method::POST, format!("{ticket}/reply"), json!({ "body": body }))
        }
        ActionContent::Internal { body } => HelpdeskRequest::new(
            Method::POST,
            format!("{ticket}/notes"),
            json!({ "body": body, "private": true }),
        ),
        ActionContent::Update { tags, priority: p, group } => {
            let mut t = json!({ "tags": tags, "priority": priority(*p) });
            if let Some(group) = group.as_ref().and_then(|g| g.parse::<u64>().ok()) {
                t["group_id"] = json!(group);
            }
            HelpdeskRequest::new(Method::PUT, ticket, t)
        }
    };
    vec![request]
}
