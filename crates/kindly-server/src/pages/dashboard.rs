//! The automation dashboard: tickets per day answered versus handed off, reopens after automatic
//! answers (the precision signal), handoff reasons, SLA attainment, a per-intent table and volume
//! by lifecycle stage, over the last 30 days.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use chrono::Utc;
use kindly_core::Permission;
use kindly_store::IntentRow;
use serde::Serialize;

use super::{PageError, charts, reason_label, render};
use crate::auth::Principal;
use crate::routes::AppState;

const DAYS: i64 = 30;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/studio/dashboard", get(dashboard))
}

#[derive(Serialize)]
struct DashboardPage {
    days: i64,
    per_day_svg: String,
    reasons_svg: String,
    stages_svg: String,
    answered: u64,
    reopened: u64,
    reopen_rate: String,
    resolved: u64,
    within_sla: u64,
    sla_rate: String,
    intents: Vec<IntentRow>,
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "–".into() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

async fn dashboard(State(s): State<Arc<AppState>>, who: Principal) -> Result<Html<String>, PageError> {
    who.require(Permission::Read)?;
    let stats = s.store.automation_stats(Utc::now() - chrono::Duration::days(DAYS)).await?;
    let days: Vec<String> = stats.per_day.iter().map(|d| d.day.clone()).collect();
    let answered: Vec<u64> = stats.per_day.iter().map(|d| d.answered).collect();
    let handed: Vec<u64> = stats.per_day.iter().map(|d| d.handed_off).collect();
    let reasons: Vec<(String, u64)> =
        stats.reasons.iter().map(|c| (reason_label(&c.label), c.count)).collect();
    let stages: Vec<(String, u64)> = stats.stages.iter().map(|c| (reason_label(&c.label), c.count)).collect();
    let page = DashboardPage {
        days: DAYS,
        per_day_svg: charts::paired_bars(
            "Tickets per day",
            &days,
            ("answered", &answered),
            ("handed off", &handed),
        ),
        reasons_svg: charts::bars("Handoff reasons", &reasons),
        stages_svg: charts::bars("Volume by lifecycle stage", &stages),
        answered: stats.answered,
        reopened: stats.reopened_after_answer,
        reopen_rate: percent(stats.reopened_after_answer, stats.answered),
        resolved: stats.resolved,
        within_sla: stats.resolved_within_sla,
        sla_rate: percent(stats.resolved_within_sla, stats.resolved),
        intents: stats.intents,
    };
    render("dashboard.html", &who, page)
}
