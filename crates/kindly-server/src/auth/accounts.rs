//! Creating users and API tokens (the `kindly users` and `kindly tokens` commands use these), and
//! the first administrator of a fresh install.

use anyhow::Context;
use chrono::Utc;
use kindly_core::{Role, User, ticket};
use kindly_store::SqliteStore;

use super::secrets;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Adds a user with an argon2 hash of `password`.
pub async fn add_user(store: &SqliteStore, email: &str, role: Role, password: &str) -> anyhow::Result<User> {
    let email = ticket::required_id("email", email)?;
    anyhow::ensure!(email.contains('@'), "the email {email:?} has no @");
    anyhow::ensure!(
        password.chars().count() >= MIN_PASSWORD_CHARS,
        "the password must have at least {MIN_PASSWORD_CHARS} characters"
    );
    let password = password.to_owned();
    // argon2 takes tens of milliseconds of CPU on purpose: off the async runtime.
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&password)).await??;
    Ok(store.add_user(&email, role, &hash, Utc::now()).await?)
}

/// Issues an API token for a user (it carries the user's role) and returns it; only its digest
/// is stored.
pub async fn token_for_user(store: &SqliteStore, email: &str) -> anyhow::Result<String> {
    let (user, _) =
        store.user_by_email(email).await?.with_context(|| format!("no user with email {email}"))?;
    let token = secrets::new_secret("kdl_");
    store.add_token(&user.email, user.role, Some(&user.id), &secrets::digest(&token), Utc::now()).await?;
    Ok(token)
}

/// Issues a service token (for a helpdesk integration, a metrics scraper…) with a role.
pub async fn service_token(store: &SqliteStore, name: &str, role: Role) -> anyhow::Result<String> {
    let name = ticket::required_id("name", name)?;
    let token = secrets::new_secret("kdl_");
    store.add_token(&name, role, None, &secrets::digest(&token), Utc::now()).await?;
    Ok(token)
}

/// Checks an email and password; the user on success.
pub async fn sign_in(store: &SqliteStore, email: &str, password: &str) -> anyhow::Result<Option<User>> {
    let Some((user, hash)) = store.user_by_email(email.trim()).await? else {
        return Ok(None);
    };
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash)).await?;
    Ok(ok.then_some(user))
}

/// The first administrator of a fresh install.
#[derive(Debug)]
pub struct FirstAdmin {
    pub email: String,
    pub password: String,
    pub token: String,
}

/// On a database with no users and no tokens, creates `admin@localhost` with a random password
/// and an API token, so that `make run` leads straight to a usable console. Returns `None`
/// otherwise.
pub async fn first_admin(store: &SqliteStore) -> anyhow::Result<Option<FirstAdmin>> {
    if store.account_count().await? > 0 {
        return Ok(None);
    }
    let email = "admin@localhost".to_owned();
    let password = secrets::new_secret("")[..24].to_owned();
    add_user(store, &email, Role::Admin, &password).await?;
    let token = token_for_user(store, &email).await?;
    Ok(Some(FirstAdmin { email, password, token }))
}
