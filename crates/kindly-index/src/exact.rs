//! The exact in-memory scan, persisted through a [`PointStore`].
//!
//! Writes go to the store first and to memory second, under one writer lock: if the process
//! dies in between, the store holds the truth and the matrix is rebuilt from it at start-up.
//! Searches run on the blocking pool, so a large scan never stalls the async runtime.
//!
//! Another process may write to the same store (`kindly kb ingest` beside `kindly serve`): the
//! store counts every write and logs the record each touched, and [`VectorIndex::refresh`] reads
//! again the records changed by writes this index did not make (every point, when the log no
//! longer reaches back far enough).

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use kindly_core::{
    IndexError, Point, PointKind, PointStatus, PointStore, PointsChanged, PointsWritten, ScoredPoint,
    SearchFilter, Source, VectorIndex,
};
use simsimd::SpatialSimilarity;

/// A point's payload, kept beside its row in the matrix.
#[derive(Debug, Clone)]
struct Payload {
    id: String,
    source: Source,
    ref_id: String,
    kind: PointKind,
    status: PointStatus,
    intent: Option<String>,
    text: String,
}

/// Row-major vectors with their payloads. Row `i` is `vectors[i*dim..(i+1)*dim]`.
#[derive(Debug, Default)]
struct Matrix {
    dim: usize,
    vectors: Vec<f32>,
    payloads: Vec<Payload>,
}

impl Matrix {
    fn push(&mut self, p: Point) {
        self.vectors.extend_from_slice(&p.vector);
        self.payloads.push(Payload {
            id: p.id,
            source: p.source,
            ref_id: p.ref_id,
            kind: p.kind,
            status: p.status,
            intent: p.intent,
            text: p.text,
        });
    }

    /// Makes the rows of `records` exactly `points` (rows with one of their ids go too: writes
    /// are upserts keyed by id).
    fn apply<'a>(&mut self, records: impl IntoIterator<Item = (Source, &'a str)>, points: Vec<Point>) {
        let records: HashSet<(Source, &str)> = records.into_iter().collect();
        let ids: HashSet<&str> = points.iter().map(|p| p.id.as_str()).collect();
        self.remove_where(|p| {
            records.contains(&(p.source, p.ref_id.as_str())) || ids.contains(p.id.as_str())
        });
        for p in points {
            self.push(p);
        }
    }

    /// Removes every row of one record (or with one of `ids`), keeping the matrix dense.
    fn remove_where(&mut self, doomed: impl Fn(&Payload) -> bool) -> usize {
        let mut removed = 0;
        let mut row = 0;
        while row < self.payloads.len() {
            if doomed(&self.payloads[row]) {
                let last = self.payloads.len() - 1;
                if row != last {
                    let (head, tail) = self.vectors.split_at_mut(last * self.dim);
                    head[row * self.dim..(row + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
                }
                self.vectors.truncate(last * self.dim);
                self.payloads.swap_remove(row);
                removed += 1;
            } else {
                row += 1;
            }
        }
        removed
    }

    fn search(&self, query: &[f32], limit: usize, filter: SearchFilter) -> Vec<ScoredPoint> {
        let mut scored: Vec<(f32, usize)> = self
            .payloads
            .iter()
            .enumerate()
            .filter(|(_, p)| filter.matches(p.source, p.status))
            .map(|(row, _)| {
                let v = &self.vectors[row * self.dim..(row + 1) * self.dim];
                (f32::dot(query, v).unwrap_or(0.0) as f32, row)
            })
            .collect();
        let by_score = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0);
        if scored.len() > limit && limit > 0 {
            scored.select_nth_unstable_by(limit - 1, by_score);
            scored.truncate(limit);
        }
        scored.sort_by(by_score);
        scored.truncate(limit);
        scored
            .into_iter()
            .map(|(score, row)| {
                let p = &self.payloads[row];
                ScoredPoint {
                    id: p.id.clone(),
                    source: p.source,
                    ref_id: p.ref_id.clone(),
                    kind: p.kind,
                    status: p.status,
                    intent: p.intent.clone(),
                    text: p.text.clone(),
                    score,
                }
            })
            .collect()
    }
}

/// Exact nearest-neighbour search over vectors persisted in the records store.
pub struct ExactIndex {
    store: Arc<dyn PointStore>,
    matrix: Arc<RwLock<Matrix>>,
    /// Serialises writers so that store order and memory order agree.
    writer: tokio::sync::Mutex<()>,
    /// The stored points' version that memory holds: every write this index made, and none
    /// another process made since (else [`VectorIndex::refresh`] reloads).
    version: AtomicI64,
}

impl std::fmt::Debug for ExactIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactIndex").finish_non_exhaustive()
    }
}

impl ExactIndex {
    /// Loads every stored point into memory. Points of another dimension are refused: they
    /// come from another model, and mixing them would make every score meaningless.
    pub async fn load(store: Arc<dyn PointStore>, dim: usize) -> Result<Self, IndexError> {
        let (version, matrix) = Self::read_all(store.as_ref(), dim).await?;
        tracing::info!(points = matrix.payloads.len(), dim, "vector index loaded");
        Ok(Self {
            store,
            matrix: Arc::new(RwLock::new(matrix)),
            writer: tokio::sync::Mutex::new(()),
            version: AtomicI64::new(version),
        })
    }

    /// Every stored point, with the version it is at least as new as. The version is read
    /// first: a write landing during the read moves the store past it, so the next refresh reads
    /// that write again rather than missing it.
    async fn read_all(store: &dyn PointStore, dim: usize) -> Result<(i64, Matrix), IndexError> {
        let version = store.points_version().await?;
        let points = store.load_points().await?;
        let mut matrix =
            Matrix { dim, vectors: Vec::with_capacity(points.len() * dim), payloads: Vec::new() };
        for p in points {
            check_dim(dim, &p.vector)?;
            matrix.push(p);
        }
        Ok((version, matrix))
    }

    /// After this index's own write: memory is current if the write is the only one since the
    /// version memory holds. Otherwise another process wrote too, and the version is left
    /// behind so that the next refresh reloads.
    fn wrote(&self, written: PointsWritten) {
        let _ = self.version.compare_exchange(
            written.version - 1,
            written.version,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Matrix> {
        self.matrix.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn dim(&self) -> usize {
        self.matrix.read().unwrap_or_else(|p| p.into_inner()).dim
    }
}

fn check_dim(expected: usize, v: &[f32]) -> Result<(), IndexError> {
    if v.len() == expected { Ok(()) } else { Err(IndexError::Dimension { expected, got: v.len() }) }
}

#[async_trait]
impl VectorIndex for ExactIndex {
    async fn replace(&self, source: Source, ref_id: &str, points: Vec<Point>) -> Result<(), IndexError> {
        let dim = self.dim();
        for p in &points {
            check_dim(dim, &p.vector)?;
        }
        let _writer = self.writer.lock().await;
        let written = self.store.replace_points(source, ref_id, &points).await?;
        self.write().apply([(source, ref_id)], points);
        self.wrote(written);
        Ok(())
    }

    async fn remove(&self, source: Source, ref_id: &str) -> Result<usize, IndexError> {
        let _writer = self.writer.lock().await;
        let written = self.store.remove_points(source, ref_id).await?;
        let in_memory = self.write().remove_where(|p| p.source == source && p.ref_id == ref_id);
        self.wrote(written);
        Ok(written.removed.max(in_memory))
    }

    async fn search(
        &self,
        query: Vec<f32>,
        limit: usize,
        filter: SearchFilter,
    ) -> Result<Vec<ScoredPoint>, IndexError> {
        check_dim(self.dim(), &query)?;
        let matrix = Arc::clone(&self.matrix);
        tokio::task::spawn_blocking(move || {
            matrix.read().unwrap_or_else(|p| p.into_inner()).search(&query, limit, filter)
        })
        .await
        .map_err(|e| IndexError::Backend(Box::new(e)))
    }

    async fn len(&self) -> Result<usize, IndexError> {
        Ok(self.matrix.read().unwrap_or_else(|p| p.into_inner()).payloads.len())
    }

    /// Catches up when another process wrote to the store (one small read when none did): the
    /// records it changed are read again, or every point when the store no longer remembers
    /// every write since the version memory holds.
    async fn refresh(&self) -> Result<bool, IndexError> {
        if self.store.points_version().await? == self.version.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let _writer = self.writer.lock().await;
        let held = self.version.load(Ordering::SeqCst);
        let dim = self.dim();
        match self.store.points_changed_since(held).await? {
            Some(changed) if changed.version == held => Ok(false),
            Some(PointsChanged { version, records, points }) => {
                for p in &points {
                    check_dim(dim, &p.vector)?;
                }
                let (record_count, point_count) = (records.len(), points.len());
                self.write().apply(records.iter().map(|(source, ref_id)| (*source, ref_id.as_str())), points);
                self.version.store(version, Ordering::SeqCst);
                tracing::info!(
                    records = record_count,
                    points = point_count,
                    version,
                    "vector index caught up with another process's changes"
                );
                Ok(true)
            }
            None => {
                let (version, matrix) = Self::read_all(self.store.as_ref(), dim).await?;
                let points = matrix.payloads.len();
                *self.write() = matrix;
                self.version.store(version, Ordering::SeqCst);
                tracing::info!(
                    points,
                    version,
                    "vector index reloaded: another process changed many stored points"
                );
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(id: &str, source: Source, ref_id: &str, status: PointStatus) -> Point {
        let mut v = vec![0.0; 4];
        v[id.len() % 4] = 1.0;
        Point {
            id: id.into(),
            source,
            ref_id: ref_id.into(),
            kind: PointKind::Question,
            status,
            intent: None,
            text: id.into(),
            vector: v,
        }
    }

    #[test]
    fn scan_ranks_by_dot_product_and_filters() {
        let mut m = Matrix { dim: 2, ..Default::default() };
        for (id, v, source, status) in [
            ("a", [1.0, 0.0], Source::Article, PointStatus::Approved),
            ("b", [0.6, 0.8], Source::Article, PointStatus::Approved),
            ("c", [0.0, 1.0], Source::Resolution, PointStatus::Candidate),
        ] {
            let mut p = payload(id, source, id, status);
            p.vector = v.to_vec();
            m.push(p);
        }
        let hits = m.search(&[0.0, 1.0], 10, SearchFilter::default());
        assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["c", "b", "a"]);
        assert!((hits[1].score - 0.8).abs() < 1e-6);
        let approved =
            m.search(&[0.0, 1.0], 1, SearchFilter { status: Some(PointStatus::Approved), source: None });
        assert_eq!(approved.len(), 1);
        assert_eq!(approved[0].id, "b");
    }

    #[test]
    fn removing_rows_keeps_vectors_aligned_with_payloads() {
        let mut m = Matrix { dim: 4, ..Default::default() };
        for id in ["a", "bb", "ccc", "dddd"] {
            m.push(payload(
                id,
                Source::Article,
                if id.len() % 2 == 0 { "even" } else { "odd" },
                PointStatus::Approved,
            ));
        }
        assert_eq!(m.remove_where(|p| p.ref_id == "odd"), 2);
        for (row, p) in m.payloads.iter().enumerate() {
            let v = &m.vectors[row * 4..(row + 1) * 4];
            assert_eq!(v[p.id.len() % 4], 1.0, "row {row} holds the vector of {}", p.id);
        }
        assert_eq!(m.vectors.len(), 8);
    }
}
