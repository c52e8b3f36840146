//! `Pipeline::process`: the flow of one ticket, top to bottom.

use std::time::Instant;

use chrono::{Duration, Utc};
use kindly_core::ports::TriageRecord;
use kindly_core::queue::HandoffContext;
use kindly_core::{
    Author, Complexity, Decision, Evidence, Handoff, HandoffId, HandoffStatus, IntentScore, KnowledgeHit,
    LifecycleStage, NewMessage, Outcome, SearchFilter, Source, Ticket, TicketId, TicketStatus, policy,
};
use tracing::{Instrument, info_span};

use crate::classify::{Classification, TicketVectors, clauses, sentences};
use crate::{Pipeline, PipelineError};

/// The customer's situation, as far as the records tell.
struct CustomerContext {
    recent_contacts: u32,
    open_handoffs: u32,
    flagged: bool,
}

/// A step that failed, named for the `pipeline_failure` reason.
struct StepFailure {
    step: &'static str,
    error: PipelineError,
}

trait Step<T> {
    fn in_step(self, step: &'static str) -> Result<T, StepFailure>;
}

impl<T, E: Into<PipelineError>> Step<T> for Result<T, E> {
    fn in_step(self, step: &'static str) -> Result<T, StepFailure> {
        self.map_err(|e| StepFailure { step, error: e.into() })
    }
}

impl Pipeline {
    /// Triages one stored ticket: it ends answered or handed off, exactly once. Processing a
    /// ticket that was already decided returns the stored decision and changes nothing.
    pub async fn process(&self, id: TicketId) -> Result<Decision, PipelineError> {
        let ticket = self.ingest(id).await?;
        if ticket.status != TicketStatus::Received {
            return self.stored_decision(id).await;
        }
        let started = Instant::now();
        let (decision, vector) = match self.triage(&ticket).await {
            Ok((decision, vector)) => (decision, Some(vector)),
            Err(failure) => (self.pipeline_failure(&ticket, failure), None),
        };
        let decision = self.record(&ticket, decision, vector.as_deref()).await?;
        metrics::histogram!("kindly_triage_seconds").record(started.elapsed().as_secs_f64());
        Ok(decision)
    }

    /// Decides a ticket without recording anything (for `kindly triage` and evaluation): the
    /// same steps as [`Pipeline::process`], and the reply Kindly would send when it answers.
    pub async fn assess(&self, ticket: &Ticket) -> Result<(Decision, Option<String>), PipelineError> {
        let decision = match self.triage(ticket).await {
            Ok((decision, _)) => decision,
            Err(failure) => self.pipeline_failure(ticket, failure),
        };
        let reply = match decision.outcome {
            Outcome::Answer { .. } => self.answer(ticket, &decision)?.answer.map(|m| m.body),
            Outcome::Handoff { .. } => None,
        };
        Ok((decision, reply))
    }

    /// embed → classify → retrieve → decide → answer or hand off.
    async fn triage(&self, ticket: &Ticket) -> Result<(Decision, Vec<f32>), StepFailure> {
        let vectors = self.embed(ticket).await.in_step("embed")?;
        let classification = self.classify(&vectors).await.in_step("classify")?;
        let knowledge = self.retrieve(&ticket.text(), &vectors.whole).await.in_step("retrieve")?;
        let customer = self.customer_context(ticket).await.in_step("customer_context")?;
        Ok((self.decide(ticket, classification, knowledge, customer), vectors.whole))
    }

    /// Loads the ticket that intake persisted (validation and normalisation happened there).
    async fn ingest(&self, id: TicketId) -> Result<Ticket, PipelineError> {
        self.store.ticket(id).await?.ok_or_else(|| PipelineError::NotFound(format!("ticket {id}")))
    }

    /// The whole ticket's vector, one per clause (sensitivity hides in single clauses) and one
    /// per sentence (several questions), in one call; a text that is both is embedded once.
    async fn embed(&self, ticket: &Ticket) -> Result<TicketVectors, PipelineError> {
        let started = Instant::now();
        let text = ticket.text();
        let (clauses, sentences) = (clauses(&text), sentences(&text));
        let mut texts = vec![text.clone()];
        for part in clauses.iter().chain(&sentences) {
            if !texts.contains(part) {
                texts.push(part.clone());
            }
        }
        let vectors = self.embedder.embed(texts.clone()).instrument(info_span!("embed")).await?;
        step_seconds("embed", started);
        if vectors.len() != texts.len() {
            let error = format!("{} vectors returned for {} texts", vectors.len(), texts.len());
            return Err(PipelineError::Embed(kindly_core::EmbedError::Model(error)));
        }
        let vector_of = |part: &String| vectors[texts.iter().position(|t| t == part).unwrap_or(0)].clone();
        Ok(TicketVectors {
            whole: vectors[0].clone(),
            clauses: clauses.iter().map(vector_of).collect(),
            sentences: sentences.iter().map(|s| (s.clone(), vector_of(s))).collect(),
            text,
        })
    }

    async fn classify(&self, vectors: &TicketVectors) -> Result<Classification, PipelineError> {
        let started = Instant::now();
        let span = info_span!("classify", intent = tracing::field::Empty, confidence = tracing::field::Empty);
        let result = self.classify_vectors(vectors).instrument(span.clone()).await?;
        if let Some(i) = &result.intent {
            span.record("intent", i.intent.as_str()).record("confidence", i.confidence);
        }
        step_seconds("classify", started);
        Ok(result)
    }

    async fn retrieve(&self, text: &str, vector: &[f32]) -> Result<Vec<KnowledgeHit>, PipelineError> {
        let started = Instant::now();
        let hits = self
            .knowledge_hits(text, vector, SearchFilter::default(), self.settings.knowledge_hits)
            .instrument(info_span!("retrieve"))
            .await?;
        step_seconds("retrieve", started);
        Ok(hits)
    }

    async fn customer_context(&self, ticket: &Ticket) -> Result<CustomerContext, PipelineError> {
        let since = ticket.created_at - Duration::hours(self.settings.repeat_contact_window_hours);
        Ok(CustomerContext {
            recent_contacts: self.store.recent_contacts(&ticket.customer.id, ticket.id, since).await?,
            open_handoffs: self.store.open_handoffs(&ticket.customer.id).await?,
            flagged: ticket.customer.flagged.unwrap_or(false),
        })
    }

    /// The pure policy, fed with everything measured.
    fn decide(
        &self,
        ticket: &Ticket,
        c: Classification,
        knowledge: Vec<KnowledgeHit>,
        customer: CustomerContext,
    ) -> Decision {
        let intent = c.intent.as_ref();
        let stage = lifecycle_stage(intent.map(|i| i.intent.as_str()), &knowledge);
        let evidence = Evidence {
            intent: intent.map(|i| IntentScore {
                intent: i.intent.clone(),
                confidence: i.confidence,
                nearest_example: i.nearest_example,
            }),
            intent_threshold: intent.map_or(self.settings.policy.min_intent_confidence, |i| i.threshold),
            threshold_source: intent.map(|i| i.source),
            model_version: c.model_version,
            sensitivity: c.sensitivity,
            emotions: c.emotions,
            complexity: Complexity {
                words: ticket.text().split_whitespace().count() as u32,
                distinct_intents: c.distinct_intents,
            },
            knowledge,
            recent_contacts: customer.recent_contacts,
            open_handoffs: customer.open_handoffs,
            flagged_account: customer.flagged,
            stage,
            ..Evidence::default()
        };
        let decision = policy::decide(ticket.id, evidence, &self.settings.policy, Utc::now());
        let decision = if self.settings.shadow_mode { self.shadow(ticket, decision) } else { decision };
        tracing::info!(ticket = %ticket.id, rule = %decision.rule, "decided");
        decision
    }

    /// Shadow mode: a handoff that keeps what Kindly would have done, with the reply it would
    /// have sent rendered as a live answer would be.
    fn shadow(&self, ticket: &Ticket, decision: Decision) -> Decision {
        let reply = match decision.outcome {
            Outcome::Answer { .. } => match self.answer(ticket, &decision) {
                Ok(record) => record.answer.map(|m| m.body),
                Err(e) => {
                    tracing::warn!(ticket = %ticket.id, error = %e, "the would-be reply could not be rendered");
                    None
                }
            },
            Outcome::Handoff { .. } => None,
        };
        let mut shadowed = policy::shadow(decision);
        if let Some(s) = shadowed.evidence.shadow.as_mut() {
            s.reply = reply;
        }
        shadowed
    }

    fn pipeline_failure(&self, ticket: &Ticket, failure: StepFailure) -> Decision {
        tracing::error!(ticket = %ticket.id, step = failure.step, error = %failure.error, "pipeline step failed; handing off");
        policy::pipeline_failure(ticket.id, failure.step, &failure.error.to_string(), Utc::now())
    }

    /// Writes the decision with its answer or handoff, atomically and at most once.
    async fn record(
        &self,
        ticket: &Ticket,
        decision: Decision,
        vector: Option<&[f32]>,
    ) -> Result<Decision, PipelineError> {
        let record = match &decision.outcome {
            Outcome::Answer { .. } => self.answer(ticket, &decision)?,
            Outcome::Handoff { .. } => self.hand_off(ticket, &decision, vector).await,
        };
        if !self.store.record_triage(&record).await? {
            return self.stored_decision(ticket.id).await; // decided concurrently: keep the first
        }
        let outcome = if decision.is_answer() { "answer" } else { "handoff" };
        metrics::counter!("kindly_tickets_total", "decision" => outcome).increment(1);
        for reason in &decision.reasons {
            metrics::counter!("kindly_handoff_reasons_total", "reason" => reason.code.code()).increment(1);
        }
        Ok(decision)
    }

    /// answer: Kindly's reply, rendered from the answer template and the chosen knowledge.
    fn answer(&self, ticket: &Ticket, decision: &Decision) -> Result<TriageRecord, PipelineError> {
        let Outcome::Answer { knowledge } = &decision.outcome else { unreachable!("answer() on a handoff") };
        let hit = decision
            .evidence
            .knowledge
            .iter()
            .find(|k| &k.reference == knowledge)
            .ok_or_else(|| PipelineError::NotFound(format!("{knowledge} in the decision's evidence")))?;
        let body = self.prompts.answer(ticket, hit, &self.settings.brand)?;
        Ok(TriageRecord {
            intent: decision.evidence.intent.as_ref().map(|i| i.intent.clone()),
            answer: Some(NewMessage {
                ticket_id: ticket.id,
                author: Author::Kindly,
                author_name: None,
                body,
                created_at: decision.decided_at,
            }),
            handoff: None,
            decision: decision.clone(),
        })
    }

    /// hand off: a queue item with priority, SLA, reasons and the context packet. Context that
    /// cannot be gathered is left out rather than failing the handoff.
    async fn hand_off(&self, ticket: &Ticket, decision: &Decision, vector: Option<&[f32]>) -> TriageRecord {
        let handoff = self.handoff_item(ticket, decision, HandoffContext::default(), vector).await;
        TriageRecord {
            intent: handoff.intent.clone(),
            answer: None,
            handoff: Some(handoff),
            decision: decision.clone(),
        }
    }

    /// Builds a handoff for `decision`, gathering history, similar cases and a draft.
    pub(crate) async fn handoff_item(
        &self,
        ticket: &Ticket,
        decision: &Decision,
        mut context: HandoffContext,
        vector: Option<&[f32]>,
    ) -> Handoff {
        let Outcome::Handoff { priority } = decision.outcome else {
            unreachable!("handoff_item() on an answer")
        };
        if context.knowledge.is_empty() {
            context.knowledge = decision.evidence.knowledge.clone();
        }
        context.customer_history = self
            .store
            .customer_tickets(&ticket.customer.id, ticket.id, self.settings.history_limit)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "customer history unavailable for handoff");
                Vec::new()
            });
        if let Some(vector) = vector {
            context.similar_resolutions = self.similar_resolutions(&ticket.text(), vector).await;
        }
        context.draft = context
            .knowledge
            .first()
            .and_then(|best| self.prompts.draft(ticket, best, &self.settings.brand).ok());
        Handoff {
            id: HandoffId::new(),
            ticket_id: ticket.id,
            customer_id: ticket.customer.id.clone(),
            subject: ticket.subject.clone(),
            status: HandoffStatus::Open,
            priority,
            sla_due_at: self.settings.sla.due(priority, decision.decided_at),
            reasons: decision.reasons.clone(),
            intent: decision.evidence.intent.as_ref().map(|i| i.intent.clone()),
            context,
            agent: None,
            created_at: decision.decided_at,
            claimed_at: None,
            resolved_at: None,
        }
    }

    async fn similar_resolutions(&self, text: &str, vector: &[f32]) -> Vec<KnowledgeHit> {
        let filter = SearchFilter { source: Some(Source::Resolution), status: None };
        self.knowledge_hits(text, vector, filter, 3).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "similar resolutions unavailable for handoff");
            Vec::new()
        })
    }

    async fn stored_decision(&self, id: TicketId) -> Result<Decision, PipelineError> {
        self.store
            .decisions(id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| PipelineError::NotFound(format!("decision for ticket {id}")))
    }
}

/// The stage of the best knowledge about the predicted intent (or of the best knowledge).
fn lifecycle_stage(intent: Option<&str>, knowledge: &[KnowledgeHit]) -> Option<LifecycleStage> {
    let about_intent = knowledge
        .iter()
        .find(|k| k.stage.is_some() && intent.is_some_and(|i| k.intents.iter().any(|x| x == i)));
    about_intent.or_else(|| knowledge.iter().find(|k| k.stage.is_some())).and_then(|k| k.stage)
}

fn step_seconds(step: &'static str, started: Instant) {
    metrics::histogram!("kindly_step_seconds", "step" => step).record(started.elapsed().as_secs_f64());
}
