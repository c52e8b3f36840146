//! Customers' replies from webhooks go through the same follow-up path as
//! `POST /v1/tickets/{id}/messages`. The delivery is stored first (state `pending`), then applied;
//! one a crash or a conflicting change interrupted is applied again by [`sweep`].

use std::time::Duration;

use chrono::Utc;
use kindly_core::integration::IntegrationStore;
use kindly_core::{ErrorKind, TicketId};
use kindly_pipeline::{FollowUp, Pipeline, PipelineError};
use kindly_store::SqliteStore;

/// How long a pending reply is left to the request that stored it before the sweep takes it.
const GRACE: Duration = Duration::from_secs(30);

/// Adds the reply to its ticket, then marks the delivery applied.
pub async fn apply(
    pipeline: &Pipeline,
    store: &SqliteStore,
    connection: &str,
    delivery_key: &str,
    ticket: TicketId,
    body: &str,
) -> Result<FollowUp, PipelineError> {
    let done = pipeline.follow_up(ticket, body).await?;
    store.mark_reply_applied(connection, delivery_key).await?;
    Ok(done)
}

/// Applies replies stored more than [`GRACE`] ago and still pending.
pub async fn sweep(pipeline: &Pipeline, store: &SqliteStore) {
    let before = Utc::now() - chrono::Duration::from_std(GRACE).unwrap_or_default();
    let pending = match store.pending_replies(before, 32).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot read pending webhook replies");
            return;
        }
    };
    for r in pending {
        match apply(pipeline, store, &r.connection, &r.delivery_key, r.ticket_id, &r.body).await {
            Ok(_) => tracing::info!(ticket = %r.ticket_id, "applied a customer reply left pending"),
            Err(e) if matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::NotFound) => {
                // Retrying cannot help; keep the sweep from trying it forever.
                tracing::warn!(ticket = %r.ticket_id, error = %e, "dropped a customer reply that cannot be applied");
                if let Err(e) = store.mark_reply_applied(&r.connection, &r.delivery_key).await {
                    tracing::error!(error = %e, "could not drop the reply");
                }
            }
            Err(e) => {
                tracing::warn!(ticket = %r.ticket_id, error = %e, "a pending customer reply failed again")
            }
        }
    }
}
