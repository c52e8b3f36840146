//! `/v1/handoffs`: the human queue — list, show, claim, release, resolve.

use chrono::Utc;
use kindly_core::{Handoff, HandoffId, HandoffStatus, Priority, QueueFilter, QueueStore, Resolution, ticket};
use serde::{Deserialize, Serialize};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Routes, State};
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody, Json, Path, Query};

pub(super) fn router() -> Routes {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(claim))
        .routes(routes!(release))
        .routes(routes!(resolve))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct HandoffList {
    handoffs: Vec<Handoff>,
    /// How many handoffs match the filters, whatever the limit.
    total: u64,
}

/// The queue, most pressing first.
///
/// By priority, then by the time the SLA falls due.
#[utoipa::path(get, path = "/v1/handoffs", tag = "handoffs", params(ListQuery), responses(
    (status = 200, description = "The handoffs", body = HandoffList),
    (status = 400, description = "A filter's value is wrong", body = ErrorBody),
))]
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

/// One handoff with its context packet.
///
/// Reasons, priority, SLA, the customer's history, the best knowledge and a draft.
#[utoipa::path(get, path = "/v1/handoffs/{id}", tag = "handoffs", params(("id" = HandoffId, Path)), responses(
    (status = 200, description = "The handoff", body = Handoff),
    (status = 404, description = "No such handoff", body = ErrorBody),
))]
async fn show(axum::extract::State(s): State, Path(id): Path<HandoffId>) -> Result<Json<Handoff>, ApiError> {
    let handoff = s.store.handoff(id).await?.ok_or_else(|| ApiError::not_found(format!("handoff {id}")))?;
    Ok(Json(handoff))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ClaimIn {
    /// The agent's id. A person's token or session acts for that person alone; an admin may name
    /// anyone.
    agent: String,
}

/// An agent takes a handoff.
#[utoipa::path(post, path = "/v1/handoffs/{id}/claim", tag = "handoffs", params(("id" = HandoffId, Path)),
    request_body = ClaimIn, responses(
    (status = 200, description = "Claimed", body = Handoff),
    (status = 403, description = "A person may claim for themselves alone", body = ErrorBody),
    (status = 404, description = "No such handoff", body = ErrorBody),
    (status = 409, description = "Someone else has it, or it is resolved", body = ErrorBody),
))]
async fn claim(
    axum::extract::State(s): State,
    who: Principal,
    Path(id): Path<HandoffId>,
    Json(req): Json<ClaimIn>,
) -> Result<Json<Handoff>, ApiError> {
    let agent = who.acting_as(&ticket::required_id("agent", &req.agent)?)?;
    Ok(Json(s.store.claim(id, &agent, Utc::now()).await?))
}

/// Gives a claimed handoff back to the queue.
///
/// Open and unassigned again, with the same SLA. Only its owner can, or an admin naming the
/// owner.
#[utoipa::path(post, path = "/v1/handoffs/{id}/release", tag = "handoffs", params(("id" = HandoffId, Path)),
    request_body = ClaimIn, responses(
    (status = 200, description = "Back in the queue", body = Handoff),
    (status = 403, description = "A person may release for themselves alone", body = ErrorBody),
    (status = 404, description = "No such handoff", body = ErrorBody),
    (status = 409, description = "Not claimed by `agent`", body = ErrorBody),
))]
async fn release(
    axum::extract::State(s): State,
    who: Principal,
    Path(id): Path<HandoffId>,
    Json(req): Json<ClaimIn>,
) -> Result<Json<Handoff>, ApiError> {
    let agent = who.acting_as(&ticket::required_id("agent", &req.agent)?)?;
    Ok(Json(s.store.release(id, &agent).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ResolveIn {
    agent: String,
    /// The reply sent to the customer.
    reply: String,
    /// Whether the reply may answer the next ticket like it (after review, it becomes knowledge).
    #[serde(default)]
    reusable: bool,
    /// The ticket's intent, as the agent confirms or corrects it: the intent model learns it.
    intent: Option<String>,
}

/// An agent resolves a handoff.
///
/// Stores the resolution and feeds it back: into the index (a reusable one answers the next
/// paraphrase) and into the intent model's training data.
#[utoipa::path(post, path = "/v1/handoffs/{id}/resolve", tag = "handoffs", params(("id" = HandoffId, Path)),
    request_body = ResolveIn, responses(
    (status = 200, description = "The resolution", body = Resolution),
    (status = 403, description = "A person may resolve for themselves alone", body = ErrorBody),
    (status = 404, description = "No such handoff", body = ErrorBody),
    (status = 409, description = "Resolved already, or someone else's", body = ErrorBody),
    (status = 422, description = "A field is missing or empty", body = ErrorBody),
))]
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
