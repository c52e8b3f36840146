//! The REST client every provider shares: base URL, the provider's authentication, an
//! `Idempotency-Key` on every call, and the generic callback's signature.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Utc;
use kindly_core::integration::{ActionKind, Provider};

use super::{ConnectionSettings, HelpdeskRequest, signature};

/// Why a call failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Timeouts, refused connections, 5xx, 408, 409 and 429.
    #[error("{0}")]
    Transient(String),
    /// Other 4xx: credentials, a deleted ticket, a payload the helpdesk refuses.
    #[error("{0}")]
    Permanent(String),
}

#[derive(Debug, Clone)]
pub struct HelpdeskClient {
    http: reqwest::Client,
}

impl HelpdeskClient {
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("kindly/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client's settings are valid");
        Self { http }
    }

    /// Sends one call. `key` is the action's idempotency key; an action made of several calls
    /// (`part` > 0) gives each its own.
    pub async fn send(
        &self,
        c: &ConnectionSettings,
        kind: ActionKind,
        key: &str,
        part: usize,
        request: &HelpdeskRequest,
    ) -> Result<(), CallError> {
        let key = if part == 0 { key.to_owned() } else { format!("{key}-{part}") };
        let url = format!("{}{}", c.base_url.trim_end_matches('/'), request.path);
        let mut body = request.body.clone();
        if c.provider == Provider::Generic {
            body["action"] = kind.as_str().into();
            body["idempotency_key"] = key.clone().into();
        }
        let bytes = serde_json::to_vec(&body).map_err(|e| CallError::Permanent(e.to_string()))?;
        let token = c.api_token.as_ref().map(|t| t.expose()).unwrap_or_default();
        let mut call = self
            .http
            .request(request.method.clone(), &url)
            .header("content-type", "application/json")
            .header("idempotency-key", &key);
        call = match c.provider {
            Provider::Zendesk => {
                let user = c.api_user.as_deref().unwrap_or_default();
                call.header(
                    "authorization",
                    format!("Basic {}", BASE64.encode(format!("{user}/token:{token}"))),
                )
            }
            Provider::Freshdesk => {
                call.header("authorization", format!("Basic {}", BASE64.encode(format!("{token}:X"))))
            }
            Provider::Intercom => call.bearer_auth(token).header("intercom-version", "2.11"),
            Provider::Zammad => call.header("authorization", format!("Token token={token}")),
            Provider::Chatwoot => call.header("api_access_token", token),
            Provider::Generic => call.header(
                "x-kindly-signature",
                signature::kindly_signature(c.secret.expose(), &bytes, Utc::now()),
            ),
        };
        let response = call.body(bytes).send().await.map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            CallError::Transient(format!("{} {} {what}", request.method, request.path))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The body is not kept: a helpdesk's error may quote customer data.
        let message = format!("{} {} answered {status}", request.method, request.path);
        if status.is_server_error() || matches!(status.as_u16(), 408 | 409 | 429) {
            Err(CallError::Transient(message))
        } else {
            Err(CallError::Permanent(message))
        }
    }
}
