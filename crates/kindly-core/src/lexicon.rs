//! The spelling of a ticket, as features the intent head learns next to the sentence embedding.
//!
//! The embedding smooths over exact words: "top up" and "top-up" land close, but so do "card
//! arrival" and "card delivery estimate". Character n-grams of each word, hashed into a fixed
//! number of buckets and weighted by TF-IDF, keep the words themselves. On CLINC150 they raised
//! the head's in-scope accuracy and its separation of out-of-scope questions (README, "What is
//! measured").

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// How a ticket's words become n-gram features (`buckets` 0: none, the embedding alone).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CharNgrams {
    /// Hash buckets: the width of the feature vector.
    pub buckets: usize,
    /// Shortest and longest n-gram, in characters of a word padded with a space on each side.
    pub shortest: usize,
    pub longest: usize,
    /// Length of the feature vector against the embedding's (both start at length 1).
    pub weight: f32,
}

impl Default for CharNgrams {
    fn default() -> Self {
        Self { buckets: 1024, shortest: 2, longest: 5, weight: 0.5 }
    }
}

impl CharNgrams {
    pub fn enabled(&self) -> bool {
        self.buckets > 0 && self.shortest >= 1 && self.longest >= self.shortest && self.weight > 0.0
    }

    /// How often each bucket occurs in `text`: lower-cased, split at whitespace, each word
    /// padded with a space on each side; a word shorter than an n-gram counts once, whole.
    fn counts(&self, text: &str) -> Vec<f32> {
        let mut counts = vec![0.0f32; self.buckets];
        if !self.enabled() {
            return counts;
        }
        for word in text.to_lowercase().split_whitespace() {
            let padded: Vec<char> =
                std::iter::once(' ').chain(word.chars()).chain(std::iter::once(' ')).collect();
            for n in self.shortest..=self.longest {
                let starts = padded.len().saturating_sub(n) + 1;
                for start in 0..starts {
                    let gram = &padded[start..(start + n).min(padded.len())];
                    counts[(fnv1a(gram) % self.buckets as u64) as usize] += 1.0;
                }
                if padded.len() <= n {
                    break; // the whole word was the n-gram; longer ones would repeat it
                }
            }
        }
        counts
    }
}

/// Whole words, hashed into buckets of their own: a second block of features after the
/// character n-grams. The n-grams of "card" and "cards" overlap; the words keep which one was
/// written, and short function words ("not", "can't") that n-grams of longer words drown out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WordGrams {
    /// Hash buckets (0: no word features).
    pub buckets: usize,
    /// Length of the word features against the embedding's.
    pub weight: f32,
}

impl Default for WordGrams {
    fn default() -> Self {
        Self { buckets: 2048, weight: 0.5 }
    }
}

impl WordGrams {
    /// No word features: heads stored before they existed, and the emotion heads.
    pub fn none() -> Self {
        Self { buckets: 0, weight: 0.0 }
    }

    pub fn enabled(&self) -> bool {
        self.buckets > 0 && self.weight > 0.0
    }

    fn is_none(&self) -> bool {
        !self.enabled()
    }

    /// How often each bucket occurs in `text`: lower-cased words, split at anything but letters,
    /// digits and apostrophes.
    fn counts(&self, text: &str) -> Vec<f32> {
        let mut counts = vec![0.0f32; self.buckets];
        if !self.enabled() {
            return counts;
        }
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()) {
            let chars: Vec<char> = word.chars().collect();
            counts[(fnv1a(&chars) % self.buckets as u64) as usize] += 1.0;
        }
        counts
    }
}

/// The n-gram and word settings and the inverse document frequency of each bucket over the
/// examples a model version was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lexicon {
    #[serde(flatten)]
    #[schema(schema_with = ngrams_beside_words)]
    pub ngrams: CharNgrams,
    #[serde(default = "WordGrams::none", skip_serializing_if = "WordGrams::is_none")]
    pub words: WordGrams,
    /// Per bucket, the n-grams' then the words'; empty in version listings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idf: Vec<f32>,
}

/// [`CharNgrams`]' schema without its refusal of other fields: here `words` and `idf` sit
/// beside them.
fn ngrams_beside_words() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{RefOr, schema::Schema};
    let mut schema = <CharNgrams as utoipa::PartialSchema>::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.additional_properties = None;
    }
    schema
}

impl Lexicon {
    /// Learns the bucket weights from training texts (smoothed: `ln((1 + n) / (1 + df)) + 1`).
    pub fn fit<'t>(ngrams: CharNgrams, words: WordGrams, texts: impl IntoIterator<Item = &'t str>) -> Self {
        let words = if words.enabled() { words } else { WordGrams::none() };
        let lexicon = Self { ngrams, words, idf: Vec::new() };
        let mut documents = vec![0u32; lexicon.buckets()];
        let mut n = 0u32;
        for text in texts {
            n += 1;
            for (df, count) in documents.iter_mut().zip(lexicon.counts(text)) {
                *df += u32::from(count > 0.0);
            }
        }
        let idf = documents.iter().map(|&df| ((1.0 + n as f32) / (1.0 + df as f32)).ln() + 1.0).collect();
        Self { idf, ..lexicon }
    }

    /// Buckets in all: the n-grams' and the words'.
    pub fn buckets(&self) -> usize {
        self.ngrams.buckets + self.words.buckets
    }

    fn counts(&self, text: &str) -> Vec<f32> {
        let mut counts = self.ngrams.counts(text);
        counts.extend(self.words.counts(text));
        counts
    }

    /// The head's input: the embedding followed by the text's n-gram features, then its word
    /// features (sublinear term frequency times IDF, each block scaled to its length `weight`).
    pub fn input(&self, vector: &[f32], text: &str) -> Vec<f32> {
        let mut input = Vec::with_capacity(self.width(vector.len()));
        input.extend_from_slice(vector);
        let start = input.len();
        input.extend(
            self.counts(text)
                .iter()
                .zip(&self.idf)
                .map(|(&count, idf)| if count > 0.0 { (1.0 + count.ln()) * idf } else { 0.0 }),
        );
        input.resize(self.width(vector.len()), 0.0);
        let (ngrams, words) = input[start..].split_at_mut(self.ngrams.buckets);
        scale_to(ngrams, self.ngrams.weight);
        scale_to(words, self.words.weight);
        input
    }

    /// Width of the input for an embedding of `dimension`.
    pub fn width(&self, dimension: usize) -> usize {
        dimension + self.buckets()
    }
}

/// Scales a block of features to length `weight` (an all-zero block stays zero).
fn scale_to(features: &mut [f32], weight: f32) {
    let length = features.iter().map(|x| x * x).sum::<f32>().sqrt();
    if length > 0.0 {
        features.iter_mut().for_each(|x| *x *= weight / length);
    }
}

/// A head's input: the embedding, followed by the text's n-grams when the head reads them.
pub fn head_input<'v>(lexicon: Option<&Lexicon>, vector: &'v [f32], text: &str) -> Cow<'v, [f32]> {
    match lexicon {
        Some(lexicon) => Cow::Owned(lexicon.input(vector, text)),
        None => Cow::Borrowed(vector),
    }
}

/// The width of that input for an embedding of `dimension`.
pub fn head_width(lexicon: Option<&Lexicon>, dimension: usize) -> usize {
    lexicon.map_or(dimension, |l| l.width(dimension))
}

/// 64-bit FNV-1a over the characters' code points: stable across platforms and releases.
fn fnv1a(chars: &[char]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for c in chars {
        for byte in (*c as u32).to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> CharNgrams {
        CharNgrams { buckets: 64, shortest: 2, longest: 3, weight: 0.5 }
    }

    #[test]
    fn ngrams_stay_inside_padded_words() {
        // " ab " gives " a", "ab", "b " and " ab", "ab "; "x" padded is " x ": " x", "x " and " x "
        let total: f32 = small().counts("ab x").iter().sum();
        assert_eq!(total, 8.0);
        // case and spacing do not matter
        assert_eq!(small().counts("Top  UP"), small().counts("top up"));
        assert!(small().counts("   ").iter().all(|c| *c == 0.0));
    }

    #[test]
    fn features_follow_the_embedding_at_their_weight() {
        let lexicon =
            Lexicon::fit(small(), WordGrams::none(), ["top up my card", "card arrival", "top up failed"]);
        let input = lexicon.input(&[0.6, 0.8], "top up");
        assert_eq!(input.len(), lexicon.width(2));
        assert_eq!(&input[..2], &[0.6, 0.8]);
        let length: f32 = input[2..].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((length - 0.5).abs() < 1e-5, "{length}");
        // an empty text adds zeros, not NaN
        assert!(lexicon.input(&[1.0], "").iter().skip(1).all(|x| *x == 0.0));
    }

    #[test]
    fn rare_ngrams_weigh_more() {
        let lexicon = Lexicon::fit(small(), WordGrams::none(), ["card", "card", "card", "pin"]);
        let bucket = |gram: &str| (fnv1a(&gram.chars().collect::<Vec<_>>()) % 64) as usize;
        assert!(lexicon.idf[bucket("pi")] > lexicon.idf[bucket("ca")]);
    }

    #[test]
    fn words_are_a_block_of_their_own() {
        let words = WordGrams { buckets: 32, weight: 0.3 };
        let lexicon = Lexicon::fit(small(), words, ["I can't top up", "top up my card", "card arrival"]);
        assert_eq!((lexicon.buckets(), lexicon.idf.len()), (96, 96));
        let input = lexicon.input(&[0.6, 0.8], "Can't top-up!");
        assert_eq!(input.len(), lexicon.width(2));
        let length = |block: &[f32]| block.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((length(&input[2..66]) - 0.5).abs() < 1e-5);
        assert!((length(&input[66..]) - 0.3).abs() < 1e-5);
        // "can't", "top" and "up": punctuation splits words, apostrophes do not
        assert_eq!(words.counts("Can't top-up!").iter().sum::<f32>(), 3.0);
        assert_eq!(words.counts("can't"), words.counts("CAN'T"));
        // a lexicon stored before words existed reads as n-grams alone
        let stored = r#"{"buckets":64,"shortest":2,"longest":3,"weight":0.5}"#;
        let old: Lexicon = serde_json::from_str(stored).unwrap();
        assert_eq!((old.words, old.buckets()), (WordGrams::none(), 64));
        let json = serde_json::to_string(&Lexicon { idf: Vec::new(), ..old }).unwrap();
        assert_eq!(json, stored, "no word settings are written for a lexicon without words");
    }

    #[test]
    fn the_hash_is_stable() {
        // FNV-1a's offset basis for the empty input; a change would silently scramble stored models
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&['a']), 0xac80_4b82_0e4f_e984);
    }
}
