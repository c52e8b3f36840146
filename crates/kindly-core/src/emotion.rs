//! Emotions detected in a ticket, each with an intensity, by heads trained on public data.

use serde::{Deserialize, Serialize};

/// An emotion Kindly detects. Anger, sadness (grief), fear (worry), disappointment and strong
/// negativity call for a person when intense; the others are recorded for analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Emotion {
    Anger,
    Sadness,
    Fear,
    Disappointment,
    Negativity,
    Disgust,
    Joy,
    Surprise,
    Neutral,
}

impl Emotion {
    pub const ALL: [Self; 9] = [
        Self::Anger,
        Self::Sadness,
        Self::Fear,
        Self::Disappointment,
        Self::Negativity,
        Self::Disgust,
        Self::Joy,
        Self::Surprise,
        Self::Neutral,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anger => "anger",
            Self::Sadness => "sadness",
            Self::Fear => "fear",
            Self::Disappointment => "disappointment",
            Self::Negativity => "negativity",
            Self::Disgust => "disgust",
            Self::Joy => "joy",
            Self::Surprise => "surprise",
            Self::Neutral => "neutral",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// How strongly an emotion shows (a probability from its head, 0–1), and the intensity at or
/// above which the policy hands the ticket to a person (`None`: never on its own).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmotionSignal {
    pub emotion: Emotion,
    pub intensity: f32,
    pub threshold: Option<f32>,
}

impl EmotionSignal {
    pub fn strong(&self) -> bool {
        self.threshold.is_some_and(|t| self.intensity >= t)
    }
}
