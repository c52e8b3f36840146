//! Knowledge gaps: recent handoffs that found no good knowledge, grouped by meaning. Each cluster
//! shows its size and example tickets; one click drafts an article from it (a draft is indexed as
//! a suggestion for agents, never sent to customers, until someone publishes it).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use chrono::Utc;
use kindly_core::{Article, ArticleStatus, Embedder, KnowledgeStore, Permission};
use serde::{Deserialize, Serialize};

use super::{CsrfForm, PageError, opening_words, render};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::routes::AppState;

/// How far back gaps are looked for, and how many handoffs are clustered at most.
const DAYS: i64 = 30;
const MAX_TICKETS: u32 = 300;
/// Two questions belong to one gap when their embeddings are at least this similar.
const SAME_GAP: f32 = 0.6;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/studio/gaps", get(gaps)).route("/studio/gaps/draft", post(draft))
}

#[derive(Serialize)]
struct Gap {
    size: usize,
    examples: Vec<String>,
    /// Every question of the cluster, one per line, for the draft.
    questions: String,
    /// The first reply a person wrote to one of them, to start the draft from.
    reply: String,
}

/// Greedy clustering: each question joins the first cluster whose first question is similar
/// enough (vectors are unit length, so the dot product is the cosine), else starts its own.
fn cluster(vectors: &[Vec<f32>], threshold: f32) -> Vec<Vec<usize>> {
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let home = clusters.iter_mut().find(|c| {
            let seed = &vectors[c[0]];
            seed.iter().zip(v).map(|(a, b)| a * b).sum::<f32>() >= threshold
        });
        match home {
            Some(c) => c.push(i),
            None => clusters.push(vec![i]),
        }
    }
    clusters.sort_by_key(|c| std::cmp::Reverse(c.len()));
    clusters
}

async fn gaps(State(s): State<Arc<AppState>>, who: Principal) -> Result<Html<String>, PageError> {
    who.require(Permission::EditKnowledge)?;
    let tickets = s.store.gap_tickets(Utc::now() - chrono::Duration::days(DAYS), MAX_TICKETS).await?;
    let texts: Vec<String> = tickets.iter().map(|t| t.question.clone()).collect();
    let vectors = if texts.is_empty() {
        Vec::new()
    } else {
        s.embedder.embed(texts).await.map_err(|e| ApiError::from(kindly_pipeline::PipelineError::from(e)))?
    };
    let found: Vec<Gap> = cluster(&vectors, SAME_GAP)
        .into_iter()
        .map(|members| Gap {
            size: members.len(),
            examples: members.iter().take(3).map(|&i| tickets[i].question.clone()).collect(),
            questions: members
                .iter()
                .take(10)
                .map(|&i| tickets[i].question.replace('\n', " "))
                .collect::<Vec<_>>()
                .join("\n"),
            reply: members.iter().find_map(|&i| tickets[i].reply.clone()).unwrap_or_default(),
        })
        .collect();
    render("gaps.html", &who, serde_json::json!({ "days": DAYS, "gaps": found }))
}

#[derive(Deserialize)]
struct DraftForm {
    questions: String,
    reply: String,
}

/// Creates a draft article from a gap and opens it in the editor.
async fn draft(
    State(s): State<Arc<AppState>>,
    CsrfForm(who, form): CsrfForm<DraftForm>,
) -> Result<Redirect, PageError> {
    who.require(Permission::EditKnowledge)?;
    let questions: Vec<String> =
        form.questions.lines().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned).collect();
    let first = questions.first().cloned().ok_or_else(|| {
        ApiError::invalid(kindly_core::ValidationError::new("questions", "a gap needs at least one question"))
    })?;
    let title = opening_words(&first, 80);
    let body = if form.reply.trim().is_empty() {
        format!(
            "Draft for a knowledge gap: {} customers asked this and no article answered it. Write the answer here.",
            questions.len()
        )
    } else {
        form.reply.replace("\r\n", "\n").trim().to_owned()
    };
    let id = format!("draft-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let article = Article {
        id: id.clone(),
        title,
        intents: Vec::new(),
        questions,
        tags: vec!["gap".to_owned()],
        stage: None,
        status: ArticleStatus::Draft,
        body,
        updated_at: Utc::now(),
    };
    kindly_pipeline::knowledge::validate_article(&article)?;
    if s.store.article(&id).await?.is_some() {
        return Err(ApiError::new(axum::http::StatusCode::CONFLICT, "conflict", "try again").into());
    }
    s.pipeline.knowledge().save(&article).await?;
    Ok(Redirect::to(&format!("/studio/articles/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_questions_share_a_gap_and_the_biggest_comes_first() {
        let v = |x: f32, y: f32| {
            let n = (x * x + y * y).sqrt();
            vec![x / n, y / n]
        };
        let vectors = [v(1.0, 0.0), v(0.0, 1.0), v(0.1, 1.0), v(1.0, 0.05), v(0.05, 1.0)];
        assert_eq!(cluster(&vectors, 0.9), vec![vec![1, 2, 4], vec![0, 3]]);
        assert!(cluster(&[], 0.9).is_empty());
    }
}
