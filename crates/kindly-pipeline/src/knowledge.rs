//! The knowledge base: articles parsed from Markdown with TOML front matter, embedded as points
//! (title, sample questions, body chunks) that all refer to their article, and upserted under
//! stable ids. A content hash makes ingestion idempotent; deleted or retired articles leave the
//! index.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use kindly_core::ports::ArticleWrite;
use kindly_core::{
    Article, ArticleStatus, Embedder, LifecycleStage, Point, PointKind, RecordStore, Source, ValidationError,
    VectorIndex,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::PipelineError;

/// Body chunks are cut at paragraph boundaries to at most about this many characters.
const CHUNK_CHARS: usize = 600;

/// How many times an article is indexed again when another process changed it meanwhile.
const INDEXING_ATTEMPTS: usize = 5;

/// Adds, changes, removes and indexes articles.
#[derive(Clone)]
pub struct KnowledgeBase {
    store: Arc<dyn RecordStore>,
    index: Arc<dyn VectorIndex>,
    embedder: Arc<dyn Embedder>,
    indexing: IndexingLock,
}

/// Held while a stored record is read and its points written, so that a retry of failed
/// indexing never writes an older version of an article or a resolution over a newer one (or
/// back after a delete): every writer reads what it indexes under the lock, or indexes what it
/// stored just before taking it.
pub type IndexingLock = Arc<tokio::sync::Mutex<()>>;

/// What an ingest run did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct IngestReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Points in the index after the run.
    pub points: usize,
}

/// An article as people write it: a file's TOML front matter (the body follows the `+++`
/// lines), or a JSON body of `POST`/`PUT /v1/kb/articles` (the id may come from the path).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleFields {
    pub id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub intents: Vec<String>,
    #[serde(default)]
    pub questions: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub stage: Option<LifecycleStage>,
    #[serde(default)]
    pub status: ArticleStatus,
    pub body: Option<String>,
}

impl ArticleFields {
    /// The article, trimmed, with its id and body given (validate it with [`validate_article`]).
    pub fn into_article(self, id: String, body: &str, now: DateTime<Utc>) -> Article {
        Article {
            id,
            title: self.title.trim().to_owned(),
            intents: self.intents,
            questions: self.questions,
            tags: self.tags,
            stage: self.stage,
            status: self.status,
            body: body.trim().to_owned(),
            updated_at: now,
        }
    }
}

/// Parses one article file: TOML front matter between `+++` lines, then the Markdown body.
pub fn parse_article(text: &str, now: DateTime<Utc>) -> Result<Article, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .trim_start()
        .strip_prefix("+++")
        .ok_or("must start with TOML front matter between `+++` lines")?;
    let end = rest.find("\n+++").ok_or("front matter is not closed by a `+++` line")?;
    let mut fields: ArticleFields = toml::from_str(&rest[..end]).map_err(|e| format!("front matter: {e}"))?;
    let id = fields.id.take().ok_or("front matter: missing field `id`")?;
    if fields.body.is_some() {
        return Err("front matter: `body` is not a field; the body follows the closing `+++`".into());
    }
    let article = fields.into_article(id, &rest[end + 4..], now);
    validate_article(&article).map_err(|e| e.to_string())?;
    Ok(article)
}

/// The rules every article meets, from a file or from the API.
pub fn validate_article(a: &Article) -> Result<(), ValidationError> {
    let id_ok = !a.id.is_empty()
        && a.id.len() <= 64
        && a.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !id_ok {
        return Err(ValidationError::new("id", "must be 1–64 characters of a-z, 0-9, '-' or '_'"));
    }
    if a.title.trim().is_empty() {
        return Err(ValidationError::new("title", "must not be empty"));
    }
    if a.body.trim().is_empty() {
        return Err(ValidationError::new("body", "must not be empty"));
    }
    if a.answer().is_empty() {
        return Err(ValidationError::new("body", "needs a customer answer before its first `## ` heading"));
    }
    if a.body.chars().count() > 100_000 {
        return Err(ValidationError::new("body", "is longer than 100000 characters"));
    }
    if let Some(bad) = a.intents.iter().find(|i| kindly_core::ticket::required_id("intents", i).is_err()) {
        return Err(ValidationError::new("intents", format!("{bad:?} is not a valid intent name")));
    }
    if a.questions.iter().any(|q| q.trim().is_empty()) {
        return Err(ValidationError::new("questions", "must not contain empty questions"));
    }
    Ok(())
}

/// The texts of an article's points, by kind: title, each sample question, body chunks.
fn article_texts(a: &Article) -> Vec<(PointKind, usize, String)> {
    let mut texts = vec![(PointKind::Title, 0, a.title.clone())];
    texts.extend(a.questions.iter().enumerate().map(|(n, q)| (PointKind::Question, n, q.trim().to_owned())));
    texts.extend(chunks(&a.body).into_iter().enumerate().map(|(n, c)| (PointKind::Chunk, n, c)));
    texts
}

/// Cuts Markdown into chunks at blank lines, merging short paragraphs up to [`CHUNK_CHARS`].
fn chunks(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for paragraph in body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if !current.is_empty() && current.len() + paragraph.len() > CHUNK_CHARS && !current.starts_with('#') {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(paragraph);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

impl KnowledgeBase {
    pub fn new(
        store: Arc<dyn RecordStore>,
        index: Arc<dyn VectorIndex>,
        embedder: Arc<dyn Embedder>,
        indexing: IndexingLock,
    ) -> Self {
        Self { store, index, embedder, indexing }
    }

    /// A hash of everything that shapes an article's points, including the embedder's id, so
    /// that a new model re-indexes everything and an unchanged article is left alone.
    fn content_hash(&self, a: &Article) -> String {
        let mut h = Sha256::new();
        let canonical =
            serde_json::json!([a.id, a.title, a.intents, a.questions, a.tags, a.stage, a.status, a.body]);
        h.update(canonical.to_string().as_bytes());
        h.update(self.embedder.model_id().as_bytes());
        format!("{:x}", h.finalize())
    }

    /// Creates or changes an article and re-indexes it. Saving the same content again changes
    /// nothing.
    pub async fn save(&self, article: &Article) -> Result<ArticleWrite, PipelineError> {
        validate_article(article)?;
        let hash = self.content_hash(article);
        let _indexing = self.indexing.lock().await;
        let write = self.store.upsert_article(article, &hash).await?;
        if write != ArticleWrite::Unchanged || !self.store.is_indexed(&article.id, &hash).await? {
            self.index_article(&article.id, Some(Cow::Borrowed(article))).await?;
        }
        Ok(write)
    }

    /// Deletes an article and its points. Returns whether it existed.
    pub async fn delete(&self, id: &str) -> Result<bool, PipelineError> {
        let _indexing = self.indexing.lock().await;
        // The points go first, so that a crash in between leaves an article still listed (delete
        // it again), never points of an article that is gone.
        self.index.remove(Source::Article, id).await?;
        let existed = self.store.delete_article(id).await?;
        // Another process may have indexed the article between the two writes.
        self.index_article(id, None).await?;
        Ok(existed)
    }

    /// Makes the article's points what the store holds, starting from `article` as read from it
    /// (`None`: deleted). Another process (a `kindly kb ingest` beside the server; this process's
    /// writers hold `indexing`) may change or delete the article after the read, and its points
    /// may land before these. Then the mark finds other content, and the article is indexed
    /// again as the store now holds it: whichever writer's points land last reads the article
    /// after writing them, so the index ends as the store does.
    async fn index_article(
        &self,
        id: &str,
        mut article: Option<Cow<'_, Article>>,
    ) -> Result<(), PipelineError> {
        for _ in 0..INDEXING_ATTEMPTS {
            match &article {
                Some(a) => {
                    self.write_points(a).await?;
                    if self.store.mark_article_indexed(id, &self.content_hash(a)).await? {
                        return Ok(());
                    }
                }
                None => {
                    self.index.remove(Source::Article, id).await?;
                }
            }
            let stored = self.store.article(id).await?;
            if stored.is_none() && article.is_none() {
                return Ok(());
            }
            tracing::info!(
                article = id,
                "another process changed the article while it was indexed; indexing it again"
            );
            article = stored.map(Cow::Owned);
        }
        tracing::warn!(
            article = id,
            "the article kept changing while it was indexed; its points may lag until it is saved again"
        );
        Ok(())
    }

    /// Replaces the article's points with those of this version (none unless it is searchable).
    async fn write_points(&self, a: &Article) -> Result<(), PipelineError> {
        match a.point_status() {
            None => {
                self.index.remove(Source::Article, &a.id).await?;
            }
            Some(status) => {
                let texts = article_texts(a);
                let vectors = self.embedder.embed(texts.iter().map(|(_, _, t)| t.clone()).collect()).await?;
                let label = a.intents.first().cloned();
                let points = texts
                    .into_iter()
                    .zip(vectors)
                    .map(|((kind, n, text), vector)| Point {
                        id: Point::stable_id(Source::Article, &a.id, kind, n),
                        source: Source::Article,
                        ref_id: a.id.clone(),
                        kind,
                        status,
                        // Titles and questions are labelled examples of the article's intent.
                        intent: if kind == PointKind::Chunk { None } else { label.clone() },
                        text,
                        vector,
                    })
                    .collect();
                self.index.replace(Source::Article, &a.id, points).await?;
            }
        }
        Ok(())
    }

    /// Re-indexes articles whose content changed since they were last indexed (an interrupted
    /// ingest, or a new embedder). Returns how many.
    pub async fn reindex_pending(&self) -> Result<usize, PipelineError> {
        let _indexing = self.indexing.lock().await;
        let pending = self.store.unindexed_articles().await?;
        for a in &pending {
            self.index_article(&a.id, Some(Cow::Borrowed(a))).await?;
        }
        Ok(pending.len())
    }

    /// Makes the knowledge base exactly the `kb-*.md` files of `dir`: every file is parsed and
    /// checked first (nothing is written if one is wrong), then each article is upserted and
    /// indexed, and articles whose file is gone are removed.
    pub async fn ingest_dir(
        &self,
        dir: &Path,
        progress: &ProgressBar,
    ) -> Result<IngestReport, PipelineError> {
        let articles = read_dir(dir, Utc::now())?;
        progress.set_length(articles.len() as u64);
        let mut report = IngestReport::default();
        for article in &articles {
            progress.set_message(article.id.clone());
            match self.save(article).await? {
                ArticleWrite::Created => report.created += 1,
                ArticleWrite::Updated => report.updated += 1,
                ArticleWrite::Unchanged => report.unchanged += 1,
            }
            progress.inc(1);
        }
        let keep: HashSet<&str> = articles.iter().map(|a| a.id.as_str()).collect();
        for stored in self.store.articles().await? {
            if !keep.contains(stored.id.as_str()) {
                self.delete(&stored.id).await?;
                report.removed += 1;
            }
        }
        report.points = self.index.len().await?;
        progress.finish_with_message("done");
        Ok(report)
    }
}

/// Reads and checks every `kb-*.md` file in `dir`, sorted by name.
fn read_dir(dir: &Path, now: DateTime<Utc>) -> Result<Vec<Article>, PipelineError> {
    let err =
        |path: &Path, message: String| PipelineError::Knowledge { path: path.display().to_string(), message };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| err(dir, e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("kb-") && name.ends_with(".md")
        })
        .collect();
    files.sort();
    let mut ids: HashMap<String, std::path::PathBuf> = HashMap::new();
    let mut intents: HashMap<String, String> = HashMap::new();
    let mut articles = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|e| err(&path, e.to_string()))?;
        let article = parse_article(&text, now).map_err(|m| err(&path, m))?;
        let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or_default();
        if name != article.id && !name.starts_with(&format!("{}-", article.id)) {
            return Err(err(&path, format!("id {:?} does not match the file name", article.id)));
        }
        if let Some(other) = ids.insert(article.id.clone(), path.clone()) {
            return Err(err(&path, format!("id {:?} is also used by {}", article.id, other.display())));
        }
        for intent in &article.intents {
            if let Some(other) = intents.insert(intent.clone(), article.id.clone()) {
                return Err(err(&path, format!("intent {intent:?} is also claimed by {other}")));
            }
        }
        articles.push(article);
    }
    Ok(articles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "+++\nid = \"kb-9\"\ntitle = \"Reset\"\nintents = [\"reset_password\"]\nquestions = [\"forgot password\"]\nstage = \"setup\"\n+++\n\nTap **Forgot password**.\n\n## Details\nAgents only.\n";

    #[test]
    fn parses_front_matter_and_body() {
        let a = parse_article(ARTICLE, Utc::now()).unwrap();
        assert_eq!(a.id, "kb-9");
        assert_eq!(a.stage, Some(LifecycleStage::Setup));
        assert_eq!(a.status, ArticleStatus::Published);
        assert_eq!(a.answer(), "Tap **Forgot password**.");
        let texts = article_texts(&a);
        assert_eq!(texts[0], (PointKind::Title, 0, "Reset".into()));
        assert_eq!(texts[1], (PointKind::Question, 0, "forgot password".into()));
        assert!(texts.iter().any(|(k, _, _)| *k == PointKind::Chunk));
    }

    #[test]
    fn refuses_bad_articles_with_a_reason() {
        let cases = [
            ("no front matter", "just text", "front matter"),
            ("unclosed", "+++\nid = \"a\"\n", "not closed"),
            ("bad toml", "+++\nid = \n+++\nx", "front matter"),
            ("unknown stage", &ARTICLE.replace("\"setup\"", "\"space\""), "stage"),
            ("unknown field", &ARTICLE.replace("stage =", "colour = \"red\"\nstage ="), "colour"),
            ("no answer", &ARTICLE.replace("Tap **Forgot password**.\n\n", ""), "customer answer"),
            ("bad id", &ARTICLE.replace("kb-9", "KB 9"), "id"),
        ];
        for (name, text, needle) in cases {
            let err = parse_article(text, Utc::now()).unwrap_err();
            assert!(err.contains(needle), "{name}: {err}");
        }
    }

    #[test]
    fn chunks_merge_short_paragraphs_and_split_long_ones() {
        let body = format!("{}\n\n{}\n\nshort", "a".repeat(400), "b".repeat(400));
        let c = chunks(&body);
        assert_eq!(c.len(), 2);
        assert!(c[1].ends_with("short"));
    }

    #[test]
    fn the_sample_knowledge_base_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base");
        let articles = read_dir(&dir, Utc::now()).unwrap();
        assert!(articles.len() >= 30);
        assert!(articles.iter().filter(|a| a.status == ArticleStatus::Published).count() >= 30);
    }
}
