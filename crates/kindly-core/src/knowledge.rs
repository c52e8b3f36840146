//! What Kindly knows: articles written by knowledge managers, resolutions approved by agents, and
//! the embedded points that make both searchable.
//!
//! A *point* is one embedded text (an article's title, one of its sample questions, a chunk of
//! its body, or a resolution's question) that refers back to its record. Points are keyed by a
//! stable id derived from the record, so writing the same knowledge twice changes nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where in the life after purchase a question sits. Used for analytics and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    Delivery,
    Setup,
    EverydayUse,
    Billing,
    ReturnsWarranty,
    Care,
    Cancellation,
}

/// An article's place in its lifecycle. Only `published` articles may answer customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    #[default]
    Published,
    /// Indexed so agents see it as a suggestion, never sent to a customer automatically.
    Draft,
    /// Kept for history, removed from the index.
    Retired,
}

/// A knowledge-base article. `answer` is the customer-ready part (the body before its first
/// `## ` heading); `body` is the whole Markdown body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Article {
    pub id: String,
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
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

impl Article {
    /// The customer-ready answer: the body up to its first second-level heading.
    pub fn answer(&self) -> &str {
        let end = self.body.find("\n## ").map_or(self.body.len(), |i| i + 1);
        let head = &self.body[..end];
        if head.trim_start().starts_with("## ") { "" } else { head.trim() }
    }

    /// The index status of this article's points, or `None` when it must not be indexed.
    pub fn point_status(&self) -> Option<PointStatus> {
        match self.status {
            ArticleStatus::Published => Some(PointStatus::Approved),
            ArticleStatus::Draft => Some(PointStatus::Candidate),
            ArticleStatus::Retired => None,
        }
    }
}

/// The kind of record a point refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Article,
    Resolution,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "article" => Some(Self::Article),
            "resolution" => Some(Self::Resolution),
            _ => None,
        }
    }
}

/// Whether a point may be used to answer a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PointStatus {
    /// Published article or resolution a person approved as reusable.
    Approved,
    /// Shown to agents as a suggestion or similar case; never sent to a customer automatically.
    Candidate,
}

impl PointStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Candidate => "candidate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approved" => Some(Self::Approved),
            "candidate" => Some(Self::Candidate),
            _ => None,
        }
    }
}

/// Which text of a record a point embeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    Title,
    Question,
    Chunk,
}

impl PointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Question => "question",
            Self::Chunk => "chunk",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "title" => Some(Self::Title),
            "question" => Some(Self::Question),
            "chunk" => Some(Self::Chunk),
            _ => None,
        }
    }
}

/// A reference to one piece of knowledge: an article or a resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeRef {
    pub source: Source,
    pub id: String,
}

impl std::fmt::Display for KnowledgeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.source.as_str(), self.id)
    }
}

/// One embedded text in the vector index, with the payload that filters and explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Stable id, derived from the record (e.g. `article:kb-001:question:2`).
    pub id: String,
    pub source: Source,
    /// The id of the record this point belongs to.
    pub ref_id: String,
    pub kind: PointKind,
    pub status: PointStatus,
    /// The intent label this text stands for, when known (a labelled example).
    pub intent: Option<String>,
    pub text: String,
    pub vector: Vec<f32>,
}

impl Point {
    /// The stable id of the `n`-th point of `kind` for a record.
    pub fn stable_id(source: Source, ref_id: &str, kind: PointKind, n: usize) -> String {
        format!("{}:{}:{}:{}", source.as_str(), ref_id, kind.as_str(), n)
    }

    pub fn knowledge_ref(&self) -> KnowledgeRef {
        KnowledgeRef { source: self.source, id: self.ref_id.clone() }
    }
}

/// Payload filter for a search. `None` fields match everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub source: Option<Source>,
    pub status: Option<PointStatus>,
}

impl SearchFilter {
    pub fn matches(&self, source: Source, status: PointStatus) -> bool {
        self.source.is_none_or(|s| s == source) && self.status.is_none_or(|s| s == status)
    }
}

/// A lexical match: one knowledge record and its best BM25 score over its points (higher is
/// better; comparable only within one query).
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordHit {
    pub source: Source,
    pub ref_id: String,
    pub score: f32,
}

/// A search result: a point (without its vector) and its cosine similarity to the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPoint {
    pub id: String,
    pub source: Source,
    pub ref_id: String,
    pub kind: PointKind,
    pub status: PointStatus,
    pub intent: Option<String>,
    pub text: String,
    pub score: f32,
}

/// One piece of knowledge retrieved for a ticket: the best of its points, described for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeHit {
    pub reference: KnowledgeRef,
    pub title: String,
    pub score: f32,
    pub status: PointStatus,
    pub intents: Vec<String>,
    /// The text of the point that matched best.
    pub matched: String,
    /// The customer-ready answer this knowledge would give.
    pub answer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The article's lifecycle stage (resolutions have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<LifecycleStage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(body: &str) -> Article {
        Article {
            id: "kb-1".into(),
            title: "t".into(),
            intents: vec![],
            questions: vec![],
            tags: vec![],
            stage: None,
            status: ArticleStatus::Published,
            body: body.into(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn answer_is_the_part_before_the_first_section() {
        assert_eq!(article("Do this.\n\nThen that.\n\n## Details\nmore").answer(), "Do this.\n\nThen that.");
        assert_eq!(article("Only an answer.").answer(), "Only an answer.");
        assert_eq!(article("## Details\nno answer").answer(), "");
        assert_eq!(article("Use ### sub\n### Sub\nok").answer(), "Use ### sub\n### Sub\nok");
    }

    #[test]
    fn filter_matches_payload() {
        let f = SearchFilter { source: Some(Source::Article), status: None };
        assert!(f.matches(Source::Article, PointStatus::Candidate));
        assert!(!f.matches(Source::Resolution, PointStatus::Approved));
        assert!(SearchFilter::default().matches(Source::Resolution, PointStatus::Candidate));
    }
}
