//! Helpdesk integrations: one module per provider, each knowing its webhook signature, how its
//! payloads map to [`HelpdeskEvent`]s, and which REST calls carry Kindly's actions back.
//!
//! The route (`routes/webhooks.rs`) verifies and parses through [`verify`] and [`parse`]; the
//! outbox (`outbox.rs`) turns an [`ActionContent`] into calls through [`requests`].

mod chatwoot;
pub mod client;
mod freshdesk;
mod generic;
mod intercom;
pub mod replies;
pub mod settings;
pub mod signature;
mod zammad;
mod zendesk;

use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Utc};
use kindly_core::Priority;
use kindly_core::integration::{HelpdeskEvent, Provider};
use serde_json::Value;

pub use settings::{ConnectionSettings, IntegrationSettings, OutboxSettings, Secret};
use signature::SignatureError;

/// A verified body that does not describe what its provider documents.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(pub String);

/// Checks a delivery's signature (and timestamp, where the scheme has one).
pub fn verify(
    c: &ConnectionSettings,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
    window_secs: u64,
) -> Result<(), SignatureError> {
    let secret = c.secret.expose();
    match c.provider {
        Provider::Zendesk => zendesk::verify(headers, secret, body, now, window_secs),
        Provider::Freshdesk => freshdesk::verify(headers, secret),
        Provider::Intercom | Provider::Zammad => signature::verify_hub_sha1(headers, secret, body),
        Provider::Chatwoot => chatwoot::verify(headers, secret, body, now, window_secs),
        Provider::Generic => signature::verify_kindly(headers, secret, body, now, window_secs),
    }
}

/// The helpdesk's id of this delivery, when it sends one (retries repeat it).
pub fn delivery_id(provider: Provider, headers: &HeaderMap, body: &Value) -> Option<String> {
    let from_header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    match provider {
        Provider::Zendesk => text(body, "/id").or_else(|| from_header("x-zendesk-webhook-invocation-id")),
        Provider::Freshdesk => None,
        Provider::Intercom => text(body, "/id"),
        Provider::Zammad => from_header("x-zammad-delivery"),
        Provider::Chatwoot => from_header("x-chatwoot-delivery"),
        Provider::Generic => text(body, "/id"),
    }
    .filter(|id| !id.is_empty())
}

/// What the delivery means for Kindly.
pub fn parse(provider: Provider, body: &Value) -> Result<HelpdeskEvent, PayloadError> {
    match provider {
        Provider::Zendesk => zendesk::parse(body),
        Provider::Freshdesk => freshdesk::parse(body),
        Provider::Intercom => intercom::parse(body),
        Provider::Zammad => zammad::parse(body),
        Provider::Chatwoot => chatwoot::parse(body),
        Provider::Generic => generic::parse(body),
    }
}

/// What one outbox action says, rendered from the stored records.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionContent {
    /// A reply the customer sees (Kindly's answer, an agent's reply, the acknowledgement).
    Public { body: String },
    /// An internal note only agents see.
    Internal { body: String },
    /// Tags, priority and group of a handed-off ticket.
    Update { tags: Vec<String>, priority: Priority, group: Option<String> },
}

/// One HTTP call to a helpdesk, relative to its base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpdeskRequest {
    pub method: Method,
    pub path: String,
    pub body: Value,
}

impl HelpdeskRequest {
    fn new(method: Method, path: impl Into<String>, body: Value) -> Self {
        Self { method, path: path.into(), body }
    }
}

/// The REST calls that perform `content` on the helpdesk ticket `remote_id`.
pub fn requests(c: &ConnectionSettings, remote_id: &str, content: &ActionContent) -> Vec<HelpdeskRequest> {
    match c.provider {
        Provider::Zendesk => zendesk::requests(remote_id, content),
        Provider::Freshdesk => freshdesk::requests(remote_id, content),
        Provider::Intercom => intercom::requests(c, remote_id, content),
        Provider::Zammad => zammad::requests(remote_id, content),
        Provider::Chatwoot => chatwoot::requests(c, remote_id, content),
        Provider::Generic => generic::requests(remote_id, content),
    }
}

/// A field as text, whether the helpdesk sent a string or a number.
fn text(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(v: &Value, pointer: &str) -> Result<String, PayloadError> {
    text(v, pointer)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| PayloadError(format!("the payload has no `{}`", &pointer[1..].replace('/', "."))))
}

fn timestamp(v: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    match v.pointer(pointer)? {
        Value::String(s) => DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)),
        Value::Number(n) => n.as_i64().and_then(|s| DateTime::from_timestamp(s, 0)),
        _ => None,
    }
}

/// Helpdesks send HTML bodies (Intercom, Zammad): the models read the text.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for ch in html.chars() {
        match ch {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                let name = tag.trim_start_matches('/').split_whitespace().next().unwrap_or("").to_lowercase();
                if matches!(name.as_str(), "br" | "br/" | "p" | "div" | "li") && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ if in_tag => tag.push(ch),
            _ => out.push(ch),
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// An event Kindly does not act on.
pub fn ignored(event: impl Into<String>) -> HelpdeskEvent {
    HelpdeskEvent::Ignored { event: event.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_become_text() {
        assert_eq!(
            plain_text("<p>Where is my <b>parcel</b>?</p><p>Thanks &amp; bye</p>"),
            "Where is my parcel?\nThanks & bye"
        );
    }
}
