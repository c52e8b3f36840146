//! The outbox worker: delivers the actions Kindly owes helpdesks (stored by the store's triggers
//! in the transaction of the decision they announce), with exponential backoff and jitter, an
//! idempotency key per action, and dead letters after the last attempt.
//!
//! Why render at delivery time: an action row names the message or handoff it carries, and the
//! records are immutable once written, so every attempt sends the same content without copying
//! customer text into a second table.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use kindly_core::integration::{ActionKind, ActionState, IntegrationStore, OutboxAction};
use kindly_core::{Handoff, HandoffId, Priority, QueueStore, TicketStore};
use kindly_pipeline::Pipeline;
use kindly_store::SqliteStore;
use minijinja::{Environment, context};
use tokio::sync::watch;

use crate::integrations::client::{CallError, HelpdeskClient};
use crate::integrations::{self, ActionContent, IntegrationSettings};
use crate::settings::Settings;

/// The templates the outbox renders, read at start-up from the prompts folder.
pub const TEMPLATES: [&str; 2] = ["handoff_note.md.j2", "handoff_ack.md.j2"];

pub struct Outbox {
    store: Arc<SqliteStore>,
    settings: IntegrationSettings,
    client: HelpdeskClient,
    templates: Environment<'static>,
    brand: String,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    pub fn new(settings: &Settings, store: Arc<SqliteStore>) -> anyhow::Result<Self> {
        let mut templates = Environment::new();
        templates.set_trim_blocks(true);
        templates.set_lstrip_blocks(true);
        for name in TEMPLATES {
            let path = settings.knowledge.prompts.join(name);
            let source = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("reading the template {}: {e}", path.display()))?;
            templates
                .add_template_owned(name, source)
                .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
        }
        let integrations = settings.integrations.clone();
        Ok(Self {
            store,
            client: HelpdeskClient::new(Duration::from_millis(integrations.outbox.request_timeout_ms)),
            settings: integrations,
            templates,
            brand: settings.pipeline.brand.clone(),
        })
    }

    /// Runs until `shutdown` flips to true. Also finishes customer replies a crash left pending.
    pub async fn run(self: Arc<Self>, pipeline: Pipeline, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.outbox.poll_interval_ms);
        loop {
            if *shutdown.borrow() {
                break;
            }
            crate::integrations::replies::sweep(&pipeline, &self.store).await;
            let due = match self.store.due_actions(Utc::now(), 64).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox; retrying");
                    Vec::new()
                }
            };
            if due.is_empty() {
                self.record_gauges().await;
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            futures::stream::iter(due)
                .for_each_concurrent(self.settings.outbox.concurrency, |a| self.attempt(a))
                .await;
        }
    }

    async fn record_gauges(&self) {
        if let Ok(counts) = self.store.outbox_counts().await {
            for state in [ActionState::Pending, ActionState::Delivered, ActionState::Dead] {
                let n = counts.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
                metrics::gauge!("kindly_outbox_actions", "state" => state.as_str()).set(n as f64);
            }
        }
    }

    /// One attempt at one action, and its bookkeeping.
    async fn attempt(&self, action: OutboxAction) {
        let provider =
            self.settings.connections.get(&action.connection).map_or("unknown", |c| c.provider.as_str());
        let span = tracing::info_span!("outbox", action = action.id, kind = action.kind.as_str(), provider);
        let _ = tracing::Instrument::instrument(
            async {
                let now = Utc::now();
                let outcome = self.deliver(&action).await;
                let stored = match &outcome {
                    Ok(()) => {
                        metrics::counter!("kindly_outbox_delivered_total", "provider" => provider, "kind" => action.kind.as_str())
                            .increment(1);
                        self.store.action_delivered(action.id, now).await
                    }
                    Err(e) => {
                        let attempts = action.attempts + 1;
                        let last = matches!(e, CallError::Permanent(_)) || attempts >= self.settings.outbox.max_attempts;
                        let retry_at = (!last).then(|| now + self.delay(attempts));
                        metrics::counter!("kindly_outbox_failed_attempts_total", "provider" => provider).increment(1);
                        if last {
                            metrics::counter!("kindly_outbox_dead_total", "provider" => provider).increment(1);
                            tracing::warn!(attempts, error = %e, "outbox action is dead; retry it with POST /v1/outbox/{{id}}/retry");
                        } else {
                            tracing::info!(attempts, error = %e, "outbox action failed; will retry");
                        }
                        self.store.action_failed(action.id, &e.to_string(), retry_at).await
                    }
                };
                if let Err(e) = stored {
                    // The action stays pending and is sent again; its idempotency key makes the
                    // repeat harmless to a helpdesk that honours it.
                    tracing::error!(error = %e, "could not record the outbox attempt");
                }
            },
            span,
        )
        .await;
    }

    fn delay(&self, attempts: u32) -> chrono::Duration {
        let d = self.settings.outbox.backoff().delay(attempts, rand::random::<f64>());
        chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
    }

    async fn deliver(&self, action: &OutboxAction) -> Result<(), CallError> {
        let connection = self.settings.connections.get(&action.connection).ok_or_else(|| {
            CallError::Transient(format!("connection {} is not configured", action.connection))
        })?;
        let content = self.render(action, connection).await?;
        let calls = integrations::requests(connection, &action.remote_id, &content);
        for (part, call) in calls.iter().enumerate() {
            self.client.send(connection, action.kind, &action.idempotency_key, part, call).await?;
        }
        Ok(())
    }

    /// The action's content, from the records it names.
    async fn render(
        &self,
        action: &OutboxAction,
        connection: &integrations::ConnectionSettings,
    ) -> Result<ActionContent, CallError> {
        let store_err =
            |e: kindly_core::StoreError| CallError::Transient(format!("reading the records: {e}"));
        if action.kind == ActionKind::Reply {
            let id: i64 =
                action.source_id.parse().map_err(|_| CallError::Permanent("bad message id".into()))?;
            let messages = self.store.messages(action.ticket_id).await.map_err(store_err)?;
            let message = messages
                .into_iter()
                .find(|m| m.id == id)
                .ok_or_else(|| CallError::Permanent(format!("message {id} does not exist")))?;
            return Ok(ActionContent::Public { body: message.body });
        }
        let handoff_id = action
            .source_id
            .parse()
            .map(HandoffId)
            .map_err(|_| CallError::Permanent("bad handoff id".into()))?;
        let handoff = self
            .store
            .handoff(handoff_id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| CallError::Permanent(format!("handoff {handoff_id} does not exist")))?;
        let template_err = |e: minijinja::Error| CallError::Transient(format!("rendering a template: {e}"));
        match action.kind {
            ActionKind::Note => {
                let body = self
                    .templates
                    .get_template("handoff_note.md.j2")
                    .and_then(|t| {
                        t.render(context! { handoff => &handoff, ticket_id => action.ticket_id, brand => &self.brand })
                    })
                    .map_err(template_err)?;
                Ok(ActionContent::Internal { body: body.trim().to_owned() })
            }
            ActionKind::Update => {
                let mut tags = connection.handoff_tags.clone();
                tags.extend(handoff.reasons.iter().map(|r| format!("kindly_{}", r.code.code())));
                Ok(ActionContent::Update {
                    tags,
                    priority: handoff.priority,
                    group: connection.handoff_group.clone(),
                })
            }
            ActionKind::Acknowledge => {
                let ticket = self.store.ticket(action.ticket_id).await.map_err(store_err)?;
                let first_name = ticket
                    .as_ref()
                    .and_then(|t| t.customer.name.as_deref())
                    .and_then(|n| n.split_whitespace().next())
                    .map(str::to_owned);
                let body = self
                    .templates
                    .get_template("handoff_ack.md.j2")
                    .and_then(|t| {
                        t.render(context! {
                            customer_name => first_name,
                            team => &connection.team_name,
                            agent => &handoff.agent,
                            due => due(&handoff),
                            within => within(handoff.sla_due_at - handoff.created_at),
                            urgent => matches!(handoff.priority, Priority::Urgent | Priority::High),
                            brand => &self.brand,
                        })
                    })
                    .map_err(template_err)?;
                Ok(ActionContent::Public { body: body.trim().to_owned() })
            }
            ActionKind::Reply => unreachable!("handled above"),
        }
    }
}

fn due(handoff: &Handoff) -> String {
    let at: DateTime<Utc> = handoff.sla_due_at;
    at.format("%A %-d %B, %H:%M UTC").to_string()
}

/// A customer-friendly length of time.
fn within(span: chrono::Duration) -> String {
    let minutes = span.num_minutes().max(1);
    let (n, unit) = match minutes {
        m if m < 120 => (m, "minute"),
        m if m < 48 * 60 => ((m + 30) / 60, "hour"),
        m => ((m + 720) / 1440, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn sla_spans_read_naturally() {
        assert_eq!(within(chrono::Duration::minutes(60)), "60 minutes");
        assert_eq!(within(chrono::Duration::minutes(240)), "4 hours");
        assert_eq!(within(chrono::Duration::minutes(1440)), "24 hours");
        assert_eq!(within(chrono::Duration::minutes(4320)), "3 days");
    }
}
