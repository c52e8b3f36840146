//! Shadow mode's scoreboard: how often Kindly would have answered, and how often that answer
//! would have been right, judged by the intent the agent gave when resolving the handoff.

use serde::{Deserialize, Serialize};

/// One ticket decided in shadow mode, with the agent's verdict once the handoff is resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowCase {
    /// The intent Kindly predicted.
    pub predicted_intent: Option<String>,
    /// Kindly would have answered (rather than handed off).
    pub would_answer: bool,
    /// The handoff was resolved by a person.
    pub resolved: bool,
    /// The intent the person confirmed or corrected when resolving (`None`: not given).
    pub agent_intent: Option<String>,
}

/// What Kindly would have done with a ticket it decided in shadow mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShadowOutcome {
    WouldAnswer,
    WouldHandOff,
}

impl ShadowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WouldAnswer => "would_answer",
            Self::WouldHandOff => "would_hand_off",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::WouldAnswer, Self::WouldHandOff].into_iter().find(|o| o.as_str() == s)
    }
}

/// Which shadow-mode tickets a list keeps, judged by their latest decision: what Kindly would
/// have done, and what the person who resolved the ticket said of a would-be answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShadowFilter {
    /// Kindly would have answered.
    WouldAnswer,
    /// Kindly would have handed off too.
    WouldHandOff,
    /// Would have answered, and the person who resolved the ticket gave the intent Kindly
    /// predicted: the answer would have been right.
    Confirmed,
    /// Would have answered, and the person who resolved the ticket gave another intent: the
    /// answer would have been wrong.
    Corrected,
}

impl ShadowFilter {
    pub const ALL: [ShadowFilter; 4] =
        [Self::WouldAnswer, Self::WouldHandOff, Self::Confirmed, Self::Corrected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WouldAnswer => "would_answer",
            Self::WouldHandOff => "would_hand_off",
            Self::Confirmed => "confirmed",
            Self::Corrected => "corrected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The shadow decisions this filter keeps, and whether it asks for the person's verdict on
    /// them (`Some(true)`: they agreed on the intent; `Some(false)`: they gave another).
    pub fn outcome_and_verdict(self) -> (ShadowOutcome, Option<bool>) {
        match self {
            Self::WouldAnswer => (ShadowOutcome::WouldAnswer, None),
            Self::WouldHandOff => (ShadowOutcome::WouldHandOff, None),
            Self::Confirmed => (ShadowOutcome::WouldAnswer, Some(true)),
            Self::Corrected => (ShadowOutcome::WouldAnswer, Some(false)),
        }
    }
}

/// Would-be coverage and precision over shadow decisions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct ShadowReport {
    /// Tickets decided in shadow mode.
    pub decided: u64,
    /// Of those, tickets Kindly would have answered.
    pub would_answer: u64,
    /// `would_answer / decided`.
    pub coverage: Option<f64>,
    /// Would-be answers whose handoff a person resolved with an intent: the ones that can be judged.
    pub judged: u64,
    /// Judged would-be answers whose predicted intent the person confirmed.
    pub correct: u64,
    /// `correct / judged`.
    pub precision: Option<f64>,
    /// The lower end of the 95% Wilson interval of the precision: what a team can rely on.
    pub precision_lower_bound: Option<f64>,
}

/// Scores shadow decisions. A would-be answer counts as correct when the person resolving the
/// handoff gave the intent Kindly predicted; one resolved without an intent is not judged.
pub fn measure(cases: &[ShadowCase]) -> ShadowReport {
    measure_each(cases.iter())
}

fn measure_each<'a>(cases: impl ExactSizeIterator<Item = &'a ShadowCase>) -> ShadowReport {
    let decided = cases.len() as u64;
    let answers: Vec<&ShadowCase> = cases.filter(|c| c.would_answer).collect();
    let judged: Vec<&&ShadowCase> =
        answers.iter().filter(|c| c.resolved && c.agent_intent.is_some()).collect();
    let correct =
        judged.iter().filter(|c| c.agent_intent.is_some() && c.agent_intent == c.predicted_intent).count()
            as u64;
    let ratio = |n: u64, d: u64| (d > 0).then(|| n as f64 / d as f64);
    ShadowReport {
        decided,
        would_answer: answers.len() as u64,
        coverage: ratio(answers.len() as u64, decided),
        judged: judged.len() as u64,
        correct,
        precision: ratio(correct, judged.len() as u64),
        precision_lower_bound: wilson_lower_bound(correct, judged.len() as u64),
    }
}

/// Shadow mode's scoreboard for one predicted intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentShadowReport {
    pub intent: String,
    #[serde(flatten)]
    pub report: ShadowReport,
}

/// Scores shadow decisions per predicted intent, the intents Kindly would have answered most
/// first: which intents are ready to go live, and which belong on the human-only list for now.
/// Decisions without a predicted intent (the pipeline failed) are left out.
pub fn measure_by_intent(cases: &[ShadowCase]) -> Vec<IntentShadowReport> {
    let mut by_intent: std::collections::BTreeMap<&str, Vec<&ShadowCase>> = Default::default();
    for case in cases {
        if let Some(intent) = &case.predicted_intent {
            by_intent.entry(intent).or_default().push(case);
        }
    }
    let mut reports: Vec<IntentShadowReport> = by_intent
        .into_iter()
        .map(|(intent, cases)| IntentShadowReport {
            intent: intent.to_owned(),
            report: measure_each(cases.into_iter()),
        })
        .collect();
    reports.sort_by(|a, b| b.report.would_answer.cmp(&a.report.would_answer).then(a.intent.cmp(&b.intent)));
    reports
}

/// Lower end of the 95% Wilson score interval for `successes / trials`.
pub fn wilson_lower_bound(successes: u64, trials: u64) -> Option<f64> {
    if trials == 0 {
        return None;
    }
    let z = 1.96_f64;
    let n = trials as f64;
    let p = successes as f64 / n;
    let centre = p + z * z / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    Some(((centre - spread) / (1.0 + z * z / n)).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shadow_filter_reads_back_what_it_writes() {
        for f in ShadowFilter::ALL {
            assert_eq!(ShadowFilter::parse(f.as_str()), Some(f));
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
        }
        assert_eq!(ShadowFilter::parse("would answer"), None);
        for o in [ShadowOutcome::WouldAnswer, ShadowOutcome::WouldHandOff] {
            assert_eq!(ShadowOutcome::parse(o.as_str()), Some(o));
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{}\"", o.as_str()));
        }
    }

    fn case(predicted: &str, would_answer: bool, agent: Option<&str>) -> ShadowCase {
        ShadowCase {
            predicted_intent: Some(predicted.into()),
            would_answer,
            resolved: agent.is_some(),
            agent_intent: agent.map(Into::into),
        }
    }

    #[test]
    fn empty_has_no_ratios() {
        let r = measure(&[]);
        assert_eq!(r.decided, 0);
        assert_eq!(r.coverage, None);
        assert_eq!(r.precision, None);
    }

    #[test]
    fn counts_coverage_and_judged_precision() {
        let cases = vec![
            case("refund", true, Some("refund")),
            case("refund", true, Some("cancel_order")),
            case("track_order", true, None),
            case("track_order", false, Some("track_order")),
        ];
        let r = measure(&cases);
        assert_eq!(r.decided, 4);
        assert_eq!(r.would_answer, 3);
        assert_eq!(r.coverage, Some(0.75));
        assert_eq!(r.judged, 2);
        assert_eq!(r.correct, 1);
        assert_eq!(r.precision, Some(0.5));
        let lb = r.precision_lower_bound.unwrap();
        assert!(lb > 0.0 && lb < 0.5, "{lb}");
    }

    #[test]
    fn each_intent_is_scored_apart_most_answered_first() {
        let mut cases = vec![
            case("refund", true, Some("refund")),
            case("refund", true, Some("cancel_order")),
            case("track_order", true, None),
            case("track_order", true, Some("track_order")),
            case("track_order", false, None),
            case("bereavement", false, None),
        ];
        cases.push(ShadowCase { predicted_intent: None, ..case("x", false, None) });
        let r = measure_by_intent(&cases);
        let intents: Vec<&str> = r.iter().map(|i| i.intent.as_str()).collect();
        assert_eq!(intents, ["refund", "track_order", "bereavement"], "ties by name");
        assert_eq!((r[0].report.would_answer, r[0].report.judged, r[0].report.precision), (2, 2, Some(0.5)));
        assert_eq!((r[1].report.decided, r[1].report.would_answer, r[1].report.precision), (3, 2, Some(1.0)));
        assert_eq!((r[2].report.would_answer, r[2].report.coverage), (0, Some(0.0)));
        let total: u64 = r.iter().map(|i| i.report.decided).sum();
        assert_eq!(total, 6, "a decision without an intent is left out");
    }

    #[test]
    fn wilson_bound_tightens_with_more_trials() {
        let few = wilson_lower_bound(10, 10).unwrap();
        let many = wilson_lower_bound(1000, 1000).unwrap();
        assert!(few < many && many < 1.0 && few > 0.6, "{few} {many}");
    }
}
