//! The knowledge studio: articles (list, search, create, edit, retire, version history and
//! diffs), the "try it" box, and the review queue of resolutions proposed as knowledge. Only
//! knowledge managers and admins may enter. Saving goes through `KnowledgeBase::save`, like the
//! API, so every change is re-indexed; a database trigger keeps each version.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use kindly_core::{Article, ArticleStatus, KnowledgeStore, Permission, QueueStore};
use kindly_store::Verdict;
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use super::{CsrfForm, NoFields, PageError, render};
use crate::auth::Principal;
use crate::error::{ApiError, Path};
use crate::routes::AppState;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/studio/articles", get(list).post(create))
        .route("/studio/articles/new", get(new_article))
        .route("/studio/articles/{id}", get(editor).post(save))
        .route("/studio/articles/{id}/retire", post(retire))
        .route("/studio/review", get(review_queue))
        .route("/studio/review/{id}/approve", post(approve))
        .route("/studio/review/{id}/reject", post(reject))
        .route("/studio/review/{id}/merge", post(merge))
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
    /// The "try it" box: a sample customer question.
    ask: Option<String>,
}

#[derive(Serialize)]
struct Retrieved {
    title: String,
    reference: String,
    score: String,
    status: String,
}

#[derive(Serialize)]
struct ListPage {
    q: String,
    ask: String,
    articles: Vec<ArticleRow>,
    retrieved: Vec<Retrieved>,
}

/// One article of the list.
#[derive(Serialize)]
struct ArticleRow {
    id: String,
    title: String,
    /// Its intents, comma-separated.
    intents: String,
    status: &'static str,
    updated: String,
}

async fn list(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Query(q): Query<Search>,
) -> Result<Html<String>, PageError> {
    who.require(Permission::EditKnowledge)?;
    let needle = q.q.clone().unwrap_or_default().to_lowercase();
    let articles = s
        .store
        .articles()
        .await?
        .into_iter()
        .filter(|a| {
            needle.is_empty()
                || a.id.to_lowercase().contains(&needle)
                || a.title.to_lowercase().contains(&needle)
                || a.intents.iter().any(|i| i.to_lowercase().contains(&needle))
                || a.body.to_lowercase().contains(&needle)
        })
        .map(|a| ArticleRow {
            intents: a.intents.join(", "),
            status: status_str(a.status),
            updated: a.updated_at.format("%Y-%m-%d").to_string(),
            id: a.id,
            title: a.title,
        })
        .collect();
    let ask = q.ask.unwrap_or_default();
    let retrieved = if ask.trim().is_empty() {
        Vec::new()
    } else {
        s.pipeline
            .closest_knowledge(&ask, 5)
            .await?
            .into_iter()
            .map(|h| Retrieved {
                title: h.title,
                reference: h.reference.to_string(),
                score: format!("{:.3}", h.score),
                status: format!("{:?}", h.status).to_lowercase(),
            })
            .collect()
    };
    render("articles.html", &who, ListPage { q: q.q.unwrap_or_default(), ask, articles, retrieved })
}

fn status_str(s: ArticleStatus) -> &'static str {
    match s {
        ArticleStatus::Published => "published",
        ArticleStatus::Draft => "draft",
        ArticleStatus::Retired => "retired",
    }
}

#[derive(Serialize)]
struct DiffLine {
    /// "+", "-" or " "
    sign: &'static str,
    text: String,
}

#[derive(Serialize)]
struct EditorPage {
    is_new: bool,
    id: String,
    title: String,
    intents: String,
    questions: String,
    status: String,
    body: String,
    versions: Vec<(i64, String, String)>,
    diff: Option<(i64, i64, Vec<DiffLine>)>,
    /// Why the last save was refused; the form then shows what was typed.
    error: Option<String>,
    /// Shown right after a save went through (the browser then forgets its draft).
    saved: bool,
}

#[derive(Deserialize, Default)]
struct EditorQuery {
    /// A diff between two versions.
    from: Option<i64>,
    to: Option<i64>,
    /// Set by the redirect after a save.
    #[serde(default)]
    saved: bool,
}

async fn new_article(who: Principal) -> Result<Html<String>, PageError> {
    who.require(Permission::EditKnowledge)?;
    let page = EditorPage {
        is_new: true,
        id: String::new(),
        title: String::new(),
        intents: String::new(),
        questions: String::new(),
        status: "draft".into(),
        body: String::new(),
        versions: Vec::new(),
        diff: None,
        error: None,
        saved: false,
    };
    render("article.html", &who, page)
}

async fn editor(
    State(s): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    Query(d): Query<EditorQuery>,
) -> Result<Html<String>, PageError> {
    who.require(Permission::EditKnowledge)?;
    let a = s.store.article(&id).await?.ok_or_else(|| ApiError::not_found(format!("article {id}")))?;
    let versions = s.store.article_versions(&id).await?;
    let diff = match (d.from, d.to) {
        (Some(from), Some(to)) => {
            let body = |n: i64| versions.iter().find(|v| v.number == n).map(|v| v.body.as_str());
            let (old, new) = body(from).zip(body(to)).ok_or_else(|| ApiError::not_found("that version"))?;
            let lines = TextDiff::from_lines(old, new)
                .iter_all_changes()
                .map(|c| DiffLine {
                    sign: match c.tag() {
                        ChangeTag::Delete => "-",
                        ChangeTag::Insert => "+",
                        ChangeTag::Equal => " ",
                    },
                    text: c.value().trim_end_matches('\n').to_owned(),
                })
                .collect();
            Some((from, to, lines))
        }
        _ => None,
    };
    let page = EditorPage {
        is_new: false,
        id: a.id.clone(),
        title: a.title.clone(),
        intents: a.intents.join(", "),
        questions: a.questions.join("\n"),
        status: status_str(a.status).into(),
        body: a.body.clone(),
        versions: version_rows(&versions),
        diff,
        error: None,
        saved: d.saved,
    };
    render("article.html", &who, page)
}

/// Number, time saved and status of each version, for the history list.
fn version_rows(versions: &[kindly_store::ArticleVersion]) -> Vec<(i64, String, String)> {
    versions
        .iter()
        .map(|v| (v.number, v.saved_at.format("%Y-%m-%d %H:%M:%S").to_string(), v.status.clone()))
        .collect()
}

#[derive(Deserialize, Clone)]
struct ArticleForm {
    id: Option<String>,
    title: String,
    intents: String,
    questions: String,
    status: String,
    body: String,
}

impl ArticleForm {
    fn into_article(self, id: String, existing: Option<Article>) -> Result<Article, ApiError> {
        let status = match self.status.as_str() {
            "published" => ArticleStatus::Published,
            "draft" => ArticleStatus::Draft,
            "retired" => ArticleStatus::Retired,
            other => {
                return Err(ApiError::invalid(kindly_core::ValidationError::new(
                    "status",
                    format!("unknown status {other:?}"),
                )));
            }
        };
        let split = |s: &str, sep: char| -> Vec<String> {
            s.split(sep).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
        };
        let (tags, stage) = existing.map(|a| (a.tags, a.stage)).unwrap_or_default();
        let article = Article {
            id,
            title: self.title.trim().to_owned(),
            intents: split(&self.intents, ','),
            questions: split(&self.questions, '\n'),
            tags,
            stage,
            status,
            body: self.body.replace("\r\n", "\n").trim().to_owned(),
            updated_at: Utc::now(),
        };
        kindly_pipeline::knowledge::validate_article(&article)?;
        Ok(article)
    }
}

async fn create(
    State(s): State<Arc<AppState>>,
    CsrfForm(who, form): CsrfForm<ArticleForm>,
) -> Result<Response, PageError> {
    who.require(Permission::EditKnowledge)?;
    let typed = form.clone();
    let created = async {
        let id = kindly_core::ticket::required_id("id", form.id.as_deref().unwrap_or_default())?;
        if s.store.article(&id).await?.is_some() {
            let message = format!("article {id} already exists; choose another id");
            return Err(ApiError::new(StatusCode::CONFLICT, "conflict", message));
        }
        let article = form.into_article(id, None)?;
        store_article(&s, &article).await?;
        Ok(article.id)
    };
    match created.await {
        Ok(id) => Ok(Redirect::to(&format!("/studio/articles/{id}?saved=true")).into_response()),
        Err(e) => refused(&s, &who, None, typed, e).await,
    }
}

async fn save(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(who, form): CsrfForm<ArticleForm>,
) -> Result<Response, PageError> {
    who.require(Permission::EditKnowledge)?;
    let existing = s.store.article(&id).await?.ok_or_else(|| ApiError::not_found(format!("article {id}")))?;
    let typed = form.clone();
    let saved = async {
        let article = form.into_article(id.clone(), Some(existing))?;
        store_article(&s, &article).await
    };
    match saved.await {
        Ok(()) => Ok(Redirect::to(&format!("/studio/articles/{id}?saved=true")).into_response()),
        Err(e) => refused(&s, &who, Some(&id), typed, e).await,
    }
}

/// A save the person can fix (a missing title, an id taken…) shows the editor again with what
/// they typed and why, so nothing typed is lost; anything else is an error page.
async fn refused(
    s: &AppState,
    who: &Principal,
    existing: Option<&str>,
    typed: ArticleForm,
    e: ApiError,
) -> Result<Response, PageError> {
    if !e.status.is_client_error() {
        return Err(e.into());
    }
    let versions = match existing {
        Some(id) => s.store.article_versions(id).await?,
        None => Vec::new(),
    };
    let page = EditorPage {
        is_new: existing.is_none(),
        id: existing.map_or_else(|| typed.id.clone().unwrap_or_default(), str::to_owned),
        title: typed.title,
        intents: typed.intents,
        questions: typed.questions,
        status: typed.status,
        body: typed.body,
        versions: version_rows(&versions),
        diff: None,
        error: Some(e.message),
        saved: false,
    };
    Ok((e.status, render("article.html", who, page)?).into_response())
}

/// Retiring keeps the article and its history but takes it out of the index.
async fn retire(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm(who, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    who.require(Permission::EditKnowledge)?;
    let mut article =
        s.store.article(&id).await?.ok_or_else(|| ApiError::not_found(format!("article {id}")))?;
    article.status = ArticleStatus::Retired;
    article.updated_at = Utc::now();
    store_article(&s, &article).await?;
    Ok(Redirect::to(&format!("/studio/articles/{id}")))
}

async fn store_article(s: &AppState, article: &Article) -> Result<(), ApiError> {
    s.pipeline.knowledge().save(article).await?;
    s.pipeline.intent_models().labels_changed();
    Ok(())
}

#[derive(Serialize)]
struct Proposal {
    id: String,
    question: String,
    reply: String,
    agent: String,
    intent: String,
    near: Vec<Retrieved>,
}

#[derive(Serialize)]
struct ReviewPage {
    proposals: Vec<Proposal>,
    articles: Vec<(String, String)>,
}

/// Resolutions proposed as knowledge, each with the existing knowledge closest to it.
async fn review_queue(State(s): State<Arc<AppState>>, who: Principal) -> Result<Html<String>, PageError> {
    who.require(Permission::EditKnowledge)?;
    let mut proposals = Vec::new();
    for r in s.store.proposed_resolutions(50).await? {
        let own = r.id.to_string();
        let near = s
            .pipeline
            .closest_knowledge(&r.question, 4)
            .await?
            .into_iter()
            .filter(|h| h.reference.id != own)
            .take(3)
            .map(|h| Retrieved {
                title: h.title,
                reference: h.reference.to_string(),
                score: format!("{:.3}", h.score),
                status: format!("{:?}", h.status).to_lowercase(),
            })
            .collect();
        proposals.push(Proposal {
            id: own,
            question: r.question,
            reply: r.reply,
            agent: r.agent,
            intent: r.intent.unwrap_or_default(),
            near,
        });
    }
    let articles = s
        .store
        .articles()
        .await?
        .into_iter()
        .filter(|a| a.status != ArticleStatus::Retired)
        .map(|a| (a.id, a.title))
        .collect();
    render("review.html", &who, ReviewPage { proposals, articles })
}

#[derive(Deserialize)]
struct ApproveForm {
    reply: Option<String>,
}

/// Approves (optionally with an edited reply): the resolution becomes approved knowledge that
/// answers the next similar ticket.
async fn approve(
    State(s): State<Arc<AppState>>,
    Path(id): Path<uuid::Uuid>,
    CsrfForm(who, form): CsrfForm<ApproveForm>,
) -> Result<Redirect, PageError> {
    who.require(Permission::EditKnowledge)?;
    let reply = form.reply.map(|r| r.replace("\r\n", "\n").trim().to_owned()).filter(|r| !r.is_empty());
    let r = s
        .store
        .review_resolution(id, Verdict::Approved, &who.name, reply.as_deref(), None, Utc::now())
        .await?;
    s.pipeline.learn_or_retry_later(&r).await;
    Ok(Redirect::to("/studio/review"))
}

async fn reject(
    State(s): State<Arc<AppState>>,
    Path(id): Path<uuid::Uuid>,
    CsrfForm(who, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    who.require(Permission::EditKnowledge)?;
    s.store.review_resolution(id, Verdict::Rejected, &who.name, None, None, Utc::now()).await?;
    Ok(Redirect::to("/studio/review"))
}

#[derive(Deserialize)]
struct MergeForm {
    article_id: String,
}

/// Merges a proposal into an article: its question becomes one more way the article is asked.
async fn merge(
    State(s): State<Arc<AppState>>,
    Path(id): Path<uuid::Uuid>,
    CsrfForm(who, form): CsrfForm<MergeForm>,
) -> Result<Redirect, PageError> {
    who.require(Permission::EditKnowledge)?;
    let mut article = s
        .store
        .article(&form.article_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("article {}", form.article_id)))?;
    let r = s.store.resolution(id).await?.ok_or_else(|| ApiError::not_found(format!("resolution {id}")))?;
    s.store.review_resolution(id, Verdict::Merged, &who.name, None, Some(&article.id), Utc::now()).await?;
    if !article.questions.contains(&r.question) {
        article.questions.push(r.question.clone());
        article.updated_at = Utc::now();
        store_article(&s, &article).await?;
    }
    Ok(Redirect::to(&format!("/studio/articles/{}", article.id)))
}
