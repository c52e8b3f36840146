//! Sensitive situations that always deserve a person, whatever the knowledge base says.

use serde::{Deserialize, Serialize};

use crate::decision::HandoffReason;

/// A kind of moment where a bot answer would hurt. Each maps to its own handoff reason.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveCategory {
    Bereavement,
    AngerOrFrustration,
    RepeatedContact,
    CancellationOrChurn,
    LegalThreat,
    SafetyOrInjury,
    Vulnerability,
    HumanRequested,
}

impl SensitiveCategory {
    pub const ALL: [Self; 8] = [
        Self::Bereavement,
        Self::AngerOrFrustration,
        Self::RepeatedContact,
        Self::CancellationOrChurn,
        Self::LegalThreat,
        Self::SafetyOrInjury,
        Self::Vulnerability,
        Self::HumanRequested,
    ];

    pub fn reason(self) -> HandoffReason {
        match self {
            Self::Bereavement => HandoffReason::Bereavement,
            Self::AngerOrFrustration => HandoffReason::AngerOrFrustration,
            Self::RepeatedContact => HandoffReason::RepeatContact,
            Self::CancellationOrChurn => HandoffReason::ChurnRisk,
            Self::LegalThreat => HandoffReason::LegalThreat,
            Self::SafetyOrInjury => HandoffReason::SafetyOrInjury,
            Self::Vulnerability => HandoffReason::Vulnerability,
            Self::HumanRequested => HandoffReason::HumanRequested,
        }
    }
}

/// How close a ticket came to a sensitive category, and the threshold it was compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SensitivitySignal {
    pub category: SensitiveCategory,
    pub score: f32,
    pub threshold: f32,
    /// The exemplar sentence that matched best.
    pub exemplar: String,
    /// A closer match that did not count: that part of the ticket was closer still to one of
    /// the category's `unlike` sentences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<SetAside>,
}

/// An exemplar match set aside because the same part of the ticket was closer to a routine
/// `unlike` sentence ("call me Sam" is not a request for a person).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetAside {
    pub score: f32,
    pub exemplar: String,
    pub unlike: String,
    pub unlike_score: f32,
}

impl SensitivitySignal {
    pub fn flagged(&self) -> bool {
        self.score >= self.threshold
    }
}
