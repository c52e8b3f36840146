//! Signing in and out of the pages. A successful sign-in starts a server-side session whose id
//! travels in an HttpOnly, SameSite=Strict cookie.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;

use super::{CsrfForm, PageError, templates};
use crate::auth::{accounts, secrets, session_cookie, session_id};
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

fn page(next: &str, error: Option<&str>, status: StatusCode) -> Result<Response, PageError> {
    let html = templates()
        .get_template("sign_in.html")
        .and_then(|t| {
            t.render(minijinja::context! { page => minijinja::context! { next => next, error => error } })
        })
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the sign-in page could not be rendered",
            )
        })?;
    Ok((status, Html(html)).into_response())
}

/// Only paths on this site are followed after signing in (no open redirect).
fn local(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/console".to_owned(),
    }
}

async fn form(Query(q): Query<Next>) -> Result<Response, PageError> {
    page(&local(q.next.as_deref()), None, StatusCode::OK)
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
    next: Option<String>,
}

async fn sign_in(State(s): State<Arc<AppState>>, Form(c): Form<Credentials>) -> Result<Response, PageError> {
    let next = local(c.next.as_deref());
    if let Err(wait) = s.sign_in_throttle.check(&c.email, Instant::now()) {
        return too_many_failures(&next, wait);
    }
    let user = accounts::sign_in(&s.store, &c.email, &c.password).await.map_err(|e| {
        tracing::error!(error = %e, "checking a password failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "signing in failed; it has been logged")
    })?;
    let Some(user) = user else {
        s.sign_in_throttle.failed(&c.email, Instant::now());
        tracing::warn!("a sign-in failed: the email and password do not match");
        return page(&next, Some("That email and password do not match."), StatusCode::UNAUTHORIZED);
    };
    s.sign_in_throttle.succeeded(&c.email);
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
fn too_many_failures(next: &str, wait: Duration) -> Result<Response, PageError> {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let plural = if minutes == 1 { "" } else { "s" };
    let message = format!(
        "Too many failed sign-ins for this email. Try again in {minutes} minute{plural}, or ask an admin to set a new password."
    );
    let mut response = page(next, Some(&message), StatusCode::TOO_MANY_REQUESTS)?;
    response.headers_mut().insert(header::RETRY_AFTER, wait.as_secs().max(1).into());
    Ok(response)
}

#[derive(Deserialize)]
struct Nothing {}

async fn sign_out(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    CsrfForm(_, Nothing {}): CsrfForm<Nothing>,
) -> Result<Response, PageError> {
    if let Some(id) = session_id(&headers) {
        s.store.end_session(&secrets::digest(&id)).await?;
    }
    let cookie = session_cookie(None, 0, s.settings.server.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/sign-in")).into_response())
}
