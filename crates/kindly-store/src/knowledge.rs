//! [`KnowledgeStore`] on SQLite: articles with a content hash and the hash last indexed.

use async_trait::async_trait;
use kindly_core::ports::ArticleWrite;
use kindly_core::{Article, KnowledgeStore, StoreError};

use crate::rows::{self, enum_str, to_json};
use crate::{SqliteStore, backend};

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn upsert_article(&self, a: &Article, content_hash: &str) -> Result<ArticleWrite, StoreError> {
        let existing: Option<String> = sqlx::query_scalar("SELECT content_hash FROM articles WHERE id = ?")
            .bind(&a.id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        if existing.as_deref() == Some(content_hash) {
            return Ok(ArticleWrite::Unchanged);
        }
        sqlx::query(
            "INSERT INTO articles (id, title, intents, questions, tags, stage, status, body, content_hash, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET title = excluded.title, \
             intents = excluded.intents, questions = excluded.questions, tags = excluded.tags, \
             stage = excluded.stage, status = excluded.status, body = excluded.body, \
             content_hash = excluded.content_hash, updated_at = excluded.updated_at",
        )
        .bind(&a.id)
        .bind(&a.title)
        .bind(to_json(&a.intents)?)
        .bind(to_json(&a.questions)?)
        .bind(to_json(&a.tags)?)
        .bind(a.stage.as_ref().map(enum_str).transpose()?)
        .bind(enum_str(&a.status)?)
        .bind(&a.body)
        .bind(content_hash)
        .bind(a.updated_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(if existing.is_some() { ArticleWrite::Updated } else { ArticleWrite::Created })
    }

    async fn article(&self, id: &str) -> Result<Option<Article>, StoreError> {
        let row = sqlx::query("SELECT * FROM articles WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(rows::article).transpose()
    }

    async fn articles(&self) -> Result<Vec<Article>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM articles ORDER BY id").fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(rows::article).collect()
    }

    async fn delete_article(&self, id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM articles WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(n > 0)
    }

    async fn is_indexed(&self, id: &str, content_hash: &str) -> Result<bool, StoreError> {
        let indexed: Option<Option<String>> =
            sqlx::query_scalar("SELECT indexed_hash FROM articles WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(indexed.flatten().as_deref() == Some(content_hash))
    }

    async fn unindexed_articles(&self) -> Result<Vec<Article>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM articles WHERE indexed_hash IS NULL OR indexed_hash != content_hash")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter().map(rows::article).collect()
    }

    async fn mark_article_indexed(&self, id: &str, content_hash: &str) -> Result<bool, StoreError> {
        let marked = sqlx::query("UPDATE articles SET indexed_hash = ? WHERE id = ? AND content_hash = ?")
            .bind(content_hash)
            .bind(id)
            .bind(content_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(marked.rows_affected() == 1)
    }
}
