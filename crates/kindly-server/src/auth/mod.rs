//! Sign-in and roles. Every request except health checks, static assets, the sign-in page and
//! signed webhooks carries either a bearer API token (`Authorization: Bearer kdl_…`) or a browser
//! session cookie; [`authenticate`] turns it into a [`Principal`] in the request's extensions.
//! API callers without one get a JSON 401; browsers are sent to the sign-in page.
//!
//! What each role may do is decided by [`kindly_core::Role::may`]; handlers ask through
//! [`Principal::require`].

pub mod accounts;
pub mod secrets;
mod session;
mod throttle;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use kindly_core::{Permission, Role};

use crate::error::ApiError;
use crate::routes::AppState;
pub use session::{
    SESSION_COOKIE, SIGN_IN_COOKIE, cookie, encode_component, session_cookie, session_id, sign_in_cookie,
};
pub use throttle::SignInThrottle;

/// Who is making a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user's email, or an API token's name.
    pub name: String,
    pub role: Role,
    /// The session's CSRF token; `None` for bearer tokens (which browsers never send on their
    /// own, so they need none).
    pub csrf_token: Option<String>,
}

impl Principal {
    /// Refuses with 403 unless the role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role.may(permission) { Ok(()) } else { Err(forbidden(self.role, permission)) }
    }

    /// The agent name a queue action is recorded under. Admins act for anyone named in the
    /// request (integrations resolve on behalf of helpdesk agents); everyone else acts as
    /// themselves.
    pub fn acting_as(&self, requested: &str) -> Result<String, ApiError> {
        if requested == self.name || self.role.may(Permission::TakeOverClaims) {
            Ok(requested.to_owned())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("you are signed in as {}; you cannot act as {requested}", self.name),
            ))
        }
    }
}

fn forbidden(role: Role, permission: Permission) -> ApiError {
    let what = match permission {
        Permission::Read => "read this",
        Permission::WorkQueue => "work the queue",
        Permission::TakeOverClaims => "act on a ticket someone else has claimed",
        Permission::EditKnowledge => "change the knowledge base",
        Permission::ManagePeople => "manage people",
    };
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("the {} role may not {what}", role.as_str()))
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(unauthenticated)
    }
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "sign in, or send an API token as `Authorization: Bearer <token>`",
    )
}

/// Paths anyone may reach: probes, assets (and the icon), the sign-in page, the API's OpenAPI
/// description, and webhooks (which carry their own signatures). `/metrics` is not among them:
/// scrape it with a token.
fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/sign-in" | "/favicon.ico" | "/openapi.json")
        || path.starts_with("/static/")
        || path.starts_with("/v1/webhooks/")
}

/// Machine-facing paths answer 401 JSON; pages redirect to the sign-in page.
fn is_api(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/metrics"
}

/// Finds the caller from a bearer token or a session cookie.
pub(crate) async fn authenticate(
    State(s): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let principal = if let Some(token) = bearer {
        match s.store.token_owner(&secrets::digest(&token)).await {
            Ok(Some(owner)) => Some(Principal { name: owner.name, role: owner.role, csrf_token: None }),
            Ok(None) => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "this API token is not valid",
                )
                .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else if let Some(id) = session_id(request.headers()) {
        match s.store.session(&secrets::digest(&id), Utc::now()).await {
            Ok(session) => session.map(|s| Principal {
                name: s.user.email,
                role: s.user.role,
                csrf_token: Some(s.csrf_token),
            }),
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        None
    };
    match principal {
        Some(p) => {
            request.extensions_mut().insert(p);
            next.run(request).await
        }
        None if is_api(&path) => unauthenticated().into_response(),
        None => {
            let back = back_after_sign_in(&request);
            Redirect::to(&format!("/sign-in?next={}", session::encode_component(&back))).into_response()
        }
    }
}

/// Where a browser without a session goes after signing in: the page it asked for or, for a form
/// sent after the session ended, the page the form was on (its `Referer` on this site). A form's
/// action is no page to land on, and the page holds the person's unsent draft (`kindly.js`).
fn back_after_sign_in(request: &Request) -> String {
    if request.method() == axum::http::Method::GET {
        return request.uri().path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
    }
    let header = |name| request.headers().get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
    header(header::REFERER)
        .and_then(|referer| same_site_path(referer, header(header::HOST)?))
        .unwrap_or("/")
        .to_owned()
}

/// The path and query of `url` when it points at `host`.
fn same_site_path<'a>(url: &'a str, host: &str) -> Option<&'a str> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (authority.eq_ignore_ascii_case(host)).then_some(if path.is_empty() { "/" } else { path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_probes_assets_sign_in_and_webhooks_are_public() {
        for open in [
            "/healthz",
            "/readyz",
            "/sign-in",
            "/favicon.ico",
            "/openapi.json",
            "/static/kindly.js",
            "/v1/webhooks/zendesk",
        ] {
            assert!(is_public(open), "{open}");
        }
        for closed in ["/metrics", "/v1/tickets", "/console", "/studio/articles", "/", "/sign-in/x"] {
            assert!(!is_public(closed), "{closed}");
        }
    }

    #[test]
    fn a_form_sent_without_a_session_returns_to_its_page_after_signing_in() {
        let post = |referer: Option<&str>| {
            let mut builder =
                Request::post("/console/handoffs/h-1/resolve").header(header::HOST, "kindly.local:8080");
            if let Some(r) = referer {
                builder = builder.header(header::REFERER, r);
            }
            back_after_sign_in(&builder.body(axum::body::Body::empty()).unwrap())
        };
        assert_eq!(post(Some("http://kindly.local:8080/console/handoffs/h-1")), "/console/handoffs/h-1");
        assert_eq!(
            post(Some("https://KINDLY.local:8080/studio/articles/new?x=1")),
            "/studio/articles/new?x=1"
        );
        assert_eq!(post(Some("http://kindly.local:8080")), "/");
        // another site, or none: the start page
        assert_eq!(post(Some("https://evil.example/console")), "/");
        assert_eq!(post(Some("http://kindly.local:8080.evil.example/x")), "/");
        assert_eq!(post(None), "/");
        let get = Request::get("/console/handoffs/h-1?tab=2").body(axum::body::Body::empty()).unwrap();
        assert_eq!(back_after_sign_in(&get), "/console/handoffs/h-1?tab=2");
    }

    #[test]
    fn only_admins_act_for_someone_else() {
        let agent = Principal { name: "ana@example.com".into(), role: Role::Agent, csrf_token: None };
        assert_eq!(agent.acting_as("ana@example.com").unwrap(), "ana@example.com");
        assert_eq!(agent.acting_as("bo@example.com").unwrap_err().status, StatusCode::FORBIDDEN);
        let admin = Principal { name: "ops".into(), role: Role::Admin, csrf_token: None };
        assert_eq!(admin.acting_as("bo@example.com").unwrap(), "bo@example.com");
        assert_eq!(agent.require(Permission::EditKnowledge).unwrap_err().status, StatusCode::FORBIDDEN);
    }
}
