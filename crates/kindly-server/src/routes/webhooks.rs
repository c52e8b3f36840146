//! `POST /v1/webhooks/{connection}`: a configured helpdesk's deliveries. Verified (signature,
//! replay window), parsed into a new ticket or a customer's reply, persisted (idempotent on the
//! delivery) before the 2xx, and handed to the same intake and follow-up paths as `/v1/tickets`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kindly_core::integration::{HelpdeskEvent, InboundReply, InboundTicket, IntegrationStore};
use kindly_core::{NewTicket, TicketStore, ticket};
use serde_json::{Value, json};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, Routes, State, tickets};
use crate::error::{ApiError, ErrorBody, Json, Path};
use crate::integrations::signature::SignatureError;
use crate::integrations::{self, ConnectionSettings, replies};

pub(super) fn router() -> Routes {
    OpenApiRouter::new().routes(routes!(receive))
}

/// One delivery being handled.
struct Delivery<'a> {
    s: &'a AppState,
    connection: &'a str,
    provider: &'static str,
    key: String,
    now: DateTime<Utc>,
}

/// A helpdesk's webhook delivery.
///
/// For a connection configured under `integrations.connections` (Zendesk, Freshdesk, Intercom,
/// Zammad, Chatwoot or generic): its signature and replay window are checked, then a new ticket
/// or a customer's reply is stored, idempotently on the delivery, before the 2xx. The body is the
/// helpdesk's own payload; events Kindly has no use for are acknowledged and ignored.
#[utoipa::path(post, path = "/v1/webhooks/{connection}", tag = "integrations", security(()),
    params(("connection" = String, Path, description = "The connection's name in the configuration")),
    request_body(content = Object, description = "The helpdesk's payload, signed as that helpdesk signs it"),
    responses(
    (status = 202, description = "A new ticket or reply was stored", body = Object),
    (status = 200, description = "A duplicate delivery, or an event that is ignored", body = Object),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 401, description = "The signature is missing, wrong, or outside the replay window", body = ErrorBody),
    (status = 404, description = "No such connection", body = ErrorBody),
    (status = 422, description = "The payload lacks what the helpdesk's format requires", body = ErrorBody),
    (status = 429, description = "The triage backlog is full: retry after `Retry-After`", body = ErrorBody),
))]
async fn receive(
    axum::extract::State(s): State,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let connection: &ConnectionSettings = s
        .settings
        .integrations
        .connections
        .get(&name)
        .ok_or_else(|| ApiError::not_found(format!("connection `{name}`")))?;
    let provider = connection.provider.as_str();
    let body = body.map_err(|r| ApiError::new(r.status(), "invalid_body", r.body_text()))?;
    let now = Utc::now();
    integrations::verify(connection, &headers, &body, now, s.settings.integrations.replay_window_secs)
        .map_err(|e| refused(provider, e))?;
    let value: Value = serde_json::from_slice(&body).map_err(|_| {
        counted(provider, "invalid");
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "the body is not valid JSON (or not UTF-8)")
    })?;
    let event = integrations::parse(connection.provider, &value).map_err(|e| {
        counted(provider, "invalid");
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload", e.to_string())
    })?;
    let key = integrations::delivery_id(connection.provider, &headers, &value)
        .unwrap_or_else(|| event.natural_key());
    let delivery = Delivery { s: &s, connection: &name, provider, key, now };
    match event {
        HelpdeskEvent::Ignored { event } => Ok(delivery.ignored(&event)),
        HelpdeskEvent::NewTicket(t) => delivery.new_ticket(t).await,
        HelpdeskEvent::CustomerReply(r) => delivery.reply(r).await,
    }
}

fn counted(provider: &'static str, outcome: &'static str) {
    metrics::counter!("kindly_webhooks_total", "provider" => provider, "outcome" => outcome).increment(1);
}

fn refused(provider: &'static str, e: SignatureError) -> ApiError {
    counted(provider, "refused");
    tracing::warn!(provider, reason = %e, "refused a webhook delivery");
    let code = match e {
        SignatureError::Expired(_) => "expired_timestamp",
        SignatureError::Missing(_) | SignatureError::Mismatch => "invalid_signature",
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, e.to_string())
}

impl Delivery<'_> {
    fn ignored(&self, event: &str) -> Response {
        counted(self.provider, "ignored");
        (StatusCode::OK, Json(json!({ "status": "ignored", "event": event }))).into_response()
    }

    fn duplicate(&self, ticket: kindly_core::TicketId) -> Response {
        counted(self.provider, "duplicate");
        (StatusCode::OK, Json(json!({ "status": "duplicate", "ticket_id": ticket }))).into_response()
    }

    /// The intake of `POST /v1/tickets`, with the delivery and the helpdesk link in its
    /// transaction.
    async fn new_ticket(&self, t: InboundTicket) -> Result<Response, ApiError> {
        let ticket = NewTicket::validate(
            &format!("{}:{}", self.connection, t.remote_id),
            t.customer,
            t.subject.as_deref(),
            &t.body,
            Some(self.provider),
            t.created_at,
            self.now,
        )?;
        tickets::check_backlog(self.s).await?;
        let accepted = self
            .s
            .store
            .accept_ticket_delivery(self.connection, &self.key, &t.remote_id, &ticket, self.now)
            .await?;
        if accepted.duplicate {
            return Ok(self.duplicate(accepted.ticket_id));
        }
        if accepted.created {
            metrics::counter!("kindly_tickets_received_total").increment(1);
            self.s.nudge.notify_one();
        }
        counted(self.provider, "accepted");
        let body =
            json!({ "status": "accepted", "ticket_id": accepted.ticket_id, "created": accepted.created });
        Ok((StatusCode::ACCEPTED, Json(body)).into_response())
    }

    /// The follow-up of `POST /v1/tickets/{id}/messages`, after the delivery is stored.
    async fn reply(&self, r: InboundReply) -> Result<Response, ApiError> {
        let Some(id) = self.s.store.linked_ticket(self.connection, &r.remote_id).await? else {
            return match r.opening {
                Some(opening) => self.new_ticket(*opening).await,
                None => Ok(self.ignored("reply on a ticket Kindly has not seen")),
            };
        };
        let body = ticket::required_text("body", &r.body)?;
        // The message that opened the ticket, again: Chatwoot repeating a delivery, or a
        // helpdesk announcing the opening message as a comment too.
        if let Some(t) = self.s.store.ticket(id).await?
            && t.body.trim() == body.trim()
        {
            return Ok(self.duplicate(id));
        }
        if !self.s.store.accept_reply_delivery(self.connection, &self.key, id, &body, self.now).await? {
            return Ok(self.duplicate(id));
        }
        counted(self.provider, "accepted");
        let applied =
            replies::apply(&self.s.pipeline, &self.s.store, self.connection, &self.key, id, &body).await;
        let body = match applied {
            Ok(done) => json!({ "status": "accepted", "ticket_id": id, "reopened": done.reopened }),
            Err(e) => {
                // Stored: the outbox worker's sweep applies it again shortly.
                tracing::warn!(ticket = %id, error = %e, "a customer reply is pending");
                json!({ "status": "accepted", "ticket_id": id, "pending": true })
            }
        };
        Ok((StatusCode::ACCEPTED, Json(body)).into_response())
    }
}
