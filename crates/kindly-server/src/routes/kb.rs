//! `/v1/kb/articles`: the knowledge base. Every change re-indexes the article.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Utc;
use kindly_core::{Article, KnowledgeStore, Permission};
use kindly_pipeline::ArticleFields;
use serde::Serialize;

use super::{AppState, State};
use crate::auth::Principal;
use crate::error::{ApiError, Json, Path};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/kb/articles", get(list).post(create))
        .route("/v1/kb/articles/{id}", get(show).put(update).delete(remove))
}

#[derive(Serialize)]
struct ArticleList {
    articles: Vec<Article>,
}

async fn list(axum::extract::State(s): State) -> Result<Json<ArticleList>, ApiError> {
    Ok(Json(ArticleList { articles: s.store.articles().await? }))
}

async fn show(axum::extract::State(s): State, Path(id): Path<String>) -> Result<Json<Article>, ApiError> {
    let article = s.store.article(&id).await?.ok_or_else(|| ApiError::not_found(format!("article {id}")))?;
    Ok(Json(article))
}

async fn create(
    axum::extract::State(s): State,
    who: Principal,
    Json(req): Json<ArticleFields>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Permission::EditKnowledge)?;
    let id = req.id.clone().ok_or_else(|| {
        ApiError::invalid(kindly_core::ValidationError::new("id", "is required to create an article"))
    })?;
    if s.store.article(&id).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("article {id} already exists; use PUT to change it"),
        ));
    }
    let body = required_body(&req)?;
    let article = req.into_article(id, &body, Utc::now());
    s.pipeline.knowledge().save(&article).await?;
    s.pipeline.intent_models().labels_changed();
    Ok((StatusCode::CREATED, Json(article)))
}

async fn update(
    axum::extract::State(s): State,
    who: Principal,
    Path(id): Path<String>,
    Json(req): Json<ArticleFields>,
) -> Result<Json<Article>, ApiError> {
    who.require(Permission::EditKnowledge)?;
    if req.id.as_deref().is_some_and(|body_id| body_id != id) {
        return Err(ApiError::invalid(kindly_core::ValidationError::new(
            "id",
            "does not match the id in the path",
        )));
    }
    let existed = s.store.article(&id).await?.is_some();
    if !existed {
        return Err(ApiError::not_found(format!("article {id}")));
    }
    let body = required_body(&req)?;
    let article = req.into_article(id, &body, Utc::now());
    s.pipeline.knowledge().save(&article).await?;
    s.pipeline.intent_models().labels_changed();
    Ok(Json(article))
}

fn required_body(req: &ArticleFields) -> Result<String, ApiError> {
    req.body
        .clone()
        .ok_or_else(|| ApiError::invalid(kindly_core::ValidationError::new("body", "is required")))
}

async fn remove(
    axum::extract::State(s): State,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::EditKnowledge)?;
    if s.pipeline.knowledge().delete(&id).await? {
        s.pipeline.intent_models().labels_changed();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("article {id}")))
    }
}
