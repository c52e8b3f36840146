//! [`TicketStore`] on SQLite: idempotent intake, the worker's backlog, decide-once triage.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kindly_core::ports::{Inserted, TriageRecord};
use kindly_core::{
    Decision, Handoff, Message, NewMessage, NewTicket, Outcome, StoreError, Ticket, TicketFilter, TicketId,
    TicketListing, TicketStatus, TicketStore, TicketSummary,
};
use sqlx::{Sqlite, Transaction};

use crate::rows::{self, get, to_json};
use crate::{SqliteStore, backend};

const TICKET_COLUMNS: &str =
    "SELECT t.*, c.email, c.name, c.flagged FROM tickets t JOIN customers c ON c.id = t.customer_id";

impl SqliteStore {
    async fn ticket_by(&self, column: &str, value: &str) -> Result<Option<Ticket>, StoreError> {
        let sql = format!("{TICKET_COLUMNS} WHERE t.{column} = ?");
        let row = sqlx::query(&sql).bind(value).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(rows::ticket).transpose()
    }
}

pub(crate) async fn insert_message(
    tx: &mut Transaction<'_, Sqlite>,
    m: &NewMessage,
) -> Result<Message, StoreError> {
    let id = sqlx::query(
        "INSERT INTO messages (ticket_id, author, author_name, body, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(m.ticket_id.to_string())
    .bind(m.author.as_str())
    .bind(&m.author_name)
    .bind(&m.body)
    .bind(m.created_at)
    .execute(&mut **tx)
    .await
    .map_err(backend)?
    .last_insert_rowid();
    Ok(Message {
        id,
        ticket_id: m.ticket_id,
        author: m.author,
        author_name: m.author_name.clone(),
        body: m.body.clone(),
        created_at: m.created_at,
    })
}

pub(crate) async fn insert_decision(
    tx: &mut Transaction<'_, Sqlite>,
    d: &Decision,
) -> Result<(), StoreError> {
    let outcome = match d.outcome {
        Outcome::Answer { .. } => "answer",
        Outcome::Handoff { .. } => "handoff",
    };
    let shadow = d.evidence.shadow.as_ref().map(|s| s.outcome().as_str());
    sqlx::query(
        "INSERT INTO decisions (ticket_id, outcome, rule, decision, decided_at, intent, shadow) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(d.ticket_id.to_string())
    .bind(outcome)
    .bind(&d.rule)
    .bind(to_json(d)?)
    .bind(d.decided_at)
    .bind(d.evidence.intent.as_ref().map(|i| i.intent.as_str()))
    .bind(shadow)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn insert_handoff(tx: &mut Transaction<'_, Sqlite>, h: &Handoff) -> Result<(), StoreError> {
    let codes: Vec<&str> = h.reasons.iter().map(|r| r.code.code()).collect();
    sqlx::query(
        "INSERT INTO handoffs (id, ticket_id, customer_id, subject, status, priority, sla_due_at, reasons, \
         reason_codes, intent, context, agent, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(h.id.to_string())
    .bind(h.ticket_id.to_string())
    .bind(&h.customer_id)
    .bind(&h.subject)
    .bind(h.status.as_str())
    .bind(h.priority.rank())
    .bind(h.sla_due_at)
    .bind(to_json(&h.reasons)?)
    .bind(format!(" {} ", codes.join(" ")))
    .bind(&h.intent)
    .bind(to_json(&h.context)?)
    .bind(&h.agent)
    .bind(h.created_at)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Intake's one write, inside the caller's transaction (plain intake, or a webhook delivery that
/// also links the ticket to its helpdesk): the customer, then the ticket unless its external id
/// exists. Returns the ticket's id and whether it was new.
pub(crate) async fn insert_ticket(
    tx: &mut Transaction<'_, Sqlite>,
    t: &NewTicket,
    now: DateTime<Utc>,
) -> Result<(TicketId, bool), StoreError> {
    let id = TicketId::new();
    sqlx::query(
        "INSERT INTO customers (id, email, name, flagged, created_at) VALUES (?, ?, ?, coalesce(?, 0), ?) \
             ON CONFLICT(id) DO UPDATE SET email = coalesce(excluded.email, email), \
             name = coalesce(excluded.name, name), flagged = coalesce(?, flagged)",
    )
    .bind(&t.customer.id)
    .bind(&t.customer.email)
    .bind(&t.customer.name)
    .bind(t.customer.flagged)
    .bind(now)
    .bind(t.customer.flagged)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    let inserted = sqlx::query(
        "INSERT INTO tickets (id, external_id, customer_id, subject, body, channel, status, created_at, \
             received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'received', ?, ?, ?) \
             ON CONFLICT(external_id) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(&t.external_id)
    .bind(&t.customer.id)
    .bind(&t.subject)
    .bind(&t.body)
    .bind(&t.channel)
    .bind(t.created_at)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(backend)?
    .rows_affected()
        == 1;
    if inserted {
        return Ok((id, true));
    }
    let existing: String = sqlx::query_scalar("SELECT id FROM tickets WHERE external_id = ?")
        .bind(&t.external_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
    Ok((existing.parse().map_err(|e| crate::corrupt("ticket id", e))?, false))
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn insert_ticket(&self, t: &NewTicket, now: DateTime<Utc>) -> Result<Inserted, StoreError> {
        let mut tx = self.write().await?;
        let (_, inserted) = insert_ticket(&mut tx, t, now).await?;
        tx.commit().await.map_err(backend)?;
        let ticket = self
            .ticket_by("external_id", &t.external_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("ticket {}", t.external_id)))?;
        Ok(Inserted { ticket, created: inserted })
    }

    async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
        self.ticket_by("id", &id.to_string()).await
    }

    async fn pending_tickets(&self, limit: u32) -> Result<Vec<TicketId>, StoreError> {
        let rows =
            sqlx::query("SELECT id FROM tickets WHERE status = 'received' ORDER BY received_at, id LIMIT ?")
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter()
            .map(|r| get::<String>(r, "id")?.parse().map_err(|e| crate::corrupt("ticket id", e)))
            .collect()
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tickets WHERE status = 'received'")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn messages(&self, id: TicketId) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query("SELECT * FROM messages WHERE ticket_id = ? ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(rows::message).collect()
    }

    async fn decisions(&self, id: TicketId) -> Result<Vec<Decision>, StoreError> {
        let rows = sqlx::query("SELECT decision FROM decisions WHERE ticket_id = ? ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| rows::json(r, "decision")).collect()
    }

    async fn tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketListing>, StoreError> {
        self.list_tickets(filter).await
    }

    async fn count_tickets(&self, filter: &TicketFilter) -> Result<u64, StoreError> {
        self.count_listed_tickets(filter).await
    }

    async fn ticket_counts(&self) -> Result<Vec<(TicketStatus, u64)>, StoreError> {
        self.tickets_by_status().await
    }

    async fn customer_tickets(
        &self,
        customer_id: &str,
        except: TicketId,
        limit: u32,
    ) -> Result<Vec<TicketSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, subject, status, intent, created_at FROM tickets WHERE customer_id = ? AND id != ? \
             ORDER BY created_at DESC LIMIT ?",
        )
        .bind(customer_id)
        .bind(except.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(rows::ticket_summary).collect()
    }

    async fn recent_contacts(
        &self,
        customer_id: &str,
        except: TicketId,
        since: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tickets WHERE customer_id = ? AND id != ? AND created_at >= ?",
        )
        .bind(customer_id)
        .bind(except.to_string())
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(n as u32)
    }

    async fn record_triage(&self, record: &TriageRecord) -> Result<bool, StoreError> {
        let d = &record.decision;
        let status = if d.is_answer() { TicketStatus::Answered } else { TicketStatus::HandedOff };
        let mut tx = self.write().await?;
        let claimed = sqlx::query(
            "UPDATE tickets SET status = ?, intent = ?, updated_at = ? WHERE id = ? AND status = 'received'",
        )
        .bind(status.as_str())
        .bind(&record.intent)
        .bind(d.decided_at)
        .bind(d.ticket_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if claimed == 0 {
            return Ok(false); // already decided: the transaction rolls back on drop
        }
        insert_decision(&mut tx, d).await?;
        if let Some(answer) = &record.answer {
            insert_message(&mut tx, answer).await?;
        }
        if let Some(handoff) = &record.handoff {
            insert_handoff(&mut tx, handoff).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn add_follow_up(
        &self,
        message: &NewMessage,
        expected: TicketStatus,
        reopen: Option<(&Decision, &Handoff)>,
    ) -> Result<Message, StoreError> {
        let mut tx = self.write().await?;
        let new_status = if reopen.is_some() { TicketStatus::HandedOff } else { expected };
        let touched =
            sqlx::query("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ? AND status = ?")
                .bind(new_status.as_str())
                .bind(message.created_at)
                .bind(message.ticket_id.to_string())
                .bind(expected.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        if touched == 0 {
            return Err(StoreError::Conflict(format!(
                "ticket {} changed while the follow-up was being added; retry",
                message.ticket_id
            )));
        }
        let stored = insert_message(&mut tx, message).await?;
        if let Some((decision, handoff)) = reopen {
            insert_decision(&mut tx, decision).await?;
            insert_handoff(&mut tx, handoff).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }
}
