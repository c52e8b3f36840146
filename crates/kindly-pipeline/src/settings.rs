//! The pipeline's settings: policy thresholds, SLAs and retrieval sizes.

use std::collections::BTreeMap;

use kindly_core::Emotion;
use kindly_core::decision::SlaPolicy;
use kindly_core::policy::PolicySettings;
use serde::{Deserialize, Serialize};

use crate::intent::IntentTraining;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSettings {
    pub policy: PolicySettings,
    pub sla: SlaPolicy,
    /// Earlier tickets within this many hours count towards repeat contact.
    pub repeat_contact_window_hours: i64,
    /// Nearest labelled examples that vote on the intent.
    pub intent_neighbours: usize,
    /// Softmax temperature of the intent vote (lower: the nearest example counts more).
    pub intent_temperature: f32,
    /// Knowledge items kept as evidence and shown to agents.
    pub knowledge_hits: usize,
    /// Hybrid retrieval: how much BM25 (SQLite FTS5) re-ranks the dense candidates, 0 to 1.
    /// 0 is dense only. Measured in the README's benchmark section.
    pub lexical_weight: f32,
    /// Earlier tickets shown with a handoff.
    pub history_limit: u32,
    /// Where customers read articles: `{kb_base_url}/{article id}`.
    pub kb_base_url: String,
    /// The brand's name, as templates sign it.
    pub brand: String,
    /// Training and calibration of the intent model.
    pub intent: IntentTraining,
    /// Intensity from the emotion heads at or above which an emotion calls for a person.
    /// Emotions not listed never do on their own.
    pub strong_emotions: BTreeMap<Emotion, f32>,
    /// Decide and record everything, send nothing: every ticket goes to a person, with what
    /// Kindly would have done, so its precision and coverage can be measured before going live.
    pub shadow_mode: bool,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            policy: PolicySettings::default(),
            sla: SlaPolicy::default(),
            repeat_contact_window_hours: 72,
            intent_neighbours: 10,
            intent_temperature: 0.05,
            knowledge_hits: 5,
            lexical_weight: 0.0,
            history_limit: 10,
            kb_base_url: "https://help.lumo.example/kb".into(),
            brand: "Lumo".into(),
            intent: IntentTraining::default(),
            strong_emotions: BTreeMap::from([
                (Emotion::Anger, 0.6),
                (Emotion::Sadness, 0.6),
                (Emotion::Fear, 0.6),
                (Emotion::Disappointment, 0.6),
                (Emotion::Negativity, 0.95),
            ]),
            shadow_mode: false,
        }
    }
}

impl PipelineSettings {
    /// Checks ranges; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        let p = &self.policy;
        for (name, v) in [
            ("pipeline.policy.min_intent_confidence", p.min_intent_confidence),
            ("pipeline.policy.min_knowledge_score", p.min_knowledge_score),
            ("pipeline.policy.min_margin", p.min_margin),
            ("pipeline.policy.max_rival_lead", p.max_rival_lead),
            ("pipeline.policy.negativity_support", p.negativity_support),
            ("pipeline.lexical_weight", self.lexical_weight),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, got {v}"));
            }
        }
        let i = &self.intent;
        for (name, v) in [
            ("pipeline.intent.target_precision", i.target_precision),
            ("pipeline.intent.threshold_floor", i.threshold_floor),
            ("pipeline.intent.head_weight", i.head_weight),
            ("pipeline.intent.vote_only_threshold", i.vote_only_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, got {v}"));
            }
        }
        if let Some(w) = i.head_weight_candidates.iter().find(|w| !(0.0..=1.0).contains(*w)) {
            return Err(format!("pipeline.intent.head_weight_candidates must be between 0 and 1, got {w}"));
        }
        if i.folds < 2 || i.head.epochs == 0 || i.head.batch_size == 0 {
            return Err(
                "pipeline.intent.folds must be at least 2, and head.epochs and head.batch_size at least 1"
                    .into(),
            );
        }
        let n = &i.lexical;
        if n.buckets > 65_536
            || (n.buckets > 0 && (n.shortest == 0 || n.longest < n.shortest || n.weight <= 0.0))
        {
            return Err(format!(
                "pipeline.intent.lexical needs buckets from 0 (off) to 65536, 1 <= shortest <= longest and a \
                 positive weight; got buckets {}, shortest {}, longest {}, weight {}",
                n.buckets, n.shortest, n.longest, n.weight
            ));
        }
        let w = &i.words;
        if w.buckets > 65_536 || (w.buckets > 0 && !(w.weight > 0.0 && w.weight.is_finite())) {
            return Err(format!(
                "pipeline.intent.words needs buckets from 0 (off) to 65536 and a positive weight; got \
                 buckets {}, weight {}",
                w.buckets, w.weight
            ));
        }
        if let Some((e, v)) = self.strong_emotions.iter().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
            return Err(format!("pipeline.strong_emotions.{} must be between 0 and 1, got {v}", e.as_str()));
        }
        if self.intent_neighbours == 0 || self.knowledge_hits == 0 {
            return Err("pipeline.intent_neighbours and pipeline.knowledge_hits must be at least 1".into());
        }
        if !(i.nearest_example_exponent >= 0.0 && i.nearest_example_exponent.is_finite()) {
            return Err(format!(
                "pipeline.intent.nearest_example_exponent must be 0 (off) or more, got {}",
                i.nearest_example_exponent
            ));
        }
        if !(i.head_temperature > 0.0 && i.head_temperature.is_finite()) {
            return Err(format!(
                "pipeline.intent.head_temperature must be a positive number (1: the plain softmax), got {}",
                i.head_temperature
            ));
        }
        if self.intent_temperature <= 0.0 {
            return Err("pipeline.intent_temperature must be positive".into());
        }
        if self.repeat_contact_window_hours < 0 {
            return Err("pipeline.repeat_contact_window_hours must not be negative".into());
        }
        Ok(())
    }
}
