//! `SqliteStore::integrity_check` judges the file as it is on disk, whatever the store's own
//! connections searched before another connection changed the lexical index.
//!
//! SQLite's FTS5 (3.46, bundled by sqlx) keeps the structure of the index a connection last
//! searched, and `PRAGMA integrity_check` checks the FTS table against that copy without first
//! looking whether another connection has committed since. A connection that ran a keyword search
//! before someone else wrote `points_fts` then reports "malformed inverted index" for an index that
//! is sound. Inside one store the other writer is another connection of the pool, which is what
//! made the conformance suite fail now and then; it can also be a second store on the same file
//! (as `kindly kb ingest` beside `kindly serve`).

use kindly_core::{Point, PointKind, PointStatus, PointStore, SearchFilter, Source};
use kindly_store::SqliteStore;

fn point(ref_id: &str, text: &str) -> Point {
    Point {
        id: Point::stable_id(Source::Article, ref_id, PointKind::Question, 0),
        source: Source::Article,
        ref_id: ref_id.into(),
        kind: PointKind::Question,
        status: PointStatus::Approved,
        intent: None,
        text: text.into(),
        vector: vec![1.0, 0.0],
    }
}

/// Reads the lexical index on as many of the store's pooled connections as it will open at once.
async fn search_on_every_connection(store: &SqliteStore) {
    let mut searches = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let store = store.clone();
        searches
            .spawn(async move { store.keyword_search("refund parcel", 10, SearchFilter::default()).await });
    }
    while let Some(search) = searches.join_next().await {
        search.unwrap().unwrap();
    }
}

#[tokio::test]
async fn the_check_is_not_fooled_by_what_a_pooled_connection_searched_before_another_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    for round in 0..5 {
        search_on_every_connection(&store).await;
        // One connection of the pool writes; the others keep what they read.
        let ref_id = format!("kb-{}", round % 2);
        let text = format!("Refund {round}: where is my parcel?");
        store.replace_points(Source::Article, &ref_id, &[point(&ref_id, &text)]).await.unwrap();
        store.integrity_check().await.unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    let hits = store.keyword_search("refund", 10, SearchFilter::default()).await.unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
}

#[tokio::test]
async fn the_check_is_not_fooled_by_another_store_writing_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kindly.db");
    let service = SqliteStore::open(&path).await.unwrap();
    let ingest = SqliteStore::open(&path).await.unwrap();
    let all = SearchFilter::default();

    service
        .replace_points(Source::Article, "kb-1", &[point("kb-1", "How do I get a refund?")])
        .await
        .unwrap();
    search_on_every_connection(&service).await;
    ingest.replace_points(Source::Article, "kb-1", &[point("kb-1", "Refunds go to the card")]).await.unwrap();
    ingest.replace_points(Source::Article, "kb-2", &[point("kb-2", "Where is my parcel?")]).await.unwrap();
    ingest.remove_points(Source::Article, "kb-1").await.unwrap();

    service.integrity_check().await.unwrap();
    ingest.integrity_check().await.unwrap();
    // The index really is what the points say, read from either store.
    assert!(service.keyword_search("refund", 10, all).await.unwrap().is_empty());
    assert_eq!(service.keyword_search("parcel", 10, all).await.unwrap()[0].ref_id, "kb-2");
}

#[tokio::test]
async fn the_check_still_finds_a_lexical_index_out_of_step_with_its_table() {
    use std::str::FromStr;

    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kindly.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.replace_points(Source::Article, "kb-1", &[point("kb-1", "How do I get a refund?")]).await.unwrap();
    store.integrity_check().await.unwrap();
    store.close().await;

    // Change the FTS table's stored text behind FTS5's back: its inverted index no longer matches.
    let options = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite://").unwrap().filename(&path);
    let mut raw = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("UPDATE points_fts_content SET c0 = 'nothing alike'").execute(&mut raw).await.unwrap();
    raw.close().await.unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    let err = store.integrity_check().await.unwrap_err();
    assert!(err.to_string().contains("malformed inverted index"), "{err}");
}
