//! People who sign in to the pages. They are disabled, never deleted: their email stays on the
//! tickets and reviews they worked.

use chrono::{DateTime, Utc};
use kindly_core::{Role, StoreError, User};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::{UserRecord, user};
use crate::rows::get;
use crate::{SqliteStore, backend};

/// The user with this email inside a transaction, or [`StoreError::NotFound`].
async fn find(tx: &mut Transaction<'_, Sqlite>, email: &str) -> Result<UserRecord, StoreError> {
    let row = sqlx::query("SELECT * FROM users WHERE email = ?")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(format!("a user with email {email}")))?;
    record(&row)
}

fn record(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user: user(row)?,
        created_at: get(row, "created_at")?,
        disabled_at: get(row, "disabled_at")?,
    })
}

/// Refuses a change to `was` (an admin's record before it) that would leave nobody able to sign
/// in as an admin.
async fn keep_an_admin(tx: &mut Transaction<'_, Sqlite>, was: &UserRecord) -> Result<(), StoreError> {
    if was.user.role != Role::Admin || was.disabled_at.is_some() {
        return Ok(());
    }
    let admins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
            .fetch_one(&mut **tx)
            .await
            .map_err(backend)?;
    if admins == 0 {
        return Err(StoreError::Conflict(format!(
            "{} is the last admin who can sign in; add another admin first (`kindly users add --role admin`)",
            was.user.email
        )));
    }
    Ok(())
}

/// Ends every browser session of a user.
async fn end_sessions(tx: &mut Transaction<'_, Sqlite>, user_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
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

    /// The enabled user with this email and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE email = ? AND disabled_at IS NULL")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| Ok((user(&r)?, get(&r, "password_hash")?))).transpose()
    }

    /// Every user, the oldest first, disabled ones included.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY created_at, email")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(record).collect()
    }

    /// Gives a user another role; their sessions and tokens act with it from the next request.
    /// Demoting the last enabled admin is a [`StoreError::Conflict`].
    pub async fn set_user_role(&self, email: &str, role: Role) -> Result<User, StoreError> {
        let mut tx = self.write().await?;
        let was = find(&mut tx, email).await?;
        sqlx::query("UPDATE users SET role = ? WHERE email = ?")
            .bind(role.as_str())
            .bind(email)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        keep_an_admin(&mut tx, &was).await?;
        tx.commit().await.map_err(backend)?;
        Ok(User { role, ..was.user })
    }

    /// Replaces a user's password hash and ends their sessions (a reset signs them out
    /// everywhere).
    pub async fn set_password(&self, email: &str, password_hash: &str) -> Result<User, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET password_hash = ? WHERE email = ?")
            .bind(password_hash)
            .bind(email)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let found = find(&mut tx, email).await?;
        end_sessions(&mut tx, &found.user.id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(found.user)
    }

    /// Disables a user: they cannot sign in, their sessions end and their API tokens are
    /// revoked, at once. `false` when they already were disabled. Disabling the last enabled
    /// admin is a [`StoreError::Conflict`].
    pub async fn disable_user(&self, email: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let was = find(&mut tx, email).await?;
        if was.disabled_at.is_some() {
            return Ok(false);
        }
        sqlx::query("UPDATE users SET disabled_at = ? WHERE id = ?")
            .bind(now)
            .bind(&was.user.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        keep_an_admin(&mut tx, &was).await?;
        end_sessions(&mut tx, &was.user.id).await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(&was.user.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    /// Lets a disabled user sign in again (their revoked tokens stay revoked). `false` when they
    /// were not disabled.
    pub async fn enable_user(&self, email: &str) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let changed =
            sqlx::query("UPDATE users SET disabled_at = NULL WHERE email = ? AND disabled_at IS NOT NULL")
                .bind(email)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        find(&mut tx, email).await?;
        tx.commit().await.map_err(backend)?;
        Ok(changed > 0)
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
}
