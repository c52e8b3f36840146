//! The knowledge checks: which approved knowledge Kindly would answer from, and why not.

use crate::decision::{Evidence, HandoffReason, Reason};
use crate::knowledge::{KnowledgeHit, PointStatus};

use super::{PolicySettings, push};

/// The knowledge to answer from, and the best approved hit for a different answer (which the
/// explanation of an answer names when it was close or ahead).
pub(super) struct KnowledgeChoice<'a> {
    pub(super) hit: &'a KnowledgeHit,
    pub(super) rival: Option<&'a KnowledgeHit>,
}

/// Checks the approved knowledge; returns the hit to answer from when it is good enough to use.
///
/// With an intent, that is the best approved hit that agrees with it (names it, or names no
/// intent at all): a hit about another intent can score a little higher on wording alone. It is
/// held to `min_knowledge_score`; a hit for a different answer that leads it by more than
/// `max_rival_lead` is a disagreement between retrieval and the intent model, and one within
/// `min_margin` makes the retrieval ambiguous unless the intent settles it. Without an intent,
/// the best approved hit is checked the same way.
pub(super) fn knowledge_reasons<'a>(
    evidence: &'a Evidence,
    settings: &PolicySettings,
    reasons: &mut Vec<Reason>,
) -> Option<KnowledgeChoice<'a>> {
    let mut approved = approved(evidence).peekable();
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
    approved(evidence)
        .find(|k| k.reference != chosen.reference && k.intents.iter().all(|i| !chosen.intents.contains(i)))
}

/// The retrieved knowledge a person approved, best first: the only knowledge Kindly answers from.
fn approved(evidence: &Evidence) -> impl Iterator<Item = &KnowledgeHit> {
    evidence.knowledge.iter().filter(|k| k.status == PointStatus::Approved)
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

/// The explanation of an answer: the intent and the knowledge with the thresholds they reached,
/// and the knowledge for another answer when it was close or ahead.
pub(super) fn answer_summary(
    evidence: &Evidence,
    choice: &KnowledgeChoice<'_>,
    settings: &PolicySettings,
) -> String {
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
