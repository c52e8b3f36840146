//! [`IntegrationStore`] on SQLite: idempotent webhook deliveries, the helpdesk link of each
//! ticket, and the outbox (filled by the triggers of migration 0003, drained by the server).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kindly_core::integration::{
    AcceptedDelivery, ActionKind, ActionState, IntegrationStore, OutboxAction, PendingReply,
};
use kindly_core::{NewTicket, StoreError, TicketId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::rows::get;
use crate::tickets::insert_ticket;
use crate::{SqliteStore, backend, corrupt};

fn ticket_id(raw: &str) -> Result<TicketId, StoreError> {
    raw.parse().map_err(|e| corrupt("ticket id", e))
}

fn action(row: &SqliteRow) -> Result<OutboxAction, StoreError> {
    let kind: String = get(row, "kind")?;
    let state: String = get(row, "state")?;
    let attempts: i64 = get(row, "attempts")?;
    Ok(OutboxAction {
        id: get(row, "id")?,
        connection: get(row, "connection")?,
        ticket_id: ticket_id(&get::<String>(row, "ticket_id")?)?,
        remote_id: get(row, "remote_id")?,
        kind: ActionKind::parse(&kind).ok_or_else(|| corrupt("outbox kind", &kind))?,
        source_id: get(row, "source_id")?,
        idempotency_key: get(row, "idempotency_key")?,
        state: ActionState::parse(&state).ok_or_else(|| corrupt("outbox state", &state))?,
        attempts: u32::try_from(attempts).map_err(|e| corrupt("outbox attempts", e))?,
        next_attempt_at: get(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        created_at: get(row, "created_at")?,
        delivered_at: get(row, "delivered_at")?,
    })
}

#[async_trait]
impl IntegrationStore for SqliteStore {
    async fn accept_ticket_delivery(
        &self,
        connection: &str,
        delivery_key: &str,
        remote_id: &str,
        ticket: &NewTicket,
        now: DateTime<Utc>,
    ) -> Result<AcceptedDelivery, StoreError> {
        let mut tx = self.write().await?;
        // The delivery row first: SQLite takes the write lock here, so two concurrent copies of
        // one delivery are ordered and the second sees the first.
        let fresh = sqlx::query(
            "INSERT INTO webhook_deliveries (connection, delivery_key, event, state, received_at) \
             VALUES (?, ?, 'ticket_created', 'applied', ?) ON CONFLICT DO NOTHING",
        )
        .bind(connection)
        .bind(delivery_key)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected()
            == 1;
        if !fresh {
            let seen: Option<String> = sqlx::query_scalar(
                "SELECT ticket_id FROM webhook_deliveries WHERE connection = ? AND delivery_key = ?",
            )
            .bind(connection)
            .bind(delivery_key)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
            let seen = seen.ok_or_else(|| corrupt("webhook delivery", "a ticket delivery without ticket"))?;
            return Ok(AcceptedDelivery { ticket_id: ticket_id(&seen)?, duplicate: true, created: false });
        }
        let (id, created) = insert_ticket(&mut tx, ticket, now).await?;
        sqlx::query(
            "INSERT INTO helpdesk_tickets (ticket_id, connection, remote_id) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(connection)
        .bind(remote_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("UPDATE webhook_deliveries SET ticket_id = ? WHERE connection = ? AND delivery_key = ?")
            .bind(id.to_string())
            .bind(connection)
            .bind(delivery_key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(AcceptedDelivery { ticket_id: id, duplicate: false, created })
    }

    async fn linked_ticket(&self, connection: &str, remote_id: &str) -> Result<Option<TicketId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT ticket_id FROM helpdesk_tickets WHERE connection = ? AND remote_id = ?",
        )
        .bind(connection)
        .bind(remote_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        id.as_deref().map(ticket_id).transpose()
    }

    async fn accept_reply_delivery(
        &self,
        connection: &str,
        delivery_key: &str,
        ticket: TicketId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let fresh = sqlx::query(
            "INSERT INTO webhook_deliveries (connection, delivery_key, event, ticket_id, body, state, \
             received_at) VALUES (?, ?, 'customer_reply', ?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
        )
        .bind(connection)
        .bind(delivery_key)
        .bind(ticket.to_string())
        .bind(body)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(fresh == 1)
    }

    async fn pending_replies(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<PendingReply>, StoreError> {
        let rows = sqlx::query(
            "SELECT connection, delivery_key, ticket_id, body FROM webhook_deliveries \
             WHERE state = 'pending' AND received_at < ? ORDER BY received_at LIMIT ?",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(PendingReply {
                    connection: get(r, "connection")?,
                    delivery_key: get(r, "delivery_key")?,
                    ticket_id: ticket_id(&get::<String>(r, "ticket_id")?)?,
                    body: get(r, "body")?,
                })
            })
            .collect()
    }

    async fn mark_reply_applied(&self, connection: &str, delivery_key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'applied', body = NULL \
             WHERE connection = ? AND delivery_key = ?",
        )
        .bind(connection)
        .bind(delivery_key)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn delivery_count(&self, connection: &str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE connection = ?")
            .bind(connection)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn due_actions(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxAction>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(action).collect()
    }

    async fn action(&self, id: i64) -> Result<Option<OutboxAction>, StoreError> {
        let row = sqlx::query("SELECT * FROM outbox WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(action).transpose()
    }

    async fn actions(&self, state: Option<ActionState>, limit: u32) -> Result<Vec<OutboxAction>, StoreError> {
        let limit = if limit == 0 { 100 } else { limit.min(1000) };
        let rows =
            sqlx::query("SELECT * FROM outbox WHERE (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ?")
                .bind(state.map(ActionState::as_str))
                .bind(state.map(ActionState::as_str))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter().map(action).collect()
    }

    async fn ticket_actions(&self, ticket: TicketId) -> Result<Vec<OutboxAction>, StoreError> {
        let rows = sqlx::query("SELECT * FROM outbox WHERE ticket_id = ? ORDER BY id")
            .bind(ticket.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(action).collect()
    }

    async fn action_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, \
             last_error = NULL WHERE id = ? AND state = 'pending'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn action_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, \
             state = CASE WHEN ? IS NULL THEN 'dead' ELSE 'pending' END, \
             next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ? AND state = 'pending'",
        )
        .bind(error)
        .bind(retry_at)
        .bind(retry_at)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn retry_action(&self, id: i64, now: DateTime<Utc>) -> Result<OutboxAction, StoreError> {
        let touched = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? \
             WHERE id = ? AND state = 'dead'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected();
        let current =
            self.action(id).await?.ok_or_else(|| StoreError::NotFound(format!("outbox action {id}")))?;
        if touched == 0 && current.state == ActionState::Delivered {
            return Err(StoreError::Conflict(format!("outbox action {id} was already delivered")));
        }
        Ok(current)
    }

    async fn outbox_counts(&self) -> Result<Vec<(ActionState, u64)>, StoreError> {
        let rows = sqlx::query("SELECT state, count(*) AS n FROM outbox GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state").map_err(backend)?;
                let n: i64 = r.try_get("n").map_err(backend)?;
                let state = ActionState::parse(&state).ok_or_else(|| corrupt("outbox state", &state))?;
                Ok((state, n as u64))
            })
            .collect()
    }
}

impl SqliteStore {
    /// How many outbox actions are dead (every attempt failed), from the outbox's state index:
    /// cheap enough for the queue page, which shows it to everyone.
    pub async fn dead_action_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state = 'dead'")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }
}
