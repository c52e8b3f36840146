//! The answer-or-handoff policy: a pure function of the evidence. When in doubt, hand off.
//!
//! Kindly answers only when every check passes: nothing sensitive, no customer context that calls
//! for a person, a confident intent, approved knowledge above the threshold that agrees with the
//! intent and is not ambiguous. Otherwise every reason that applies is recorded, with its numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decision::{Decision, Evidence, HandoffReason, Outcome, Priority, Reason};
use crate::knowledge::{KnowledgeHit, PointStatus};
use crate::ticket::TicketId;

/// The thresholds the policy compares evidence with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicySettings {
    /// Minimum intent confidence to answer.
    pub min_intent_confidence: f32,
    /// Minimum cosine similarity between the ticket and approved knowledge to answer.
    pub min_knowledge_score: f32,
    /// Minimum lead of the best knowledge over the best knowledge for a different intent.
    pub min_margin: f32,
    /// Earlier tickets within the repeat-contact window that make this one a repeat contact.
    pub repeat_contact_count: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            min_intent_confidence: 0.5,
            min_knowledge_score: 0.6,
            min_margin: 0.03,
            repeat_contact_count: 2,
        }
    }
}

/// Decides a ticket's fate from its evidence. Pure: same evidence, same decision.
pub fn decide(
    ticket_id: TicketId,
    mut evidence: Evidence,
    settings: &PolicySettings,
    now: DateTime<Utc>,
) -> Decision {
    evidence.intent_threshold = settings.min_intent_confidence;
    evidence.knowledge_threshold = settings.min_knowledge_score;
    evidence.margin_threshold = settings.min_margin;
    let mut reasons = Vec::new();

    sensitive_reasons(&evidence, &mut reasons);
    context_reasons(&evidence, settings, &mut reasons);
    intent_reasons(&evidence, settings, &mut reasons);
    let best = knowledge_reasons(&evidence, settings, &mut reasons);

    let (outcome, rule, summary) = match (reasons.is_empty(), best) {
        (true, Some(best)) => {
            let summary = answer_summary(&evidence, best, settings);
            (
                Outcome::Answer { knowledge: best.reference.clone() },
                "answer.all_checks_passed".to_owned(),
                summary,
            )
        }
        _ => {
            let priority = Priority::for_reasons(&reasons);
            let rule = format!("handoff.{}", rule_family(reasons.first().map(|r| r.code)));
            let details: Vec<&str> = reasons.iter().map(|r| r.detail.as_str()).collect();
            (Outcome::Handoff { priority }, rule, format!("handed off: {}", details.join("; ")))
        }
    };
    Decision { ticket_id, outcome, rule, reasons, summary, evidence, decided_at: now }
}

fn sensitive_reasons(evidence: &Evidence, reasons: &mut Vec<Reason>) {
    for s in evidence.sensitivity.iter().filter(|s| s.flagged()) {
        push(
            reasons,
            s.category.reason(),
            format!(
                "{} {:.2} ≥ {:.2} (like \"{}\")",
                s.category.reason().code(),
                s.score,
                s.threshold,
                s.exemplar
            ),
        );
    }
}

fn context_reasons(evidence: &Evidence, settings: &PolicySettings, reasons: &mut Vec<Reason>) {
    if evidence.recent_contacts >= settings.repeat_contact_count {
        push(
            reasons,
            HandoffReason::RepeatContact,
            format!(
                "repeat_contact: {} earlier tickets in the window ≥ {}",
                evidence.recent_contacts, settings.repeat_contact_count
            ),
        );
    }
    if evidence.open_handoffs > 0 {
        push(
            reasons,
            HandoffReason::OpenHandoff,
            format!(
                "open_handoff: the customer already has {} ticket(s) with a person",
                evidence.open_handoffs
            ),
        );
    }
}

fn intent_reasons(evidence: &Evidence, settings: &PolicySettings, reasons: &mut Vec<Reason>) {
    match &evidence.intent {
        None => push(
            reasons,
            HandoffReason::LowIntentConfidence,
            "low_intent_confidence: no intent recognised".into(),
        ),
        Some(i) if i.confidence < settings.min_intent_confidence => push(
            reasons,
            HandoffReason::LowIntentConfidence,
            format!(
                "low_intent_confidence: intent {} {:.2} < {:.2}",
                i.intent, i.confidence, settings.min_intent_confidence
            ),
        ),
        Some(_) => {}
    }
}

/// Checks the approved knowledge; returns the best approved hit when it is good enough to use.
fn knowledge_reasons<'a>(
    evidence: &'a Evidence,
    settings: &PolicySettings,
    reasons: &mut Vec<Reason>,
) -> Option<&'a KnowledgeHit> {
    let mut approved = evidence.knowledge.iter().filter(|k| k.status == PointStatus::Approved);
    let Some(best) = approved.next() else {
        push(
            reasons,
            HandoffReason::NoKnowledgeMatch,
            "no_knowledge_match: no approved knowledge found".into(),
        );
        return None;
    };
    if best.score < settings.min_knowledge_score {
        push(
            reasons,
            HandoffReason::NoKnowledgeMatch,
            format!(
                "no_knowledge_match: best {} {:.2} < {:.2}",
                best.reference, best.score, settings.min_knowledge_score
            ),
        );
        return None;
    }
    if let Some(intent) = &evidence.intent
        && !best.intents.is_empty()
        && !best.intents.contains(&intent.intent)
    {
        push(
            reasons,
            HandoffReason::KnowledgeIntentMismatch,
            format!(
                "knowledge_intent_mismatch: {} is about {}, the ticket looks like {}",
                best.reference,
                best.intents.join(", "),
                intent.intent
            ),
        );
    }
    let rival = approved.find(|k| k.intents.iter().all(|i| !best.intents.contains(i)));
    if let Some(rival) = rival
        && best.score - rival.score < settings.min_margin
    {
        push(
            reasons,
            HandoffReason::AmbiguousKnowledge,
            format!(
                "ambiguous_knowledge: {} {:.2} vs {} {:.2}, margin {:.2} < {:.2}",
                best.reference,
                best.score,
                rival.reference,
                rival.score,
                best.score - rival.score,
                settings.min_margin
            ),
        );
    }
    Some(best)
}

fn push(reasons: &mut Vec<Reason>, code: HandoffReason, detail: String) {
    if !reasons.iter().any(|r| r.code == code) {
        reasons.push(Reason { code, detail });
    }
}

fn rule_family(first: Option<HandoffReason>) -> &'static str {
    use HandoffReason::*;
    match first {
        Some(
            SafetyOrInjury | LegalThreat | Bereavement | Vulnerability | AngerOrFrustration | HumanRequested
            | ChurnRisk,
        ) => "sensitive",
        Some(RepeatContact | OpenHandoff | CustomerFollowUp) => "customer_context",
        Some(LowIntentConfidence) => "intent",
        Some(NoKnowledgeMatch | AmbiguousKnowledge | KnowledgeIntentMismatch) => "knowledge",
        Some(PipelineFailure) | None => "pipeline_failure",
    }
}

fn answer_summary(evidence: &Evidence, best: &KnowledgeHit, settings: &PolicySettings) -> String {
    let intent = evidence
        .intent
        .as_ref()
        .map(|i| format!("intent {} {:.2} ≥ {:.2}; ", i.intent, i.confidence, settings.min_intent_confidence))
        .unwrap_or_default();
    format!(
        "answered: {intent}best {} {:.2} ≥ {:.2}; no sensitivity flags",
        best.reference, best.score, settings.min_knowledge_score
    )
}

/// The decision recorded when the pipeline itself fails: always a person, never silence.
pub fn pipeline_failure(ticket_id: TicketId, step: &str, error: &str, now: DateTime<Utc>) -> Decision {
    let reasons = vec![Reason {
        code: HandoffReason::PipelineFailure,
        detail: format!("pipeline_failure: the {step} step failed ({error})"),
    }];
    Decision {
        ticket_id,
        outcome: Outcome::Handoff { priority: Priority::for_reasons(&reasons) },
        rule: "handoff.pipeline_failure".into(),
        summary: format!("handed off: {}", reasons[0].detail),
        reasons,
        evidence: Evidence::default(),
        decided_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::IntentScore;
    use crate::knowledge::{KnowledgeRef, Source};
    use crate::sensitivity::{SensitiveCategory, SensitivitySignal};

    fn hit(id: &str, intent: &str, score: f32, status: PointStatus) -> KnowledgeHit {
        KnowledgeHit {
            reference: KnowledgeRef { source: Source::Article, id: id.into() },
            title: id.into(),
            score,
            status,
            intents: vec![intent.into()],
            matched: String::new(),
            answer: String::new(),
            link: None,
        }
    }

    fn routine() -> Evidence {
        Evidence {
            intent: Some(IntentScore { intent: "track_order".into(), confidence: 0.9 }),
            knowledge: vec![
                hit("kb-1", "track_order", 0.82, PointStatus::Approved),
                hit("kb-2", "refund", 0.5, PointStatus::Approved),
            ],
            ..Evidence::default()
        }
    }

    fn signal(category: SensitiveCategory, score: f32) -> SensitivitySignal {
        SensitivitySignal { category, score, threshold: 0.6, exemplar: "x".into() }
    }

    fn codes(d: &Decision) -> Vec<HandoffReason> {
        d.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn table_of_cases() {
        use HandoffReason::*;
        type Case = (&'static str, fn(&mut Evidence), Vec<HandoffReason>);
        let cases: Vec<Case> = vec![
            ("routine question is answered", |_| {}, vec![]),
            (
                "bereavement beats a perfect match",
                |e| e.sensitivity.push(signal(SensitiveCategory::Bereavement, 0.8)),
                vec![Bereavement],
            ),
            (
                "an unflagged signal changes nothing",
                |e| e.sensitivity.push(signal(SensitiveCategory::LegalThreat, 0.3)),
                vec![],
            ),
            ("repeat contact", |e| e.recent_contacts = 2, vec![RepeatContact]),
            (
                "repeat contact named and counted is reported once",
                |e| {
                    e.recent_contacts = 3;
                    e.sensitivity.push(signal(SensitiveCategory::RepeatedContact, 0.9));
                },
                vec![RepeatContact],
            ),
            ("open handoff", |e| e.open_handoffs = 1, vec![OpenHandoff]),
            ("low confidence", |e| e.intent.as_mut().unwrap().confidence = 0.2, vec![LowIntentConfidence]),
            ("no intent", |e| e.intent = None, vec![LowIntentConfidence]),
            ("weak knowledge", |e| e.knowledge[0].score = 0.4, vec![NoKnowledgeMatch]),
            ("no knowledge", |e| e.knowledge.clear(), vec![NoKnowledgeMatch]),
            (
                "only a candidate matches",
                |e| e.knowledge[0].status = PointStatus::Candidate,
                vec![NoKnowledgeMatch],
            ),
            (
                "knowledge about another intent",
                |e| e.knowledge[0].intents = vec!["refund".into()],
                vec![KnowledgeIntentMismatch],
            ),
            ("two different answers too close", |e| e.knowledge[1].score = 0.81, vec![AmbiguousKnowledge]),
            (
                "close hits for the same intent are fine",
                |e| {
                    e.knowledge[1].score = 0.81;
                    e.knowledge[1].intents = vec!["track_order".into()];
                },
                vec![],
            ),
            (
                "every reason is reported",
                |e| {
                    e.sensitivity.push(signal(SensitiveCategory::SafetyOrInjury, 0.7));
                    e.intent = None;
                    e.open_handoffs = 2;
                },
                vec![SafetyOrInjury, OpenHandoff, LowIntentConfidence],
            ),
        ];
        let settings = PolicySettings::default();
        for (name, tweak, expected) in cases {
            let mut evidence = routine();
            tweak(&mut evidence);
            let d = decide(TicketId::new(), evidence, &settings, Utc::now());
            assert_eq!(codes(&d), expected, "case: {name}");
            assert_eq!(d.is_answer(), expected.is_empty(), "case: {name}");
        }
    }

    #[test]
    fn answer_explains_the_numbers() {
        let d = decide(TicketId::new(), routine(), &PolicySettings::default(), Utc::now());
        assert_eq!(d.rule, "answer.all_checks_passed");
        assert_eq!(
            d.summary,
            "answered: intent track_order 0.90 ≥ 0.50; best article kb-1 0.82 ≥ 0.60; no sensitivity flags"
        );
    }

    #[test]
    fn handoff_priority_follows_the_most_pressing_reason() {
        let mut e = routine();
        e.intent = None;
        e.sensitivity.push(signal(SensitiveCategory::SafetyOrInjury, 0.9));
        let d = decide(TicketId::new(), e, &PolicySettings::default(), Utc::now());
        assert_eq!(d.outcome, Outcome::Handoff { priority: Priority::Urgent });
        assert_eq!(d.rule, "handoff.sensitive");
    }

    #[test]
    fn pipeline_failure_hands_off() {
        let d = pipeline_failure(TicketId::new(), "embed", "model worker stopped", Utc::now());
        assert_eq!(codes(&d), vec![HandoffReason::PipelineFailure]);
        assert!(!d.is_answer());
    }
}
