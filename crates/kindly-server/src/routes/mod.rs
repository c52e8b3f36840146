//! HTTP routes: one small router per resource, merged here with the shared layers.

mod handoffs;
mod health;
mod kb;
mod tickets;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use kindly_index::ExactIndex;
use kindly_model::ModelWorker;
use kindly_pipeline::Pipeline;
use kindly_store::SqliteStore;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::Kindly;
use crate::error::ApiError;
use crate::settings::Settings;

/// What handlers share.
pub(crate) struct AppState {
    pub pipeline: Pipeline,
    pub store: Arc<SqliteStore>,
    pub index: Arc<ExactIndex>,
    pub embedder: Arc<ModelWorker>,
    pub nudge: Arc<Notify>,
    pub settings: Settings,
    pub metrics: PrometheusHandle,
}

pub(crate) type State = axum::extract::State<Arc<AppState>>;

pub(crate) fn router(app: &Kindly) -> Router {
    let state = Arc::new(AppState {
        pipeline: app.pipeline.clone(),
        store: app.store.clone(),
        index: app.index.clone(),
        embedder: app.embedder.clone(),
        nudge: app.nudge.clone(),
        settings: app.settings.clone(),
        metrics: crate::telemetry::metrics_handle(),
    });
    Router::new()
        .merge(tickets::router())
        .merge(handoffs::router())
        .merge(kb::router())
        .merge(health::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not accept that method")
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(app.settings.server.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(app.settings.server.request_timeout_secs),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Kindly hit an internal error; it has been logged",
            ))
        }))
}
