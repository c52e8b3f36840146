//! `/v1/kb/articles`: the knowledge base. Every change re-indexes the article.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use kindly_core::{Article, KnowledgeStore, Permission};
use kindly_pipeline::ArticleFields;
use serde::Serialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Routes, State};
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody, Json, Path};

pub(super) fn router() -> Routes {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(show, update, remove))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ArticleList {
    articles: Vec<Article>,
}

/// Every article of the knowledge base.
#[utoipa::path(get, path = "/v1/kb/articles", tag = "knowledge", responses(
    (status = 200, description = "The articles", body = ArticleList),
))]
async fn list(axum::extract::State(s): State) -> Result<Json<ArticleList>, ApiError> {
    Ok(Json(ArticleList { articles: s.store.articles().await? }))
}

/// One article.
#[utoipa::path(get, path = "/v1/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path)), responses(
    (status = 200, description = "The article", body = Article),
    (status = 404, description = "No such article", body = ErrorBody),
))]
async fn show(axum::extract::State(s): State, Path(id): Path<String>) -> Result<Json<Article>, ApiError> {
    let article = s.store.article(&id).await?.ok_or_else(|| ApiError::not_found(format!("article {id}")))?;
    Ok(Json(article))
}

/// Creates an article; it is indexed at once.
#[utoipa::path(post, path = "/v1/kb/articles", tag = "knowledge", request_body = ArticleFields, responses(
    (status = 201, description = "Created and indexed", body = Article),
    (status = 403, description = "Only knowledge managers and admins edit knowledge", body = ErrorBody),
    (status = 409, description = "An article with this id exists: use PUT", body = ErrorBody),
    (status = 422, description = "A field is missing or invalid", body = ErrorBody),
))]
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

/// Changes an article; it is indexed again at once.
#[utoipa::path(put, path = "/v1/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path)),
    request_body = ArticleFields, responses(
    (status = 200, description = "Changed and indexed", body = Article),
    (status = 403, description = "Only knowledge managers and admins edit knowledge", body = ErrorBody),
    (status = 404, description = "No such article", body = ErrorBody),
    (status = 422, description = "A field is missing or invalid, or the body's id is not the path's", body = ErrorBody),
))]
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

/// Deletes an article and its points.
#[utoipa::path(delete, path = "/v1/kb/articles/{id}", tag = "knowledge", params(("id" = String, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 403, description = "Only knowledge managers and admins edit knowledge", body = ErrorBody),
    (status = 404, description = "No such article", body = ErrorBody),
))]
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
