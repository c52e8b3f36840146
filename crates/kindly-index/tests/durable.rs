//! The embedded index against the real SQLite store: writes are durable with their records, and
//! a fresh load sees exactly what was written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use kindly_core::{
    KeywordHit, Point, PointKind, PointStatus, PointStore, PointsChanged, PointsWritten, SearchFilter,
    Source, StoreError, VectorIndex,
};
use kindly_index::ExactIndex;
use kindly_store::SqliteStore;

fn point(ref_id: &str, n: usize, v: [f32; 3], status: PointStatus) -> Point {
    Point {
        id: Point::stable_id(Source::Article, ref_id, PointKind::Question, n),
        source: Source::Article,
        ref_id: ref_id.into(),
        kind: PointKind::Question,
        status,
        intent: Some(format!("intent-{ref_id}")),
        text: format!("{ref_id} {n}"),
        vector: v.to_vec(),
    }
}

#[tokio::test]
async fn replace_is_idempotent_durable_and_removes_stale_points() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kindly.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let index = ExactIndex::load(store.clone(), 3).await.unwrap();

    let first = vec![
        point("kb-1", 0, [1., 0., 0.], PointStatus::Approved),
        point("kb-1", 1, [0., 1., 0.], PointStatus::Approved),
    ];
    index.replace(Source::Article, "kb-1", first.clone()).await.unwrap();
    index.replace(Source::Article, "kb-1", first).await.unwrap();
    index
        .replace(Source::Article, "kb-2", vec![point("kb-2", 0, [0., 0., 1.], PointStatus::Candidate)])
        .await
        .unwrap();
    assert_eq!(index.len().await.unwrap(), 3);

    // The article shrank to one point: the other goes away.
    index
        .replace(Source::Article, "kb-1", vec![point("kb-1", 0, [0.6, 0.8, 0.], PointStatus::Approved)])
        .await
        .unwrap();
    assert_eq!(index.len().await.unwrap(), 2);

    let wrong = index
        .replace(
            Source::Article,
            "kb-3",
            vec![Point { vector: vec![1.0; 4], ..point("kb-3", 0, [0.; 3], PointStatus::Approved) }],
        )
        .await;
    assert!(wrong.is_err());

    // A fresh process sees the same thing.
    drop(index);
    let reloaded = ExactIndex::load(store.clone(), 3).await.unwrap();
    assert_eq!(reloaded.len().await.unwrap(), 2);
    let hits = reloaded.search(vec![0., 1., 0.], 5, SearchFilter::default()).await.unwrap();
    assert_eq!(hits[0].ref_id, "kb-1");
    assert!((hits[0].score - 0.8).abs() < 1e-6);
    let approved = reloaded
        .search(vec![0., 0., 1.], 5, SearchFilter { status: Some(PointStatus::Approved), source: None })
        .await
        .unwrap();
    assert!(approved.iter().all(|h| h.status == PointStatus::Approved));

    assert_eq!(reloaded.remove(Source::Article, "kb-2").await.unwrap(), 1);
    assert_eq!(ExactIndex::load(store, 3).await.unwrap().len().await.unwrap(), 1);
}

/// Two indexes over one database file, as `kindly serve` and `kindly kb ingest` are: each sees
/// the other's writes after a refresh, and its own writes need none.
#[tokio::test]
async fn an_index_catches_up_with_writes_made_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kindly.db");
    let serving = ExactIndex::load(Arc::new(SqliteStore::open(&path).await.unwrap()), 3).await.unwrap();
    let ingesting = ExactIndex::load(Arc::new(SqliteStore::open(&path).await.unwrap()), 3).await.unwrap();

    serving
        .replace(Source::Article, "kb-1", vec![point("kb-1", 0, [0., 1., 0.], PointStatus::Approved)])
        .await
        .unwrap();
    assert!(!serving.refresh().await.unwrap(), "its own write needs no reload");
    assert!(ingesting.refresh().await.unwrap());
    assert_eq!(search(&ingesting).await, ["kb-1"]);

    ingesting
        .replace(Source::Article, "kb-2", vec![point("kb-2", 0, [1., 0., 0.], PointStatus::Approved)])
        .await
        .unwrap();
    assert_eq!(search(&serving).await, ["kb-1"], "not yet");
    assert!(serving.refresh().await.unwrap());
    assert_eq!(search(&serving).await, ["kb-2", "kb-1"]);
    assert!(!serving.refresh().await.unwrap(), "once caught up, nothing to reload");

    // Writes interleaved: the serving index writes after the other did, without a refresh in
    // between; its own write does not hide the other's.
    ingesting.remove(Source::Article, "kb-1").await.unwrap();
    serving
        .replace(Source::Article, "kb-3", vec![point("kb-3", 0, [0., 0., 1.], PointStatus::Approved)])
        .await
        .unwrap();
    assert!(serving.refresh().await.unwrap());
    assert_eq!(search(&serving).await, ["kb-2", "kb-3"]);
}

/// The serving process's store, watched: how often every point was read, and whether it has
/// forgotten which records changed (as it does after more writes than its log keeps).
struct Watched {
    store: SqliteStore,
    full_loads: AtomicUsize,
    forgetful: AtomicBool,
}

#[async_trait]
impl PointStore for Watched {
    async fn replace_points(&self, s: Source, r: &str, p: &[Point]) -> Result<PointsWritten, StoreError> {
        self.store.replace_points(s, r, p).await
    }
    async fn remove_points(&self, s: Source, r: &str) -> Result<PointsWritten, StoreError> {
        self.store.remove_points(s, r).await
    }
    async fn load_points(&self) -> Result<Vec<Point>, StoreError> {
        self.full_loads.fetch_add(1, Ordering::SeqCst);
        self.store.load_points().await
    }
    async fn points_version(&self) -> Result<i64, StoreError> {
        self.store.points_version().await
    }
    async fn points_changed_since(&self, since: i64) -> Result<Option<PointsChanged>, StoreError> {
        if self.forgetful.load(Ordering::SeqCst) {
            return Ok(None);
        }
        self.store.points_changed_since(since).await
    }
    async fn keyword_search(
        &self,
        q: &str,
        n: usize,
        f: SearchFilter,
    ) -> Result<Vec<KeywordHit>, StoreError> {
        self.store.keyword_search(q, n, f).await
    }
}

/// Catching up reads only the records another process changed; every point only when the store
/// no longer knows which ones those were.
#[tokio::test]
async fn catching_up_reads_only_what_another_process_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kindly.db");
    let ingesting = ExactIndex::load(Arc::new(SqliteStore::open(&path).await.unwrap()), 3).await.unwrap();
    for (n, v) in [[1., 0., 0.], [0., 1., 0.], [0., 0., 1.]].into_iter().enumerate() {
        let id = format!("kb-{n}");
        ingesting.replace(Source::Article, &id, vec![point(&id, 0, v, PointStatus::Approved)]).await.unwrap();
    }
    let watched = Arc::new(Watched {
        store: SqliteStore::open(&path).await.unwrap(),
        full_loads: AtomicUsize::new(0),
        forgetful: AtomicBool::new(false),
    });
    let serving = ExactIndex::load(watched.clone(), 3).await.unwrap();
    assert_eq!(watched.full_loads.load(Ordering::SeqCst), 1, "the start-up load");

    // The other process changes one article, removes one and adds one; the server writes too.
    ingesting
        .replace(Source::Article, "kb-0", vec![point("kb-0", 0, [0.6, 0.8, 0.], PointStatus::Approved)])
        .await
        .unwrap();
    ingesting.remove(Source::Article, "kb-1").await.unwrap();
    serving
        .replace(Source::Article, "kb-4", vec![point("kb-4", 0, [0.8, 0., 0.6], PointStatus::Approved)])
        .await
        .unwrap();
    ingesting
        .replace(
            Source::Article,
            "kb-3",
            vec![
                point("kb-3", 0, [0.9, 0.1, 0.], PointStatus::Approved),
                point("kb-3", 1, [0.1, 0.1, 0.9], PointStatus::Approved),
            ],
        )
        .await
        .unwrap();
    assert!(serving.refresh().await.unwrap());
    assert_eq!(watched.full_loads.load(Ordering::SeqCst), 1, "no full reload");
    assert_eq!(search(&serving).await, ["kb-3", "kb-4", "kb-0", "kb-3", "kb-2"]);
    assert_eq!(serving.len().await.unwrap(), 5);
    let fresh = ExactIndex::load(Arc::new(SqliteStore::open(&path).await.unwrap()), 3).await.unwrap();
    assert_eq!(scores(&serving).await, scores(&fresh).await, "memory is what a fresh load reads");
    assert!(!serving.refresh().await.unwrap(), "once caught up, nothing to read");

    // Too far behind for the log: every point is read again, and the result is the same.
    ingesting.remove(Source::Article, "kb-0").await.unwrap();
    watched.forgetful.store(true, Ordering::SeqCst);
    assert!(serving.refresh().await.unwrap());
    assert_eq!(watched.full_loads.load(Ordering::SeqCst), 2);
    assert_eq!(search(&serving).await, ["kb-3", "kb-4", "kb-3", "kb-2"]);
}

/// Every point's id and score for one query, in id order.
async fn scores(index: &ExactIndex) -> Vec<(String, i32)> {
    let hits = index.search(vec![0.5, 0.5, 0.7], 100, SearchFilter::default()).await.unwrap();
    let mut scores: Vec<(String, i32)> = hits.into_iter().map(|h| (h.id, (h.score * 1e4) as i32)).collect();
    scores.sort();
    scores
}

async fn search(index: &ExactIndex) -> Vec<String> {
    let hits = index.search(vec![1., 0., 0.], 5, SearchFilter::default()).await.unwrap();
    hits.into_iter().map(|h| h.ref_id).collect()
}
