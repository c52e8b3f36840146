use super::*;
use crate::decision::IntentScore;
use crate::emotion::EmotionSignal;
use crate::knowledge::{KnowledgeHit, KnowledgeRef, PointStatus, Source};
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
        intent: Some(IntentScore { intent: "track_order".into(), confidence: 0.9, nearest_example: None }),
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
        ("negativity with sadness behind it is", |e| negativity_with_sadness(e, 0.65), vec![StrongEmotion]),
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
    assert!(d.summary.contains("rival article kb-2 0.81 is close, the intent settles it"), "{}", d.summary);
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
