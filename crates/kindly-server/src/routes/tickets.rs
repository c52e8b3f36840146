//! `/v1/tickets`: generic intake, the list of tickets with their decisions, follow-ups, and a
//! ticket's full story.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use kindly_core::integration::{IntegrationStore, OutboxAction};
use kindly_core::{
    Customer, Decision, Handoff, Message, NewTicket, QueueStore, ShadowFilter, Ticket, TicketFilter,
    TicketId, TicketListing, TicketStatus, TicketStore,
};
use serde::{Deserialize, Serialize};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, Routes, State};
use crate::error::{ApiError, ErrorBody, Json, Path, Query};

pub(super) fn router() -> Routes {
    OpenApiRouter::new().routes(routes!(intake, list)).routes(routes!(show)).routes(routes!(follow_up))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Intake {
    /// The helpdesk's id for the ticket: sending it again stores nothing new.
    #[schema(example = "zd-48213")]
    external_id: String,
    customer: CustomerIn,
    subject: Option<String>,
    /// What the customer wrote.
    #[schema(example = "Where is my parcel? I ordered a Lumo Air last week.")]
    body: String,
    /// Where it came from, e.g. `email` or `chat`.
    channel: Option<String>,
    /// When the customer wrote it (default: now).
    created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CustomerIn {
    /// The helpdesk's id for the customer: their history is found by it.
    id: String,
    email: Option<String>,
    name: Option<String>,
    /// A flagged account always goes to a person. Omitted: the flag stored before is kept.
    flagged: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Accepted {
    id: TicketId,
    status: kindly_core::TicketStatus,
    /// True when this external id had been accepted before (nothing new was stored).
    duplicate: bool,
}

/// Takes a ticket in for triage.
///
/// Validates it, stores it durably before answering, and queues it. The same `external_id` again
/// stores nothing new.
#[utoipa::path(post, path = "/v1/tickets", tag = "tickets", request_body = Intake, responses(
    (status = 202, description = "Accepted and queued for triage", body = Accepted),
    (status = 200, description = "A duplicate of a ticket accepted before", body = Accepted),
    (status = 422, description = "A field is missing, empty, of the wrong type or unknown", body = ErrorBody),
    (status = 429, description = "The triage backlog is full: retry after `Retry-After`", body = ErrorBody),
))]
async fn intake(
    axum::extract::State(s): State,
    Json(req): Json<Intake>,
) -> Result<impl IntoResponse, ApiError> {
    let customer = Customer {
        id: req.customer.id,
        email: req.customer.email,
        name: req.customer.name,
        flagged: req.customer.flagged,
    };
    let now = Utc::now();
    let ticket = NewTicket::validate(
        &req.external_id,
        customer,
        req.subject.as_deref(),
        &req.body,
        req.channel.as_deref(),
        req.created_at,
        now,
    )?;
    check_backlog(&s).await?;
    let inserted = s.store.insert_ticket(&ticket, now).await?;
    if inserted.created {
        metrics::counter!("kindly_tickets_received_total").increment(1);
        s.nudge.notify_one();
    }
    let status = if inserted.created { StatusCode::ACCEPTED } else { StatusCode::OK };
    let body =
        Accepted { id: inserted.ticket.id, status: inserted.ticket.status, duplicate: !inserted.created };
    Ok((status, Json(body)))
}

/// A full triage backlog answers 429 with `Retry-After` (plain intake and webhooks alike).
pub(super) async fn check_backlog(s: &AppState) -> Result<(), ApiError> {
    let backlog = s.store.backlog().await?;
    if backlog >= s.settings.worker.max_backlog {
        metrics::counter!("kindly_intake_refused_total", "reason" => "backlog_full").increment(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "backlog_full",
            format!("{backlog} tickets are waiting for triage; retry shortly"),
        ));
    }
    Ok(())
}

/// The ticket list's query (`GET /v1/tickets`, and without paging `GET /v1/tickets.csv`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// received | answered | handed_off | resolved
    status: Option<TicketStatus>,
    /// The ticket's intent: as triage predicted it, or as a person corrected it.
    intent: Option<String>,
    /// The intent the latest decision predicted, whatever a person made of it since.
    predicted_intent: Option<String>,
    /// The customer's id, as the helpdesk sent it.
    customer: Option<String>,
    /// Words, all of which the ticket or what was written after it contains.
    q: Option<String>,
    /// Shadow mode: would_answer | would_hand_off | confirmed | corrected (by the latest decision).
    shadow: Option<ShadowFilter>,
    /// A ticket id: only tickets that arrived before it (the next page).
    pub(super) before: Option<TicketId>,
    /// At most this many (default 100, at most 1000).
    pub(super) limit: Option<u32>,
}

impl ListQuery {
    /// The filter asked for, unchecked (see [`ticket_filter`]); 100 tickets unless told.
    pub(super) fn into_filter(self) -> TicketFilter {
        TicketFilter {
            status: self.status,
            intent: self.intent,
            predicted_intent: self.predicted_intent,
            customer_id: self.customer,
            text: self.q,
            shadow: self.shadow,
            before: self.before,
            limit: self.limit.unwrap_or(100),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct TicketList {
    tickets: Vec<TicketListing>,
    /// How many tickets match the filters, whatever the limit and `before`.
    total: u64,
    /// Pass as `before` for the next page; `null` on a page that is not full.
    next_before: Option<TicketId>,
}

/// Every ticket, newest first.
///
/// Each with the gist of its latest decision: what Kindly answered and handed off, and why.
/// Blank filters are no filters.
#[utoipa::path(get, path = "/v1/tickets", tag = "tickets", params(ListQuery), responses(
    (status = 200, description = "A page of tickets", body = TicketList),
    (status = 400, description = "A filter's value is wrong, or `before` names no ticket", body = ErrorBody),
))]
async fn list(
    axum::extract::State(s): State,
    Query(q): Query<ListQuery>,
) -> Result<Json<TicketList>, ApiError> {
    let filter = ticket_filter(&s, q.into_filter()).await?;
    let tickets = s.store.tickets(&filter).await?;
    let next_before =
        (tickets.len() as u32 == filter.limit).then(|| tickets.last().map(|t| t.ticket.id)).flatten();
    Ok(Json(TicketList { total: s.store.count_tickets(&filter).await?, tickets, next_before }))
}

/// A ticket list's filter, checked: blank filters are no filters, the limit is 1 to 1000, and
/// `before` must name a ticket.
pub(crate) async fn ticket_filter(s: &AppState, asked: TicketFilter) -> Result<TicketFilter, ApiError> {
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(id) = asked.before
        && s.store.ticket(id).await?.is_none()
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("before: there is no ticket {id}"),
        ));
    }
    Ok(TicketFilter {
        intent: given(asked.intent),
        predicted_intent: given(asked.predicted_intent),
        customer_id: given(asked.customer_id),
        text: given(asked.text),
        limit: asked.limit.clamp(1, 1000),
        ..asked
    })
}

#[derive(Serialize, utoipa::ToSchema)]
struct TicketView {
    #[serde(flatten)]
    ticket: Ticket,
    /// The triage decision (the first one), with its reasons and evidence.
    decision: Option<Decision>,
    /// Every decision, oldest first (a follow-up that reopened the ticket adds one).
    decisions: Vec<Decision>,
    /// Kindly's automatic answer, when it answered.
    answer: Option<Message>,
    messages: Vec<Message>,
    handoffs: Vec<Handoff>,
    /// What Kindly owes the helpdesk the ticket came from (replies, notes, updates,
    /// acknowledgements), oldest first, each with its delivery state.
    deliveries: Vec<OutboxAction>,
}

/// A ticket's whole story.
///
/// Its decisions with their rule, reasons, scores and evidence, the answer, every message, its
/// handoffs, and what Kindly owes the helpdesk it came from.
#[utoipa::path(get, path = "/v1/tickets/{id}", tag = "tickets", params(("id" = TicketId, Path)), responses(
    (status = 200, description = "The ticket", body = TicketView),
    (status = 404, description = "No such ticket", body = ErrorBody),
))]
async fn show(
    axum::extract::State(s): State,
    Path(id): Path<TicketId>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = s.store.ticket(id).await?.ok_or_else(|| ApiError::not_found(format!("ticket {id}")))?;
    let decisions = s.store.decisions(id).await?;
    let messages = s.store.messages(id).await?;
    let answer = messages.iter().find(|m| m.author == kindly_core::Author::Kindly).cloned();
    let handoffs = s.store.ticket_handoffs(id).await?;
    let deliveries = s.store.ticket_actions(id).await?;
    Ok(Json(TicketView {
        deliveries,
        decision: decisions.first().cloned(),
        decisions,
        answer,
        messages,
        handoffs,
        ticket,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FollowUpIn {
    body: String,
}

/// The customer wrote again.
///
/// An answered or resolved ticket reopens to a person.
#[utoipa::path(post, path = "/v1/tickets/{id}/messages", tag = "tickets", params(("id" = TicketId, Path)),
    request_body = FollowUpIn, responses(
    (status = 201, description = "The message, and whether the ticket went (back) to a person", body = kindly_pipeline::FollowUp),
    (status = 404, description = "No such ticket", body = ErrorBody),
    (status = 422, description = "The body is missing or empty", body = ErrorBody),
))]
async fn follow_up(
    axum::extract::State(s): State,
    Path(id): Path<TicketId>,
    Json(req): Json<FollowUpIn>,
) -> Result<impl IntoResponse, ApiError> {
    let done = s.pipeline.follow_up(id, &req.body).await?;
    Ok((StatusCode::CREATED, Json(done)))
}
