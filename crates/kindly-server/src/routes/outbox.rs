//! `/v1/outbox`: the actions Kindly owes helpdesks, the dead letters among them, and retrying
//! one by hand.

use axum::http::StatusCode;
use chrono::Utc;
use kindly_core::integration::{ActionState, IntegrationStore, OutboxAction};
use serde::{Deserialize, Serialize};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Routes, State};
use crate::error::{ApiError, ErrorBody, Json, Path, Query};

pub(super) fn router() -> Routes {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(show)).routes(routes!(retry))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// pending | delivered | dead (default: every state)
    state: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Actions {
    actions: Vec<OutboxAction>,
}

/// The `state` filter of the API and of the deliveries page; empty means every state.
pub(crate) fn state_filter(raw: Option<&str>) -> Result<Option<ActionState>, ApiError> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => ActionState::parse(raw).map(Some).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "state is one of pending, delivered, dead",
            )
        }),
    }
}

/// What Kindly owes helpdesks.
///
/// Replies, internal notes, status updates and acknowledgements, newest first, each with its
/// delivery state, attempts and last error.
#[utoipa::path(get, path = "/v1/outbox", tag = "integrations", params(ListQuery), responses(
    (status = 200, description = "The actions", body = Actions),
    (status = 400, description = "`state` is not pending, delivered or dead", body = ErrorBody),
))]
async fn list(axum::extract::State(s): State, Query(q): Query<ListQuery>) -> Result<Json<Actions>, ApiError> {
    let state = state_filter(q.state.as_deref())?;
    let actions = s.store.actions(state, q.limit.unwrap_or(100)).await?;
    Ok(Json(Actions { actions }))
}

/// One action owed to a helpdesk.
#[utoipa::path(get, path = "/v1/outbox/{id}", tag = "integrations", params(("id" = i64, Path)), responses(
    (status = 200, description = "The action", body = OutboxAction),
    (status = 404, description = "No such action", body = ErrorBody),
))]
async fn show(axum::extract::State(s): State, Path(id): Path<i64>) -> Result<Json<OutboxAction>, ApiError> {
    let action =
        s.store.action(id).await?.ok_or_else(|| ApiError::not_found(format!("outbox action {id}")))?;
    Ok(Json(action))
}

/// Sends a dead action again.
///
/// Back to pending, with a fresh set of attempts.
#[utoipa::path(post, path = "/v1/outbox/{id}/retry", tag = "integrations", params(("id" = i64, Path)), responses(
    (status = 200, description = "Pending again", body = OutboxAction),
    (status = 404, description = "No such action", body = ErrorBody),
    (status = 409, description = "It was delivered", body = ErrorBody),
))]
async fn retry(axum::extract::State(s): State, Path(id): Path<i64>) -> Result<Json<OutboxAction>, ApiError> {
    let action = s.store.retry_action(id, Utc::now()).await?;
    tracing::info!(action = id, "outbox action retried by hand");
    Ok(Json(action))
}
