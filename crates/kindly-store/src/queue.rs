//! [`QueueStore`] on SQLite: the handoff queue, claims and resolutions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kindly_core::{
    Author, Handoff, HandoffId, HandoffStatus, NewMessage, NewResolution, QueueFilter, QueueStore,
    Resolution, StoreError, TicketId,
};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::rows::{self, get};
use crate::tickets::insert_message;
use crate::{SqliteStore, backend, corrupt};

impl SqliteStore {
    /// Why a conditional update on a handoff touched nothing: it is missing, or in the way.
    async fn handoff_conflict(&self, id: HandoffId, agent: &str) -> StoreError {
        match self.handoff(id).await {
            Ok(None) => StoreError::NotFound(format!("handoff {id}")),
            Ok(Some(h)) if h.status == HandoffStatus::Resolved => {
                StoreError::Conflict(format!("handoff {id} is already resolved"))
            }
            Ok(Some(h)) => StoreError::Conflict(format!(
                "handoff {id} is claimed by {}, not {agent}",
                h.agent.as_deref().unwrap_or("someone else")
            )),
            Err(e) => e,
        }
    }
}

/// The `WHERE` clause of a queue filter (its limit aside).
fn matching(q: &mut QueryBuilder<'_, sqlx::Sqlite>, filter: &QueueFilter) {
    q.push(" WHERE 1 = 1");
    match filter.status {
        Some(status) => {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        None => {
            q.push(" AND status != 'resolved'");
        }
    }
    if let Some(agent) = &filter.agent {
        q.push(" AND agent = ").push_bind(agent.clone());
    }
    if let Some(reason) = &filter.reason {
        q.push(" AND reason_codes LIKE ").push_bind(format!("% {reason} %"));
    }
    if let Some(priority) = filter.priority {
        q.push(" AND priority = ").push_bind(priority.rank());
    }
    if let Some(due) = filter.due_before {
        q.push(" AND sla_due_at < ").push_bind(due);
    }
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn handoffs(&self, filter: &QueueFilter) -> Result<Vec<Handoff>, StoreError> {
        let mut q = QueryBuilder::<sqlx::Sqlite>::new("SELECT * FROM handoffs");
        matching(&mut q, filter);
        let limit = if filter.limit == 0 { 100 } else { filter.limit.min(1000) };
        q.push(" ORDER BY priority, sla_due_at, created_at LIMIT ").push_bind(limit);
        let rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(rows::handoff).collect()
    }

    async fn count_handoffs(&self, filter: &QueueFilter) -> Result<u64, StoreError> {
        let mut q = QueryBuilder::<sqlx::Sqlite>::new("SELECT count(*) FROM handoffs");
        matching(&mut q, filter);
        let n: i64 = q.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;
        Ok(n as u64)
    }

    async fn handoff(&self, id: HandoffId) -> Result<Option<Handoff>, StoreError> {
        let row = sqlx::query("SELECT * FROM handoffs WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(rows::handoff).transpose()
    }

    async fn ticket_handoffs(&self, ticket: TicketId) -> Result<Vec<Handoff>, StoreError> {
        let rows = sqlx::query("SELECT * FROM handoffs WHERE ticket_id = ? ORDER BY created_at, id")
            .bind(ticket.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(rows::handoff).collect()
    }

    async fn open_handoffs(&self, customer_id: &str) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM handoffs WHERE customer_id = ? AND status != 'resolved'",
        )
        .bind(customer_id)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(n as u32)
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM handoffs WHERE status != 'resolved'")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn claim(&self, id: HandoffId, agent: &str, now: DateTime<Utc>) -> Result<Handoff, StoreError> {
        let touched = sqlx::query(
            "UPDATE handoffs SET status = 'claimed', agent = ?, claimed_at = coalesce(claimed_at, ?) \
             WHERE id = ? AND (status = 'open' OR (status = 'claimed' AND agent = ?))",
        )
        .bind(agent)
        .bind(now)
        .bind(id.to_string())
        .bind(agent)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected();
        if touched == 0 {
            return Err(self.handoff_conflict(id, agent).await);
        }
        self.handoff(id).await?.ok_or_else(|| StoreError::NotFound(format!("handoff {id}")))
    }

    async fn resolve(&self, r: &NewResolution) -> Result<Resolution, StoreError> {
        let mut tx = self.write().await?;
        let touched = sqlx::query(
            "UPDATE handoffs SET status = 'resolved', agent = ?, resolved_at = ?, claimed_at = coalesce(claimed_at, ?) \
             WHERE id = ? AND status != 'resolved' AND (agent IS NULL OR agent = ?)",
        )
        .bind(&r.agent)
        .bind(r.resolved_at)
        .bind(r.resolved_at)
        .bind(r.handoff_id.to_string())
        .bind(&r.agent)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if touched == 0 {
            drop(tx);
            return Err(self.handoff_conflict(r.handoff_id, &r.agent).await);
        }
        let row = sqlx::query(
            "SELECT t.id, t.subject, t.body FROM handoffs h JOIN tickets t ON t.id = h.ticket_id WHERE h.id = ?",
        )
        .bind(r.handoff_id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let ticket_id: TicketId = get::<String>(&row, "id")?.parse().map_err(|e| corrupt("ticket id", e))?;
        let subject: Option<String> = get(&row, "subject")?;
        let body: String = get(&row, "body")?;
        let question = kindly_core::ticket::ticket_text(subject.as_deref(), &body);
        let resolution = Resolution {
            id: Uuid::now_v7(),
            handoff_id: r.handoff_id,
            ticket_id,
            agent: r.agent.clone(),
            question,
            reply: r.reply.clone(),
            reusable: r.reusable,
            intent: r.intent.clone(),
            created_at: r.resolved_at,
        };
        sqlx::query(
            "INSERT INTO resolutions (id, handoff_id, ticket_id, agent, question, reply, reusable, intent, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(resolution.id.to_string())
        .bind(resolution.handoff_id.to_string())
        .bind(ticket_id.to_string())
        .bind(&resolution.agent)
        .bind(&resolution.question)
        .bind(&resolution.reply)
        .bind(resolution.reusable)
        .bind(&resolution.intent)
        .bind(resolution.created_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let message = NewMessage {
            ticket_id,
            author: Author::Agent,
            author_name: Some(r.agent.clone()),
            body: r.reply.clone(),
            created_at: r.resolved_at,
        };
        insert_message(&mut tx, &message).await?;
        sqlx::query("UPDATE tickets SET status = 'resolved', intent = coalesce(?, intent), updated_at = ? WHERE id = ?")
            .bind(&r.intent)
            .bind(r.resolved_at)
            .bind(ticket_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(resolution)
    }

    async fn resolution(&self, id: Uuid) -> Result<Option<Resolution>, StoreError> {
        let row = sqlx::query("SELECT * FROM resolutions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(rows::resolution).transpose()
    }

    async fn unindexed_resolutions(&self) -> Result<Vec<Resolution>, StoreError> {
        let rows = sqlx::query("SELECT * FROM resolutions WHERE indexed = 0 ORDER BY created_at")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(rows::resolution).collect()
    }

    async fn mark_resolution_indexed(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("UPDATE resolutions SET indexed = 1 WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
