//! `/v1/outbox`: the actions Kindly owes helpdesks, the dead letters among them, and retrying
//! one by hand.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::Utc;
use kindly_core::integration::{ActionState, IntegrationStore, OutboxAction};
use serde::{Deserialize, Serialize};

use super::{AppState, State};
use crate::error::{ApiError, Json, Path, Query};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/outbox", get(list))
        .route("/v1/outbox/{id}", get(show))
        .route("/v1/outbox/{id}/retry", post(retry))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
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

async fn list(axum::extract::State(s): State, Query(q): Query<ListQuery>) -> Result<Json<Actions>, ApiError> {
    let state = state_filter(q.state.as_deref())?;
    let actions = s.store.actions(state, q.limit.unwrap_or(100)).await?;
    Ok(Json(Actions { actions }))
}

async fn show(axum::extract::State(s): State, Path(id): Path<i64>) -> Result<Json<OutboxAction>, ApiError> {
    let action =
        s.store.action(id).await?.ok_or_else(|| ApiError::not_found(format!("outbox action {id}")))?;
    Ok(Json(action))
}

/// Puts a dead action back in the queue with a fresh set of attempts.
async fn retry(axum::extract::State(s): State, Path(id): Path<i64>) -> Result<Json<OutboxAction>, ApiError> {
    let action = s.store.retry_action(id, Utc::now()).await?;
    tracing::info!(action = id, "outbox action retried by hand");
    Ok(Json(action))
}
