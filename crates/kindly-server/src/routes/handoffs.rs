//! `/v1/handoffs`: the human queue — list, show, claim, release, resolve.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use chrono::Utc;
use kindly_core::{Handoff, HandoffId, HandoffStatus, Priority, QueueFilter, QueueStore, Resolution, ticket};
use serde::{Deserialize, Serialize};

use super::{AppState, State};
use crate::auth::Principal;
use crate::error::{ApiError, Json, Path, Query};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/handoffs", get(list))
        .route("/v1/handoffs/{id}", get(show))
        .route("/v1/handoffs/{id}/claim", post(claim))
        .route("/v1/handoffs/{id}/release", post(release))
        .route("/v1/handoffs/{id}/resolve", post(resolve))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// open | claimed | resolved (default: open and claimed)
    status: Option<HandoffStatus>,
    agent: Option<String>,
    /// A reason code, e.g. `bereavement`.
    reason: Option<String>,
    priority: Option<Priority>,
    /// `true`: only handoffs past their SLA.
    #[serde(default)]
    overdue: bool,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct HandoffList {
    handoffs: Vec<Handoff>,
    /// How many handoffs match the filters, whatever the limit.
    total: u64,
}

/// The queue, most pressing first: by priority, then SLA due time.
async fn list(
    axum::extract::State(s): State,
    Query(q): Query<ListQuery>,
) -> Result<Json<HandoffList>, ApiError> {
    let filter = QueueFilter {
        status: q.status,
        agent: q.agent,
        reason: q.reason,
        priority: q.priority,
        due_before: q.overdue.then(Utc::now),
        limit: q.limit.unwrap_or(100),
    };
    let total = s.store.count_handoffs(&filter).await?;
    Ok(Json(HandoffList { handoffs: s.store.handoffs(&filter).await?, total }))
}

async fn show(axum::extract::State(s): State, Path(id): Path<HandoffId>) -> Result<Json<Handoff>, ApiError> {
    let handoff = s.store.handoff(id).await?.ok_or_else(|| ApiError::not_found(format!("handoff {id}")))?;
    Ok(Json(handoff))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimIn {
    agent: String,
}

async fn claim(
    axum::extract::State(s): State,
    who: Principal,
    Path(id): Path<HandoffId>,
    Json(req): Json<ClaimIn>,
) -> Result<Json<Handoff>, ApiError> {
    let agent = who.acting_as(&ticket::required_id("agent", &req.agent)?)?;
    Ok(Json(s.store.claim(id, &agent, Utc::now()).await?))
}

/// Gives a claimed handoff back to the queue (open, unassigned, same SLA). Only its owner can,
/// or an admin naming the owner.
async fn release(
    axum::extract::State(s): State,
    who: Principal,
    Path(id): Path<HandoffId>,
    Json(req): Json<ClaimIn>,
) -> Result<Json<Handoff>, ApiError> {
    let agent = who.acting_as(&ticket::required_id("agent", &req.agent)?)?;
    Ok(Json(s.store.release(id, &agent).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveIn {
    agent: String,
    reply: String,
    #[serde(default)]
    reusable: bool,
    intent: Option<String>,
}

/// Stores the resolution and feeds it back into the index (see `Pipeline::resolve`).
async fn resolve(
    axum::extract::State(s): State,
    who: Principal,
    Path(id): Path<HandoffId>,
    Json(req): Json<ResolveIn>,
) -> Result<Json<Resolution>, ApiError> {
    let agent = who.acting_as(req.agent.trim())?;
    let resolution = s.pipeline.resolve(id, &agent, &req.reply, req.reusable, req.intent.as_deref()).await?;
    Ok(Json(resolution))
}
