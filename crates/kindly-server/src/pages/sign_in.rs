//! Signing in and out of the pages. A successful sign-in starts a server-side session whose id
//! travels in an HttpOnly, SameSite=Strict cookie. The form itself carries a CSRF token that must
//! match a cookie set with the page, so another site cannot sign a browser in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;

use super::{CsrfForm, PageError, templates};
use crate::auth::{SIGN_IN_COOKIE, accounts, cookie, secrets, session_cookie, session_id, sign_in_cookie};
use crate::error::ApiError;
use crate::routes::AppState;

/// How long a browser session lasts.
const SESSION_HOURS: i64 = 12;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/sign-in", get(form).post(sign_in)).route("/sign-out", post(sign_out))
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// The sign-in form's token the browser already holds, if it is one Kindly could have issued.
/// It is kept: the browser may load the page more than once (another tab, or a redirect for its
/// favicon) and each copy must still work.
fn held_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SIGN_IN_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The sign-in page with its CSRF token (`held`, or a new one) in the form and in a cookie only
/// this site's pages can send back.
fn page(
    s: &AppState,
    held: Option<String>,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let csrf = held.unwrap_or_else(|| secrets::new_secret(""));
    let html = templates()
        .get_template("sign_in.html")
        .and_then(|t| {
            t.render(minijinja::context! {
                page => minijinja::context! { next => next, error => error, csrf => csrf }
            })
        })
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the sign-in page could not be rendered",
            )
        })?;
    let cookie = sign_in_cookie(&csrf, s.settings.server.secure_cookies);
    Ok((status, [(header::SET_COOKIE, cookie)], Html(html)).into_response())
}

/// Only paths on this site are followed after signing in (no open redirect).
fn local(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/console".to_owned(),
    }
}

async fn form(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    page(&s, held_token(&headers), &local(q.next.as_deref()), None, StatusCode::OK)
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
    next: Option<String>,
    #[serde(default)]
    csrf: String,
}

async fn sign_in(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(c): Form<Credentials>,
) -> Result<Response, PageError> {
    let next = local(c.next.as_deref());
    let held = held_token(&headers);
    let counted =
        |outcome: &'static str| metrics::counter!("kindly_sign_ins_total", "outcome" => outcome).increment(1);
    if !held.as_deref().is_some_and(|t| secrets::same(&c.csrf, t)) {
        counted("form_refused");
        let message = "This sign-in form has expired or was not sent from Kindly. Please sign in again.";
        return page(&s, None, &next, Some(message), StatusCode::FORBIDDEN);
    }
    if let Err(wait) = s.sign_in_throttle.check(&c.email, Instant::now()) {
        counted("throttled");
        return too_many_failures(&s, held, &next, wait);
    }
    let user = accounts::sign_in(&s.store, &c.email, &c.password).await.map_err(|e| {
        tracing::error!(error = %e, "checking a password failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "signing in failed; it has been logged")
    })?;
    let Some(user) = user else {
        s.sign_in_throttle.failed(&c.email, Instant::now());
        counted("wrong_password");
        tracing::warn!("a sign-in failed: the email and password do not match");
        let message = "That email and password do not match.";
        return page(&s, held, &next, Some(message), StatusCode::UNAUTHORIZED);
    };
    s.sign_in_throttle.succeeded(&c.email);
    counted("ok");
    let id = secrets::new_secret("");
    let now = Utc::now();
    s.store
        .create_session(
            &secrets::digest(&id),
            &user.id,
            &secrets::new_secret(""),
            now,
            now + chrono::Duration::hours(SESSION_HOURS),
        )
        .await?;
    tracing::info!(user = %user.id, role = user.role.as_str(), "signed in");
    let cookie = session_cookie(Some(&id), SESSION_HOURS * 3600, s.settings.server.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
}

/// 429 with `Retry-After`: this email failed too often lately (see [`crate::auth::SignInThrottle`]).
fn too_many_failures(
    s: &AppState,
    held: Option<String>,
    next: &str,
    wait: Duration,
) -> Result<Response, PageError> {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let plural = if minutes == 1 { "" } else { "s" };
    let message = format!("Too many failed sign-ins for this email. Try again in {minutes} minute{plural}.");
    let mut response = page(s, held, next, Some(&message), StatusCode::TOO_MANY_REQUESTS)?;
    response.headers_mut().insert(header::RETRY_AFTER, wait.as_secs().max(1).into());
    Ok(response)
}

#[derive(Deserialize)]
struct Nothing {}

async fn sign_out(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    CsrfForm(_, Nothing {}): CsrfForm<Nothing>,
) -> Result<Response, PageError> {
    if let Some(id) = session_id(&headers) {
        s.store.end_session(&secrets::digest(&id)).await?;
    }
    let cookie = session_cookie(None, 0, s.settings.server.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/sign-in")).into_response())
}
