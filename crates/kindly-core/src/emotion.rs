//! Emotions detected in a ticket, each with an intensity, by heads trained on public data.

use serde::{Deserialize, Serialize};

/// An emotion Kindly detects. Anger, sadness (grief), fear (worry), disappointment and strong
/// negativity call for a person when intense; the others are recorded for analytics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema,
)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// The signals that call for a person. Negativity on its own says "this is a complaint", which is
/// what most support tickets are ("Why did my transfer fail?" scores 0.98 on the Twitter-trained
/// head): it counts only when a negative emotion also shows at `support` or more
/// (`pipeline.policy.negativity_support`; see [`negativity_support`]).
pub fn strong_signals(signals: &[EmotionSignal], support: f32) -> Vec<&EmotionSignal> {
    let supported = negativity_support(signals, support).is_some();
    signals.iter().filter(|s| s.strong() && (s.emotion != Emotion::Negativity || supported)).collect()
}

/// The strongest negative emotion (anger, sadness, fear, disappointment, disgust), if it shows at
/// `support` or more: what makes strong negativity count.
pub fn negativity_support(signals: &[EmotionSignal], support: f32) -> Option<&EmotionSignal> {
    use Emotion::*;
    signals
        .iter()
        .filter(|s| matches!(s.emotion, Anger | Sadness | Fear | Disappointment | Disgust))
        .filter(|s| s.intensity >= support)
        .max_by(|a, b| a.intensity.total_cmp(&b.intensity))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(emotion: Emotion, intensity: f32, threshold: Option<f32>) -> EmotionSignal {
        EmotionSignal { emotion, intensity, threshold }
    }

    #[test]
    fn negativity_needs_a_negative_emotion_behind_it() {
        let complaint =
            [signal(Emotion::Negativity, 0.98, Some(0.95)), signal(Emotion::Anger, 0.1, Some(0.7))];
        assert!(strong_signals(&complaint, 0.3).is_empty());
        let upset = [signal(Emotion::Negativity, 0.98, Some(0.95)), signal(Emotion::Disgust, 0.4, None)];
        assert_eq!(strong_signals(&upset, 0.3).len(), 1);
        assert!(strong_signals(&upset, 0.6).is_empty(), "the support is a setting");
        let angry = [signal(Emotion::Negativity, 0.5, Some(0.95)), signal(Emotion::Anger, 0.8, Some(0.7))];
        assert_eq!(strong_signals(&angry, 0.3)[0].emotion, Emotion::Anger);
        assert_eq!(negativity_support(&upset, 0.3).map(|s| s.emotion), Some(Emotion::Disgust));
    }
}
