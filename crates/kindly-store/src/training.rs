//! [`TrainingStore`] on SQLite: imported labels and the intent model's versions.

use async_trait::async_trait;
use chrono::Utc;
use kindly_core::{IntentModelRecord, Label, ShadowCase, StoreError, TrainingStore};
use sqlx::Row;

use crate::rows::{vector_blob, vector_from_blob};
use crate::ticket_list::first_resolution_of;
use crate::{SqliteStore, backend, corrupt};

/// Weights of versions older than this many are dropped (their metadata is kept).
const KEEP_WEIGHTS: i64 = 5;

#[async_trait]
impl TrainingStore for SqliteStore {
    async fn add_labels(&self, labels: &[Label]) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let now = Utc::now().to_rfc3339();
        let mut added = 0;
        for l in labels {
            added += sqlx::query(
                "INSERT INTO labels (text, intent, source, vector, created_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT(text, intent) DO NOTHING",
            )
            .bind(&l.text)
            .bind(&l.intent)
            .bind(&l.source)
            .bind(vector_blob(&l.vector))
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected() as usize;
        }
        tx.commit().await.map_err(backend)?;
        Ok(added)
    }

    async fn labels(&self) -> Result<Vec<Label>, StoreError> {
        let rows = sqlx::query("SELECT text, intent, source, vector FROM labels ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(Label {
                    text: r.try_get("text").map_err(backend)?,
                    intent: r.try_get("intent").map_err(backend)?,
                    source: r.try_get("source").map_err(backend)?,
                    vector: vector_from_blob(r.try_get("vector").map_err(backend)?)?,
                })
            })
            .collect()
    }

    async fn save_intent_model(&self, model: &IntentModelRecord) -> Result<i64, StoreError> {
        let meta = serde_json::to_string(model).map_err(|e| corrupt("intent model", e))?;
        let mut tx = self.write().await?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO intent_models (version, trained_at, meta, weights) \
             VALUES ((SELECT COALESCE(MAX(version), 0) + 1 FROM intent_models), ?, ?, ?) RETURNING version",
        )
        .bind(model.trained_at.to_rfc3339())
        .bind(meta)
        .bind(&model.weights)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("UPDATE intent_models SET weights = x'' WHERE version <= ?")
            .bind(version - KEEP_WEIGHTS)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(version)
    }

    async fn latest_intent_model(&self) -> Result<Option<IntentModelRecord>, StoreError> {
        let row =
            sqlx::query("SELECT version, meta, weights FROM intent_models ORDER BY version DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(|r| {
            let mut model = record(&r)?;
            model.weights = r.try_get("weights").map_err(backend)?;
            Ok(model)
        })
        .transpose()
    }

    async fn latest_intent_model_version(&self) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT MAX(version) FROM intent_models")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn intent_models(&self) -> Result<Vec<IntentModelRecord>, StoreError> {
        let rows = sqlx::query("SELECT version, meta FROM intent_models ORDER BY version DESC")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        // A listing, like the weights left unread: each bucket's IDF is not shown.
        rows.iter()
            .map(|r| {
                let mut model = record(r)?;
                if let Some(lexicon) = &mut model.lexicon {
                    lexicon.idf = Vec::new();
                }
                Ok(model)
            })
            .collect()
    }

    async fn shadow_cases(&self, limit: u32) -> Result<Vec<ShadowCase>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT d.intent AS predicted, d.shadow = ? AS would_answer, \
                    r.id IS NOT NULL AS resolved, r.intent AS agent_intent \
             FROM decisions d LEFT JOIN resolutions r ON r.id = ",
            first_resolution_of!("d.ticket_id"),
            " WHERE d.shadow IS NOT NULL ORDER BY d.id DESC LIMIT ?"
        ))
        .bind(kindly_core::ShadowOutcome::WouldAnswer.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(ShadowCase {
                    predicted_intent: r.try_get("predicted").map_err(backend)?,
                    would_answer: r.try_get("would_answer").map_err(backend)?,
                    resolved: r.try_get("resolved").map_err(backend)?,
                    agent_intent: r.try_get("agent_intent").map_err(backend)?,
                })
            })
            .collect()
    }
}

fn record(r: &sqlx::sqlite::SqliteRow) -> Result<IntentModelRecord, StoreError> {
    let meta: String = r.try_get("meta").map_err(backend)?;
    let mut model: IntentModelRecord = serde_json::from_str(&meta).map_err(|e| corrupt("intent model", e))?;
    model.version = r.try_get("version").map_err(backend)?;
    Ok(model)
}
