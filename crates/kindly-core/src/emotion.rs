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

/// The intensity a negative emotion (anger, sadness, fear, disappointment, disgust) must show for
/// strong negativity to count.
pub const NEGATIVITY_SUPPORT: f32 = 0.3;

/// The signals that call for a person. Negativity on its own says "this is a complaint", which is
/// what most support tickets are ("Why did my transfer fail?" scores 0.98 on the Twitter-trained
/// head): it counts only when a negative emotion also shows at [`NEGATIVITY_SUPPORT`] or more.
pub fn strong_signals(signals: &[EmotionSignal]) -> Vec<&EmotionSignal> {
    use Emotion::*;
    let supported = signals.iter().any(|s| {
        matches!(s.emotion, Anger | Sadness | Fear | Disappointment | Disgust)
            && s.intensity >= NEGATIVITY_SUPPORT
    });
    signals.iter().filter(|s| s.strong() && (s.emotion != Negativity || supported)).collect()
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
        assert!(strong_signals(&complaint).is_empty());
        let upset = [signal(Emotion::Negativity, 0.98, Some(0.95)), signal(Emotion::Disgust, 0.4, None)];
        assert_eq!(strong_signals(&upset).len(), 1);
        let angry = [signal(Emotion::Negativity, 0.5, Some(0.95)), signal(Emotion::Anger, 0.8, Some(0.7))];
        assert_eq!(strong_signals(&angry)[0].emotion, Emotion::Anger);
    }
}
