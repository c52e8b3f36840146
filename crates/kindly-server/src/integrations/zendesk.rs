//! Zendesk: event-subscription webhooks (`zen:event-type:ticket.created`,
//! `zen:event-type:ticket.comment_added`), signed `base64(HMAC-SHA256(timestamp + body))` in
//! `X-Zendesk-Webhook-Signature` with `X-Zendesk-Webhook-Signature-Timestamp`; actions through
//! `PUT /api/v2/tickets/{id}.json` (basic auth `{email}/token:{api_token}`).

use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Utc};
use kindly_core::Customer;
use kindly_core::integration::{HelpdeskEvent, InboundReply, InboundTicket};
use serde_json::{Value, json};

use super::signature::{self, SignatureError};
use super::{ActionContent, HelpdeskRequest, PayloadError, ignored, required, text, timestamp};

pub(super) fn verify(
    headers: &HeaderMap,
    secret: &str,
    body: &[u8],
    now: DateTime<Utc>,
    window_secs: u64,
) -> Result<(), SignatureError> {
    let given = signature::header(headers, "x-zendesk-webhook-signature")?;
    let at = signature::header(headers, "x-zendesk-webhook-signature-timestamp")?;
    signature::verify_sha256(secret, &[at.as_bytes(), body], &signature::base64_bytes(given)?)?;
    // Zendesk sends an ISO 8601 time; accept Unix seconds too.
    let at = DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| signature::unix_seconds(at))?;
    signature::within_window(at, now, window_secs)
}

pub(super) fn parse(body: &Value) -> Result<HelpdeskEvent, PayloadError> {
    let kind = required(body, "/type")?;
    match kind.as_str() {
        "zen:event-type:ticket.created" => Ok(HelpdeskEvent::NewTicket(InboundTicket {
            remote_id: required(body, "/detail/id")?,
            customer: Customer {
                id: required(body, "/detail/requester_id")?,
                email: None,
                name: None,
                flagged: None,
            },
            subject: text(body, "/detail/subject"),
            body: required(body, "/detail/description")?,
            created_at: timestamp(body, "/detail/created_at"),
        })),
        "zen:event-type:ticket.comment_added" => {
            let staff = body.pointer("/event/comment/author/is_staff").and_then(Value::as_bool);
            let public = body.pointer("/event/comment/is_public").and_then(Value::as_bool);
            // Agents' comments (Kindly's own included) and internal notes are not the customer's.
            if staff != Some(false) || public == Some(false) {
                return Ok(ignored("ticket.comment_added by staff"));
            }
            Ok(HelpdeskEvent::CustomerReply(InboundReply {
                remote_id: required(body, "/detail/id")?,
                message_id: text(body, "/event/comment/id"),
                body: required(body, "/event/comment/body")?,
                opening: None,
            }))
        }
        other => Ok(ignored(other)),
    }
}

pub(super) fn requests(remote_id: &str, content: &ActionContent) -> Vec<HelpdeskRequest> {
    let ticket = match content {
        ActionContent::Public { body } => json!({ "comment": { "body": body, "public": true } }),
        ActionContent::Internal { body } => json!({ "comment": { "body": body, "public": false } }),
        ActionContent::Update { tags, priority: p, group } => {
            let mut t = json!({ "additional_tags": tags, "priority": p.as_str() });
            if let Some(group) = group {
                t["group_id"] = group.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(group));
            }
            t
        }
    };
    vec![HelpdeskRequest::new(
        Method::PUT,
        format!("/api/v2/tickets/{remote_id}.json"),
        json!({ "ticket": ticket }),
    )]
}
