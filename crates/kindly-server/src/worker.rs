//! The durable triage worker. Intake persists a ticket, then nudges the worker; the worker also
//! polls, so tickets accepted before a crash or restart are processed when it comes back.
//!
//! Why poll as well as notify: the store, not the in-memory nudge, is the queue. A nudge lost to
//! a crash costs at most one poll interval, never a ticket.
//!
//! The worker also retries, every `retry_indexing_secs`, indexing that failed after its record
//! was stored (an article saved, a resolution written), so knowledge a person gave becomes
//! searchable without waiting for a restart; and before each batch it catches up with knowledge
//! another process wrote (`kindly kb ingest` beside the server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kindly_pipeline::Pipeline;
use tokio::sync::{Notify, watch};

use crate::settings::WorkerSettings;

/// Runs until `shutdown` flips to true; finishes the tickets in hand first.
pub async fn run(
    pipeline: Pipeline,
    nudge: Arc<Notify>,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(settings.poll_interval_ms);
    let batch = (settings.concurrency * 8) as u32;
    let retry_indexing = Duration::from_secs(settings.retry_indexing_secs);
    let mut indexing_retried = Instant::now();
    tracing::info!(concurrency = settings.concurrency, "triage worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        if indexing_retried.elapsed() >= retry_indexing {
            indexing_retried = Instant::now();
            match pipeline.reconcile().await {
                Ok((0, 0)) => {}
                Ok((articles, resolutions)) => {
                    tracing::info!(articles, resolutions, "indexed records whose indexing had failed");
                    metrics::counter!("kindly_indexing_retries_total", "outcome" => "indexed")
                        .increment((articles + resolutions) as u64);
                }
                Err(e) => {
                    tracing::error!(error = %e, "retrying failed indexing failed again; will retry");
                    metrics::counter!("kindly_indexing_retries_total", "outcome" => "failed").increment(1);
                }
            }
        }
        // One small read when nothing changed; tickets are triaged against the latest knowledge.
        if let Err(e) = pipeline.catch_up().await {
            tracing::error!(error = %e, "cannot catch up with another process's knowledge; retrying");
        }
        let pending = match pipeline.store().pending_tickets(batch).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the ticket backlog; retrying");
                Vec::new()
            }
        };
        if pending.is_empty() {
            tokio::select! {
                _ = nudge.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let failures = futures::stream::iter(pending)
            .map(|id| {
                let pipeline = pipeline.clone();
                async move {
                    let span = tracing::info_span!("ticket", ticket = %id);
                    match tracing::Instrument::instrument(pipeline.process(id), span).await {
                        Ok(_) => 0,
                        Err(e) => {
                            // Only the store failing gets here (every other failure hands off);
                            // the ticket stays `received` and is retried after a pause.
                            tracing::error!(ticket = %id, error = %e, "could not record triage");
                            1
                        }
                    }
                }
            })
            .buffer_unordered(settings.concurrency)
            .fold(0, |n, f| async move { n + f })
            .await;
        if failures > 0 {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!("triage worker stopped");
}
