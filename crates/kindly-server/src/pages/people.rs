//! People (`/admin/people`, admins only): the team who sign in to the pages. Add someone with a
//! role and a first password, change a role, set a new password, disable someone who left and
//! enable them again. The same store calls as `kindly users`, so the same rules hold: a new role
//! reaches open sessions and tokens at once, a new password or disabling signs the person out
//! everywhere, and the last admin who can sign in is never demoted or disabled.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use kindly_core::{Permission, Role, ValidationError};
use serde::{Deserialize, Serialize};

use super::{CsrfForm, PageError, render};
use crate::auth::Principal;
use crate::auth::accounts::{self, MIN_PASSWORD_CHARS};
use crate::error::ApiError;
use crate::routes::AppState;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin/people", get(people).post(add))
        .route("/admin/people/role", post(set_role))
        .route("/admin/people/password", post(set_password))
        .route("/admin/people/disable", post(disable))
        .route("/admin/people/enable", post(enable))
}

#[derive(Serialize)]
struct Person {
    email: String,
    role: &'static str,
    role_label: &'static str,
    created: String,
    disabled: Option<String>,
    me: bool,
}

#[derive(Serialize, Default)]
struct PeoplePage {
    people: Vec<Person>,
    roles: Vec<(&'static str, &'static str)>,
    min_password: usize,
    /// What the last action did, in words.
    done: Option<String>,
    /// Why the last action was refused, and the add form as it was typed (never the password).
    error: Option<String>,
    typed_email: String,
    typed_role: String,
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
    email: Option<String>,
}

/// The sentence for a finished action (`?done=…&email=…` after the redirect). Only known codes
/// are shown, so a link cannot put words of its own on the page.
fn done_sentence(done: &str, email: &str, role: Option<&str>) -> Option<String> {
    let role = role.unwrap_or("their new role");
    Some(match done {
        "added" => format!(
            "{email} was added as {role}. Give them their password over a channel you trust; they sign in at /sign-in."
        ),
        "role" => {
            format!("{email} is now {role}, from their next request on (open sessions and API tokens too).")
        }
        "password" => format!("{email} has a new password and was signed out everywhere."),
        "disabled" => {
            format!("{email} was disabled: signed out everywhere, and their API tokens were revoked.")
        }
        "enabled" => format!("{email} may sign in again. Their old API tokens stay revoked."),
        _ => return None,
    })
}

async fn page(s: &AppState, who: &Principal, mut page: PeoplePage) -> Result<PeoplePage, PageError> {
    page.people = s
        .store
        .users()
        .await?
        .into_iter()
        .map(|r| Person {
            me: r.user.email == who.name,
            role: r.user.role.as_str(),
            role_label: r.user.role.label(),
            created: r.created_at.format("%Y-%m-%d").to_string(),
            disabled: r.disabled_at.map(|d| d.format("%Y-%m-%d").to_string()),
            email: r.user.email,
        })
        .collect();
    page.roles = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    page.min_password = MIN_PASSWORD_CHARS;
    Ok(page)
}

async fn people(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    who.require(Permission::ManagePeople)?;
    let mut shown = page(&s, &who, PeoplePage::default()).await?;
    if let (Some(done), Some(email)) = (q.done.as_deref(), q.email.as_deref()) {
        let role = shown.people.iter().find(|p| p.email == email).map(|p| p.role_label);
        shown.done = done_sentence(done, email, role);
    }
    Ok(render("people.html", &who, shown)?.into_response())
}

/// Shows the outcome of a change: back to the list saying what was done (a redirect, so a reload
/// does not repeat it), or, for a change the admin can fix (a short password, an email taken, the
/// last admin…), the list again with why and the add form as typed. Anything else is an error
/// page.
async fn outcome(
    s: &AppState,
    who: &Principal,
    done: &str,
    changed: Result<String, ApiError>,
    typed: Option<&AddForm>,
) -> Result<Response, PageError> {
    let e = match changed {
        Ok(email) => {
            let email = crate::auth::encode_component(&email);
            return Ok(Redirect::to(&format!("/admin/people?done={done}&email={email}")).into_response());
        }
        Err(e) if e.status.is_client_error() => e,
        Err(e) => return Err(e.into()),
    };
    let status = e.status;
    let shown = PeoplePage {
        error: Some(e.message),
        typed_email: typed.map(|t| t.email.clone()).unwrap_or_default(),
        typed_role: typed.map(|t| t.role.clone()).unwrap_or_default(),
        ..PeoplePage::default()
    };
    let shown = page(s, who, shown).await?;
    Ok((status, render("people.html", who, shown)?).into_response())
}

/// The account functions answer in `anyhow`; a store refusal keeps its status (409 for an email
/// taken or the last admin, 404 for an unknown email), anything else the admin typed is a 422.
fn from_accounts(e: anyhow::Error) -> ApiError {
    match e.downcast::<kindly_core::StoreError>() {
        Ok(store) => store.into(),
        Err(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.to_string()),
    }
}

fn role(field: &str) -> Result<Role, ApiError> {
    field.parse().map_err(|message: String| ApiError::invalid(ValidationError::new("role", message)))
}

/// An admin does not lock themselves out from this page; another admin (or `kindly users`) can.
fn not_yourself(who: &Principal, email: &str, what: &str) -> Result<(), ApiError> {
    if who.name == email.trim() {
        let message =
            format!("you cannot {what} your own account here; another admin can, or use `kindly users`");
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", message));
    }
    Ok(())
}

#[derive(Deserialize)]
struct AddForm {
    email: String,
    role: String,
    password: String,
}

async fn add(
    State(s): State<Arc<AppState>>,
    CsrfForm(who, form): CsrfForm<AddForm>,
) -> Result<Response, PageError> {
    who.require(Permission::ManagePeople)?;
    let added = async {
        let role = role(&form.role)?;
        let user = accounts::add_user(&s.store, form.email.trim(), role, &form.password).await;
        Ok(user.map_err(from_accounts)?.email)
    };
    outcome(&s, &who, "added", added.await, Some(&form)).await
}

#[derive(Deserialize)]
struct RoleForm {
    email: String,
    role: String,
}

async fn set_role(
    State(s): State<Arc<AppState>>,
    CsrfForm(who, form): CsrfForm<RoleForm>,
) -> Result<Response, PageError> {
    who.require(Permission::ManagePeople)?;
    let changed = async {
        let role = role(&form.role)?;
        not_yourself(&who, &form.email, "change the role of")?;
        Ok(s.store.set_user_role(form.email.trim(), role).await?.email)
    };
    outcome(&s, &who, "role", changed.await, None).await
}

#[derive(Deserialize)]
struct PasswordForm {
    email: String,
    password: String,
}

/// For their own account too: every session ends, this one as well, so the list's redirect leads
/// to the sign-in page.
async fn set_password(
    State(s): State<Arc<AppState>>,
    CsrfForm(who, form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    who.require(Permission::ManagePeople)?;
    let changed = accounts::reset_password(&s.store, &form.email, &form.password).await;
    outcome(&s, &who, "password", changed.map(|u| u.email).map_err(from_accounts), None).await
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn disable(
    State(s): State<Arc<AppState>>,
    CsrfForm(who, form): CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    who.require(Permission::ManagePeople)?;
    let email = form.email.trim();
    let disabled = async {
        not_yourself(&who, email, "disable")?;
        s.store.disable_user(email, Utc::now()).await?;
        Ok(email.to_owned())
    };
    outcome(&s, &who, "disabled", disabled.await, None).await
}

async fn enable(
    State(s): State<Arc<AppState>>,
    CsrfForm(who, form): CsrfForm<EmailForm>,
) -> Result<Response, PageError> {
    who.require(Permission::ManagePeople)?;
    let email = form.email.trim();
    let enabled = s.store.enable_user(email).await.map(|_| email.to_owned()).map_err(ApiError::from);
    outcome(&s, &who, "enabled", enabled, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_outcomes_are_put_into_words() {
        let added = done_sentence("added", "ana@example.com", Some("Agent")).unwrap();
        assert!(added.starts_with("ana@example.com was added as Agent."), "{added}");
        assert!(done_sentence("disabled", "bo@example.com", None).unwrap().contains("revoked"));
        assert_eq!(done_sentence("<script>", "x", None), None);
    }
}
