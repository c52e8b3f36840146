//! `kindly bench`: measurements printed as ratios taken side by side in one run, because absolute
//! timings on shared machines are noisy.
//!
//! - embedding throughput at batch sizes 1, 8 and 32, Kindly's candle embedder against the
//!   reference sentence-transformers (PyTorch) on the same texts;
//! - single-ticket triage latency (p50, p99) through the real pipeline;
//! - exact search over 100k × 384 vectors: the SIMD scan against a plain scalar loop;
//! - catching up with one article another process changed, over the same 100k points: reading
//!   that record's points against reloading every point;
//! - training a linear head shaped like CLINC150's intent head: hand-derived gradients against
//!   candle's autograd, on the same examples.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use kindly_core::{
    Customer, Point, PointKind, PointStatus, PointStore, SearchFilter, Source, Ticket, TicketId,
    TicketStatus, VectorIndex,
};
use kindly_index::ExactIndex;
use kindly_model::{SentenceEmbedder, TrainOptions};
use kindly_server::{Kindly, Settings};
use kindly_store::SqliteStore;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// How many texts to embed per batch size.
    #[arg(long, default_value_t = 512)]
    texts: usize,
    /// Timed rounds per measurement (the best is kept).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Python with sentence-transformers installed (`make bench` makes .venv-bench).
    #[arg(long, default_value = ".venv-bench/bin/python")]
    python: PathBuf,
    /// Vectors in the index search benchmark.
    #[arg(long, default_value_t = 100_000)]
    index_size: usize,
    /// Skip the reference implementation (prints Kindly's numbers only).
    #[arg(long)]
    no_reference: bool,
}

const BATCH_SIZES: [usize; 3] = [1, 8, 32];

pub async fn run(settings: Settings, args: BenchArgs) -> anyhow::Result<()> {
    let texts = bench_texts(args.texts)?;
    outln!(
        "kindly bench: {} texts ({}), {} round(s) each, best kept",
        texts.len(),
        texts_source(),
        args.rounds
    );

    outln!("\n## Embedding throughput (texts/s)");
    let ours = embed_throughput(&settings.model.dir, &texts, args.rounds)?;
    let reference =
        if args.no_reference { None } else { reference_throughput(&args, &settings.model.dir, &texts)? };
    outln!("| batch | kindly (candle) | sentence-transformers (torch) | ratio kindly/reference |");
    outln!("|---:|---:|---:|---:|");
    for (size, ours) in &ours {
        let theirs = reference.as_ref().and_then(|r| r.get(size.to_string())).and_then(|v| v.as_f64());
        match theirs {
            Some(t) => outln!("| {size} | {ours:.1} | {t:.1} | {:.2}× |", ours / t),
            None => outln!("| {size} | {ours:.1} | (not measured) | – |"),
        }
    }
    if let Some(threads) = reference.as_ref().and_then(|r| r.get("torch_threads")) {
        outln!(
            "(torch threads: {threads}; candle threads: {})",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }

    outln!("\n## Single-ticket triage latency (real pipeline, sample knowledge base)");
    let (p50, p99, n) = triage_latency(settings.clone(), &texts).await?;
    outln!("{n} tickets one at a time: p50 {:.1} ms, p99 {:.1} ms", ms(p50), ms(p99));

    outln!("\n## Exact search over {} × 384 vectors", args.index_size);
    let t = search_latency(args.index_size).await?;
    outln!("| scan | median per query |\n|---|---:|");
    outln!("| kindly ExactIndex (simsimd) | {:.2} ms |", ms(t.simd));
    outln!("| plain scalar loop, same data | {:.2} ms |", ms(t.scalar));
    outln!("ratio scalar/simd: {:.2}×", t.scalar.as_secs_f64() / t.simd.as_secs_f64());
    outln!("\n## Catching up with one article (12 points) saved by another process, same index");
    outln!("| catch-up | median |\n|---|---:|");
    outln!("| kindly refresh (the changed record's points) | {:.2} ms |", ms(t.catch_up));
    outln!("| reloading every point | {:.2} ms |", ms(t.full_reload));
    outln!("ratio reload/refresh: {:.0}×", t.full_reload.as_secs_f64() / t.catch_up.as_secs_f64());

    let shape = HeadShape::CLINC150;
    outln!(
        "\n## Training a linear head ({} inputs × {} intents, {} examples, one epoch of batches of {})",
        shape.inputs,
        shape.labels,
        shape.examples,
        TrainOptions::default().batch_size
    );
    let (by_hand, autograd, gap) = head_training(shape)?;
    outln!("| gradients | per step |\n|---|---:|");
    outln!("| by hand (kindly's linear heads) | {:.2} ms |", ms(by_hand));
    outln!("| candle autograd | {:.2} ms |", ms(autograd));
    outln!(
        "ratio autograd/by hand: {:.2}×; largest difference in a predicted probability: {gap:.1e}",
        autograd.as_secs_f64() / by_hand.as_secs_f64()
    );
    Ok(())
}

/// The size of a head-training benchmark.
#[derive(Debug, Clone, Copy)]
struct HeadShape {
    /// The sentence embedding's width, at the start of each input row.
    embedding: usize,
    inputs: usize,
    labels: usize,
    examples: usize,
}

impl HeadShape {
    /// The intent head of `kindly eval` on CLINC150: a 384-wide embedding, then 1,024 n-gram and
    /// 2,048 word buckets (about 100 of them set per question), 151 intents, 18,350 examples; one
    /// epoch instead of the real training's 30, which only repeat the same steps.
    const CLINC150: Self = Self { embedding: 384, inputs: 3456, labels: 151, examples: 18_350 };
}

/// Time per optimiser step of each path on the same synthetic examples, and how far apart the
/// two trained heads' probabilities are.
fn head_training(shape: HeadShape) -> anyhow::Result<(Duration, Duration, f32)> {
    use kindly_model::{Head, HeadKind, HeadSpec, Targets};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut inputs = vec![0f32; shape.examples * shape.inputs];
    let classes: Vec<u32> = (0..shape.examples).map(|i| (i % shape.labels) as u32).collect();
    for (row, class) in inputs.chunks_mut(shape.inputs).zip(&classes) {
        for (j, x) in row[..shape.embedding].iter_mut().enumerate() {
            *x = rng.random::<f32>() - 0.5 + if j % shape.labels == *class as usize { 0.5 } else { 0.0 };
        }
        for _ in 0..100 {
            row[rng.random_range(shape.embedding..shape.inputs)] = rng.random::<f32>() * 0.1;
        }
    }
    let spec = HeadSpec {
        kind: HeadKind::SingleLabel,
        labels: (0..shape.labels).map(|l| format!("intent-{l}")).collect(),
        dimension: shape.inputs,
        hidden: 0,
        activation: Default::default(),
    };
    let options = TrainOptions { epochs: 1, ..TrainOptions::default() };
    let steps = shape.examples.div_ceil(options.batch_size) as u32;
    let timed =
        |train: fn(HeadSpec, &[f32], Targets, &TrainOptions) -> Result<Head, kindly_model::ModelError>| {
            let started = Instant::now();
            let head = train(spec.clone(), &inputs, Targets::Classes(&classes), &options)?;
            anyhow::Ok((started.elapsed() / steps, head.predict(&inputs[..64 * shape.inputs])?))
        };
    let (by_hand, a) = timed(Head::train)?;
    let (autograd, b) = timed(Head::train_with_autograd)?;
    let gap = a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    Ok((by_hand, autograd, gap))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

const BANKING77: &str = "../shared/data/banking77/test.csv";

fn texts_source() -> &'static str {
    if std::path::Path::new(BANKING77).exists() {
        "BANKING77 test queries"
    } else {
        "knowledge-base questions"
    }
}

/// Real customer-style texts: BANKING77's test split when present, else the sample KB questions.
fn bench_texts(n: usize) -> anyhow::Result<Vec<String>> {
    let mut texts = Vec::new();
    if let Ok(raw) = std::fs::read_to_string(BANKING77) {
        let mut reader = csv_lines(&raw);
        texts.extend(reader.by_ref().take(n));
    } else {
        let dir = std::path::Path::new("knowledge-base");
        for entry in std::fs::read_dir(dir).context("reading knowledge-base/")? {
            let text = std::fs::read_to_string(entry?.path())?;
            if let Ok(a) = kindly_pipeline::knowledge::parse_article(&text, Utc::now()) {
                texts.extend(a.questions);
            }
        }
    }
    anyhow::ensure!(!texts.is_empty(), "no benchmark texts found");
    let base = texts.clone();
    while texts.len() < n {
        texts.extend(base.iter().take(n - texts.len()).cloned());
    }
    Ok(texts)
}

/// The first column of a two-column CSV with a header (quoted fields allowed).
fn csv_lines(raw: &str) -> impl Iterator<Item = String> + '_ {
    raw.lines().skip(1).filter_map(|line| {
        let text = match line.strip_prefix('"') {
            Some(rest) => rest.rsplit_once("\",")?.0.replace("\"\"", "\""),
            None => line.rsplit_once(',')?.0.to_owned(),
        };
        (!text.is_empty()).then_some(text)
    })
}

fn embed_throughput(
    model_dir: &std::path::Path,
    texts: &[String],
    rounds: usize,
) -> anyhow::Result<Vec<(usize, f64)>> {
    let model = SentenceEmbedder::load(model_dir)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    model.embed(&refs[..32.min(refs.len())])?; // warm-up
    let mut out = Vec::new();
    for size in BATCH_SIZES {
        let mut best = 0.0f64;
        for _ in 0..rounds.max(1) {
            let start = Instant::now();
            for chunk in refs.chunks(size) {
                model.embed(chunk)?;
            }
            best = best.max(refs.len() as f64 / start.elapsed().as_secs_f64());
        }
        out.push((size, best));
    }
    Ok(out)
}

fn reference_throughput(
    args: &BenchArgs,
    model_dir: &std::path::Path,
    texts: &[String],
) -> anyhow::Result<Option<serde_json::Value>> {
    if !args.python.exists() {
        outln!("(reference skipped: {} not found; `make bench` installs it)", args.python.display());
        return Ok(None);
    }
    let file = std::env::temp_dir().join(format!("kindly-bench-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(texts)?)?;
    let sizes = BATCH_SIZES.map(|s| s.to_string()).join(",");
    let output = std::process::Command::new(&args.python)
        .arg("scripts/bench_reference.py")
        .arg(model_dir)
        .arg(&file)
        .arg(sizes)
        .arg(args.rounds.to_string())
        .output()
        .context("running the reference benchmark")?;
    let _ = std::fs::remove_file(&file);
    anyhow::ensure!(
        output.status.success(),
        "reference benchmark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned();
    Ok(Some(serde_json::from_str(&line).context("reading the reference's output")?))
}

async fn triage_latency(
    mut settings: Settings,
    texts: &[String],
) -> anyhow::Result<(Duration, Duration, usize)> {
    let dir = tempfile::tempdir()?;
    settings.data.dir = dir.path().to_owned();
    let kb = settings.knowledge.dir.clone();
    let kindly = Kindly::build(settings).await?;
    kindly.pipeline.knowledge().ingest_dir(&kb, &indicatif::ProgressBar::hidden()).await?;
    let n = texts.len().min(200);
    let mut times = Vec::with_capacity(n);
    for text in &texts[..n] {
        let now = Utc::now();
        let ticket = Ticket {
            id: TicketId::new(),
            external_id: "bench".into(),
            customer: Customer { id: "bench".into(), email: None, name: None, flagged: None },
            subject: None,
            body: text.clone(),
            channel: "bench".into(),
            status: TicketStatus::Received,
            intent: None,
            created_at: now,
            received_at: now,
            updated_at: now,
        };
        let start = Instant::now();
        kindly.pipeline.assess(&ticket).await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[n / 2], times[(n * 99 / 100).min(n - 1)], n))
}

/// Deterministic pseudo-random unit vectors (xorshift), so runs compare like with like.
fn unit_vectors(n: usize, dim: usize) -> Vec<Vec<f32>> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            let mut v: Vec<f32> = (0..dim)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            v
        })
        .collect()
}

/// Median times of the search benchmark.
struct SearchTimes {
    simd: Duration,
    scalar: Duration,
    /// `refresh` after another process replaced one article's points.
    catch_up: Duration,
    /// Reading every point, what `refresh` did before the store logged which records changed
    /// (and still does for an index more than the log's length behind).
    full_reload: Duration,
}

async fn search_latency(n: usize) -> anyhow::Result<SearchTimes> {
    const DIM: usize = 384;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store = Arc::new(SqliteStore::open(&path).await?);
    let vectors = unit_vectors(n, DIM);
    for (c, chunk) in vectors.chunks(5_000).enumerate() {
        let ref_id = format!("bench-{c}");
        let points = article_points(&ref_id, PointKind::Chunk, chunk, |_| String::new());
        store.replace_points(Source::Article, &ref_id, &points).await?;
    }
    let index = ExactIndex::load(store.clone(), DIM).await?;
    let (catch_up, full_reload) = catch_up_latency(&index, store, &path, &vectors[..12]).await?;
    let queries = unit_vectors(50, DIM);
    let mut simd = Vec::new();
    for q in &queries {
        let start = Instant::now();
        index.search(q.clone(), 10, SearchFilter::default()).await?;
        simd.push(start.elapsed());
    }
    let flat: Vec<f32> = vectors.concat();
    let mut scalar = Vec::new();
    for q in &queries {
        let start = Instant::now();
        let mut best = (f32::MIN, 0usize);
        for (row, v) in flat.chunks_exact(DIM).enumerate() {
            let s: f32 = v.iter().zip(q).map(|(a, b)| a * b).sum();
            if s > best.0 {
                best = (s, row);
            }
        }
        std::hint::black_box(best);
        scalar.push(start.elapsed());
    }
    simd.sort();
    scalar.sort();
    Ok(SearchTimes { simd: simd[simd.len() / 2], scalar: scalar[scalar.len() / 2], catch_up, full_reload })
}

/// Another process (a second store over the same file, as `kindly kb ingest` beside the server)
/// saves one article of 12 points, 20 times; each time the index catches up. Then five full
/// loads. Medians.
async fn catch_up_latency(
    index: &ExactIndex,
    store: Arc<SqliteStore>,
    path: &std::path::Path,
    article: &[Vec<f32>],
) -> anyhow::Result<(Duration, Duration)> {
    let other = SqliteStore::open(path).await?;
    let mut catch_up = Vec::new();
    for round in 0..20 {
        let points = article_points("kb-bench", PointKind::Question, article, |i| {
            format!("question {i}, version {round}")
        });
        other.replace_points(Source::Article, "kb-bench", &points).await?;
        let start = Instant::now();
        anyhow::ensure!(index.refresh().await?, "the index missed another process's write");
        catch_up.push(start.elapsed());
    }
    let dim = article[0].len();
    let mut full = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        std::hint::black_box(ExactIndex::load(store.clone(), dim).await?);
        full.push(start.elapsed());
    }
    catch_up.sort();
    full.sort();
    Ok((catch_up[catch_up.len() / 2], full[full.len() / 2]))
}

/// An approved article's points, one per vector, each of `kind` with the text `text(i)`.
fn article_points(
    ref_id: &str,
    kind: PointKind,
    vectors: &[Vec<f32>],
    text: impl Fn(usize) -> String,
) -> Vec<Point> {
    vectors
        .iter()
        .enumerate()
        .map(|(i, v)| Point {
            id: Point::stable_id(Source::Article, ref_id, kind, i),
            source: Source::Article,
            ref_id: ref_id.to_owned(),
            kind,
            status: PointStatus::Approved,
            intent: None,
            text: text(i),
            vector: v.clone(),
        })
        .collect()
}
