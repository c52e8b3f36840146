//! Subcommands: serve, kb ingest, triage, bench, train-heads, users, tokens.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kindly_core::{Customer, KnowledgeStore, NewTicket, Ticket, TicketId, TicketStatus};
use kindly_server::{Kindly, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "kindly",
    version,
    about = "Local-first support triage: answers routine tickets, hands the rest to people."
)]
pub struct Cli {
    /// A TOML settings file (environment variables KINDLY__SECTION__KEY override it).
    #[arg(long, global = true, env = "KINDLY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API and run the triage worker.
    Serve {
        /// Ingest this knowledge-base folder before serving.
        #[arg(long)]
        ingest: Option<PathBuf>,
    },
    /// Manage the knowledge base.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// Decide one ticket without a server and print the decision and its evidence as JSON.
    Triage {
        /// The customer's message.
        text: String,
        /// Print the decision in plain words instead of JSON.
        #[arg(long)]
        explain: bool,
        /// The customer's id (their history counts towards repeat contact).
        #[arg(long, default_value = "cli")]
        customer: String,
    },
    /// Measure embedding throughput, triage latency and index search against the reference.
    Bench(crate::bench::BenchArgs),
    /// Train the emotion heads on public data (GoEmotions, Twitter airline sentiment) and write
    /// them with a manifest of their data, command and scores.
    TrainHeads(crate::train_heads::TrainHeadsArgs),
    /// Run the real pipeline on a labelled dataset and report accuracy, coverage and precision.
    Eval(crate::eval::EvalArgs),
    /// People who sign in to the console and the studio.
    Users {
        #[command(subcommand)]
        command: crate::accounts::UsersCommand,
    },
    /// API tokens for the JSON API (bearer tokens carrying a role).
    Tokens {
        #[command(subcommand)]
        command: crate::accounts::TokensCommand,
    },
    /// Copy the whole database to a new file, consistently, while Kindly keeps serving.
    Backup {
        /// The file to write (it must not exist yet).
        path: PathBuf,
    },
    /// Labelled examples for the intent model.
    Labels {
        #[command(subcommand)]
        command: LabelsCommand,
    },
    /// Print the JSON API's OpenAPI 3.1 description (what `GET /openapi.json` serves).
    Openapi,
}

#[derive(Debug, Subcommand)]
enum LabelsCommand {
    /// Import labelled history: CSV with `text` and `intent` (or `category`) columns, or JSONL
    /// `{"text": …, "intent": …}`. Embeds every text and retrains the intent model.
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum KbCommand {
    /// Embed and index every `kb-*.md` article of a folder; remove articles whose file is gone.
    Ingest {
        /// The knowledge-base folder (default: knowledge.dir from the settings).
        dir: Option<PathBuf>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Openapi = cli.command {
        return print_openapi();
    }
    let settings = Settings::load(cli.config.as_deref()).map_err(anyhow::Error::msg)?;
    match cli.command {
        Command::Serve { ingest } => serve(settings, ingest).await,
        Command::Kb { command: KbCommand::Ingest { dir } } => {
            let dir = dir.unwrap_or_else(|| settings.knowledge.dir.clone());
            let kindly = Kindly::build(settings).await?;
            ingest(&kindly, &dir).await
        }
        Command::Triage { text, explain, customer } => triage(settings, &text, &customer, explain).await,
        Command::Bench(args) => crate::bench::run(settings, args).await,
        Command::Eval(args) => crate::eval::run(settings, args).await,
        Command::Labels { command: LabelsCommand::Import { file } } => {
            let kindly = Kindly::build(settings).await?;
            let added = crate::labels::import(&kindly, &file).await?;
            eprintln!("{added} new labels from {}", file.display());
            train_intent_model(&kindly).await
        }
        Command::Backup { path } => {
            let store = crate::accounts::open(&settings).await?;
            store.backup_to(&path).await.with_context(|| format!("backing up to {}", path.display()))?;
            eprintln!("backed up {} to {}", settings.data.database().display(), path.display());
            Ok(())
        }
        Command::Openapi => print_openapi(),
        Command::Users { command } => crate::accounts::users(settings, command).await,
        Command::Tokens { command } => crate::accounts::tokens(settings, command).await,
        Command::TrainHeads(args) => {
            // minutes of CPU-bound embedding and training: off the async runtime
            let model_dir = settings.model.dir.clone();
            tokio::task::spawn_blocking(move || crate::train_heads::run(&model_dir, &args)).await?
        }
    }
}

/// The API's description needs no settings, model or data: it is the code's.
fn print_openapi() -> anyhow::Result<()> {
    outln!("{}", kindly_server::openapi_json());
    Ok(())
}

async fn serve(settings: Settings, ingest_dir: Option<PathBuf>) -> anyhow::Result<()> {
    tracing::info!(settings = %serde_json::to_string(&settings)?, "starting");
    let listener = tokio::net::TcpListener::bind(settings.server.bind)
        .await
        .with_context(|| format!("binding {}", settings.server.bind))?;
    let kindly = Kindly::build(settings).await?;
    crate::accounts::first_admin(&kindly.store, &kindly.settings).await?;
    if let Some(dir) = ingest_dir {
        ingest(&kindly, &dir).await?;
    }
    kindly.run_until_stopped(listener, kindly_server::shutdown_signal()).await
}

async fn ingest(kindly: &Kindly, dir: &std::path::Path) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} ingesting {bar:30} {pos}/{len} articles {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let report = kindly.pipeline.knowledge().ingest_dir(dir, &bar).await?;
    eprintln!(
        "knowledge base {}: {} created, {} updated, {} unchanged, {} removed; {} points indexed",
        dir.display(),
        report.created,
        report.updated,
        report.unchanged,
        report.removed,
        report.points
    );
    if kindly.pipeline.load_intent_model_checked().await? {
        train_intent_model(kindly).await?;
    }
    Ok(())
}

/// Trains the intent model now and says how it did on held-out folds.
async fn train_intent_model(kindly: &Kindly) -> anyhow::Result<()> {
    let spinner = ProgressBar::new_spinner().with_message("training the intent model");
    spinner.enable_steady_tick(Duration::from_millis(120));
    let version = kindly.pipeline.retrain_intent_model().await?;
    spinner.finish_and_clear();
    let model = kindly.pipeline.intent_models().current();
    let r = model.record();
    match version {
        Some(v) => eprintln!(
            "intent model v{v}: {} examples, {} intents, head weight {}; held-out accuracy {:.1}%, answered {:.1}% at precision {:.1}% (target {:.0}%)",
            r.examples,
            r.labels.len(),
            r.head_weight,
            100.0 * r.scores.accuracy,
            100.0 * r.scores.coverage,
            100.0 * r.scores.precision,
            100.0 * r.thresholds.target_precision
        ),
        None => eprintln!("intent model: fewer than two intents, nothing to train"),
    }
    Ok(())
}

async fn triage(settings: Settings, text: &str, customer: &str, explain: bool) -> anyhow::Result<()> {
    let kb_dir = settings.knowledge.dir.clone();
    let kindly = Kindly::build(settings).await?;
    if kindly.store.articles().await?.is_empty() {
        eprintln!("the knowledge base is empty; ingesting {} first", kb_dir.display());
        ingest(&kindly, &kb_dir).await?;
    }
    let now = Utc::now();
    let new = NewTicket::validate(
        "cli",
        Customer { id: customer.into(), email: None, name: None, flagged: None },
        None,
        text,
        Some("cli"),
        None,
        now,
    )?;
    let ticket = Ticket {
        id: TicketId::new(),
        external_id: new.external_id,
        customer: new.customer,
        subject: new.subject,
        body: new.body,
        channel: new.channel,
        status: TicketStatus::Received,
        intent: None,
        created_at: now,
        received_at: now,
        updated_at: now,
    };
    let (decision, reply) = kindly.pipeline.assess(&ticket).await?;
    if explain {
        outln!("{}", decision.summary);
        for hit in decision.evidence.knowledge.iter().take(3) {
            outln!("  knowledge: {} \"{}\" {:.2} ({:?})", hit.reference, hit.title, hit.score, hit.status);
        }
        for s in decision.evidence.sensitivity.iter().filter(|s| s.score >= s.threshold - 0.1) {
            outln!("  sensitivity: {:?} {:.2} (threshold {:.2})", s.category, s.score, s.threshold);
        }
        if let Some(reply) = reply {
            outln!("\n{reply}");
        }
    } else {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "decision": decision, "reply": reply }))?
        );
    }
    Ok(())
}
