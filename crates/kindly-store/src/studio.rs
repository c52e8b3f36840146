//! What the agent console and the knowledge studio read and write beyond the store ports:
//! releasing a claim, article version history, the review of proposed resolutions, and the
//! automation dashboard's counts.

use chrono::{DateTime, Utc};
use kindly_core::{Handoff, HandoffId, QueueStore, Resolution, StoreError};
use serde::Serialize;

use crate::rows::{self, get};
use crate::ticket_list::latest_decision_of_t;
use crate::{SqliteStore, backend};

/// One saved version of an article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleVersion {
    pub number: i64,
    pub title: String,
    pub status: String,
    pub body: String,
    pub saved_at: DateTime<Utc>,
}

/// A knowledge manager's verdict on a proposed resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    Rejected,
    Merged,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Merged => "merged",
        }
    }
}

/// Tickets decided on one day, by outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayCount {
    pub day: String,
    pub answered: u64,
    pub handed_off: u64,
}

/// A label and how many.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub label: String,
    pub count: u64,
}

/// One intent's automation numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentRow {
    pub intent: String,
    pub tickets: u64,
    pub answered: u64,
    pub handed_off: u64,
    pub reopened: u64,
}

/// Everything the automation dashboard shows, over the last `days`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutomationStats {
    pub per_day: Vec<DayCount>,
    /// Tickets answered automatically whose customer came back (a follow-up handoff).
    pub answered: u64,
    pub reopened_after_answer: u64,
    pub reasons: Vec<Count>,
    pub resolved: u64,
    pub resolved_within_sla: u64,
    pub intents: Vec<IntentRow>,
    pub stages: Vec<Count>,
    /// Where triage and people disagreed: tickets resolved since then whose latest decision
    /// predicted one intent and whose resolution gave another, by pair, the most frequent first.
    pub corrections: Vec<IntentCorrection>,
}

/// Tickets triage took for one intent and the person who resolved them for another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentCorrection {
    /// The intent of the ticket's latest decision.
    pub predicted: String,
    /// The intent the person gave (now the ticket's).
    pub corrected: String,
    pub tickets: u64,
}

/// A recent handoff that found no good knowledge: material for a knowledge gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapTicket {
    pub handoff_id: String,
    /// The customer's question (subject and body).
    pub question: String,
    /// What the person who resolved it replied, if anyone has.
    pub reply: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl SqliteStore {
    /// Handoffs since `since` whose reasons say the knowledge base had no good match, newest
    /// first.
    pub async fn gap_tickets(&self, since: DateTime<Utc>, limit: u32) -> Result<Vec<GapTicket>, StoreError> {
        let rows = sqlx::query(
            "SELECT h.id, t.subject, t.body, h.created_at, r.reply FROM handoffs h \
             JOIN tickets t ON t.id = h.ticket_id LEFT JOIN resolutions r ON r.handoff_id = h.id \
             WHERE h.created_at >= ? AND (h.reason_codes LIKE '% no_knowledge_match %' \
             OR h.reason_codes LIKE '% ambiguous_knowledge %') ORDER BY h.created_at DESC LIMIT ?",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let subject: Option<String> = get(r, "subject")?;
                let body: String = get(r, "body")?;
                Ok(GapTicket {
                    handoff_id: get(r, "id")?,
                    question: kindly_core::ticket::ticket_text(subject.as_deref(), &body),
                    reply: get(r, "reply")?,
                    created_at: get(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Gives a claimed handoff back to the queue (open, unassigned, the SLA unchanged) and returns
    /// it; only its owner can. An unknown handoff is [`StoreError::NotFound`].
    pub async fn release(&self, id: HandoffId, agent: &str) -> Result<Handoff, StoreError> {
        let touched = sqlx::query(
            "UPDATE handoffs SET status = 'open', agent = NULL, claimed_at = NULL \
             WHERE id = ? AND status = 'claimed' AND agent = ?",
        )
        .bind(id.to_string())
        .bind(agent)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected();
        let not_found = || StoreError::NotFound(format!("handoff {id}"));
        let handoff = self.handoff(id).await?.ok_or_else(not_found)?;
        if touched == 0 {
            return Err(StoreError::Conflict(format!("handoff {id} is not claimed by {agent}")));
        }
        Ok(handoff)
    }

    /// Every saved version of an article, newest first.
    pub async fn article_versions(&self, article_id: &str) -> Result<Vec<ArticleVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT row_number() OVER (ORDER BY id) AS number, title, status, body, saved_at \
             FROM article_versions WHERE article_id = ? ORDER BY id DESC",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(ArticleVersion {
                    number: get(r, "number")?,
                    title: get(r, "title")?,
                    status: get(r, "status")?,
                    body: get(r, "body")?,
                    saved_at: get(r, "saved_at")?,
                })
            })
            .collect()
    }

    /// Resolutions proposed as knowledge (kept as candidates, not reusable) that nobody has
    /// reviewed yet, newest first.
    pub async fn proposed_resolutions(&self, limit: u32) -> Result<Vec<Resolution>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.* FROM resolutions r LEFT JOIN resolution_reviews v ON v.resolution_id = r.id \
             WHERE r.reusable = 0 AND v.resolution_id IS NULL ORDER BY r.created_at DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(rows::resolution).collect()
    }

    /// Records a verdict on a proposed resolution. Approving makes it reusable (with the
    /// reviewer's edit of the reply, if any) and marks it for re-indexing; the caller then
    /// indexes it as approved knowledge. Reviewing twice is a [`StoreError::Conflict`].
    pub async fn review_resolution(
        &self,
        id: uuid::Uuid,
        verdict: Verdict,
        reviewer: &str,
        edited_reply: Option<&str>,
        article_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Resolution, StoreError> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO resolution_reviews (resolution_id, verdict, reviewer, article_id, reviewed_at) \
             SELECT id, ?, ?, ?, ? FROM resolutions WHERE id = ? ON CONFLICT(resolution_id) DO NOTHING",
        )
        .bind(verdict.as_str())
        .bind(reviewer)
        .bind(article_id)
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "resolution {id} was already reviewed, or does not exist"
            )));
        }
        if verdict == Verdict::Approved {
            sqlx::query(
                "UPDATE resolutions SET reusable = 1, reply = coalesce(?, reply), indexed = 0 WHERE id = ?",
            )
            .bind(edited_reply)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        let row = sqlx::query("SELECT * FROM resolutions WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        let resolution = rows::resolution(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(resolution)
    }

    /// The automation dashboard's numbers since `since`.
    pub async fn automation_stats(&self, since: DateTime<Utc>) -> Result<AutomationStats, StoreError> {
        let per_day = self
            .rows_since(
                "SELECT substr(decided_at, 1, 10) AS day, \
                 sum(outcome = 'answer') AS answered, sum(outcome = 'handoff') AS handed_off \
                 FROM decisions WHERE decided_at >= ? GROUP BY day ORDER BY day",
                since,
                |r| {
                    Ok(DayCount {
                        day: get(r, "day")?,
                        answered: u(r, "answered")?,
                        handed_off: u(r, "handed_off")?,
                    })
                },
            )
            .await?;
        let (answered, reopened_after_answer) = {
            let r = sqlx::query(
                "SELECT count(*) AS answered, coalesce(sum(EXISTS (SELECT 1 FROM decisions l \
                 WHERE l.ticket_id = d.ticket_id AND l.id > d.id AND l.outcome = 'handoff')), 0) AS reopened \
                 FROM decisions d WHERE d.outcome = 'answer' AND d.decided_at >= ?",
            )
            .bind(since)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
            (u(&r, "answered")?, u(&r, "reopened")?)
        };
        let reasons = counts(
            self,
            "SELECT json_extract(j.value, '$.code') AS label, count(*) AS count FROM handoffs h, json_each(h.reasons) j \
             WHERE h.created_at >= ? GROUP BY label ORDER BY count DESC, label",
            since,
        )
        .await?;
        let sla = sqlx::query(
            "SELECT count(*) AS resolved, coalesce(sum(resolved_at <= sla_due_at), 0) AS within \
             FROM handoffs WHERE status = 'resolved' AND created_at >= ?",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let intents = self
            .rows_since(
                "SELECT coalesce(t.intent, 'unknown') AS intent, count(DISTINCT t.id) AS tickets, \
                 count(DISTINCT CASE WHEN d.outcome = 'answer' THEN t.id END) AS answered, \
                 count(DISTINCT CASE WHEN d.outcome = 'handoff' THEN t.id END) AS handed_off, \
                 count(DISTINCT CASE WHEN d.outcome = 'handoff' AND EXISTS (SELECT 1 FROM decisions a \
                   WHERE a.ticket_id = t.id AND a.outcome = 'answer' AND a.id < d.id) THEN t.id END) AS reopened \
                 FROM tickets t JOIN decisions d ON d.ticket_id = t.id WHERE d.decided_at >= ? \
                 GROUP BY 1 ORDER BY tickets DESC, intent LIMIT 50",
                since,
                |r| {
                    Ok(IntentRow {
                        intent: get(r, "intent")?,
                        tickets: u(r, "tickets")?,
                        answered: u(r, "answered")?,
                        handed_off: u(r, "handed_off")?,
                        reopened: u(r, "reopened")?,
                    })
                },
            )
            .await?;
        let stages = counts(
            self,
            "SELECT coalesce(json_extract(decision, '$.evidence.stage'), 'unknown') AS label, count(*) AS count \
             FROM decisions WHERE decided_at >= ? GROUP BY label ORDER BY count DESC, label",
            since,
        )
        .await?;
        // Read as the ticket list's `predicted_intent` and `intent` filters read them, so each pair
        // leads to its tickets.
        let corrections = self
            .rows_since(
                concat!(
                    "SELECT d.intent AS predicted, t.intent AS corrected, count(DISTINCT t.id) AS tickets \
                     FROM resolutions r JOIN tickets t ON t.id = r.ticket_id \
                     JOIN decisions d ON d.id = ",
                    latest_decision_of_t!(),
                    " WHERE r.created_at >= ? AND r.intent = t.intent AND d.intent != t.intent \
                     GROUP BY 1, 2 ORDER BY tickets DESC, predicted, corrected LIMIT 20"
                ),
                since,
                |r| {
                    Ok(IntentCorrection {
                        predicted: get(r, "predicted")?,
                        corrected: get(r, "corrected")?,
                        tickets: u(r, "tickets")?,
                    })
                },
            )
            .await?;
        Ok(AutomationStats {
            corrections,
            per_day,
            answered,
            reopened_after_answer,
            reasons,
            resolved: u(&sla, "resolved")?,
            resolved_within_sla: u(&sla, "within")?,
            intents,
            stages,
        })
    }
}

fn u(row: &sqlx::sqlite::SqliteRow, col: &str) -> Result<u64, StoreError> {
    let v: Option<i64> = get(row, col)?;
    Ok(v.unwrap_or(0).max(0) as u64)
}

async fn counts(store: &SqliteStore, sql: &str, since: DateTime<Utc>) -> Result<Vec<Count>, StoreError> {
    store.rows_since(sql, since, |r| Ok(Count { label: get(r, "label")?, count: u(r, "count")? })).await
}

impl SqliteStore {
    /// The rows of a query whose one parameter is `since`, each read by `read`.
    async fn rows_since<T>(
        &self,
        sql: &str,
        since: DateTime<Utc>,
        read: impl Fn(&sqlx::sqlite::SqliteRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = sqlx::query(sql).bind(since).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(read).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_empty_store_has_empty_stats_and_no_proposals() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("k.db")).await.unwrap();
        let stats = store.automation_stats(Utc::now() - chrono::Duration::days(30)).await.unwrap();
        assert!(stats.per_day.is_empty() && stats.intents.is_empty() && stats.reasons.is_empty());
        assert!(stats.corrections.is_empty());
        assert_eq!((stats.answered, stats.resolved), (0, 0));
        assert!(store.proposed_resolutions(10).await.unwrap().is_empty());
        assert!(store.article_versions("kb-1").await.unwrap().is_empty());
        assert!(store.gap_tickets(Utc::now() - chrono::Duration::days(30), 10).await.unwrap().is_empty());
    }
}
