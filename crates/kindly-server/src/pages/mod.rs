//! The web pages people work in, rendered on the server: the agent console (`/console`), the
//! knowledge studio (`/studio`), every ticket with its decisions (`/tickets`), the deliveries to
//! helpdesks (`/deliveries`) and, for admins, the people who sign in (`/admin/people`).
//! Templates are minijinja files compiled into the binary (HTML is escaped automatically); one
//! small plain-JavaScript file adds one-click inserts, SLA countdowns, queue polling and drafts
//! kept in the browser. No CDN, no build step.
//!
//! Pages act through the same store and pipeline functions as the JSON API. Every form that
//! changes something carries the session's CSRF token ([`CsrfForm`]).

mod assets;
mod charts;
mod console;
mod dashboard;
mod deliveries;
mod gaps;
mod people;
mod sign_in;
mod studio;
mod tickets;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::Environment;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::{Principal, secrets};
use crate::error::ApiError;
use crate::routes::AppState;

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .merge(assets::router())
        .merge(sign_in::router())
        .merge(console::router())
        .merge(studio::router())
        .merge(dashboard::router())
        .merge(gaps::router())
        .merge(people::router())
        .merge(deliveries::router())
        .merge(tickets::router())
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("sign_in.html", include_str!("../../templates/sign_in.html")),
            ("queue.html", include_str!("../../templates/queue.html")),
            ("handoff.html", include_str!("../../templates/handoff.html")),
            ("conversation.html", include_str!("../../templates/conversation.html")),
            ("articles.html", include_str!("../../templates/articles.html")),
            ("article.html", include_str!("../../templates/article.html")),
            ("review.html", include_str!("../../templates/review.html")),
            ("dashboard.html", include_str!("../../templates/dashboard.html")),
            ("message.html", include_str!("../../templates/message.html")),
            ("gaps.html", include_str!("../../templates/gaps.html")),
            ("people.html", include_str!("../../templates/people.html")),
            ("deliveries.html", include_str!("../../templates/deliveries.html")),
            ("tickets.html", include_str!("../../templates/tickets.html")),
            ("ticket.html", include_str!("../../templates/ticket.html")),
        ] {
            env.add_template(name, source).expect("the page templates compile");
        }
        env.add_filter("counted", counted);
        env
    })
}

/// `{{ n|counted("ticket") }}`: "1 ticket", "3 tickets"; an irregular plural is given,
/// `{{ n|counted("person", "people") }}`.
fn counted(n: u64, one: &str, many: Option<&str>) -> String {
    match (n, many) {
        (1, _) => format!("1 {one}"),
        (_, Some(many)) => format!("{n} {many}"),
        (_, None) => format!("{n} {one}s"),
    }
}

/// The signed-in person, as every page's layout shows them.
#[derive(Serialize)]
struct Viewer<'a> {
    name: &'a str,
    role: &'a str,
    role_label: &'a str,
    csrf: &'a str,
    edits_knowledge: bool,
    manages_people: bool,
}

/// Renders a page for `who` with the page's own values under `page`.
fn render(template: &str, who: &Principal, page: impl Serialize) -> Result<Html<String>, PageError> {
    let viewer = Viewer {
        name: &who.name,
        role: who.role.as_str(),
        role_label: who.role.label(),
        csrf: who.csrf_token.as_deref().unwrap_or(""),
        edits_knowledge: who.role.may(kindly_core::Permission::EditKnowledge),
        manages_people: who.role.may(kindly_core::Permission::ManagePeople),
    };
    let html = templates()
        .get_template(template)
        .and_then(|t| t.render(minijinja::context! { viewer => viewer, page => page }))
        .map_err(|e| {
            tracing::error!(template, error = %e, "rendering a page failed");
            PageError(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "this page could not be rendered",
            ))
        })?;
    Ok(Html(html))
}

/// An error shown as a small HTML page with the same status and sentence as the API's.
#[derive(Debug)]
pub(crate) struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<kindly_core::StoreError> for PageError {
    fn from(e: kindly_core::StoreError) -> Self {
        Self(e.into())
    }
}

impl From<kindly_pipeline::PipelineError> for PageError {
    fn from(e: kindly_pipeline::PipelineError) -> Self {
        Self(e.into())
    }
}

impl From<kindly_core::ValidationError> for PageError {
    fn from(e: kindly_core::ValidationError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = minijinja::context! { status => self.0.status.as_u16(), code => self.0.code, message => self.0.message };
        let html = templates()
            .get_template("message.html")
            .and_then(|t| t.render(minijinja::context! { page => page }))
            .unwrap_or_else(|_| "Kindly could not show this page.".to_owned());
        (self.0.status, Html(html)).into_response()
    }
}

/// A form post from a signed-in person, refused with 403 unless it echoes the session's CSRF
/// token in its `csrf` field. Bearer-token callers carry no cookie a browser could replay, so
/// they need no token.
pub(crate) struct CsrfForm<T>(pub Principal, pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let who = req
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first"))?;
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_body", e.body_text()))?;
        if let Some(expected) = &who.csrf_token {
            let sent: CsrfField =
                serde_urlencoded::from_bytes(&body).unwrap_or(CsrfField { csrf: String::new() });
            if !secrets::same(&sent.csrf, expected) {
                return Err(PageError(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "this form has expired or did not come from Kindly; reload the page and try again",
                )));
            }
        }
        let form = serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.to_string()))?;
        Ok(Self(who, form))
    }
}

/// A form whose only field is the CSRF token (claim, release, retry…).
#[derive(serde::Deserialize)]
pub(crate) struct NoFields {}

/// A time as the pages show it, to the minute: "2026-12-07 12:18".
pub(crate) fn minute(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// "handed_off" → "handed off".
pub(crate) fn status_label(status: kindly_core::TicketStatus) -> String {
    status.as_str().replace('_', " ")
}

/// How many of `what` a store's count per state holds (0 when it has none).
pub(crate) fn count_of<S: PartialEq>(counts: &[(S, u64)], what: &S) -> u64 {
    counts.iter().find(|(s, _)| s == what).map_or(0, |(_, n)| *n)
}

/// A short readable label for a reason code: `anger_or_frustration` → "Anger or frustration".
pub(crate) fn reason_label(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The first words of a text, at most `chars` characters, on a word boundary.
pub(super) fn opening_words(text: &str, chars: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= chars {
        return line;
    }
    let cut: String = line.chars().take(chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head).to_owned();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        assert!(templates().get_template("base.html").is_ok());
        assert_eq!(templates().templates().count(), 15);
    }

    #[test]
    fn counts_read_in_the_singular_or_the_plural() {
        let render = |src: &str, n: u64| templates().render_str(src, minijinja::context! { n }).unwrap();
        assert_eq!(render("{{ n|counted('ticket') }}", 1), "1 ticket");
        assert_eq!(render("{{ n|counted('ticket') }}", 0), "0 tickets");
        assert_eq!(render("{{ n|counted('person', 'people') }}", 2), "2 people");
    }

    #[test]
    fn opening_words_cut_on_a_word_boundary() {
        assert_eq!(opening_words("Where  is\nmy parcel?", 80), "Where is my parcel?");
        assert_eq!(opening_words("Where is my parcel? I ordered on Monday.", 16), "Where is my…");
        assert_eq!(opening_words("Überraschung", 5), "Überr…");
    }

    #[test]
    fn reason_codes_read_as_words() {
        assert_eq!(reason_label("anger_or_frustration"), "Anger or frustration");
        assert_eq!(reason_label(""), "");
    }
}
