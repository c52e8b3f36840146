//! `kindly eval`: the production pipeline on labelled public data.
//!
//! For an intent dataset it builds a fresh knowledge base from the training split (one article
//! per intent, whose sample questions are its training examples), trains and calibrates the
//! intent model the way the server does, then sends every test ticket through
//! `Pipeline::process` — the same code path as live triage. `--replay` instead starts from an
//! empty knowledge base and lets a simulated agent resolve every handoff.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use kindly_core::calibration::{Prediction, coverage_at_precision};
use kindly_core::{
    Article, ArticleStatus, Customer, Decision, HandoffReason, Label, NewTicket, Outcome, QueueStore,
    TicketStore, TrainingStore,
};
use kindly_server::{Kindly, Settings};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::datasets::{self, Dataset, DatasetKind, Example, Expect};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A dataset file or folder: BANKING77, CLINC150 json, HWU64, GoEmotions, Twitter airline
    /// csv, or JSONL `{text, intent?, expect?}`.
    path: PathBuf,
    /// Stream the test split through the live pipeline from an empty knowledge base; a simulated
    /// agent resolves every handoff with the true intent.
    #[arg(long)]
    replay: bool,
    /// Evaluate an evenly spaced slice of N test tickets (training uses the whole training split).
    #[arg(long)]
    limit: Option<usize>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the report as a Markdown table here.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Write every test ticket's text, true label and full decision here, one JSON object per
    /// line (intent datasets), to study the misses.
    #[arg(long)]
    decisions: Option<PathBuf>,
    /// Tickets in flight at once (the model worker batches them).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Tickets per replay window (a remainder shorter than half a window joins the last one).
    #[arg(long, default_value_t = 500)]
    window: usize,
}

/// One test ticket's outcome.
struct Outcome1 {
    truth: Option<String>,
    expect: Option<Expect>,
    emotions: Vec<String>,
    decision: Decision,
}

impl Outcome1 {
    fn predicted(&self) -> Option<&str> {
        self.decision.evidence.intent.as_ref().map(|i| i.intent.as_str())
    }

    /// Answered, and the answer's knowledge is about the true intent.
    fn answered_correctly(&self, out_of_scope: Option<&str>) -> bool {
        let Outcome::Answer { knowledge } = &self.decision.outcome else { return false };
        let hit = self.decision.evidence.knowledge.iter().find(|k| &k.reference == knowledge);
        match (&self.truth, hit) {
            (Some(t), Some(hit)) => Some(t.as_str()) != out_of_scope && hit.intents.contains(t),
            _ => false,
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    dataset: String,
    mode: &'static str,
    tickets: usize,
    train_examples: usize,
    target_precision: f32,
    metrics: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    windows: Vec<Window>,
}

#[derive(Debug, Serialize)]
struct Window {
    tickets: usize,
    automated: f64,
    precision: f64,
}

pub async fn run(mut settings: Settings, args: EvalArgs) -> anyhow::Result<()> {
    let dataset = datasets::load(&args.path)?;
    let scratch = tempfile::tempdir()?;
    if !matches!(dataset.kind, DatasetKind::Generic) {
        settings.data.dir = scratch.path().to_owned(); // a fresh knowledge base, never the live one
    }
    settings.pipeline.shadow_mode = false;
    settings.pipeline.intent.debounce_seconds = u64::MAX / 4; // eval retrains explicitly
    let kindly = Kindly::build(settings).await?;
    let report = match (dataset.kind, args.replay) {
        (DatasetKind::Intent, true) => replay(&kindly, &dataset, &args).await?,
        (DatasetKind::Intent, false) => intents(&kindly, &dataset, &args).await?,
        (DatasetKind::Emotion, _) => emotions(&kindly, &dataset, &args).await?,
        (DatasetKind::Generic, _) => generic(&kindly, &dataset, &args).await?,
    };
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, markdown(&report)).with_context(|| format!("writing {}", path.display()))?;
    }
    print_table(&report)?; // after the files, which a pipe closed early must not cost
    kindly.store.close().await;
    Ok(())
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{bar:30}} {{pos}}/{{len}} {{per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// One article per intent of the training (and validation) split; out-of-scope examples
/// become imported labels, so the model learns what is not answerable.
async fn build_knowledge(kindly: &Kindly, dataset: &Dataset) -> anyhow::Result<usize> {
    let mut by_intent: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut out_of_scope = Vec::new();
    for e in dataset.train.iter().chain(&dataset.validation) {
        let Some(intent) = e.intent.as_deref() else { continue };
        if Some(intent) == dataset.out_of_scope.as_deref() {
            out_of_scope.push(e.text.clone());
        } else {
            by_intent.entry(intent).or_default().push(e.text.clone());
        }
    }
    let progress = bar(by_intent.len(), "building the knowledge base (one article per intent)");
    let knowledge = kindly.pipeline.knowledge();
    for (n, (intent, questions)) in by_intent.iter().enumerate() {
        knowledge.save(&intent_article(n, intent, questions.clone())).await?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    if !out_of_scope.is_empty() {
        let vectors = kindly_core::Embedder::embed(kindly.embedder.as_ref(), out_of_scope.clone()).await?;
        let intent = dataset.out_of_scope.clone().unwrap_or_default();
        let labels: Vec<Label> = out_of_scope
            .into_iter()
            .zip(vectors)
            .map(|(text, vector)| Label { text, intent: intent.clone(), source: "eval".into(), vector })
            .collect();
        kindly.store.add_labels(&labels).await?;
    }
    Ok(dataset.train.len() + dataset.validation.len())
}

fn intent_article(n: usize, intent: &str, questions: Vec<String>) -> Article {
    Article {
        id: format!("intent-{n:03}"),
        title: intent.replace('_', " "),
        intents: vec![intent.to_owned()],
        questions,
        tags: Vec::new(),
        stage: None,
        status: ArticleStatus::Published,
        body: format!("The answer about {}.", intent.replace('_', " ")),
        updated_at: Utc::now(),
    }
}

async fn train(kindly: &Kindly) -> anyhow::Result<()> {
    let spinner = ProgressBar::new_spinner().with_message("training and calibrating the intent model");
    spinner.enable_steady_tick(Duration::from_millis(120));
    kindly.pipeline.retrain_intent_model().await?.context("the training split has fewer than two intents")?;
    spinner.finish_and_clear();
    Ok(())
}

/// Stores a ticket as intake would, for a customer of its own (no repeat contacts), and
/// triages it with `Pipeline::process`.
async fn triage(kindly: &Kindly, n: usize, text: &str) -> anyhow::Result<Decision> {
    let now = Utc::now();
    let customer = Customer { id: format!("eval-{n}"), email: None, name: None, flagged: None };
    let ticket = NewTicket::validate(&format!("eval-{n}"), customer, None, text, Some("eval"), None, now)?;
    let id = kindly.store.insert_ticket(&ticket, now).await?.ticket.id;
    Ok(kindly.pipeline.process(id).await?)
}

async fn run_tests(
    kindly: &Kindly,
    tests: &[Example],
    args: &EvalArgs,
) -> anyhow::Result<(Vec<Outcome1>, f64)> {
    let progress = bar(tests.len(), "triaging test tickets");
    let started = Instant::now();
    let decisions: Vec<anyhow::Result<Decision>> = futures::stream::iter(tests.iter().enumerate())
        .map(|(n, e)| {
            let progress = progress.clone();
            async move {
                let d = triage(kindly, n, &e.text).await;
                progress.inc(1);
                d
            }
        })
        .buffered(args.concurrency.max(1))
        .collect()
        .await;
    progress.finish_and_clear();
    let seconds_per_ticket = started.elapsed().as_secs_f64() / tests.len().max(1) as f64;
    let outcomes = tests
        .iter()
        .zip(decisions)
        .map(|(e, d)| {
            Ok(Outcome1 {
                truth: e.intent.clone(),
                expect: e.expect,
                emotions: e.emotions.clone(),
                decision: d?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((outcomes, seconds_per_ticket))
}

fn write_decisions<'a>(
    path: &std::path::Path,
    decided: impl IntoIterator<Item = (&'a Example, &'a Outcome1)>,
) -> anyhow::Result<()> {
    let mut lines = String::new();
    for (e, o) in decided {
        let line = serde_json::json!({ "text": e.text, "truth": o.truth, "decision": o.decision });
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    std::fs::write(path, lines).with_context(|| format!("writing {}", path.display()))
}

/// The test split, or an evenly spaced slice of `--limit` tickets (so a slice still covers
/// every intent and the out-of-scope tail).
fn limited(tests: &[Example], args: &EvalArgs) -> Vec<Example> {
    match args.limit {
        Some(limit) if limit > 0 && limit < tests.len() => {
            (0..limit).map(|i| tests[i * tests.len() / limit].clone()).collect()
        }
        _ => tests.to_vec(),
    }
}

async fn intents(kindly: &Kindly, dataset: &Dataset, args: &EvalArgs) -> anyhow::Result<Report> {
    let train_examples = build_knowledge(kindly, dataset).await?;
    train(kindly).await?;
    let tests = limited(&dataset.test, args);
    let (outcomes, seconds) = run_tests(kindly, &tests, args).await?;
    if let Some(path) = &args.decisions {
        write_decisions(path, tests.iter().zip(&outcomes))?;
    }
    let oos = dataset.out_of_scope.as_deref();
    let mut m = BTreeMap::new();
    let in_scope: Vec<&Outcome1> = outcomes.iter().filter(|o| o.truth.as_deref() != oos).collect();
    let truth: Vec<&str> = in_scope.iter().map(|o| o.truth.as_deref().unwrap_or_default()).collect();
    let predicted: Vec<Option<&str>> = in_scope.iter().map(|o| o.predicted()).collect();
    m.insert("intent_accuracy".into(), kindly_pipeline::intent::accuracy(&truth, &predicted) as f64);
    m.insert("intent_macro_f1".into(), kindly_pipeline::intent::macro_f1(&truth, &predicted) as f64);
    let answered = outcomes.iter().filter(|o| o.decision.is_answer()).count();
    let correct = outcomes.iter().filter(|o| o.answered_correctly(oos)).count();
    m.insert("coverage_at_target".into(), ratio(answered, outcomes.len()));
    m.insert("precision_at_target".into(), ratio(correct, answered));
    let predictions: Vec<Prediction> = outcomes
        .iter()
        .filter_map(|o| {
            let i = o.decision.evidence.intent.as_ref()?;
            Some(Prediction {
                intent: i.intent.clone(),
                confidence: i.confidence,
                correct: o.truth.as_deref() == Some(i.intent.as_str()) && o.truth.as_deref() != oos,
            })
        })
        .collect();
    for p in [0.95f32, 0.98, 0.99] {
        let coverage = coverage_at_precision(&predictions, outcomes.len(), p);
        m.insert(format!("coverage_at_precision_{:.2}", p), coverage as f64);
    }
    if oos.is_some() {
        let out: Vec<&Outcome1> = outcomes.iter().filter(|o| o.truth.as_deref() == oos).collect();
        let handed_off = out.iter().filter(|o| !o.decision.is_answer()).count();
        m.insert("out_of_scope_handoff_rate".into(), ratio(handed_off, out.len()));
        let in_correct = in_scope.iter().filter(|o| o.answered_correctly(oos)).count();
        m.insert("in_scope_answered_correctly".into(), ratio(in_correct, in_scope.len()));
        let policy = &kindly.pipeline.settings().policy;
        if let Some((threshold, correct, out)) = one_threshold_at_out_of_scope(&outcomes, oos, policy, 0.95) {
            m.insert("one_threshold_in_scope_answered_correctly".into(), correct);
            m.insert("one_threshold_out_of_scope_handoff_rate".into(), out);
            m.insert("one_threshold_intent_threshold".into(), threshold);
        }
    }
    // Why tickets went to a person: each reason's share of all tickets (a ticket can have several).
    for o in &outcomes {
        for r in &o.decision.reasons {
            *m.entry(format!("handoff_reason_{}", r.code.code())).or_insert(0.0) +=
                1.0 / outcomes.len() as f64;
        }
    }
    // The blend weight training chose on the held-out folds.
    m.insert(
        "intent_head_weight".into(),
        kindly.pipeline.intent_models().current().record().head_weight as f64,
    );
    m.insert("seconds_per_ticket".into(), seconds);
    Ok(report(kindly, dataset, "intent", outcomes.len(), train_examples, m, Vec::new()))
}

/// The reference's way of scoring out of scope: one intent threshold for every intent instead of
/// the calibrated ones, the policy's other checks unchanged (re-run on each ticket's recorded
/// evidence). Returns the threshold with the most in-scope tickets answered correctly while at
/// least `floor` of the out-of-scope ones go to a person, with both shares.
fn one_threshold_at_out_of_scope(
    outcomes: &[Outcome1],
    oos: Option<&str>,
    policy: &kindly_core::PolicySettings,
    floor: f64,
) -> Option<(f64, f64, f64)> {
    let (out, inside): (Vec<&Outcome1>, Vec<&Outcome1>) =
        outcomes.iter().partition(|o| o.truth.as_deref() == oos);
    if out.is_empty() || inside.is_empty() {
        return None;
    }
    let redecided = |o: &Outcome1, threshold: f32| {
        let mut evidence = o.decision.evidence.clone();
        evidence.intent_threshold = threshold;
        let decision = kindly_core::policy::decide(o.decision.ticket_id, evidence, policy, Utc::now());
        Outcome1 { truth: o.truth.clone(), expect: None, emotions: Vec::new(), decision }
    };
    (0..=200)
        .map(|step| step as f32 * 0.005)
        .filter_map(|t| {
            let handed_off = out.iter().filter(|o| !redecided(o, t).decision.is_answer()).count();
            let out_rate = ratio(handed_off, out.len());
            let correct = inside.iter().filter(|o| redecided(o, t).answered_correctly(oos)).count();
            (out_rate >= floor).then(|| (t as f64, ratio(correct, inside.len()), out_rate))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)))
}

/// Emotion sets: does Kindly send the tickets that need a person (any negative emotion in the
/// labels) to a person for an emotional or sensitive reason?
async fn emotions(kindly: &Kindly, dataset: &Dataset, args: &EvalArgs) -> anyhow::Result<Report> {
    const NEEDS_PERSON: [&str; 6] = ["anger", "sadness", "fear", "disgust", "disappointment", "negative"];
    let tests = limited(&dataset.test, args);
    let (outcomes, seconds) = run_tests(kindly, &tests, args).await?;
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for o in &outcomes {
        let gold = o.emotions.iter().any(|e| NEEDS_PERSON.contains(&e.as_str()));
        let flagged = o.decision.reasons.iter().any(|r| is_emotional(r.code));
        match (gold, flagged) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
    }
    let mut m = BTreeMap::new();
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    m.insert("needs_person_precision".into(), precision);
    m.insert("needs_person_recall".into(), recall);
    m.insert(
        "needs_person_f1".into(),
        if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 },
    );
    m.insert("seconds_per_ticket".into(), seconds);
    Ok(report(kindly, dataset, "emotion", outcomes.len(), 0, m, Vec::new()))
}

fn is_emotional(code: HandoffReason) -> bool {
    use HandoffReason::*;
    matches!(
        code,
        AngerOrFrustration
            | StrongEmotion
            | Bereavement
            | Vulnerability
            | SafetyOrInjury
            | LegalThreat
            | ChurnRisk
    )
}

/// Generic JSONL against the configured knowledge base: how often the expected outcome and
/// the labelled intent are met.
async fn generic(kindly: &Kindly, dataset: &Dataset, args: &EvalArgs) -> anyhow::Result<Report> {
    let tests = limited(&dataset.test, args);
    let progress = bar(tests.len(), "assessing");
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for (n, e) in tests.iter().enumerate() {
        let ticket = kindly_core::Ticket {
            id: kindly_core::TicketId::new(),
            external_id: format!("eval-{n}"),
            customer: Customer { id: format!("eval-{n}"), email: None, name: None, flagged: None },
            subject: None,
            body: e.text.clone(),
            channel: "eval".into(),
            status: kindly_core::TicketStatus::Received,
            intent: None,
            created_at: Utc::now(),
            received_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let (decision, _) = kindly.pipeline.assess(&ticket).await?;
        outcomes.push(Outcome1 { truth: e.intent.clone(), expect: e.expect, emotions: Vec::new(), decision });
        progress.inc(1);
    }
    progress.finish_and_clear();
    let mut m = BTreeMap::new();
    let with_expect: Vec<&Outcome1> = outcomes.iter().filter(|o| o.expect.is_some()).collect();
    let met =
        with_expect.iter().filter(|o| (o.expect == Some(Expect::Answer)) == o.decision.is_answer()).count();
    m.insert("expectation_met".into(), ratio(met, with_expect.len()));
    let with_intent: Vec<&Outcome1> = outcomes.iter().filter(|o| o.truth.is_some()).collect();
    let right = with_intent.iter().filter(|o| o.predicted() == o.truth.as_deref()).count();
    m.insert("intent_accuracy".into(), ratio(right, with_intent.len()));
    m.insert(
        "answered".into(),
        ratio(outcomes.iter().filter(|o| o.decision.is_answer()).count(), outcomes.len()),
    );
    m.insert("seconds_per_ticket".into(), started.elapsed().as_secs_f64() / outcomes.len().max(1) as f64);
    Ok(report(kindly, dataset, "generic", outcomes.len(), 0, m, Vec::new()))
}

/// The learning curve of the feedback loop: from an empty knowledge base, every handoff is
/// resolved by a simulated agent with the true intent, as a reusable resolution.
async fn replay(kindly: &Kindly, dataset: &Dataset, args: &EvalArgs) -> anyhow::Result<Report> {
    const SEED: u64 = 13;
    // Live, retraining follows label changes within seconds (debounced); here, every 100 resolutions.
    const RETRAIN_EVERY: usize = 100;
    let tests = limited(&dataset.test, args);
    let mut stream: Vec<&Example> = tests.iter().collect();
    stream.shuffle(&mut rand::rngs::StdRng::seed_from_u64(SEED));
    let progress = bar(stream.len(), "replaying");
    let started = Instant::now();
    let (mut windows, mut answered, mut correct, mut in_window) = (Vec::new(), 0usize, 0usize, 0usize);
    let mut since_training = 0;
    let oos = dataset.out_of_scope.as_deref();
    let mut decided = Vec::new();
    for (n, e) in stream.iter().enumerate() {
        let decision = triage(kindly, n, &e.text).await?;
        let outcome = Outcome1 { truth: e.intent.clone(), expect: None, emotions: Vec::new(), decision };
        in_window += 1;
        if outcome.decision.is_answer() {
            answered += 1;
            correct += usize::from(outcome.answered_correctly(oos));
        } else if let Some(intent) = e.intent.as_deref().filter(|i| Some(*i) != oos) {
            let handoff = kindly.store.ticket_handoffs(outcome.decision.ticket_id).await?;
            let handoff = handoff.first().context("a handed-off ticket has no handoff")?;
            kindly.store.claim(handoff.id, "simulated-agent", Utc::now()).await?;
            let reply = format!("The answer about {}.", intent.replace('_', " "));
            kindly.pipeline.resolve(handoff.id, "simulated-agent", &reply, true, Some(intent)).await?;
            since_training += 1;
        }
        if since_training >= RETRAIN_EVERY {
            kindly.pipeline.retrain_intent_model().await?;
            since_training = 0;
        }
        // Windows of `--window` tickets; a short remainder joins the last window.
        let remaining = stream.len() - (n + 1);
        if (in_window >= args.window && remaining >= args.window / 2) || remaining == 0 {
            windows.push(Window {
                tickets: in_window,
                automated: ratio(answered, in_window),
                precision: ratio(correct, answered),
            });
            (answered, correct, in_window) = (0, 0, 0);
        }
        if args.decisions.is_some() {
            decided.push((*e, outcome));
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if let Some(path) = &args.decisions {
        write_decisions(path, decided.iter().map(|(e, o)| (*e, o)))?;
    }
    let mut m = BTreeMap::new();
    if let Some(last) = windows.last() {
        m.insert("last_window_automated".into(), last.automated);
        m.insert("last_window_precision".into(), last.precision);
    }
    let later = windows.iter().skip(1).map(|w| w.precision).fold(f64::INFINITY, f64::min);
    if later.is_finite() {
        m.insert("min_precision_after_first_window".into(), later);
    }
    m.insert("seconds_per_ticket".into(), started.elapsed().as_secs_f64() / stream.len().max(1) as f64);
    Ok(report(kindly, dataset, "replay", stream.len(), 0, m, windows))
}

fn report(
    kindly: &Kindly,
    dataset: &Dataset,
    mode: &'static str,
    tickets: usize,
    train_examples: usize,
    metrics: BTreeMap<String, f64>,
    windows: Vec<Window>,
) -> Report {
    Report {
        dataset: dataset.name.clone(),
        mode,
        tickets,
        train_examples,
        target_precision: kindly.settings.pipeline.intent.target_precision,
        metrics,
        windows,
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn print_table(r: &Report) -> anyhow::Result<()> {
    outln!("{} ({}): {} tickets, {} training examples", r.dataset, r.mode, r.tickets, r.train_examples);
    for (name, value) in &r.metrics {
        outln!("  {name:<34} {}", format_value(name, *value));
    }
    if !r.windows.is_empty() {
        outln!("  {:<8} {:>8} {:>10} {:>10}", "window", "tickets", "automated", "precision");
        for (i, w) in r.windows.iter().enumerate() {
            outln!(
                "  {:<8} {:>8} {:>9.1}% {:>9.1}%",
                i + 1,
                w.tickets,
                100.0 * w.automated,
                100.0 * w.precision
            );
        }
    }
    Ok(())
}

fn format_value(name: &str, value: f64) -> String {
    if name.starts_with("seconds") {
        format!("{:.1} ms", value * 1000.0)
    } else {
        format!("{:.1}%", value * 100.0)
    }
}

fn markdown(r: &Report) -> String {
    let mut out = format!("### {} ({})\n\n| metric | value |\n|---|---|\n", r.dataset, r.mode);
    for (name, value) in &r.metrics {
        out.push_str(&format!("| {name} | {} |\n", format_value(name, *value)));
    }
    if !r.windows.is_empty() {
        out.push_str("\n| window | tickets | automated | precision |\n|---|---|---|---|\n");
        for (i, w) in r.windows.iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | {:.1}% | {:.1}% |\n",
                i + 1,
                w.tickets,
                100.0 * w.automated,
                100.0 * w.precision
            ));
        }
    }
    out
}
