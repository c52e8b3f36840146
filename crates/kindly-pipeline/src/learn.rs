//! learn: a person's resolution becomes knowledge. A reusable one is embedded and indexed as
//! approved, so the next customer with the same problem is answered at once; the others are
//! indexed as candidates, shown to agents as similar cases and never sent automatically.

use chrono::Utc;
use kindly_core::{HandoffId, NewResolution, Point, PointKind, PointStatus, Resolution, Source, ticket};

use crate::{Pipeline, PipelineError};

impl Pipeline {
    /// Stores a resolution and feeds it back into the index. If indexing fails after the
    /// resolution is stored, the resolution is kept, and [`Pipeline::reconcile`] indexes it
    /// later (the worker retries every `worker.retry_indexing_secs`, and every start-up does).
    pub async fn resolve(
        &self,
        handoff_id: HandoffId,
        agent: &str,
        reply: &str,
        reusable: bool,
        intent: Option<&str>,
    ) -> Result<Resolution, PipelineError> {
        let resolution = NewResolution {
            handoff_id,
            agent: ticket::required_id("agent", agent)?,
            reply: ticket::required_text("reply", reply)?,
            reusable,
            intent: intent.map(|i| ticket::required_id("intent", i)).transpose()?,
            resolved_at: Utc::now(),
        };
        let stored = self.store.resolve(&resolution).await?;
        metrics::counter!("kindly_resolutions_total", "reusable" => if reusable { "true" } else { "false" })
            .increment(1);
        self.learn_or_retry_later(&stored).await;
        Ok(stored)
    }

    /// [`Pipeline::learn`] for a resolution already stored (resolved, or approved in review):
    /// a failure is logged, and [`Pipeline::reconcile`] indexes it later, so the person's work
    /// is never reported as lost.
    pub async fn learn_or_retry_later(&self, r: &Resolution) {
        if let Err(e) = self.learn(r).await {
            tracing::error!(resolution = %r.id, error = %e, "resolution stored but not yet indexed; it will be retried");
        }
    }

    /// Embeds the customer's question and the reply, and upserts them under the resolution's
    /// stable point ids (so learning twice changes nothing).
    async fn learn(&self, r: &Resolution) -> Result<(), PipelineError> {
        let _indexing = self.indexing.lock().await;
        self.index_resolution(r).await
    }

    async fn index_resolution(&self, r: &Resolution) -> Result<(), PipelineError> {
        let status = if r.reusable { PointStatus::Approved } else { PointStatus::Candidate };
        let texts = vec![r.question.clone(), r.reply.clone()];
        let vectors = self.embedder.embed(texts.clone()).await?;
        let ref_id = r.id.to_string();
        let points = texts
            .into_iter()
            .zip(vectors)
            .zip([PointKind::Question, PointKind::Chunk])
            .map(|((text, vector), kind)| Point {
                id: Point::stable_id(Source::Resolution, &ref_id, kind, 0),
                source: Source::Resolution,
                ref_id: ref_id.clone(),
                kind,
                status,
                // Only the question is a labelled example of the intent; the reply is not.
                intent: (kind == PointKind::Question).then(|| r.label()),
                text,
                vector,
            })
            .collect();
        self.index.replace(Source::Resolution, &ref_id, points).await?;
        self.store.mark_resolution_indexed(r.id).await?;
        if r.reusable {
            self.intent.labels_changed(); // a new labelled example for the intent model
        }
        Ok(())
    }

    /// Finishes indexing that a crash or a failure interrupted: articles whose content changed
    /// since they were indexed, and resolutions stored but not yet indexed. Returns how many of
    /// each it indexed.
    pub async fn reconcile(&self) -> Result<(usize, usize), PipelineError> {
        let articles = self.knowledge().reindex_pending().await?;
        let _indexing = self.indexing.lock().await;
        let pending = self.store.unindexed_resolutions().await?;
        for r in &pending {
            self.index_resolution(r).await?;
        }
        Ok((articles, pending.len()))
    }

    /// Catches up with what another process wrote to the same store (`kindly kb ingest` or
    /// `kindly labels import` beside `kindly serve`): the index reads the records whose points changed, and
    /// the newest stored intent model serves, retrained in the background if it is older than the
    /// labels. Returns whether there was anything to catch up with. When nothing changed it costs
    /// two one-row reads.
    pub async fn catch_up(&self) -> Result<bool, PipelineError> {
        let reloaded = self.index.refresh().await?;
        let newer_model =
            self.store.latest_intent_model_version().await? > Some(self.intent.current().version());
        if !reloaded && !newer_model {
            return Ok(false);
        }
        if self.load_intent_model_checked().await? {
            self.intent.labels_changed();
        }
        Ok(true)
    }
}
