//! Creating users and API tokens (the `kindly users` and `kindly tokens` commands use these), and
//! the first administrator of a fresh install.

use std::sync::LazyLock;

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
    let hash = hash(password).await?;
    Ok(store.add_user(&email, role, &hash, Utc::now()).await?)
}

/// Gives a user a new password and signs them out everywhere.
pub async fn reset_password(store: &SqliteStore, email: &str, password: &str) -> anyhow::Result<User> {
    let hash = hash(password).await?;
    Ok(store.set_password(email.trim(), &hash).await?)
}

/// Checks the length and hashes with argon2, which takes tens of milliseconds of CPU on purpose:
/// off the async runtime.
async fn hash(password: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        password.chars().count() >= MIN_PASSWORD_CHARS,
        "the password must have at least {MIN_PASSWORD_CHARS} characters"
    );
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || secrets::hash_password(&password)).await?
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

/// A hash no password matches, checked when the email is unknown so that an unknown email takes
/// as long to refuse as a wrong password (the timing tells nobody which emails exist).
static NO_SUCH_USER: LazyLock<String> =
    LazyLock::new(|| secrets::hash_password(&secrets::new_secret("")).unwrap_or_default());

/// Checks an email and password; the user on success.
pub async fn sign_in(store: &SqliteStore, email: &str, password: &str) -> anyhow::Result<Option<User>> {
    let found = store.user_by_email(email.trim()).await?;
    let hash = found.as_ref().map_or_else(|| NO_SUCH_USER.clone(), |(_, hash)| hash.clone());
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash)).await?;
    Ok(found.filter(|_| ok).map(|(user, _)| user))
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
