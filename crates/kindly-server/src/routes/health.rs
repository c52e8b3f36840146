//! Health, readiness and metrics.

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use kindly_core::{Embedder, QueueStore, TicketStore, VectorIndex};
use serde::Serialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Routes, State};
use crate::error::Json;

pub(super) fn router() -> Routes {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics_text))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses(
    (status = 200, description = "`{\"status\": \"ok\"}`", body = Object),
))]
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Readiness {
    ready: bool,
    model: String,
    store: String,
    index_points: Option<usize>,
}

/// Ready to triage.
///
/// When the model answers, the store answers and the index is loaded.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()), responses(
    (status = 200, description = "Ready", body = Readiness),
    (status = 503, description = "Not ready: the failing part says why", body = Readiness),
))]
async fn readyz(axum::extract::State(s): State) -> impl IntoResponse {
    let model = match s.embedder.embed(vec!["ready?".into()]).await {
        Ok(v) if v.len() == 1 => "ok".to_owned(),
        Ok(_) => "model returned no vector".to_owned(),
        Err(e) => e.to_string(),
    };
    let store = match s.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.to_string(),
    };
    let index_points = s.index.len().await.ok();
    let ready = model == "ok" && store == "ok" && index_points.is_some();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { ready, model, store, index_points }))
}

/// Prometheus metrics.
///
/// All prefixed `kindly_`, with bounded labels. Gauges are read from the store at scrape time.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "The Prometheus text format", content_type = "text/plain", body = String),
))]
async fn metrics_text(axum::extract::State(s): State) -> impl IntoResponse {
    if let Ok(depth) = s.store.queue_depth().await {
        metrics::gauge!("kindly_queue_depth").set(depth as f64);
    }
    if let Ok(backlog) = s.store.backlog().await {
        metrics::gauge!("kindly_backlog").set(backlog as f64);
    }
    if let Ok(points) = s.index.len().await {
        metrics::gauge!("kindly_index_points").set(points as f64);
    }
    let _ = super::trust::shadow_metrics(s.store.as_ref(), super::trust::DEFAULT_WINDOW).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render())
}
