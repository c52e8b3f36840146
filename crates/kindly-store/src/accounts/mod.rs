//! Users, API tokens and browser sessions on SQLite. Secrets never reach this layer in clear:
//! callers pass an argon2 password hash and SHA-256 digests of tokens and session ids.
//!
//! A disabled user authenticates nothing: not by password, session or token. A user's token
//! acts with the user's *current* role, so a demotion takes effect on the next request.

mod sessions;
mod tokens;
mod users;

use chrono::{DateTime, Utc};
use kindly_core::{Role, StoreError, User};
use sqlx::sqlite::SqliteRow;

use crate::corrupt;
use crate::rows::get;

/// Who an API token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub token_id: String,
    /// The token's name, or its user's email.
    pub name: String,
    pub role: Role,
    pub user: Option<User>,
}

/// An API token as operators list it: never the token or its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    /// The service token's name, or its user's email.
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A person as operators list them: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A live browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

fn role(row: &SqliteRow, col: &str) -> Result<Role, StoreError> {
    let raw: String = get(row, col)?;
    Role::parse(&raw).ok_or_else(|| corrupt(col, format!("unknown role {raw:?}")))
}

fn user(row: &SqliteRow) -> Result<User, StoreError> {
    Ok(User { id: get(row, "id")?, email: get(row, "email")?, role: role(row, "role")? })
}
