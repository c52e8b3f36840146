//! Reading rows into domain types. Every column that holds JSON or an enum is checked, and a
//! value that does not parse is reported as corrupt data, never turned into a default.

use chrono::{DateTime, Utc};
use kindly_core::queue::HandoffContext;
use kindly_core::{
    Article, Author, Customer, Handoff, HandoffId, HandoffStatus, KeywordHit, Message, Point, PointKind,
    PointStatus, Priority, Reason, Resolution, Source, StoreError, Ticket, TicketId, TicketStatus,
    TicketSummary,
};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::{backend, corrupt};

pub(crate) fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col).map_err(backend)
}

pub(crate) fn json<T: DeserializeOwned>(row: &SqliteRow, col: &str) -> Result<T, StoreError> {
    let raw: String = get(row, col)?;
    serde_json::from_str(&raw).map_err(|e| corrupt(col, e))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("serialising", e))
}

fn uuid(row: &SqliteRow, col: &str) -> Result<Uuid, StoreError> {
    let raw: String = get(row, col)?;
    Uuid::parse_str(&raw).map_err(|e| corrupt(col, e))
}

pub(crate) fn parsed<T>(row: &SqliteRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let raw: String = get(row, col)?;
    parse(&raw).ok_or_else(|| corrupt(col, format!("unknown value {raw:?}")))
}

/// A record's best BM25 rank (lower is better) as a [`KeywordHit`] score (higher is better).
pub(crate) fn keyword_hit(row: &SqliteRow) -> Result<KeywordHit, StoreError> {
    let rank: f64 = get(row, "rank")?;
    Ok(KeywordHit {
        source: parsed(row, "source", Source::parse)?,
        ref_id: get(row, "ref_id")?,
        score: -rank as f32,
    })
}

pub(crate) fn ticket(row: &SqliteRow) -> Result<Ticket, StoreError> {
    Ok(Ticket {
        id: TicketId(uuid(row, "id")?),
        external_id: get(row, "external_id")?,
        customer: Customer {
            id: get(row, "customer_id")?,
            email: get(row, "email")?,
            name: get(row, "name")?,
            flagged: Some(get(row, "flagged")?),
        },
        subject: get(row, "subject")?,
        body: get(row, "body")?,
        channel: get(row, "channel")?,
        status: parsed(row, "status", TicketStatus::parse)?,
        intent: get(row, "intent")?,
        created_at: get(row, "created_at")?,
        received_at: get(row, "received_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) fn ticket_summary(row: &SqliteRow) -> Result<TicketSummary, StoreError> {
    Ok(TicketSummary {
        id: TicketId(uuid(row, "id")?),
        subject: get(row, "subject")?,
        status: parsed(row, "status", TicketStatus::parse)?,
        intent: get(row, "intent")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn message(row: &SqliteRow) -> Result<Message, StoreError> {
    Ok(Message {
        id: get(row, "id")?,
        ticket_id: TicketId(uuid(row, "ticket_id")?),
        author: parsed(row, "author", Author::parse)?,
        author_name: get(row, "author_name")?,
        body: get(row, "body")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn handoff(row: &SqliteRow) -> Result<Handoff, StoreError> {
    let rank: i64 = get(row, "priority")?;
    Ok(Handoff {
        id: HandoffId(uuid(row, "id")?),
        ticket_id: TicketId(uuid(row, "ticket_id")?),
        customer_id: get(row, "customer_id")?,
        subject: get(row, "subject")?,
        status: parsed(row, "status", HandoffStatus::parse)?,
        priority: Priority::from_rank(rank).ok_or_else(|| corrupt("priority", rank))?,
        sla_due_at: get(row, "sla_due_at")?,
        reasons: json::<Vec<Reason>>(row, "reasons")?,
        intent: get(row, "intent")?,
        context: json::<HandoffContext>(row, "context")?,
        agent: get(row, "agent")?,
        created_at: get(row, "created_at")?,
        claimed_at: get::<Option<DateTime<Utc>>>(row, "claimed_at")?,
        resolved_at: get::<Option<DateTime<Utc>>>(row, "resolved_at")?,
    })
}

pub(crate) fn resolution(row: &SqliteRow) -> Result<Resolution, StoreError> {
    Ok(Resolution {
        id: uuid(row, "id")?,
        handoff_id: HandoffId(uuid(row, "handoff_id")?),
        ticket_id: TicketId(uuid(row, "ticket_id")?),
        agent: get(row, "agent")?,
        question: get(row, "question")?,
        reply: get(row, "reply")?,
        reusable: get(row, "reusable")?,
        intent: get(row, "intent")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn article(row: &SqliteRow) -> Result<Article, StoreError> {
    let stage: Option<String> = get(row, "stage")?;
    let status: String = get(row, "status")?;
    Ok(Article {
        id: get(row, "id")?,
        title: get(row, "title")?,
        intents: json(row, "intents")?,
        questions: json(row, "questions")?,
        tags: json(row, "tags")?,
        stage: stage
            .map(|s| serde_json::from_value(serde_json::Value::String(s)).map_err(|e| corrupt("stage", e)))
            .transpose()?,
        status: serde_json::from_value(serde_json::Value::String(status))
            .map_err(|e| corrupt("status", e))?,
        body: get(row, "body")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) fn point(row: &SqliteRow) -> Result<Point, StoreError> {
    Ok(Point {
        id: get(row, "id")?,
        source: parsed(row, "source", Source::parse)?,
        ref_id: get(row, "ref_id")?,
        kind: parsed(row, "kind", PointKind::parse)?,
        status: parsed(row, "status", PointStatus::parse)?,
        intent: get(row, "intent")?,
        text: get(row, "text")?,
        vector: vector_from_blob(get(row, "vector")?)?,
    })
}

pub(crate) fn vector_from_blob(blob: Vec<u8>) -> Result<Vec<f32>, StoreError> {
    if !blob.len().is_multiple_of(4) {
        return Err(corrupt("vector", format!("{} bytes is not a whole number of f32s", blob.len())));
    }
    Ok(blob.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

pub(crate) fn vector_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The snake_case name serde gives a unit enum variant.
pub(crate) fn enum_str<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value).map_err(|e| corrupt("enum", e))? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(corrupt("enum", other)),
    }
}
