//! `GET /v1/tickets.csv`: the ticket list as a spreadsheet, with the same filters as
//! `GET /v1/tickets`, for the analyses a team runs outside Kindly. The Tickets page links to it
//! with its filters.

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::Utc;
use kindly_core::{TicketFilter, TicketListing, TicketStore};

use super::tickets::{ListQuery, ticket_filter};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Routes, State};
use crate::error::{ApiError, ErrorBody, Query};

/// An export holds at most this many tickets, the newest first; `X-Total-Count` says how many
/// matched.
pub(crate) const EXPORT_LIMIT: usize = 100_000;

/// [`EXPORT_LIMIT`] as people read it: "100,000".
pub(crate) fn export_limit_in_words() -> String {
    let digits = EXPORT_LIMIT.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}
/// Tickets read from the store at a time.
const PAGE: u32 = 1000;

const HEADER: [&str; 16] = [
    "id",
    "external_id",
    "channel",
    "received_at",
    "status",
    "intent",
    "customer_id",
    "customer_name",
    "customer_email",
    "subject",
    "body",
    "decision",
    "rule",
    "summary",
    "decided_at",
    "shadow",
];

pub(super) fn router() -> Routes {
    OpenApiRouter::new().routes(routes!(export))
}

/// The ticket list as CSV.
///
/// One row per ticket with its customer and latest decision, newest first, with the filters of
/// `GET /v1/tickets` but not `before` or `limit`: the newest 100,000 at most; `X-Total-Count`
/// counts every match. A cell a spreadsheet would run as a formula gets a leading `'`.
#[utoipa::path(get, path = "/v1/tickets.csv", tag = "tickets", params(ListQuery), responses(
    (status = 200, description = "An attachment", content_type = "text/csv", body = String,
        headers(("X-Total-Count" = u64, description = "How many tickets matched"))),
    (status = 400, description = "A filter's value is wrong, or `before` or `limit` was given", body = ErrorBody),
))]
async fn export(
    axum::extract::State(s): State,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    if q.before.is_some() || q.limit.is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!(
                "an export has no pages: it holds every matching ticket (the newest {}), so it takes no before or limit",
                export_limit_in_words()
            ),
        ));
    }
    let mut filter = ticket_filter(&s, TicketFilter { limit: PAGE, ..q.into_filter() }).await?;
    let total = s.store.count_tickets(&filter).await?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(HEADER).map_err(internal)?;
    let mut written = 0;
    while written < EXPORT_LIMIT {
        let page = s.store.tickets(&filter).await?;
        for listing in page.iter().take(EXPORT_LIMIT - written) {
            csv.write_record(record(listing)).map_err(internal)?;
        }
        written += page.len();
        match page.last() {
            Some(last) if page.len() == PAGE as usize => filter.before = Some(last.ticket.id),
            _ => break,
        }
    }
    let body = csv.into_inner().map_err(|e| internal(e.into_error()))?;
    let file = format!("attachment; filename=\"kindly-tickets-{}.csv\"", Utc::now().format("%Y-%m-%d"));
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, file),
        (header::HeaderName::from_static("x-total-count"), total.to_string()),
    ];
    Ok((headers, body))
}

/// One ticket as a row of [`HEADER`].
fn record(l: &TicketListing) -> [String; 16] {
    let t = &l.ticket;
    let d = l.decision.as_ref();
    let text = |v: Option<&str>| v.map(cell).unwrap_or_default();
    [
        t.id.to_string(),
        cell(&t.external_id),
        cell(&t.channel),
        t.received_at.to_rfc3339(),
        t.status.as_str().to_owned(),
        text(t.intent.as_deref()),
        cell(&t.customer.id),
        text(t.customer.name.as_deref()),
        text(t.customer.email.as_deref()),
        text(t.subject.as_deref()),
        cell(&t.body),
        text(d.map(|d| d.outcome.as_str())),
        text(d.map(|d| d.rule.as_str())),
        text(d.map(|d| d.summary.as_str())),
        d.map(|d| d.decided_at.to_rfc3339()).unwrap_or_default(),
        d.and_then(|d| d.shadow).map(|o| o.as_str().to_owned()).unwrap_or_default(),
    ]
}

/// Text a customer or a helpdesk wrote, made safe to open in a spreadsheet: a cell that starts
/// with `=`, `+`, `-`, `@` (or a tab or carriage return) would be read as a formula, so it gets a
/// leading apostrophe, which spreadsheets show as text (OWASP, "CSV injection").
fn cell(v: &str) -> String {
    match v.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{v}"),
        _ => v.to_owned(),
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("writing the export: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_a_spreadsheet_would_run_is_kept_as_text() {
        assert_eq!(cell("=HYPERLINK(\"http://evil\",\"click\")"), "'=HYPERLINK(\"http://evil\",\"click\")");
        for risky in ["+1 555", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(risky).starts_with('\''), "{risky}");
        }
        assert_eq!(cell("Where is my parcel? =)"), "Where is my parcel? =)");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn the_limit_reads_with_thousands_separators() {
        assert_eq!(export_limit_in_words(), "100,000");
    }
}
