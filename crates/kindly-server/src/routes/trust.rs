//! What a team checks before trusting Kindly with customers: shadow mode's would-be precision and
//! coverage (`/v1/shadow`), and the intent model's versions with their validation scores and
//! calibrated thresholds (`/v1/intent-models`).

use kindly_core::{IntentModelRecord, IntentShadowReport, ShadowCase, ShadowReport, TrainingStore, shadow};
use serde::{Deserialize, Serialize};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Routes, State};
use crate::error::{ApiError, ErrorBody, Json, Query};

/// Shadow decisions scored by default (the latest ones).
pub(crate) const DEFAULT_WINDOW: u32 = 1000;
const MAX_WINDOW: u32 = 100_000;

pub(super) fn router() -> Routes {
    OpenApiRouter::new().routes(routes!(shadow_report)).routes(routes!(intent_models))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Window {
    /// Score the latest this many shadow decisions (default 1000, at most 100,000).
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ShadowView {
    /// Whether shadow mode is on now (decisions made earlier in shadow mode still count).
    shadow_mode: bool,
    /// The precision the answer thresholds are calibrated for.
    target_precision: f32,
    /// How many of the latest shadow decisions were scored.
    window: u32,
    #[serde(flatten)]
    report: ShadowReport,
    /// The same per predicted intent, the intents Kindly would have answered most first.
    intents: Vec<IntentShadowReport>,
}

/// Shadow mode's scoreboard.
///
/// Would-be coverage and precision over the latest decisions made in shadow mode, in all and per
/// predicted intent. A would-be answer is right when the person who resolved the handoff gave
/// the intent Kindly predicted.
#[utoipa::path(get, path = "/v1/shadow", tag = "trust", params(Window), responses(
    (status = 200, description = "The scoreboard", body = ShadowView),
    (status = 400, description = "`limit` is out of range", body = ErrorBody),
))]
async fn shadow_report(
    axum::extract::State(s): State,
    Query(q): Query<Window>,
) -> Result<Json<ShadowView>, ApiError> {
    let window = q.limit.unwrap_or(DEFAULT_WINDOW);
    if window == 0 || window > MAX_WINDOW {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("limit must be between 1 and {MAX_WINDOW}, got {window}"),
        ));
    }
    let (report, cases) = shadow_metrics(s.store.as_ref(), window).await?;
    let settings = s.pipeline.settings();
    Ok(Json(ShadowView {
        shadow_mode: settings.shadow_mode,
        target_precision: settings.intent.target_precision,
        window,
        report,
        intents: shadow::measure_by_intent(&cases),
    }))
}

/// Scores the latest shadow decisions and publishes the result as gauges; returns the decisions
/// too, for a caller that scores them per intent.
pub(crate) async fn shadow_metrics(
    store: &dyn TrainingStore,
    window: u32,
) -> Result<(ShadowReport, Vec<ShadowCase>), ApiError> {
    let cases = store.shadow_cases(window).await?;
    let report = shadow::measure(&cases);
    metrics::gauge!("kindly_shadow_decisions").set(report.decided as f64);
    metrics::gauge!("kindly_shadow_would_answer").set(report.would_answer as f64);
    metrics::gauge!("kindly_shadow_judged").set(report.judged as f64);
    metrics::gauge!("kindly_shadow_correct").set(report.correct as f64);
    if let Some(c) = report.coverage {
        metrics::gauge!("kindly_shadow_coverage").set(c);
    }
    if let Some(p) = report.precision {
        metrics::gauge!("kindly_shadow_precision").set(p);
    }
    Ok((report, cases))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ModelList {
    /// The version serving triage now (0: none trained yet; the neighbour vote decides alone).
    serving: i64,
    /// Every version, newest first, with its training-set size, validation scores and thresholds.
    versions: Vec<IntentModelRecord>,
}

/// The intent model's versions.
///
/// The version serving now, and every version with its training-set size, held-out scores and
/// calibrated thresholds.
#[utoipa::path(get, path = "/v1/intent-models", tag = "trust", responses(
    (status = 200, description = "The versions, newest first", body = ModelList),
))]
async fn intent_models(axum::extract::State(s): State) -> Result<Json<ModelList>, ApiError> {
    Ok(Json(ModelList {
        serving: s.pipeline.intent_models().current().version(),
        versions: s.store.intent_models().await?,
    }))
}
