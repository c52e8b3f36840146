//! Tickets (`/tickets`): every ticket, newest first, with what Kindly decided and why, so that a
//! team can read what was answered automatically (or, in shadow mode, would have been) and not
//! only what came to a person. One ticket's page (`/tickets/{id}`) shows the conversation, each
//! decision explained with its numbers and evidence, the handoffs it opened, and what was sent to
//! its helpdesk (a dead action can be sent again from there). The same store calls as
//! `GET /v1/tickets` and `GET /v1/tickets/{id}`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use kindly_core::integration::IntegrationStore;
use kindly_core::{
    Decision, Outcome, Permission, QueueStore, ShadowFilter, TicketFilter, TicketId, TicketStatus,
    TicketStore,
};
use serde::{Deserialize, Serialize};

use super::console::{conversation, evidence_numbers};
use super::deliveries;
use super::{PageError, count_of, minute, opening_words, reason_label, render, status_label};
use crate::auth::Principal;
use crate::error::{ApiError, Path};
use crate::routes::AppState;

/// How many tickets one page lists.
const SHOWN: u32 = 100;

const STATUSES: [TicketStatus; 4] =
    [TicketStatus::Received, TicketStatus::Answered, TicketStatus::HandedOff, TicketStatus::Resolved];

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/tickets", get(list)).route("/tickets/{id}", get(show))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    intent: Option<String>,
    predicted_intent: Option<String>,
    customer: Option<String>,
    q: Option<String>,
    shadow: Option<String>,
    before: Option<String>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    received: String,
    customer: String,
    /// The subject, or the start of the text without one.
    title: String,
    status: &'static str,
    intent: String,
    summary: String,
}

#[derive(Serialize)]
struct ListPage {
    /// (status, label, count) for every status.
    counts: Vec<(&'static str, String, u64)>,
    status: Option<&'static str>,
    intent: String,
    /// The intent the latest decision predicted.
    predicted: String,
    customer: String,
    /// The words searched for.
    words: String,
    /// Whether to offer the shadow-mode filter: shadow mode is on, or the filter is in use.
    shadow_filters: bool,
    /// (value, label, chosen) of each shadow-mode filter.
    shadow_choices: Vec<(&'static str, &'static str, bool)>,
    /// The chosen shadow-mode filter, in words.
    shadow: Option<&'static str>,
    total: u64,
    /// Whether this is a later page (`before` given).
    later: bool,
    rows: Vec<Row>,
    /// The `before` of the next page, when this one is full.
    next: Option<String>,
    /// The query string of the filters, to carry over to the next page and the export.
    filters: String,
    /// The most tickets one CSV export holds.
    export_limit: String,
}

/// A shadow-mode filter in words.
fn shadow_label(f: ShadowFilter) -> &'static str {
    match f {
        ShadowFilter::WouldAnswer => "Kindly would have answered",
        ShadowFilter::WouldHandOff => "Kindly would have handed off too",
        ShadowFilter::Confirmed => "would have answered, and the person agreed on the intent",
        ShadowFilter::Corrected => "would have answered, but the person gave another intent",
    }
}

fn bad_query(message: String) -> PageError {
    PageError::from(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message))
}

/// An optional choice among fixed values: blank is no choice; anything else must be one of them.
fn choice<T>(
    name: &str,
    given: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, PageError> {
    match given.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .ok_or_else(|| bad_query(format!("{name}: expected one of {expected}, not {v:?}"))),
    }
}

async fn list(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    who.require(Permission::Read)?;
    let status = choice(
        "status",
        q.status.as_deref(),
        TicketStatus::parse,
        "received, answered, handed_off or resolved",
    )?;
    let before = match q.before.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => {
            Some(v.parse::<TicketId>().map_err(|_| bad_query(format!("before: {v:?} is not a ticket id")))?)
        }
    };
    let shadow = choice(
        "shadow",
        q.shadow.as_deref(),
        ShadowFilter::parse,
        "would_answer, would_hand_off, confirmed or corrected",
    )?;
    let asked = TicketFilter {
        status,
        intent: q.intent,
        predicted_intent: q.predicted_intent,
        customer_id: q.customer,
        text: q.q,
        shadow,
        before,
        limit: SHOWN,
    };
    let filter = crate::routes::tickets::ticket_filter(&s, asked).await?;
    let stored = s.store.ticket_counts().await?;
    let counts = STATUSES.map(|st| (st.as_str(), status_label(st), count_of(&stored, &st))).to_vec();
    let total = s.store.count_tickets(&filter).await?;
    let listed = s.store.tickets(&filter).await?;
    let next =
        (listed.len() as u32 == SHOWN).then(|| listed.last().map(|t| t.ticket.id.to_string())).flatten();
    let rows = listed
        .into_iter()
        .map(|l| Row {
            id: l.ticket.id.to_string(),
            received: minute(l.ticket.received_at),
            customer: l.ticket.customer.name.clone().unwrap_or_else(|| l.ticket.customer.id.clone()),
            title: l.ticket.subject.clone().unwrap_or_else(|| opening_words(&l.ticket.body, 80)),
            status: l.ticket.status.as_str(),
            intent: l.ticket.intent.clone().unwrap_or_default(),
            summary: l.decision.map(|d| d.summary).unwrap_or_default(),
        })
        .collect();
    let intent = filter.intent.clone().unwrap_or_default();
    let predicted = filter.predicted_intent.clone().unwrap_or_default();
    let customer = filter.customer_id.clone().unwrap_or_default();
    let words = filter.text.clone().unwrap_or_default();
    // The filters in use, blank ones left out: shorter links to the next page and the export.
    let filters = serde_urlencoded::to_string(
        [
            ("status", filter.status.map_or("", TicketStatus::as_str)),
            ("intent", intent.as_str()),
            ("predicted_intent", predicted.as_str()),
            ("customer", customer.as_str()),
            ("q", words.as_str()),
            ("shadow", filter.shadow.map_or("", ShadowFilter::as_str)),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let page = ListPage {
        counts,
        status: filter.status.map(TicketStatus::as_str),
        intent,
        predicted,
        customer,
        words,
        shadow_filters: s.pipeline.settings().shadow_mode || filter.shadow.is_some(),
        shadow_choices: ShadowFilter::ALL
            .map(|f| (f.as_str(), shadow_label(f), filter.shadow == Some(f)))
            .to_vec(),
        shadow: filter.shadow.map(shadow_label),
        total,
        later: before.is_some(),
        rows,
        next,
        filters,
        export_limit: crate::routes::export_limit_in_words(),
    };
    render("tickets.html", &who, page)
}

#[derive(Serialize)]
struct DecisionView {
    answered: bool,
    rule: String,
    summary: String,
    decided: String,
    reasons: Vec<(String, String)>,
    numbers: Vec<String>,
    /// The closest knowledge: (reference, title, score, the text that matched).
    knowledge: Vec<(String, String, String, String)>,
    /// What answered it, when it answered: "article kb-001".
    answered_from: Option<String>,
    /// In shadow mode: what it would have answered from, and the reply it would have sent.
    would_answer_from: Option<String>,
    would_send: Option<String>,
}

fn decision_view(d: &Decision) -> DecisionView {
    DecisionView {
        answered: d.is_answer(),
        rule: d.rule.clone(),
        summary: d.summary.clone(),
        decided: d.decided_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        reasons: d.reasons.iter().map(|r| (reason_label(r.code.code()), r.detail.clone())).collect(),
        numbers: evidence_numbers(d),
        knowledge: d
            .evidence
            .knowledge
            .iter()
            .map(|k| {
                (
                    k.reference.to_string(),
                    k.title.clone(),
                    format!("{:.2}", k.score),
                    opening_words(&k.matched, 160),
                )
            })
            .collect(),
        answered_from: match &d.outcome {
            Outcome::Answer { knowledge } => Some(knowledge.to_string()),
            Outcome::Handoff { .. } => None,
        },
        would_answer_from: d
            .evidence
            .shadow
            .as_ref()
            .and_then(|s| s.would_answer.as_ref())
            .map(|k| k.to_string()),
        would_send: d.evidence.shadow.as_ref().and_then(|s| s.reply.clone()),
    }
}

#[derive(Serialize)]
struct TicketPage {
    id: String,
    external_id: String,
    subject: String,
    status: String,
    channel: String,
    received: String,
    customer: String,
    customer_id: String,
    /// The list of this customer's tickets.
    customer_tickets: String,
    email: String,
    intent: String,
    messages: Vec<(&'static str, String, String, String)>,
    decisions: Vec<DecisionView>,
    /// (handoff id, status, owner, priority)
    handoffs: Vec<(String, &'static str, String, &'static str)>,
    /// What was sent to the helpdesk the ticket came from, and whether it arrived.
    deliveries: Vec<deliveries::Row>,
    /// The action just sent again from this page.
    retried: Option<i64>,
}

#[derive(Deserialize)]
struct ShowQuery {
    retried: Option<i64>,
}

async fn show(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<TicketId>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, PageError> {
    who.require(Permission::Read)?;
    let ticket = s.store.ticket(id).await?.ok_or_else(|| ApiError::not_found(format!("ticket {id}")))?;
    let decisions = s.store.decisions(id).await?;
    let handoffs = s.store.ticket_handoffs(id).await?;
    let page = TicketPage {
        id: id.to_string(),
        external_id: ticket.external_id.clone(),
        subject: ticket.subject.clone().unwrap_or_else(|| opening_words(&ticket.body, 80)),
        status: status_label(ticket.status),
        channel: ticket.channel.clone(),
        received: minute(ticket.received_at),
        customer: ticket.customer.name.clone().unwrap_or_else(|| ticket.customer.id.clone()),
        customer_id: ticket.customer.id.clone(),
        customer_tickets: format!(
            "/tickets?{}",
            serde_urlencoded::to_string([("customer", ticket.customer.id.as_str())]).unwrap_or_default()
        ),
        email: ticket.customer.email.clone().unwrap_or_default(),
        intent: ticket.intent.clone().unwrap_or_default(),
        messages: conversation(&ticket, s.store.messages(id).await?),
        decisions: decisions.iter().map(decision_view).collect(),
        handoffs: handoffs
            .iter()
            .map(|h| {
                (
                    h.id.to_string(),
                    h.status.as_str(),
                    h.agent.clone().unwrap_or_default(),
                    h.priority.as_str(),
                )
            })
            .collect(),
        deliveries: s.store.ticket_actions(id).await?.into_iter().map(deliveries::Row::from).collect(),
        retried: q.retried,
    };
    render("ticket.html", &who, page)
}
