//! [`PointStore`] on SQLite: the vectors of the embedded index, stored beside their records.

use async_trait::async_trait;
use kindly_core::{
    KeywordHit, Point, PointStore, PointsChanged, PointsWritten, SearchFilter, Source, StoreError,
};

use crate::rows::{self, vector_blob};
use crate::{SqliteStore, backend};

#[async_trait]
impl PointStore for SqliteStore {
    async fn replace_points(
        &self,
        source: Source,
        ref_id: &str,
        points: &[Point],
    ) -> Result<PointsWritten, StoreError> {
        let mut tx = self.write().await?;
        let removed = sqlx::query("DELETE FROM points WHERE source = ? AND ref_id = ?")
            .bind(source.as_str())
            .bind(ref_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected() as usize;
        for p in points {
            sqlx::query(
                "INSERT INTO points (id, source, ref_id, kind, status, intent, text, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT(id) DO UPDATE SET source = excluded.source, ref_id = excluded.ref_id, kind = excluded.kind, \
                 status = excluded.status, intent = excluded.intent, text = excluded.text, vector = excluded.vector",
            )
            .bind(&p.id)
            .bind(p.source.as_str())
            .bind(&p.ref_id)
            .bind(p.kind.as_str())
            .bind(p.status.as_str())
            .bind(&p.intent)
            .bind(&p.text)
            .bind(vector_blob(&p.vector))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        let version = next_points_version(&mut tx, source, ref_id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(PointsWritten { removed, version })
    }

    async fn remove_points(&self, source: Source, ref_id: &str) -> Result<PointsWritten, StoreError> {
        let mut tx = self.write().await?;
        let removed = sqlx::query("DELETE FROM points WHERE source = ? AND ref_id = ?")
            .bind(source.as_str())
            .bind(ref_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected() as usize;
        let version = next_points_version(&mut tx, source, ref_id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(PointsWritten { removed, version })
    }

    async fn points_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT version FROM points_version WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn points_changed_since(&self, since: i64) -> Result<Option<PointsChanged>, StoreError> {
        // One read transaction: the version, the records and their points are one snapshot.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM points_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        // Every write logs exactly one version, so the log is whole when it holds them all.
        let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM points_changes WHERE version > ?")
            .bind(since)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        if since > version || logged != version - since {
            return Ok(None);
        }
        let records = sqlx::query(
            "SELECT DISTINCT source, ref_id FROM points_changes WHERE version > ? ORDER BY source, ref_id",
        )
        .bind(since)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok((rows::parsed(row, "source", Source::parse)?, rows::get(row, "ref_id")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "SELECT p.* FROM points p JOIN (SELECT DISTINCT source, ref_id FROM points_changes WHERE version > ?) c \
             ON p.source = c.source AND p.ref_id = c.ref_id ORDER BY p.id",
        )
        .bind(since)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        let points = rows.iter().map(rows::point).collect::<Result<_, _>>()?;
        Ok(Some(PointsChanged { version, records, points }))
    }

    async fn load_points(&self) -> Result<Vec<Point>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM points ORDER BY id").fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(rows::point).collect()
    }

    async fn keyword_search(
        &self,
        query: &str,
        limit: usize,
        filter: SearchFilter,
    ) -> Result<Vec<KeywordHit>, StoreError> {
        let Some(expression) = match_expression(query, " OR ", 2) else { return Ok(Vec::new()) };
        // FTS5's rank is bm25(), lower for better matches; the best point stands for its record.
        let rows = sqlx::query(
            "SELECT p.source, p.ref_id, MIN(m.rank) AS rank \
             FROM (SELECT point_id, rank FROM points_fts WHERE points_fts MATCH ?1) m \
             JOIN points p ON p.id = m.point_id \
             WHERE (?2 IS NULL OR p.source = ?2) AND (?3 IS NULL OR p.status = ?3) \
             GROUP BY p.source, p.ref_id ORDER BY rank LIMIT ?4",
        )
        .bind(expression)
        .bind(filter.source.map(Source::as_str))
        .bind(filter.status.map(|s| s.as_str()))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(rows::keyword_hit).collect()
    }
}

/// The words of a free text as an FTS5 query: joined by `" OR "` it matches any of them
/// (`"refund" OR "card"`), by `" "` all of them. Words shorter than `shortest` characters are
/// left out.
/// Quoting each word keeps FTS5's syntax (`AND`, `-`, `*`, `:`) out of customer text.
pub(crate) fn match_expression(text: &str, joined_by: &str, shortest: usize) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= shortest) {
        let word = word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    (!words.is_empty())
        .then(|| words.iter().take(64).map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(joined_by))
}

/// How many of the latest writes `points_changes` remembers: a reader further behind than that
/// (an index that slept through a large ingest) loads every point instead.
const CHANGES_KEPT: i64 = 10_000;

/// Counts one more write to the points, inside the writing transaction, and logs the record it
/// touched under the new version.
async fn next_points_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    source: Source,
    ref_id: &str,
) -> Result<i64, StoreError> {
    let version: i64 =
        sqlx::query_scalar("UPDATE points_version SET version = version + 1 WHERE id = 1 RETURNING version")
            .fetch_one(&mut **tx)
            .await
            .map_err(backend)?;
    sqlx::query("INSERT INTO points_changes (version, source, ref_id) VALUES (?, ?, ?)")
        .bind(version)
        .bind(source.as_str())
        .bind(ref_id)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    sqlx::query("DELETE FROM points_changes WHERE version <= ?")
        .bind(version - CHANGES_KEPT)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::match_expression;

    #[test]
    fn customer_text_becomes_quoted_words() {
        assert_eq!(
            match_expression("Refund? NOT my card-2 \"x\"", " OR ", 2).unwrap(),
            "\"refund\" OR \"not\" OR \"my\" OR \"card\""
        );
        assert!(match_expression("? ! a", " ", 2).is_none());
        assert_eq!(match_expression("t-1001 Ada", " ", 1).unwrap(), "\"t\" \"1001\" \"ada\"");
    }
}
