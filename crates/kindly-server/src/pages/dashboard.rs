//! The automation dashboard: tickets per day answered versus handed off, reopens after automatic
//! answers (the precision signal), handoff reasons, SLA attainment, a per-intent table and volume
//! by lifecycle stage, over the last 30 days; and, in shadow mode, what Kindly would have answered
//! and how often the people who resolved those tickets agreed.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use chrono::Utc;
use kindly_core::{IntentShadowReport, Permission, ShadowReport, shadow};
use kindly_store::{IntentCorrection, IntentRow};
use serde::Serialize;

use super::{PageError, charts, reason_label, render};
use crate::auth::Principal;
use crate::routes::AppState;
use crate::routes::trust::{DEFAULT_WINDOW, shadow_metrics};

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
    /// Where triage and the people who resolved its handoffs disagreed on the intent.
    corrections: Vec<IntentCorrection>,
    /// Shadow mode's scoreboard, while shadow mode is on or shadow decisions are on record.
    shadow: Option<ShadowPanel>,
}

/// What Kindly would have done over the latest shadow decisions, and how often a person agreed,
/// in all and per predicted intent.
#[derive(Serialize)]
struct ShadowPanel {
    on: bool,
    target: String,
    all: ShadowFigures,
    intents: Vec<(String, ShadowFigures)>,
}

#[derive(Serialize)]
struct ShadowFigures {
    decided: u64,
    would_answer: u64,
    coverage: String,
    judged: u64,
    correct: u64,
    wrong: u64,
    /// Would-be answers no person has judged yet.
    unjudged: u64,
    precision: String,
    precision_lower_bound: String,
}

impl From<&ShadowReport> for ShadowFigures {
    fn from(r: &ShadowReport) -> Self {
        Self {
            decided: r.decided,
            would_answer: r.would_answer,
            coverage: share(r.coverage),
            judged: r.judged,
            correct: r.correct,
            wrong: r.judged - r.correct,
            unjudged: r.would_answer - r.judged,
            precision: share(r.precision),
            precision_lower_bound: share(r.precision_lower_bound),
        }
    }
}

fn percent(part: u64, whole: u64) -> String {
    share((whole > 0).then(|| part as f64 / whole as f64))
}

/// A share as a percentage, or a dash when there is nothing to divide.
fn share(p: Option<f64>) -> String {
    p.map_or("–".into(), |p| format!("{:.1}%", p * 100.0))
}

fn shadow_panel(
    on: bool,
    (all, intents): &(ShadowReport, Vec<IntentShadowReport>),
    target_precision: f32,
) -> Option<ShadowPanel> {
    (on || all.decided > 0).then(|| ShadowPanel {
        on,
        target: format!("{:.0}%", target_precision * 100.0),
        all: all.into(),
        intents: intents.iter().map(|i| (i.intent.clone(), (&i.report).into())).collect(),
    })
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
    let settings = s.pipeline.settings();
    let (report, cases) = shadow_metrics(s.store.as_ref(), DEFAULT_WINDOW).await?;
    let scores = (report, shadow::measure_by_intent(&cases));
    let shadow = shadow_panel(settings.shadow_mode, &scores, settings.intent.target_precision);
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
        corrections: stats.corrections,
        shadow,
    };
    render("dashboard.html", &who, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scoreboard_shows_in_shadow_mode_and_while_shadow_decisions_are_on_record() {
        let none = ShadowReport::default();
        assert!(shadow_panel(false, &(none, Vec::new()), 0.98).is_none(), "live, never in shadow mode");
        let on = shadow_panel(true, &(none, Vec::new()), 0.98).unwrap();
        assert_eq!((on.all.coverage.as_str(), on.all.precision.as_str()), ("–", "–"), "nothing decided yet");
        let past = ShadowReport {
            decided: 4,
            would_answer: 3,
            coverage: Some(0.75),
            judged: 2,
            correct: 1,
            precision: Some(0.5),
            precision_lower_bound: Some(0.09),
        };
        let after = shadow_panel(false, &(past, Vec::new()), 0.98).unwrap();
        assert!(!after.on, "gone live: the decisions made in shadow mode still show");
        assert_eq!((after.all.wrong, after.all.unjudged), (1, 1));
        assert_eq!((after.all.coverage.as_str(), after.target.as_str()), ("75.0%", "98%"));
    }
}
