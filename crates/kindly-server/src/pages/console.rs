//! The agent console: the handoff queue and one ticket's page with its actions (claim, release,
//! reply and resolve). Resolving goes through `Pipeline::resolve`, like the API, so it feeds the
//! learning loop.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use kindly_core::{
    Author, Decision, Handoff, HandoffId, HandoffStatus, Message, Permission, QueueFilter, QueueStore,
    Ticket, TicketStore,
};
use serde::{Deserialize, Serialize};

use super::{CsrfForm, NoFields, PageError, minute, reason_label, render, status_label};
use crate::auth::Principal;
use crate::error::{ApiError, Path};
use crate::routes::AppState;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(queue))
        .route("/console/handoffs/{id}", get(handoff_page))
        .route("/console/handoffs/{id}/claim", post(claim))
        .route("/console/handoffs/{id}/release", post(release))
        .route("/console/handoffs/{id}/resolve", post(resolve))
}

#[derive(Debug, Deserialize, Default)]
struct QueueQuery {
    /// all | mine | unassigned | overdue
    view: Option<String>,
    reason: Option<String>,
}

#[derive(Serialize)]
struct QueueRow {
    id: String,
    subject: String,
    priority: &'static str,
    sla_due_at: String,
    overdue: bool,
    reasons: Vec<String>,
    emotion: Option<String>,
    owner: Option<String>,
    status: &'static str,
}

#[derive(Serialize)]
struct QueuePage {
    view: String,
    reason: String,
    reasons: Vec<(String, String)>,
    rows: Vec<QueueRow>,
    /// How many handoffs match the view; more than `rows` when the page is full.
    total: u64,
    /// Actions owed to helpdesks that failed every attempt (a reply a customer never got).
    undelivered: u64,
}

/// The most handoffs one queue page shows (the caption says how many more match).
const QUEUE_PAGE: u32 = 200;

const REASON_CODES: [&str; 21] = [
    "safety_or_injury",
    "legal_threat",
    "bereavement",
    "vulnerability",
    "anger_or_frustration",
    "human_requested",
    "churn_risk",
    "repeat_contact",
    "open_handoff",
    "customer_follow_up",
    "low_intent_confidence",
    "no_knowledge_match",
    "ambiguous_knowledge",
    "knowledge_intent_mismatch",
    "strong_emotion",
    "flagged_account",
    "human_only_intent",
    "multiple_questions",
    "long_text",
    "shadow_mode",
    "pipeline_failure",
];

/// The queue, most pressing first, with the filters mine / unassigned / overdue / by reason.
async fn queue(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, PageError> {
    let view = q.view.unwrap_or_else(|| "all".into());
    let reason = q.reason.filter(|r| !r.is_empty());
    let now = Utc::now();
    let filter = QueueFilter {
        status: (view == "unassigned").then_some(HandoffStatus::Open),
        agent: (view == "mine").then(|| who.name.clone()),
        reason: reason.clone(),
        priority: None,
        due_before: (view == "overdue").then_some(now),
        limit: QUEUE_PAGE,
    };
    let total = s.store.count_handoffs(&filter).await?;
    let mut rows = Vec::new();
    for h in s.store.handoffs(&filter).await? {
        let overdue = h.sla_due_at < now;
        let decision = handoff_decision(&s, &h).await?;
        rows.push(QueueRow {
            id: h.id.to_string(),
            subject: h.subject.clone().unwrap_or_else(|| "(no subject)".into()),
            priority: h.priority.as_str(),
            sla_due_at: h.sla_due_at.to_rfc3339(),
            overdue,
            reasons: h.reasons.iter().map(|r| reason_label(r.code.code())).collect(),
            emotion: decision.as_ref().and_then(strongest_emotion),
            owner: h.agent.clone(),
            status: h.status.as_str(),
        });
    }
    let reasons = REASON_CODES.iter().map(|c| ((*c).to_owned(), reason_label(c))).collect();
    let undelivered = s.store.dead_action_count().await?;
    let page = QueuePage { view, reason: reason.unwrap_or_default(), reasons, rows, total, undelivered };
    render("queue.html", &who, page)
}

/// The decision that opened this handoff: the latest one at or before its creation.
async fn handoff_decision(s: &AppState, h: &Handoff) -> Result<Option<Decision>, ApiError> {
    let decisions = s.store.decisions(h.ticket_id).await?;
    Ok(decisions
        .into_iter()
        .rev()
        .find(|d| !d.is_answer() && d.decided_at <= h.created_at + chrono::Duration::seconds(1)))
}

/// The strongest emotion over its threshold, e.g. "anger 0.82".
fn strongest_emotion(d: &Decision) -> Option<String> {
    d.evidence
        .emotions
        .iter()
        .filter(|e| e.strong())
        .max_by(|a, b| a.intensity.total_cmp(&b.intensity))
        .map(|e| format!("{} {:.2}", e.emotion.as_str(), e.intensity))
}

#[derive(Serialize)]
struct Insertable {
    title: String,
    score: String,
    kind: &'static str,
    text: String,
}

#[derive(Serialize)]
struct Health {
    /// good | watch | at_risk
    level: &'static str,
    recent_contacts: u32,
    open_handoffs: u32,
    negative_trend: bool,
}

#[derive(Serialize)]
struct HandoffPage {
    id: String,
    ticket_id: String,
    subject: String,
    status: &'static str,
    priority: &'static str,
    sla_due_at: String,
    owner: Option<String>,
    mine: bool,
    may_resolve: bool,
    customer: String,
    messages: Vec<(&'static str, String, String, String)>,
    summary: String,
    reasons: Vec<(String, String)>,
    numbers: Vec<String>,
    emotion: Option<String>,
    /// The customer's earlier tickets: (day, subject, status, intent, ticket id).
    history: Vec<(String, String, String, String, String)>,
    health: Health,
    knowledge: Vec<Insertable>,
    similar: Vec<Insertable>,
    draft: String,
    intent: String,
    /// The intents the serving model knows, offered when the agent confirms or corrects one.
    known_intents: Vec<String>,
    /// In shadow mode: the reply Kindly would have sent, for the agent to judge (and use).
    would_send: Option<String>,
    /// Why the last reply was refused; its text is then in `draft` (or `unsent`, when this
    /// person may no longer resolve the ticket), so nothing typed is lost.
    error: Option<String>,
    unsent: Option<String>,
}

async fn handoff_page(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<HandoffId>,
) -> Result<Html<String>, PageError> {
    render("handoff.html", &who, handoff_view(&s, &who, id).await?)
}

async fn handoff_view(s: &AppState, who: &Principal, id: HandoffId) -> Result<HandoffPage, PageError> {
    let h = s.store.handoff(id).await?.ok_or_else(|| ApiError::not_found(format!("handoff {id}")))?;
    let ticket = s.store.ticket(h.ticket_id).await?.ok_or_else(|| ApiError::not_found("the ticket"))?;
    let messages = conversation(&ticket, s.store.messages(h.ticket_id).await?);
    let decision = handoff_decision(s, &h).await?;
    let numbers = decision.as_ref().map(evidence_numbers).unwrap_or_default();
    let emotion = decision.as_ref().and_then(strongest_emotion);
    let recent_contacts = decision.as_ref().map_or(0, |d| d.evidence.recent_contacts);
    let open_handoffs = s.store.open_handoffs(&h.customer_id).await?;
    let negative_trend = emotion.is_some()
        || h.context
            .customer_history
            .iter()
            .filter(|t| t.status == kindly_core::TicketStatus::HandedOff)
            .count()
            >= 2;
    let concerns =
        usize::from(recent_contacts >= 2) + usize::from(open_handoffs > 1) + usize::from(negative_trend);
    let health = Health {
        level: match concerns {
            0 => "good",
            1 => "watch",
            _ => "at_risk",
        },
        recent_contacts,
        open_handoffs,
        negative_trend,
    };
    let insertable = |hits: &[kindly_core::KnowledgeHit], kind| {
        hits.iter()
            .map(|k| Insertable {
                title: k.title.clone(),
                score: format!("{:.2}", k.score),
                kind,
                text: k.answer.clone(),
            })
            .collect::<Vec<_>>()
    };
    let may_resolve = h.status != HandoffStatus::Resolved
        && h.agent.as_deref().is_none_or(|a| a == who.name || who.role.may(Permission::TakeOverClaims));
    let page = HandoffPage {
        id: h.id.to_string(),
        ticket_id: h.ticket_id.to_string(),
        subject: h.subject.clone().unwrap_or_else(|| "(no subject)".into()),
        status: h.status.as_str(),
        priority: h.priority.as_str(),
        sla_due_at: h.sla_due_at.to_rfc3339(),
        mine: h.agent.as_deref() == Some(who.name.as_str()),
        owner: h.agent.clone(),
        may_resolve,
        customer: ticket.customer.name.clone().unwrap_or_else(|| ticket.customer.id.clone()),
        messages,
        summary: decision.as_ref().map(|d| d.summary.clone()).unwrap_or_default(),
        reasons: h.reasons.iter().map(|r| (reason_label(r.code.code()), r.detail.clone())).collect(),
        numbers,
        emotion,
        history: h
            .context
            .customer_history
            .iter()
            .map(|t| {
                (
                    t.created_at.format("%Y-%m-%d").to_string(),
                    t.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                    status_label(t.status),
                    t.intent.clone().unwrap_or_default(),
                    t.id.to_string(),
                )
            })
            .collect(),
        health,
        knowledge: insertable(&h.context.knowledge, "knowledge"),
        similar: insertable(&h.context.similar_resolutions, "resolved case"),
        draft: h.context.draft.clone().unwrap_or_default(),
        intent: h.intent.clone().unwrap_or_default(),
        known_intents: s.pipeline.intent_models().current().record().labels.clone(),
        would_send: decision.as_ref().and_then(|d| d.evidence.shadow.as_ref()).and_then(|s| s.reply.clone()),
        error: None,
        unsent: None,
    };
    Ok(page)
}

/// The conversation as (who wrote it: customer | kindly | agent, their name, time, text): the
/// ticket's own text opens it; stored messages are what came after.
pub(super) fn conversation(
    ticket: &Ticket,
    later: Vec<Message>,
) -> Vec<(&'static str, String, String, String)> {
    let opening = (
        Author::Customer.as_str(),
        ticket.customer.name.clone().unwrap_or_else(|| "customer".into()),
        minute(ticket.created_at),
        ticket.text(),
    );
    let later = later.into_iter().map(|m| {
        let name = m.author_name.clone().unwrap_or_else(|| m.author.as_str().to_owned());
        (m.author.as_str(), name, minute(m.created_at), m.body)
    });
    std::iter::once(opening).chain(later).collect()
}

/// The decision's numbers in plain words: intent confidence against its threshold, the best
/// knowledge score against the knowledge threshold, and what was measured about the customer.
pub(super) fn evidence_numbers(d: &Decision) -> Vec<String> {
    let e = &d.evidence;
    let mut lines = Vec::new();
    if let Some(intent) = &e.intent {
        lines.push(format!(
            "Intent \"{}\" with confidence {:.2} (Kindly answers from {:.2}).",
            intent.intent, intent.confidence, e.intent_threshold
        ));
    }
    match e.knowledge.first() {
        Some(k) => lines.push(format!(
            "Closest knowledge \"{}\" scored {:.2} (an answer needs {:.2}).",
            k.title, k.score, e.knowledge_threshold
        )),
        None => lines.push("No knowledge matched at all.".to_owned()),
    }
    for s in e.sensitivity.iter().filter(|s| s.score >= s.threshold) {
        lines.push(format!(
            "Sensitive topic {:?}: {:.2} (threshold {:.2}).",
            s.category, s.score, s.threshold
        ));
    }
    for em in e.emotions.iter().filter(|em| em.strong()) {
        lines.push(format!("Emotion {}: intensity {:.2}.", em.emotion.as_str(), em.intensity));
    }
    if e.recent_contacts > 0 {
        lines.push(match e.recent_contacts {
            1 => "The customer wrote once more recently.".to_owned(),
            n => format!("The customer wrote {n} other times recently."),
        });
    }
    lines
}

async fn claim(
    State(s): State<Arc<AppState>>,
    Path(id): Path<HandoffId>,
    CsrfForm(who, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    who.require(Permission::WorkQueue)?;
    s.store.claim(id, &who.name, Utc::now()).await?;
    Ok(Redirect::to(&format!("/console/handoffs/{id}")))
}

async fn release(
    State(s): State<Arc<AppState>>,
    Path(id): Path<HandoffId>,
    CsrfForm(who, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    who.require(Permission::WorkQueue)?;
    s.store.release(id, &who.name).await?;
    Ok(Redirect::to("/console"))
}

#[derive(Deserialize)]
struct ResolveForm {
    reply: String,
    /// A checkbox: present ("on") when ticked.
    reusable: Option<String>,
    intent: Option<String>,
}

/// Replies and resolves, as the claimer (an admin may finish a colleague's claim). A refused
/// reply (someone else claimed the ticket meanwhile, it was already resolved…) shows the ticket
/// again with the reason and the reply as typed.
async fn resolve(
    State(s): State<Arc<AppState>>,
    Path(id): Path<HandoffId>,
    CsrfForm(who, form): CsrfForm<ResolveForm>,
) -> Result<Response, PageError> {
    who.require(Permission::WorkQueue)?;
    // Browsers send a textarea's line breaks as CRLF; the reply is stored with plain newlines.
    let reply = form.reply.replace("\r\n", "\n");
    let intent = form.intent.as_deref().map(str::trim).filter(|i| !i.is_empty());
    let resolved = async {
        let h = s.store.handoff(id).await?.ok_or_else(|| ApiError::not_found(format!("handoff {id}")))?;
        let agent = match h.agent {
            Some(owner) if owner != who.name => {
                who.require(Permission::TakeOverClaims).map_err(|_| {
                    ApiError::new(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        format!("{owner} has claimed this ticket"),
                    )
                })?;
                owner
            }
            _ => who.name.clone(),
        };
        s.pipeline.resolve(id, &agent, &reply, form.reusable.is_some(), intent).await.map_err(ApiError::from)
    };
    let e = match resolved.await {
        Ok(_) => return Ok(Redirect::to("/console?resolved=1").into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => e,
        Err(e) => return Err(e.into()),
    };
    let mut page = handoff_view(&s, &who, id).await?;
    page.error = Some(e.message);
    if page.may_resolve {
        page.draft = reply;
        page.intent = intent.unwrap_or_default().to_owned();
    } else {
        page.unsent = Some(reply);
    }
    Ok((e.status, render("handoff.html", &who, page)?).into_response())
}
