//! Labelled evaluation data, read in place from each public dataset's own format (see
//! `../shared/data/INDEX.md`): nothing is converted or copied into the repository.
//!
//! [`load`] detects the format from the path:
//!
//! | format | path | labels |
//! |---|---|---|
//! | BANKING77 | folder with `train.csv`, `test.csv` (text,category) | intent |
//! | CLINC150 / OOS-eval | `data_*.json` (or a folder with `data_full.json`) | intent, `oos` |
//! | HWU64 | folder with `{train,valid,test}/{seq.in,label}` | intent |
//! | GoEmotions | folder with `{train,dev,test}.tsv`, `emotions.txt`, `ekman_mapping.json` | Ekman emotions |
//! | Twitter airline sentiment | `Tweets.csv` (or its folder) | `negative` |
//! | generic | `*.jsonl`: `{"text", "intent"?, "expect"?}` per line, all in `test` | intent, expect |

// `kindly train-heads` reads the emotion sets; the intent sets and `expect` are for `kindly eval`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use kindly_pipeline::LabelGroup;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// What a ticket should end in: an automatic answer or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Answer,
    Handoff,
}

/// Which labels a dataset carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    Intent,
    Emotion,
    Generic,
}

/// One labelled text.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub intent: Option<String>,
    pub expect: Option<Expect>,
    /// Emotion labels present (GoEmotions: Ekman groups, `neutral`, `disappointment`; Twitter
    /// airline: `negative`); empty when none or not labelled.
    pub emotions: Vec<String>,
    /// GoEmotions' own labels (27 emotions and `neutral`) behind `emotions`; empty elsewhere.
    pub raw_emotions: Vec<String>,
}

impl Example {
    fn intent(text: String, intent: String) -> Self {
        Self { text, intent: Some(intent), expect: None, emotions: Vec::new(), raw_emotions: Vec::new() }
    }

    fn emotions(text: String, emotions: Vec<String>, raw_emotions: Vec<String>) -> Self {
        Self { text, intent: None, expect: None, emotions, raw_emotions }
    }
}

/// A dataset's splits. Splits the source does not have are empty.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub kind: DatasetKind,
    pub train: Vec<Example>,
    pub validation: Vec<Example>,
    pub test: Vec<Example>,
    /// The intent label that means "out of scope" (`oos` for CLINC150), if the dataset has one.
    pub out_of_scope: Option<String>,
}

const FORMATS: &str = "a BANKING77 folder (train.csv, test.csv), a CLINC150 data_*.json, an HWU64 folder \
    (train/, valid/, test/ with seq.in and label), a GoEmotions folder (train.tsv, dev.tsv, test.tsv, \
    emotions.txt, ekman_mapping.json), a Twitter airline Tweets.csv, or a *.jsonl file";

/// Reads the dataset at `path`, detecting its format from the path (a file or a folder).
pub fn load(path: &Path) -> anyhow::Result<Dataset> {
    let has = |name: &str| path.join(name).is_file();
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let dataset = if path.is_dir() {
        if has("train.tsv") && has("dev.tsv") && has("test.tsv") && has("emotions.txt") {
            goemotions(path)
        } else if has("train.csv") && has("test.csv") {
            banking77(path)
        } else if has("train/seq.in") && has("train/label") {
            hwu64(path)
        } else if has("Tweets.csv") {
            twitter_airline(&path.join("Tweets.csv"))
        } else if has("data_full.json") {
            clinc150(&path.join("data_full.json"))
        } else {
            bail!("{}: no dataset format recognised in this folder; accepted: {FORMATS}", path.display())
        }
    } else if path.is_file() {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => generic_jsonl(path),
            Some("json") => clinc150(path),
            Some("csv") if file_name == "Tweets.csv" => twitter_airline(path),
            _ => bail!("{}: no dataset format recognised for this file; accepted: {FORMATS}", path.display()),
        }
    } else {
        bail!("{}: no such file or folder; accepted: {FORMATS}", path.display())
    };
    dataset.with_context(|| format!("reading dataset {}", path.display()))
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn banking77(dir: &Path) -> anyhow::Result<Dataset> {
    let split = |name: &str| -> anyhow::Result<Vec<Example>> {
        let path = dir.join(name);
        let mut reader =
            csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let headers = reader.headers()?.clone();
        let column = |wanted: &str| {
            headers
                .iter()
                .position(|h| h == wanted)
                .with_context(|| format!("{}: no column {wanted}", path.display()))
        };
        let (text, category) = (column("text")?, column("category")?);
        reader
            .records()
            .map(|row| {
                let row = row.with_context(|| path.display().to_string())?;
                Ok(Example::intent(row[text].to_owned(), row[category].to_owned()))
            })
            .collect()
    };
    Ok(Dataset {
        name: "banking77".into(),
        kind: DatasetKind::Intent,
        train: split("train.csv")?,
        validation: Vec::new(),
        test: split("test.csv")?,
        out_of_scope: None,
    })
}

/// CLINC150 / OOS-eval: in-scope `[text, intent]` pairs per split, plus `oos_*` rows merged into
/// the matching split with the intent `oos`.
fn clinc150(path: &Path) -> anyhow::Result<Dataset> {
    let mut splits: BTreeMap<String, Vec<(String, String)>> = serde_json::from_str(&read(path)?)
        .with_context(|| format!("{}: not CLINC150 json", path.display()))?;
    let mut take = |name: &str| -> anyhow::Result<Vec<Example>> {
        let in_scope =
            splits.remove(name).with_context(|| format!("{}: no \"{name}\" split", path.display()))?;
        let out_of_scope = splits.remove(&format!("oos_{name}")).unwrap_or_default();
        Ok(in_scope
            .into_iter()
            .map(|(text, intent)| Example::intent(text, intent))
            .chain(out_of_scope.into_iter().map(|(text, _)| Example::intent(text, OUT_OF_SCOPE.into())))
            .collect())
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("data");
    Ok(Dataset {
        name: format!("clinc150/{stem}"),
        kind: DatasetKind::Intent,
        train: take("train")?,
        validation: take("val")?,
        test: take("test")?,
        out_of_scope: Some(OUT_OF_SCOPE.into()),
    })
}

const OUT_OF_SCOPE: &str = "oos";

fn hwu64(dir: &Path) -> anyhow::Result<Dataset> {
    let split = |name: &str| -> anyhow::Result<Vec<Example>> {
        let texts = read(&dir.join(name).join("seq.in"))?;
        let labels = read(&dir.join(name).join("label"))?;
        let (texts, labels): (Vec<&str>, Vec<&str>) = (texts.lines().collect(), labels.lines().collect());
        if texts.len() != labels.len() {
            bail!("{name}/seq.in has {} lines but {name}/label has {}", texts.len(), labels.len());
        }
        Ok(texts
            .into_iter()
            .zip(labels)
            .map(|(t, l)| Example::intent(t.trim().into(), l.trim().into()))
            .collect())
    };
    Ok(Dataset {
        name: "hwu64".into(),
        kind: DatasetKind::Intent,
        train: split("train")?,
        validation: split("valid")?,
        test: split("test")?,
        out_of_scope: None,
    })
}

/// GoEmotions' labels and how Kindly groups them: the Ekman groups (anger, disgust, fear, joy,
/// sadness, surprise), `neutral`, and `disappointment` (also kept apart from sadness: it is what a
/// let-down customer shows). Groups may share members.
#[derive(Debug, Clone, PartialEq)]
pub struct EmotionTaxonomy {
    /// The rows of `emotions.txt`: label ids index it.
    pub raw_labels: Vec<String>,
    /// Each group and the raw labels it gathers, Ekman groups first (as in
    /// `ekman_mapping.json`), then `neutral` and `disappointment`.
    pub groups: Vec<LabelGroup>,
}

impl EmotionTaxonomy {
    /// Reads `emotions.txt` and `ekman_mapping.json` from a GoEmotions folder.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let raw_labels: Vec<String> = read(&dir.join("emotions.txt"))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(Into::into)
            .collect();
        let ekman: BTreeMap<String, Vec<String>> =
            serde_json::from_str(&read(&dir.join("ekman_mapping.json"))?)
                .context("ekman_mapping.json: expected {group: [emotion, ...]}")?;
        let mut groups: Vec<LabelGroup> =
            ekman.into_iter().map(|(label, members)| LabelGroup { label, members }).collect();
        for own in ["neutral", "disappointment"] {
            if raw_labels.iter().any(|l| l == own) {
                groups.push(LabelGroup { label: own.into(), members: vec![own.into()] });
            }
        }
        if let Some((group, unknown)) = groups
            .iter()
            .find_map(|g| g.members.iter().find(|m| !raw_labels.contains(m)).map(|m| (&g.label, m)))
        {
            bail!("ekman_mapping.json: {group} lists {unknown:?}, which emotions.txt does not have");
        }
        Ok(Self { raw_labels, groups })
    }

    /// The groups a raw label belongs to.
    fn groups_of(&self, raw: &str) -> impl Iterator<Item = &String> {
        self.groups.iter().filter(move |g| g.members.iter().any(|m| m == raw)).map(|g| &g.label)
    }
}

/// GoEmotions, each example labelled with its groups (see [`EmotionTaxonomy`]) and its raw labels.
fn goemotions(dir: &Path) -> anyhow::Result<Dataset> {
    let taxonomy = EmotionTaxonomy::load(dir)?;
    let split = |name: &str| -> anyhow::Result<Vec<Example>> {
        read(&dir.join(name))?
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                let at = || format!("{name} line {}", i + 1);
                // text \t label ids \t comment id; split from the right so a tab in the text stays text
                let mut fields = line.rsplitn(3, '\t');
                let (_id, ids, text) = (fields.next(), fields.next(), fields.next());
                let (Some(ids), Some(text)) = (ids, text) else {
                    bail!("{}: expected 3 tab-separated fields", at())
                };
                let (mut emotions, mut raw_emotions) = (Vec::new(), Vec::new());
                for id in ids.split(',') {
                    let raw = id
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| taxonomy.raw_labels.get(i))
                        .with_context(|| format!("{}: unknown label id {id:?}", at()))?;
                    emotions.extend(taxonomy.groups_of(raw).cloned());
                    raw_emotions.push(raw.clone());
                }
                emotions.sort();
                emotions.dedup();
                raw_emotions.sort();
                raw_emotions.dedup();
                Ok(Example::emotions(text.to_owned(), emotions, raw_emotions))
            })
            .collect()
    };
    Ok(Dataset {
        name: "goemotions".into(),
        kind: DatasetKind::Emotion,
        train: split("train.tsv")?,
        validation: split("dev.tsv")?,
        test: split("test.tsv")?,
        out_of_scope: None,
    })
}

/// The seed of the Twitter airline split. The dataset has no official split, so the rows are
/// shuffled with `StdRng::seed_from_u64(42)` and the first 80% become `train`, the rest `test`.
pub const TWITTER_SPLIT_SEED: u64 = 42;

/// Twitter US airline sentiment: `emotions` is `["negative"]` for negative tweets, else empty.
fn twitter_airline(path: &Path) -> anyhow::Result<Dataset> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |wanted: &str| {
        headers.iter().position(|h| h == wanted).with_context(|| format!("no column {wanted}"))
    };
    let (text, sentiment) = (column("text")?, column("airline_sentiment")?);
    let mut rows = reader
        .records()
        .map(|row| {
            let row = row?;
            let negative = row[sentiment].trim() == "negative";
            Ok(Example::emotions(
                row[text].to_owned(),
                if negative { vec!["negative".into()] } else { Vec::new() },
                Vec::new(),
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    rows.shuffle(&mut StdRng::seed_from_u64(TWITTER_SPLIT_SEED));
    let test = rows.split_off(rows.len() * 8 / 10);
    Ok(Dataset {
        name: "twitter_airline".into(),
        kind: DatasetKind::Emotion,
        train: rows,
        validation: Vec::new(),
        test,
        out_of_scope: None,
    })
}

#[derive(Deserialize)]
struct GenericRow {
    text: String,
    intent: Option<String>,
    expect: Option<Expect>,
}

/// One JSON object per line; blank lines are skipped; every row is a test example.
fn generic_jsonl(path: &Path) -> anyhow::Result<Dataset> {
    let test = read(path)?
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let row: GenericRow = serde_json::from_str(line).with_context(|| format!("line {}", i + 1))?;
            Ok(Example {
                text: row.text,
                intent: row.intent,
                expect: row.expect,
                emotions: Vec::new(),
                raw_emotions: Vec::new(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Dataset {
        name: path.file_stem().and_then(|s| s.to_str()).unwrap_or("jsonl").into(),
        kind: DatasetKind::Generic,
        train: Vec::new(),
        validation: Vec::new(),
        test,
        out_of_scope: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, contents: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    #[test]
    fn banking77_reads_quoted_commas() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "train.csv",
            "text,category\n\"Hi, where is my card?\",card_arrival\nTop up failed,top_up_failed\n",
        );
        write(dir.path(), "test.csv", "text,category\n\"He said \"\"no\"\", why?\",declined_transfer\n");
        let d = load(dir.path()).unwrap();
        assert_eq!(d.kind, DatasetKind::Intent);
        assert_eq!(d.train.len(), 2);
        assert_eq!(d.train[0], Example::intent("Hi, where is my card?".into(), "card_arrival".into()));
        assert_eq!(d.test[0].text, "He said \"no\", why?");
        assert!(d.validation.is_empty() && d.out_of_scope.is_none());
    }

    #[test]
    fn clinc150_merges_out_of_scope_rows() {
        let dir = tempfile::tempdir().unwrap();
        let json = r#"{"train": [["book a flight", "book_flight"]], "val": [["what is 2+2", "calculator"]],
            "test": [["play jazz", "play_music"], ["rent a car", "car_rental"]],
            "oos_train": [["how tall is a giraffe", "oos"]], "oos_val": [], "oos_test": [["sing me a song", "oos"]]}"#;
        write(dir.path(), "data_small.json", json);
        let d = load(&dir.path().join("data_small.json")).unwrap();
        assert_eq!(d.name, "clinc150/data_small");
        assert_eq!(d.out_of_scope.as_deref(), Some("oos"));
        assert_eq!((d.train.len(), d.validation.len(), d.test.len()), (2, 1, 3));
        assert_eq!(d.train[1].intent.as_deref(), Some("oos"));
        assert_eq!(d.test[2].text, "sing me a song");
    }

    #[test]
    fn hwu64_pairs_lines_and_checks_counts() {
        let dir = tempfile::tempdir().unwrap();
        for split in ["train", "valid", "test"] {
            write(dir.path(), &format!("{split}/seq.in"), "wake me up at seven\nlower the volume\n");
            write(dir.path(), &format!("{split}/label"), "alarm_set\naudio_volume_down\n");
        }
        let d = load(dir.path()).unwrap();
        assert_eq!(d.validation[1], Example::intent("lower the volume".into(), "audio_volume_down".into()));
        write(dir.path(), "test/label", "alarm_set\n");
        assert!(format!("{:#}", load(dir.path()).unwrap_err()).contains("test/label has 1"));
    }

    #[test]
    fn goemotions_maps_to_ekman_groups_neutral_and_disappointment() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "emotions.txt", "anger\nannoyance\ndisappointment\nsadness\nneutral\n");
        write(
            dir.path(),
            "ekman_mapping.json",
            r#"{"anger": ["anger", "annoyance"], "sadness": ["sadness", "disappointment"]}"#,
        );
        write(dir.path(), "train.tsv", "so annoying\t0,1\tid1\nmeh, \"fine\"\t4\tid2\n");
        write(dir.path(), "dev.tsv", "let down again\t2\tid3\n");
        write(dir.path(), "test.tsv", "so sad\t3\tid4\n");
        let d = load(dir.path()).unwrap();
        assert_eq!(d.kind, DatasetKind::Emotion);
        assert_eq!(d.train[0].emotions, ["anger"]);
        assert_eq!(d.train[1].text, "meh, \"fine\"");
        assert_eq!(d.train[1].emotions, ["neutral"]);
        assert_eq!(d.validation[0].emotions, ["disappointment", "sadness"]);
        assert_eq!(d.train[0].raw_emotions, ["anger", "annoyance"]);
        let taxonomy = EmotionTaxonomy::load(dir.path()).unwrap();
        assert_eq!(taxonomy.raw_labels.len(), 5);
        let names: Vec<&str> = taxonomy.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(names, ["anger", "sadness", "neutral", "disappointment"]);
        write(dir.path(), "ekman_mapping.json", r#"{"anger": ["anger", "rage"]}"#);
        assert!(format!("{:#}", load(dir.path()).unwrap_err()).contains("\"rage\""));
        write(
            dir.path(),
            "ekman_mapping.json",
            r#"{"anger": ["anger", "annoyance"], "sadness": ["sadness", "disappointment"]}"#,
        );
        assert_eq!(d.test[0].emotions, ["sadness"]);
        write(dir.path(), "test.tsv", "so sad\t9\tid4\n");
        assert!(format!("{:#}", load(dir.path()).unwrap_err()).contains("test.tsv line 1: unknown label id"));
    }

    #[test]
    fn twitter_airline_splits_80_20_reproducibly() {
        let dir = tempfile::tempdir().unwrap();
        let mut csv = String::from("tweet_id,airline_sentiment,negativereason,airline,text,tweet_created\n");
        for i in 0..10 {
            let sentiment = if i % 2 == 0 { "negative" } else { "neutral" };
            csv.push_str(&format!("{i},{sentiment},,United,\"@united tweet {i}, ok\",2/24/2015 11:15\n"));
        }
        write(dir.path(), "Tweets.csv", &csv);
        let d = load(dir.path()).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (8, 2));
        let again = load(&dir.path().join("Tweets.csv")).unwrap();
        assert_eq!(d.test, again.test);
        let tweet0 = d.train.iter().chain(&d.test).find(|e| e.text == "@united tweet 0, ok").unwrap();
        assert_eq!(tweet0.emotions, ["negative"]);
        let tweet1 = d.train.iter().chain(&d.test).find(|e| e.text == "@united tweet 1, ok").unwrap();
        assert!(tweet1.emotions.is_empty());
    }

    #[test]
    fn generic_jsonl_goes_to_test_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickets.jsonl");
        std::fs::write(
            &path,
            "{\"text\": \"where is my parcel\", \"intent\": \"delivery\", \"expect\": \"answer\"}\n\n{\"text\": \"my mum died\", \"expect\": \"handoff\"}\n",
        )
        .unwrap();
        let d = load(&path).unwrap();
        assert_eq!((d.name.as_str(), d.kind), ("tickets", DatasetKind::Generic));
        assert_eq!(d.test.len(), 2);
        assert_eq!(d.test[0].expect, Some(Expect::Answer));
        assert_eq!((d.test[1].intent.as_deref(), d.test[1].expect), (None, Some(Expect::Handoff)));
        std::fs::write(&path, "{\"text\": \"ok\"}\n{\"text\": \"x\", \"expect\": \"maybe\"}\n").unwrap();
        assert!(format!("{:#}", load(&path).unwrap_err()).contains("line 2"));
    }

    #[test]
    fn unknown_paths_name_the_path_and_the_formats() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "notes.txt", "hello");
        for path in [dir.path().to_owned(), dir.path().join("notes.txt"), dir.path().join("missing")] {
            let message = format!("{:#}", load(&path).unwrap_err());
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("BANKING77") && message.contains("*.jsonl"), "{message}");
        }
    }
}
