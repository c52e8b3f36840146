//! HTTP routes: one small router per resource, merged here with the shared layers.

mod export;
pub(crate) use export::export_limit_in_words;
mod handoffs;
mod health;
mod kb;
pub(crate) mod outbox;
pub(crate) mod tickets;
pub(crate) mod trust;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use kindly_index::ExactIndex;
use kindly_model::ModelWorker;
use kindly_pipeline::Pipeline;
use kindly_store::SqliteStore;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

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
    pub sign_in_throttle: crate::auth::SignInThrottle,
}

pub(crate) type State = axum::extract::State<Arc<AppState>>;

/// A resource's routes, each described by its handler's `#[utoipa::path]`.
type Routes = OpenApiRouter<Arc<AppState>>;

/// Every JSON endpoint, with its description.
fn api() -> Routes {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .merge(tickets::router())
        .merge(export::router())
        .merge(handoffs::router())
        .merge(kb::router())
        .merge(trust::router())
        .merge(health::router())
        .merge(webhooks::router())
        .merge(outbox::router())
}

/// The JSON endpoints' router and their finished description.
fn described() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (routes, mut description) = api().split_for_parts();
    crate::openapi::finish(&mut description);
    (routes, description)
}

/// The API's OpenAPI description as served at `GET /openapi.json`, without a server.
pub fn openapi_json() -> String {
    as_json(&described().1)
}

fn as_json(description: &utoipa::openapi::OpenApi) -> String {
    description.to_pretty_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI description did not serialise");
        "{}".to_owned()
    })
}

pub(crate) fn router(app: &Kindly) -> Router {
    let state: Arc<AppState> = Arc::new(AppState {
        pipeline: app.pipeline.clone(),
        store: app.store.clone(),
        index: app.index.clone(),
        embedder: app.embedder.clone(),
        nudge: app.nudge.clone(),
        settings: app.settings.clone(),
        metrics: crate::telemetry::metrics_handle(),
        sign_in_throttle: Default::default(),
    });
    let (routes, description) = described();
    let description = as_json(&description);
    routes
        .route(
            "/openapi.json",
            axum::routing::get(
                move || async move { ([(header::CONTENT_TYPE, "application/json")], description) },
            ),
        )
        .merge(crate::pages::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        })
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(state, crate::auth::authenticate))
        .layer(DefaultBodyLimit::max(app.settings.server.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(app.settings.server.max_body_bytes, refuse_oversized))
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

/// Bodies declared larger than the limit are read and discarded (up to a hard cap) before the
/// 413 is sent. Answering while the client is still sending makes many clients (curl, reqwest)
/// report a broken connection instead of the clear error.
async fn refuse_oversized(
    axum::extract::State(limit): axum::extract::State<usize>,
    request: Request,
    next: Next,
) -> Response {
    const DRAIN_CAP: usize = 32 * 1024 * 1024;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(len) if len > limit => {
            if len <= DRAIN_CAP {
                let mut body = request.into_body().into_data_stream();
                while let Some(Ok(_)) = body.next().await {}
            }
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is {len} bytes; this server accepts at most {limit}"),
            )
            .into_response()
        }
        _ => next.run(request).await,
    }
}
