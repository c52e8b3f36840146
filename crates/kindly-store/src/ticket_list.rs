//! The ticket list: every ticket newest first, filtered, each with the gist of its latest
//! decision, so that a team can read what Kindly answered and why.

use kindly_core::{DecisionGist, ShadowOutcome, StoreError, TicketFilter, TicketListing, TicketStatus};
use sqlx::QueryBuilder;
use sqlx::sqlite::SqliteRow;

use crate::points::match_expression;
use crate::rows::{self, get};
use crate::{SqliteStore, backend, corrupt};

/// The id of the latest decision on the ticket `t`, as SQL: what the list shows and filters on,
/// and what the dashboard's corrections compare with a person's intent. A macro, so that each
/// query stays one `&'static str` (`concat!`).
macro_rules! latest_decision_of_t {
    () => {
        "(SELECT max(id) FROM decisions WHERE ticket_id = t.id)"
    };
}
pub(crate) use latest_decision_of_t;

/// The id of the first resolution of a ticket (`$ticket`, an SQL expression), as SQL: the
/// person's verdict on the ticket's decision, as shadow mode scores it (`shadow_cases`) and the
/// ticket list's `shadow` filter reads it. A later resolution (after a follow-up reopened the
/// ticket) answers another question.
macro_rules! first_resolution_of {
    ($ticket:literal) => {
        concat!("(SELECT id FROM resolutions WHERE ticket_id = ", $ticket, " ORDER BY created_at LIMIT 1)")
    };
}
pub(crate) use first_resolution_of;

/// The tickets with their latest decision (`d`, NULL while a ticket waits for triage).
const TICKETS_AND_LATEST_DECISION: &str =
    concat!(" FROM tickets t LEFT JOIN decisions d ON d.id = ", latest_decision_of_t!());

/// The intent of the first resolution of the ticket `t`.
const RESOLVED_INTENT: &str =
    concat!("(SELECT intent FROM resolutions WHERE id = ", first_resolution_of!("t.id"), ")");

/// The `WHERE` clause of a ticket filter (its `before` and limit aside), over
/// [`TICKETS_AND_LATEST_DECISION`].
fn matching(q: &mut QueryBuilder<'_, sqlx::Sqlite>, filter: &TicketFilter) {
    q.push(" WHERE 1 = 1");
    if let Some(shadow) = filter.shadow {
        let (outcome, agreed) = shadow.outcome_and_verdict();
        q.push(" AND d.shadow = ").push_bind(outcome.as_str());
        // A would-be answer always names its intent; no resolution, or one without an intent,
        // compares as NULL and is neither confirmed nor corrected.
        match agreed {
            Some(true) => q.push(format!(" AND {RESOLVED_INTENT} = d.intent")),
            Some(false) => q.push(format!(" AND {RESOLVED_INTENT} != d.intent")),
            None => q,
        };
    }
    if let Some(status) = filter.status {
        q.push(" AND t.status = ").push_bind(status.as_str());
    }
    if let Some(intent) = &filter.intent {
        q.push(" AND t.intent = ").push_bind(intent.clone());
    }
    if let Some(predicted) = &filter.predicted_intent {
        q.push(" AND d.intent = ").push_bind(predicted.clone());
    }
    if let Some(customer) = &filter.customer_id {
        q.push(" AND t.customer_id = ").push_bind(customer.clone());
    }
    if let Some(text) = &filter.text {
        match match_expression(text, " ", 1) {
            Some(all_words) => {
                q.push(" AND t.id IN (SELECT ticket_id FROM ticket_search WHERE ticket_search MATCH ")
                    .push_bind(all_words)
                    .push(")");
            }
            None => {
                q.push(" AND 0");
            }
        }
    }
}

fn listing(row: &SqliteRow) -> Result<TicketListing, StoreError> {
    let outcome: Option<String> = get(row, "d_outcome")?;
    let decision = match outcome {
        Some(outcome) => Some(DecisionGist {
            outcome,
            rule: get(row, "d_rule")?,
            summary: get::<Option<String>>(row, "d_summary")?
                .ok_or_else(|| corrupt("decision", "a decision without a summary"))?,
            decided_at: get(row, "d_decided_at")?,
            shadow: get::<Option<String>>(row, "d_shadow")?
                .map(|v| {
                    ShadowOutcome::parse(&v)
                        .ok_or_else(|| corrupt("decision", format!("unknown shadow outcome {v:?}")))
                })
                .transpose()?,
        }),
        None => None,
    };
    Ok(TicketListing { ticket: rows::ticket(row)?, decision })
}

impl SqliteStore {
    pub(crate) async fn list_tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketListing>, StoreError> {
        let mut q = QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT t.*, c.email, c.name, c.flagged, d.outcome AS d_outcome, d.rule AS d_rule, \
             json_extract(d.decision, '$.summary') AS d_summary, d.decided_at AS d_decided_at, \
             d.shadow AS d_shadow",
        );
        q.push(TICKETS_AND_LATEST_DECISION).push(" JOIN customers c ON c.id = t.customer_id");
        matching(&mut q, filter);
        if let Some(before) = filter.before {
            // A ticket that does not exist yields NULL here, so the list is empty.
            q.push(" AND (t.received_at, t.id) < (SELECT received_at, id FROM tickets WHERE id = ")
                .push_bind(before.to_string())
                .push(")");
        }
        let limit = if filter.limit == 0 { 100 } else { filter.limit.min(1000) };
        q.push(" ORDER BY t.received_at DESC, t.id DESC LIMIT ").push_bind(limit);
        let rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(listing).collect()
    }

    pub(crate) async fn count_listed_tickets(&self, filter: &TicketFilter) -> Result<u64, StoreError> {
        let mut q = QueryBuilder::<sqlx::Sqlite>::new("SELECT count(*)");
        // Only the filters on the latest decision read it; without them the count stays on an
        // index of tickets alone.
        let by_decision = filter.shadow.is_some() || filter.predicted_intent.is_some();
        q.push(if by_decision { TICKETS_AND_LATEST_DECISION } else { " FROM tickets t" });
        matching(&mut q, filter);
        let n: i64 = q.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;
        Ok(n as u64)
    }

    pub(crate) async fn tickets_by_status(&self) -> Result<Vec<(TicketStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, count(*) FROM tickets GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.into_iter()
            .map(|(status, n)| {
                let parsed = TicketStatus::parse(&status)
                    .ok_or_else(|| corrupt("status", format!("unknown value {status:?}")))?;
                Ok((parsed, n as u64))
            })
            .collect()
    }
}
