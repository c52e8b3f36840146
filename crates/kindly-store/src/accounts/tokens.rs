//! API tokens: only a SHA-256 of each is stored. A user's token carries the user's current role.

use chrono::{DateTime, Utc};
use kindly_core::{Role, StoreError};
use uuid::Uuid;

use super::{TokenOwner, TokenRecord, role, user};
use crate::rows::get;
use crate::{SqliteStore, backend};

impl SqliteStore {
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

    /// The owner of the unrevoked token with this digest; `None` also when the token's user is
    /// disabled. A user's token acts with the user's current role.
    pub async fn token_owner(&self, token_hash: &str) -> Result<Option<TokenOwner>, StoreError> {
        let row = sqlx::query(
            "SELECT t.id AS token_id, t.name, t.role AS token_role, u.id, u.email, u.role \
             FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.user_id IS NULL OR u.disabled_at IS NULL)",
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
            role: match &user {
                Some(u) => u.role,
                None => role(&r, "token_role")?,
            },
            user,
        }))
    }

    /// Every API token, the oldest first, revoked ones included.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, coalesce(u.email, t.name) AS name, coalesce(u.role, t.role) AS role, t.created_at, \
             t.revoked_at \
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
}
