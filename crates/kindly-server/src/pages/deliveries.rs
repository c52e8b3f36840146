//! Deliveries (`/deliveries`): what Kindly owes the helpdesks (replies, notes, updates,
//! acknowledgements), whether each arrived, and the dead letters: actions every attempt failed
//! for, with the helpdesk's last answer and a button to send them again. The same outbox as
//! `GET /v1/outbox` and `POST /v1/outbox/{id}/retry`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use chrono::Utc;
use kindly_core::Permission;
use kindly_core::integration::{ActionState, IntegrationStore, OutboxAction};
use serde::{Deserialize, Serialize};

use super::{CsrfForm, PageError, count_of, minute, render};
use crate::auth::Principal;
use crate::routes::AppState;

/// How many actions one page lists, newest first.
const SHOWN: u32 = 200;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/deliveries", get(deliveries)).route("/deliveries/{id}/retry", post(retry))
}

/// One action, as the deliveries page and a ticket's page show it.
#[derive(Serialize)]
pub(super) struct Row {
    id: i64,
    created: String,
    connection: String,
    kind: &'static str,
    remote_id: String,
    state: &'static str,
    attempts: u32,
    /// When it arrived, or when the next attempt is due.
    when: String,
    last_error: String,
}

impl From<OutboxAction> for Row {
    fn from(a: OutboxAction) -> Self {
        Row {
            id: a.id,
            created: minute(a.created_at),
            connection: a.connection,
            kind: a.kind.as_str(),
            remote_id: a.remote_id,
            state: a.state.as_str(),
            attempts: a.attempts,
            when: match (a.state, a.delivered_at) {
                (ActionState::Delivered, Some(at)) => format!("arrived {}", minute(at)),
                (ActionState::Pending, _) => format!("next attempt {}", minute(a.next_attempt_at)),
                _ => String::new(),
            },
            last_error: a.last_error.unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
struct DeliveriesPage {
    /// Each configured helpdesk connection and its provider.
    connections: Vec<(String, &'static str)>,
    /// pending, delivered, dead: how many of each in all.
    counts: Vec<(&'static str, u64)>,
    /// The state shown (`None`: every state).
    state: Option<&'static str>,
    rows: Vec<Row>,
    retried: Option<i64>,
}

#[derive(Deserialize)]
struct Filter {
    state: Option<String>,
    retried: Option<i64>,
}

async fn deliveries(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Query(q): Query<Filter>,
) -> Result<Html<String>, PageError> {
    who.require(Permission::Read)?;
    let state = crate::routes::outbox::state_filter(q.state.as_deref())?;
    // A BTreeMap: already in name order.
    let connections: Vec<(String, &'static str)> = s
        .settings
        .integrations
        .connections
        .iter()
        .map(|(name, c)| (name.clone(), c.provider.as_str()))
        .collect();
    let stored = s.store.outbox_counts().await?;
    let counts = [ActionState::Pending, ActionState::Delivered, ActionState::Dead]
        .map(|st| (st.as_str(), count_of(&stored, &st)))
        .to_vec();
    let rows = s.store.actions(state, SHOWN).await?.into_iter().map(Row::from).collect();
    let page = DeliveriesPage {
        connections,
        counts,
        state: state.map(ActionState::as_str),
        rows,
        retried: q.retried,
    };
    render("deliveries.html", &who, page)
}

#[derive(Deserialize)]
struct RetryForm {
    /// `ticket`: back to the ticket's page (where the button also is), not to this list.
    #[serde(default)]
    back: String,
}

/// Sends a dead letter again, with a fresh set of attempts (under the same idempotency key).
async fn retry(
    State(s): State<Arc<AppState>>,
    Path(id): Path<i64>,
    CsrfForm(who, form): CsrfForm<RetryForm>,
) -> Result<Redirect, PageError> {
    who.require(Permission::Read)?;
    let action = s.store.retry_action(id, Utc::now()).await?;
    tracing::info!(action = id, by = %who.name, "outbox action retried by hand");
    Ok(Redirect::to(&match form.back.as_str() {
        "ticket" => format!("/tickets/{}?retried={id}", action.ticket_id),
        _ => format!("/deliveries?state=pending&retried={id}"),
    }))
}
