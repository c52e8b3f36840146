//! Users, API tokens and browser sessions on SQLite. Secrets never reach this layer in clear:
//! callers pass an argon2 password hash and SHA-256 digests of tokens and session ids.

use chrono::{DateTime, Utc};
use kindly_core::{Role, StoreError, User};
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::rows::get;
use crate::{SqliteStore, backend, corrupt};

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

impl SqliteStore {
    /// Adds a user; an email already taken is a [`StoreError::Conflict`].
    pub async fn add_user(
        &self,
        email: &str,
        role: Role,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let id = Uuid::now_v7().to_string();
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT(email) DO NOTHING",
        )
        .bind(&id)
        .bind(email)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("a user with email {email} already exists")));
        }
        Ok(User { id, email: email.to_owned(), role })
    }

    /// The user with this email and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE email = ?")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| Ok((user(&r)?, get(&r, "password_hash")?))).transpose()
    }

    /// How many users and API tokens exist (a fresh install has neither).
    pub async fn account_count(&self) -> Result<u64, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM api_tokens)")
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        Ok(n as u64)
    }

    /// Stores an API token's digest under a name and role, optionally on behalf of a user.
    pub async fn add_token(
        &self,
        name: &str,
        role: Role,
        user_id: Option<&str>,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let id = Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, user_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(name)
        .bind(role.as_str())
        .bind(user_id)
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(id)
    }

    /// The owner of the unrevoked token with this digest.
    pub async fn token_owner(&self, token_hash: &str) -> Result<Option<TokenOwner>, StoreError> {
        let row = sqlx::query(
            "SELECT t.id AS token_id, t.name, t.role AS token_role, u.id, u.email, u.role \
             FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(r) = row else { return Ok(None) };
        let owner_id: Option<String> = get(&r, "id")?;
        let user = match owner_id {
            Some(_) => Some(user(&r)?),
            None => None,
        };
        Ok(Some(TokenOwner {
            token_id: get(&r, "token_id")?,
            name: user.as_ref().map_or(get(&r, "name")?, |u| u.email.clone()),
            role: role(&r, "token_role")?,
            user,
        }))
    }

    /// Every API token, the oldest first, revoked ones included.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, coalesce(u.email, t.name) AS name, t.role, t.created_at, t.revoked_at \
             FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(TokenRecord {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    role: role(r, "role")?,
                    created_at: get(r, "created_at")?,
                    revoked_at: get(r, "revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes a token: from now on it authenticates nothing. `false` when it already was
    /// (the first revocation time is kept); an unknown id is [`StoreError::NotFound`].
    pub async fn revoke_token(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let revoked = sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        if revoked > 0 {
            return Ok(true);
        }
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM api_tokens WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match exists {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound(format!("API token {id}"))),
        }
    }

    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Expired sessions are swept whenever someone signs in: no background task needed.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// The unexpired session with this digest.
    pub async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role, s.csrf_token, s.expires_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|r| {
            Ok(Session {
                user: user(&r)?,
                csrf_token: get(&r, "csrf_token")?,
                expires_at: get(&r, "expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn end_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
