//! The answer-or-handoff policy: a pure function of the evidence. When in doubt, hand off.
//!
//! Kindly answers only when every check passes: nothing sensitive and no strong emotion, no
//! customer context that calls for a person (repeat contact, an open handoff, a flagged account),
//! an intent that is not human-only and reaches its calibrated threshold, a ticket that is not too
//! complex, and approved knowledge about the intent above the threshold that no other answer
//! clearly beats and that is not ambiguous. Otherwise every reason that applies is recorded, with
//! its numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calibration::ThresholdSource;
use crate::decision::{Decision, Evidence, HandoffReason, Outcome, Priority, Reason, ShadowDecision};
use crate::emotion::Emotion;
use crate::knowledge::{KnowledgeHit, PointStatus};
use crate::ticket::TicketId;

/// The thresholds the policy compares evidence with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// Minimum intent confidence to answer until the intent model has calibrated thresholds
    /// (and for intents with too few examples when there is too little data to calibrate).
    /// 0.6 was chosen on a replay stream drawn from BANKING77's training split
    /// (`scripts/banking77_validation_stream.py`): it answered the most in the last window while
    /// every later window stayed above 95% precision.
    pub min_intent_confidence: f32,
    /// Minimum cosine similarity between the ticket and the approved knowledge about its intent
    /// to answer. 0.5 was chosen on development splits (README, knowledge checks): the intent's
    /// confidence, which includes the nearest example's similarity, does most of the work.
    pub min_knowledge_score: f32,
    /// Minimum lead of the chosen knowledge over the best knowledge for a different answer;
    /// closer than this is ambiguous unless the intent settles it.
    pub min_margin: f32,
    /// How far knowledge for a different answer may score above the knowledge about the ticket's
    /// intent before retrieval and the intent model are said to disagree (a handoff, however
    /// confident the intent). Chosen on development splits (README, knowledge checks).
    pub max_rival_lead: f32,
    /// Whether an intent at or above its calibrated threshold that names the best knowledge's
    /// intent settles a rival within `min_margin` (otherwise closeness always hands off).
    pub intent_settles_close_knowledge: bool,
    /// Earlier tickets within the repeat-contact window that make this one a repeat contact.
    pub repeat_contact_count: u32,
    /// Intents that always go to a person, however confident.
    pub human_only_intents: Vec<String>,
    /// Tickets longer than this many words go to a person.
    pub max_words: u32,
    /// This many distinct intents recognised in separate sentences make a ticket complex.
    pub max_distinct_intents: usize,
    /// Strong negativity calls for a person only when a negative emotion (anger, sadness, fear,
    /// disappointment, disgust) also shows at this intensity or more: negativity alone is what
    /// most complaints are. Set with the committed emotion heads (README, emotion heads).
    pub negativity_support: f32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            min_intent_confidence: 0.6,
            min_knowledge_score: 0.5,
            min_margin: 0.03,
            max_rival_lead: 0.2,
            intent_settles_close_knowledge: true,
            repeat_contact_count: 2,
            human_only_intents: Vec::new(),
            max_words: 250,
            max_distinct_intents: 2,
            negativity_support: 0.6,
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
    evidence.knowledge_threshold = settings.min_knowledge_score;
    evidence.margin_threshold = settings.min_margin;
    evidence.rival_lead_threshold = settings.max_rival_lead;
    evidence.negativity_support = settings.negativity_support;
    let mut reasons = Vec::new();

    sensitive_reasons(&evidence, &mut reasons);
    emotion_reasons(&evidence, &mut reasons);
    context_reasons(&evidence, settings, &mut reasons);
    intent_reasons(&evidence, settings, &mut reasons);
    complexity_reasons(&evidence, settings, &mut reasons);
    let choice = knowledge_reasons(&evidence, settings, &mut reasons);

    let (outcome, rule, summary) = match (reasons.is_empty(), choice) {
        (true, Some(choice)) => {
            let summary = answer_summary(&evidence, &choice, settings);
            (
                Outcome::Answer { knowledge: choice.hit.reference.clone() },
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

/// Strong emotions from the trained heads. Anger joins the anger exemplars' reason; the others
/// are one `strong_emotion` reason. Each emotion that fires is named with its threshold.
fn emotion_reasons(evidence: &Evidence, reasons: &mut Vec<Reason>) {
    let support = evidence.negativity_support;
    let strong = crate::emotion::strong_signals(&evidence.emotions, support);
    for e in &strong {
        let code = if e.emotion == Emotion::Anger {
            HandoffReason::AngerOrFrustration
        } else {
            HandoffReason::StrongEmotion
        };
        let mut what = format!(
            "{} {:.2} ≥ {:.2} (emotion head)",
            e.emotion.as_str(),
            e.intensity,
            e.threshold.unwrap_or_default()
        );
        if e.emotion == Emotion::Negativity
            && let Some(s) = crate::emotion::negativity_support(&evidence.emotions, support)
        {
            what.push_str(&format!(", with {} {:.2} ≥ {support:.2}", s.emotion.as_str(), s.intensity));
        }
        match reasons.iter_mut().find(|r| r.code == code) {
            Some(r) => r.detail.push_str(&format!("; {what}")),
            None => reasons.push(Reason { code, detail: format!("{}: {what}", code.code()) }),
        }
    }
}

fn complexity_reasons(evidence: &Evidence, settings: &PolicySettings, reasons: &mut Vec<Reason>) {
    let c = &evidence.complexity;
    if c.distinct_intents.len() >= settings.max_distinct_intents {
        push(
            reasons,
            HandoffReason::MultipleQuestions,
            format!(
                "multiple_questions: {} distinct questions ({})",
                c.distinct_intents.len(),
                c.distinct_intents.join(", ")
            ),
        );
    }
    if c.words > settings.max_words {
        push(
            reasons,
            HandoffReason::LongText,
            format!("long_text: {} words > {}", c.words, settings.max_words),
        );
    }
}

fn context_reasons(evidence: &Evidence, settings: &PolicySettings, reasons: &mut Vec<Reason>) {
    if evidence.flagged_account {
        push(
            reasons,
            HandoffReason::FlaggedAccount,
            "flagged_account: the helpdesk flagged this account".into(),
        );
    }
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
    if let Some(i) = &evidence.intent
        && settings.human_only_intents.contains(&i.intent)
    {
        push(
            reasons,
            HandoffReason::HumanOnlyIntent,
            format!("human_only_intent: {} is always answered by a person", i.intent),
        );
    }
    let threshold = evidence.intent_threshold;
    match &evidence.intent {
        None => push(
            reasons,
            HandoffReason::LowIntentConfidence,
            "low_intent_confidence: no intent recognised".into(),
        ),
        Some(i) if i.confidence < threshold => push(
            reasons,
            HandoffReason::LowIntentConfidence,
            format!(
                "low_intent_confidence: intent {} < {:.2}{}",
                i.describe(),
                threshold,
                threshold_note(evidence)
            ),
        ),
        Some(_) => {}
    }
}

/// The knowledge to answer from, and the best approved hit for a different answer (which the
/// explanation of an answer names when it was close or ahead).
struct KnowledgeChoice<'a> {
    hit: &'a KnowledgeHit,
    rival: Option<&'a KnowledgeHit>,
}

/// Checks the approved knowledge; returns the hit to answer from when it is good enough to use.
///
/// With an intent, that is the best approved hit that agrees with it (names it, or names no
/// intent at all): a hit about another intent can score a little higher on wording alone. It is
/// held to `min_knowledge_score`; a hit for a different answer that leads it by more than
/// `max_rival_lead` is a disagreement between retrieval and the intent model, and one within
/// `min_margin` makes the retrieval ambiguous unless the intent settles it. Without an intent,
/// the best approved hit is checked the same way.
fn knowledge_reasons<'a>(
    evidence: &'a Evidence,
    settings: &PolicySettings,
    reasons: &mut Vec<Reason>,
) -> Option<KnowledgeChoice<'a>> {
    let mut approved = evidence.knowledge.iter().filter(|k| k.status == PointStatus::Approved).peekable();
    let Some(top) = approved.peek().copied() else {
        push(
            reasons,
            HandoffReason::NoKnowledgeMatch,
            "no_knowledge_match: no approved knowledge found".into(),
        );
        return None;
    };
    let chosen = match &evidence.intent {
        None => top,
        Some(intent) => match approved.find(|k| agrees(k, &intent.intent)) {
            Some(hit) => hit,
            None => {
                // Strong knowledge about something else is a disagreement; weak knowledge is no
                // match.
                let (code, what) = if top.score >= settings.min_knowledge_score {
                    (HandoffReason::KnowledgeIntentMismatch, "knowledge_intent_mismatch")
                } else {
                    (HandoffReason::NoKnowledgeMatch, "no_knowledge_match")
                };
                push(
                    reasons,
                    code,
                    format!(
                        "{what}: no approved knowledge about {} among the closest; best {} {:.2} is about {}",
                        intent.intent,
                        top.reference,
                        top.score,
                        top.intents.join(", ")
                    ),
                );
                return None;
            }
        },
    };
    if chosen.score < settings.min_knowledge_score {
        push(
            reasons,
            HandoffReason::NoKnowledgeMatch,
            format!(
                "no_knowledge_match: best {} {:.2} < {:.2}",
                chosen.reference, chosen.score, settings.min_knowledge_score
            ),
        );
        return None;
    }
    let rival = rival(evidence, chosen);
    if let Some(rival) = rival.filter(|r| r.score - chosen.score > settings.max_rival_lead) {
        push(
            reasons,
            HandoffReason::KnowledgeIntentMismatch,
            format!(
                "knowledge_intent_mismatch: {} about {} {:.2} leads {} {:.2} by {:.2} > {:.2}",
                rival.reference,
                rival.intents.join(", "),
                rival.score,
                chosen.reference,
                chosen.score,
                rival.score - chosen.score,
                settings.max_rival_lead
            ),
        );
        return None;
    }
    if let Some(rival) = rival.filter(|r| chosen.score - r.score < settings.min_margin)
        && !(settings.intent_settles_close_knowledge && intent_settles(evidence, chosen))
    {
        push(
            reasons,
            HandoffReason::AmbiguousKnowledge,
            format!(
                "ambiguous_knowledge: {} {:.2} vs {} {:.2}, margin {:.2} < {:.2}",
                chosen.reference,
                chosen.score,
                rival.reference,
                rival.score,
                chosen.score - rival.score,
                settings.min_margin
            ),
        );
    }
    Some(KnowledgeChoice { hit: chosen, rival })
}

/// Knowledge agrees with an intent when it names it, or names no intent at all.
fn agrees(hit: &KnowledgeHit, intent: &str) -> bool {
    hit.intents.is_empty() || hit.intents.iter().any(|i| i == intent)
}

/// The best approved hit for a different answer than `chosen` (no intent in common), ahead of
/// it or behind.
fn rival<'a>(evidence: &'a Evidence, chosen: &KnowledgeHit) -> Option<&'a KnowledgeHit> {
    evidence
        .knowledge
        .iter()
        .filter(|k| k.status == PointStatus::Approved)
        .find(|k| k.reference != chosen.reference && k.intents.iter().all(|i| !chosen.intents.contains(i)))
}

/// Close knowledge for two different answers is ambiguous only when the intent model does not
/// choose between them: an intent at or above its calibrated threshold that names the chosen
/// hit's intent settles it (the threshold was set on held-out folds to reach the target
/// precision). Knowledge without intents, or no intent model yet, leaves it ambiguous.
fn intent_settles(evidence: &Evidence, chosen: &KnowledgeHit) -> bool {
    evidence
        .intent
        .as_ref()
        .is_some_and(|i| i.confidence >= evidence.intent_threshold && chosen.intents.contains(&i.intent))
}

fn threshold_note(evidence: &Evidence) -> &'static str {
    match evidence.threshold_source {
        Some(ThresholdSource::Intent) => " (calibrated for this intent)",
        Some(ThresholdSource::Global) => " (global threshold)",
        Some(ThresholdSource::VoteOnly) => " (nearest examples alone, not yet trained on this intent)",
        None => "",
    }
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
            | ChurnRisk | StrongEmotion,
        ) => "sensitive",
        Some(RepeatContact | OpenHandoff | CustomerFollowUp | FlaggedAccount) => "customer_context",
        Some(LowIntentConfidence | HumanOnlyIntent) => "intent",
        Some(MultipleQuestions | LongText) => "complexity",
        Some(ShadowMode) => "shadow_mode",
        Some(NoKnowledgeMatch | AmbiguousKnowledge | KnowledgeIntentMismatch) => "knowledge",
        Some(PipelineFailure) | None => "pipeline_failure",
    }
}

fn answer_summary(evidence: &Evidence, choice: &KnowledgeChoice<'_>, settings: &PolicySettings) -> String {
    let intent = evidence
        .intent
        .as_ref()
        .map(|i| format!("intent {} ≥ {:.2}; ", i.describe(), evidence.intent_threshold))
        .unwrap_or_default();
    let chosen = choice.hit;
    // Knowledge about the intent need not be the top hit; then the explanation says what led.
    let (label, settled) = match choice.rival {
        Some(r) if r.score > chosen.score => (
            "knowledge about the intent",
            format!(
                "{} {:.2} about {} leads by {:.2} ≤ {:.2}, the intent settles it; ",
                r.reference,
                r.score,
                r.intents.join(", "),
                r.score - chosen.score,
                settings.max_rival_lead
            ),
        ),
        Some(r) if chosen.score - r.score < settings.min_margin => {
            ("best", format!("rival {} {:.2} is close, the intent settles it; ", r.reference, r.score))
        }
        _ => ("best", String::new()),
    };
    format!(
        "answered: {intent}{label} {} {:.2} ≥ {:.2}; {settled}no sensitivity or emotion flags",
        chosen.reference, chosen.score, settings.min_knowledge_score
    )
}

/// Shadow mode: the decision becomes a handoff, and what Kindly would have done is kept in the
/// evidence, so a team can measure precision and coverage before sending anything.
pub fn shadow(decision: Decision) -> Decision {
    let would_answer = match &decision.outcome {
        Outcome::Answer { knowledge } => Some(knowledge.clone()),
        Outcome::Handoff { .. } => None,
    };
    if would_answer.is_none() {
        let mut d = decision;
        d.evidence.shadow =
            Some(ShadowDecision { would_answer: None, rule: d.rule.clone(), summary: d.summary.clone() });
        return d;
    }
    let mut evidence = decision.evidence;
    evidence.shadow =
        Some(ShadowDecision { would_answer, rule: decision.rule.clone(), summary: decision.summary.clone() });
    let reasons = vec![Reason {
        code: HandoffReason::ShadowMode,
        detail: format!("shadow_mode: nothing is sent; Kindly would have {}", decision.summary),
    }];
    Decision {
        ticket_id: decision.ticket_id,
        outcome: Outcome::Handoff { priority: Priority::for_reasons(&reasons) },
        rule: "handoff.shadow_mode".into(),
        summary: format!("handed off (shadow mode): Kindly would have {}", decision.summary),
        reasons,
        evidence,
        decided_at: decision.decided_at,
    }
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
    use crate::emotion::EmotionSignal;
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
            stage: None,
        }
    }

    fn routine() -> Evidence {
        Evidence {
            intent: Some(IntentScore {
                intent: "track_order".into(),
                confidence: 0.9,
                nearest_example: None,
            }),
            intent_threshold: 0.5,
            knowledge: vec![
                hit("kb-1", "track_order", 0.82, PointStatus::Approved),
                hit("kb-2", "refund", 0.4, PointStatus::Approved),
            ],
            ..Evidence::default()
        }
    }

    fn signal(category: SensitiveCategory, score: f32) -> SensitivitySignal {
        SensitivitySignal { category, score, threshold: 0.6, exemplar: "x".into(), set_aside: None }
    }

    fn emotion(emotion: Emotion, intensity: f32) -> EmotionSignal {
        EmotionSignal { emotion, intensity, threshold: Some(0.7) }
    }

    /// Strong negativity, and sadness at `sadness`: under its own threshold (0.7), perhaps
    /// above the support negativity needs (0.6).
    fn negativity_with_sadness(e: &mut Evidence, sadness: f32) {
        e.emotions.push(emotion(Emotion::Negativity, 0.98));
        e.emotions.push(emotion(Emotion::Sadness, sadness));
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
            ("flagged account", |e| e.flagged_account = true, vec![FlaggedAccount]),
            (
                "strong anger from the head",
                |e| e.emotions.push(emotion(Emotion::Anger, 0.9)),
                vec![AngerOrFrustration],
            ),
            (
                "strong sadness and fear are one reason",
                |e| {
                    e.emotions.push(emotion(Emotion::Sadness, 0.9));
                    e.emotions.push(emotion(Emotion::Fear, 0.8));
                },
                vec![StrongEmotion],
            ),
            ("mild emotion changes nothing", |e| e.emotions.push(emotion(Emotion::Sadness, 0.5)), vec![]),
            (
                "a plain complaint is not strong negativity",
                |e| e.emotions.push(emotion(Emotion::Negativity, 0.98)),
                vec![],
            ),
            (
                "negativity with sadness behind it is",
                |e| negativity_with_sadness(e, 0.65),
                vec![StrongEmotion],
            ),
            (
                "negativity with mild sadness, under the support, is not",
                |e| negativity_with_sadness(e, 0.4),
                vec![],
            ),
            (
                "two distinct questions",
                |e| e.complexity.distinct_intents = vec!["refund".into(), "track_order".into()],
                vec![MultipleQuestions],
            ),
            ("very long text", |e| e.complexity.words = 400, vec![LongText]),
            ("below the calibrated threshold", |e| e.intent_threshold = 0.95, vec![LowIntentConfidence]),
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
            (
                "knowledge about the intent a little behind another answer's is used",
                |e| {
                    e.knowledge[0].intents = vec!["refund".into()];
                    e.knowledge.insert(1, hit("kb-3", "track_order", 0.7, PointStatus::Approved));
                },
                vec![],
            ),
            (
                "another answer far ahead of the intent's knowledge",
                |e| {
                    e.knowledge[0].intents = vec!["refund".into()];
                    e.knowledge[0].score = 0.95;
                    e.knowledge.insert(1, hit("kb-3", "track_order", 0.7, PointStatus::Approved));
                },
                vec![KnowledgeIntentMismatch],
            ),
            (
                "weak knowledge about the intent behind strong knowledge about another",
                |e| {
                    e.knowledge[0].intents = vec!["refund".into()];
                    e.knowledge.insert(1, hit("kb-3", "track_order", 0.45, PointStatus::Approved));
                },
                vec![NoKnowledgeMatch],
            ),
            ("a confident intent settles two close answers", |e| e.knowledge[1].score = 0.81, vec![]),
            (
                "two close answers and an unsure intent",
                |e| {
                    e.knowledge[1].score = 0.81;
                    e.intent.as_mut().unwrap().confidence = 0.2;
                },
                vec![LowIntentConfidence, AmbiguousKnowledge],
            ),
            (
                "two close answers and no intent model yet",
                |e| {
                    e.knowledge[1].score = 0.81;
                    e.intent = None;
                },
                vec![LowIntentConfidence, AmbiguousKnowledge],
            ),
            (
                "two close answers, the best without an intent",
                |e| {
                    e.knowledge[1].score = 0.81;
                    e.knowledge[0].intents.clear();
                },
                vec![AmbiguousKnowledge],
            ),
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
            "answered: intent track_order 0.90 ≥ 0.50; best article kb-1 0.82 ≥ 0.50; no sensitivity or emotion flags"
        );
        // a confidence that includes the nearest example's similarity says so, either way
        let mut evidence = routine();
        evidence.intent.as_mut().unwrap().nearest_example = Some(0.79);
        let d = decide(TicketId::new(), evidence.clone(), &PolicySettings::default(), Utc::now());
        assert!(
            d.summary.starts_with("answered: intent track_order 0.90 (nearest example 0.79) ≥ 0.50;"),
            "{}",
            d.summary
        );
        evidence.intent.as_mut().unwrap().confidence = 0.3;
        let d = decide(TicketId::new(), evidence, &PolicySettings::default(), Utc::now());
        let reason = &d.reasons[0].detail;
        assert_eq!(reason, "low_intent_confidence: intent track_order 0.30 (nearest example 0.79) < 0.50");
    }

    #[test]
    fn close_knowledge_can_always_hand_off() {
        let mut evidence = routine();
        evidence.knowledge[1].score = 0.81;
        let settings = PolicySettings { intent_settles_close_knowledge: false, ..PolicySettings::default() };
        let d = decide(TicketId::new(), evidence, &settings, Utc::now());
        assert_eq!(codes(&d), [HandoffReason::AmbiguousKnowledge]);
    }

    #[test]
    fn an_answer_names_the_close_rival_the_intent_settled() {
        let mut evidence = routine();
        evidence.knowledge[1].score = 0.81;
        let d = decide(TicketId::new(), evidence, &PolicySettings::default(), Utc::now());
        assert!(d.is_answer());
        assert!(
            d.summary.contains("rival article kb-2 0.81 is close, the intent settles it"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn an_answer_names_the_knowledge_ahead_of_the_one_it_used() {
        let mut evidence = routine();
        evidence.knowledge[0].intents = vec!["refund".into()];
        evidence.knowledge.insert(1, hit("kb-3", "track_order", 0.7, PointStatus::Approved));
        let d = decide(TicketId::new(), evidence, &PolicySettings::default(), Utc::now());
        assert_eq!(
            d.outcome,
            Outcome::Answer { knowledge: KnowledgeRef { source: Source::Article, id: "kb-3".into() } }
        );
        assert!(
            d.summary.contains(
                "knowledge about the intent article kb-3 0.70 ≥ 0.50; article kb-1 0.82 about refund leads by 0.12 ≤ 0.20, the intent settles it"
            ),
            "{}",
            d.summary
        );
    }

    #[test]
    fn strong_negativity_names_the_emotion_behind_it() {
        let mut e = routine();
        e.emotions.push(emotion(Emotion::Negativity, 0.98));
        e.emotions.push(EmotionSignal { emotion: Emotion::Disgust, intensity: 0.66, threshold: None });
        let d = decide(TicketId::new(), e, &PolicySettings::default(), Utc::now());
        assert_eq!(
            d.reasons[0].detail,
            "strong_emotion: negativity 0.98 ≥ 0.70 (emotion head), with disgust 0.66 ≥ 0.60"
        );
        assert_eq!(d.evidence.negativity_support, 0.6, "the support is recorded with the evidence");
    }

    #[test]
    fn every_emotion_that_fires_is_named_with_its_threshold() {
        let mut e = routine();
        e.sensitivity.push(SensitivitySignal {
            category: SensitiveCategory::AngerOrFrustration,
            score: 0.7,
            threshold: 0.5,
            exemplar: "I am furious.".into(),
            set_aside: None,
        });
        e.emotions.push(emotion(Emotion::Anger, 0.8));
        e.emotions.push(emotion(Emotion::Sadness, 0.9));
        e.emotions.push(emotion(Emotion::Fear, 0.75));
        let d = decide(TicketId::new(), e, &PolicySettings::default(), Utc::now());
        let details: Vec<&str> = d.reasons.iter().map(|r| r.detail.as_str()).collect();
        assert_eq!(
            details,
            [
                "anger_or_frustration 0.70 ≥ 0.50 (like \"I am furious.\"); anger 0.80 ≥ 0.70 (emotion head)",
                "strong_emotion: sadness 0.90 ≥ 0.70 (emotion head); fear 0.75 ≥ 0.70 (emotion head)",
            ]
        );
    }

    #[test]
    fn human_only_intents_always_go_to_a_person() {
        let settings =
            PolicySettings { human_only_intents: vec!["track_order".into()], ..PolicySettings::default() };
        let d = decide(TicketId::new(), routine(), &settings, Utc::now());
        assert_eq!(codes(&d), vec![HandoffReason::HumanOnlyIntent]);
        assert_eq!(d.rule, "handoff.intent");
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
    fn shadow_mode_hands_off_and_keeps_the_would_be_answer() {
        let d = shadow(decide(TicketId::new(), routine(), &PolicySettings::default(), Utc::now()));
        assert!(!d.is_answer());
        assert_eq!(codes(&d), vec![HandoffReason::ShadowMode]);
        let s = d.evidence.shadow.unwrap();
        assert_eq!(s.would_answer.unwrap().id, "kb-1");
        assert_eq!(s.rule, "answer.all_checks_passed");
        let mut e = routine();
        e.open_handoffs = 1;
        let d = shadow(decide(TicketId::new(), e, &PolicySettings::default(), Utc::now()));
        assert_eq!(codes(&d), vec![HandoffReason::OpenHandoff]);
        assert!(d.evidence.shadow.unwrap().would_answer.is_none());
    }

    #[test]
    fn pipeline_failure_hands_off() {
        let d = pipeline_failure(TicketId::new(), "embed", "model worker stopped", Utc::now());
        assert_eq!(codes(&d), vec![HandoffReason::PipelineFailure]);
        assert!(!d.is_answer());
    }
}
