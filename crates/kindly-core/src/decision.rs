//! The outcome of triage and everything needed to explain it: reasons with their numbers, the rule
//! that fired, and the evidence (scores, thresholds, knowledge used).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::calibration::ThresholdSource;
use crate::emotion::EmotionSignal;
use crate::knowledge::{KnowledgeHit, KnowledgeRef, LifecycleStage};
use crate::sensitivity::SensitivitySignal;
use crate::ticket::TicketId;

/// Why a ticket went to a person. Codes are stable: dashboards and helpdesk tags use them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    SafetyOrInjury,
    LegalThreat,
    Bereavement,
    Vulnerability,
    AngerOrFrustration,
    HumanRequested,
    ChurnRisk,
    RepeatContact,
    OpenHandoff,
    CustomerFollowUp,
    LowIntentConfidence,
    NoKnowledgeMatch,
    AmbiguousKnowledge,
    KnowledgeIntentMismatch,
    StrongEmotion,
    FlaggedAccount,
    HumanOnlyIntent,
    MultipleQuestions,
    LongText,
    ShadowMode,
    PipelineFailure,
}

impl HandoffReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::SafetyOrInjury => "safety_or_injury",
            Self::LegalThreat => "legal_threat",
            Self::Bereavement => "bereavement",
            Self::Vulnerability => "vulnerability",
            Self::AngerOrFrustration => "anger_or_frustration",
            Self::HumanRequested => "human_requested",
            Self::ChurnRisk => "churn_risk",
            Self::RepeatContact => "repeat_contact",
            Self::OpenHandoff => "open_handoff",
            Self::CustomerFollowUp => "customer_follow_up",
            Self::LowIntentConfidence => "low_intent_confidence",
            Self::NoKnowledgeMatch => "no_knowledge_match",
            Self::AmbiguousKnowledge => "ambiguous_knowledge",
            Self::KnowledgeIntentMismatch => "knowledge_intent_mismatch",
            Self::StrongEmotion => "strong_emotion",
            Self::FlaggedAccount => "flagged_account",
            Self::HumanOnlyIntent => "human_only_intent",
            Self::MultipleQuestions => "multiple_questions",
            Self::LongText => "long_text",
            Self::ShadowMode => "shadow_mode",
            Self::PipelineFailure => "pipeline_failure",
        }
    }

    /// The priority this reason alone calls for.
    pub fn priority(self) -> Priority {
        match self {
            Self::SafetyOrInjury | Self::LegalThreat => Priority::Urgent,
            Self::Bereavement
            | Self::Vulnerability
            | Self::AngerOrFrustration
            | Self::RepeatContact
            | Self::StrongEmotion
            | Self::FlaggedAccount
            | Self::CustomerFollowUp => Priority::High,
            Self::HumanRequested | Self::ChurnRisk | Self::OpenHandoff | Self::PipelineFailure => {
                Priority::Normal
            }
            Self::LowIntentConfidence
            | Self::NoKnowledgeMatch
            | Self::AmbiguousKnowledge
            | Self::KnowledgeIntentMismatch
            | Self::HumanOnlyIntent
            | Self::MultipleQuestions
            | Self::LongText
            | Self::ShadowMode => Priority::Normal,
        }
    }
}

/// A reason with its numbers in plain words, e.g. "bereavement: 0.71 ≥ 0.55 (…)".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    pub code: HandoffReason,
    pub detail: String,
}

/// Queue priority. Lower numbers are served first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent = 1,
    High = 2,
    Normal = 3,
    Low = 4,
}

impl Priority {
    /// The most pressing priority among the reasons (normal when there are none).
    pub fn for_reasons(reasons: &[Reason]) -> Self {
        reasons.iter().map(|r| r.code.priority()).min().unwrap_or(Self::Normal)
    }

    pub fn rank(self) -> i64 {
        self as i64
    }

    /// Kindly's own name for the priority, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Some(match rank {
            1 => Self::Urgent,
            2 => Self::High,
            3 => Self::Normal,
            4 => Self::Low,
            _ => return None,
        })
    }
}

/// Response-time targets per priority.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub urgent_minutes: i64,
    pub high_minutes: i64,
    pub normal_minutes: i64,
    pub low_minutes: i64,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        Self { urgent_minutes: 60, high_minutes: 4 * 60, normal_minutes: 24 * 60, low_minutes: 72 * 60 }
    }
}

impl SlaPolicy {
    /// When a person must have replied to a handoff of this priority raised at `from`.
    pub fn due(&self, priority: Priority, from: DateTime<Utc>) -> DateTime<Utc> {
        let minutes = match priority {
            Priority::Urgent => self.urgent_minutes,
            Priority::High => self.high_minutes,
            Priority::Normal => self.normal_minutes,
            Priority::Low => self.low_minutes,
        };
        from + Duration::minutes(minutes)
    }
}

/// The predicted intent and how sure the classifier is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentScore {
    pub intent: String,
    pub confidence: f32,
    /// Similarity of the nearest labelled example of this intent: part of the confidence (see
    /// `pipeline.intent.nearest_example_exponent`). `None` when the model does not use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest_example: Option<f32>,
}

impl IntentScore {
    /// "card_arrival 0.83", with the nearest example when it counted: "card_arrival 0.83
    /// (nearest example 0.79)".
    pub fn describe(&self) -> String {
        match self.nearest_example {
            Some(n) => format!("{} {:.2} (nearest example {n:.2})", self.intent, self.confidence),
            None => format!("{} {:.2}", self.intent, self.confidence),
        }
    }
}

/// What was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Kindly answers from this knowledge.
    Answer { knowledge: KnowledgeRef },
    /// A person answers.
    Handoff { priority: Priority },
}

/// Signs that a ticket is too complex for an automatic answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Complexity {
    pub words: u32,
    /// Distinct intents recognised with confidence in separate sentences of the ticket.
    #[serde(default)]
    pub distinct_intents: Vec<String>,
}

/// The numbers behind a decision: what was measured and what it was compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
pub struct Evidence {
    pub intent: Option<IntentScore>,
    /// The confidence the intent must reach: calibrated for this intent, or the global one.
    pub intent_threshold: f32,
    pub threshold_source: Option<ThresholdSource>,
    /// The intent model version that predicted (0: not yet trained, neighbours only).
    pub model_version: i64,
    pub knowledge_threshold: f32,
    pub margin_threshold: f32,
    /// How far knowledge for another answer may lead the knowledge about the intent.
    pub rival_lead_threshold: f32,
    /// The intensity a negative emotion must show for strong negativity to count.
    pub negativity_support: f32,
    /// Every sensitivity score measured, flagged or not.
    pub sensitivity: Vec<SensitivitySignal>,
    /// Every emotion measured, with the intensity that would call for a person.
    pub emotions: Vec<EmotionSignal>,
    pub complexity: Complexity,
    pub flagged_account: bool,
    /// Where in the customer's life with the product the question sits.
    pub stage: Option<LifecycleStage>,
    /// In shadow mode: what Kindly would have done (the decision as if live).
    pub shadow: Option<ShadowDecision>,
    /// The closest knowledge, best first (approved and candidates).
    pub knowledge: Vec<KnowledgeHit>,
    /// The customer's earlier tickets within the repeat-contact window.
    pub recent_contacts: u32,
    pub open_handoffs: u32,
}

/// What Kindly would have sent had shadow mode been off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShadowDecision {
    /// Would have answered from this knowledge (`None`: would have handed off too).
    pub would_answer: Option<KnowledgeRef>,
    pub rule: String,
    pub summary: String,
    /// The reply Kindly would have sent, rendered when it decided (`None` when it would have
    /// handed off too): what a team reads before going live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

impl ShadowDecision {
    pub fn outcome(&self) -> crate::ShadowOutcome {
        match self.would_answer {
            Some(_) => crate::ShadowOutcome::WouldAnswer,
            None => crate::ShadowOutcome::WouldHandOff,
        }
    }
}

/// A stored decision about a ticket, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub ticket_id: TicketId,
    pub outcome: Outcome,
    /// The rule that fired, e.g. `answer.all_checks_passed` or `handoff.sensitive`.
    pub rule: String,
    /// Every reason that applies (empty for an answer).
    pub reasons: Vec<Reason>,
    /// The decision in one plain sentence.
    pub summary: String,
    pub evidence: Evidence,
    pub decided_at: DateTime<Utc>,
}

impl Decision {
    pub fn is_answer(&self) -> bool {
        matches!(self.outcome, Outcome::Answer { .. })
    }
}
