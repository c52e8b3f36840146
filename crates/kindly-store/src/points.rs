//! [`PointStore`] on SQLite: the vectors of the embedded index, stored beside their records.

use async_trait::async_trait;
use kindly_core::{Point, PointStore, Source, StoreError};

use crate::rows::{self, vector_blob};
use crate::{SqliteStore, backend};

#[async_trait]
impl PointStore for SqliteStore {
    async fn replace_points(&self, source: Source, ref_id: &str, points: &[Point]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM points WHERE source = ? AND ref_id = ?")
            .bind(source.as_str())
            .bind(ref_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
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
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn remove_points(&self, source: Source, ref_id: &str) -> Result<usize, StoreError> {
        let n = sqlx::query("DELETE FROM points WHERE source = ? AND ref_id = ?")
            .bind(source.as_str())
            .bind(ref_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(n as usize)
    }

    async fn load_points(&self) -> Result<Vec<Point>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM points ORDER BY id").fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(rows::point).collect()
    }
}
