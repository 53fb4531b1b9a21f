//! Risk screening by meaning: a small classifier over a sentence encoder, beside the phrase
//! rules of [`super::screen`].
//!
//! Phrase rules find the wording they were written for and little else: on the held-out set
//! `safety/eval/fresh.tsv`, written to be indirect, the rules alone found 12 of its 72 urgent
//! statements. This module reads meaning instead. A text is cut into windows of a few
//! sentences; each window is encoded by the general sentence-similarity encoder in
//! `safety/model/encoder/` (all-MiniLM-L6-v2: mean pooling then L2 normalisation; see the model
//! card beside it); a small network reads the vector for the level (none, concern, urgent) and
//! a softmax regression for the kind of risk. The window that scores highest speaks for the
//! text, and is quoted in the signal so a clinician sees what was read that way.
//!
//! The coach's encoder (the same model fine-tuned to tell kinds of therapist replies apart) is
//! not used here: in cross-validation it separated risk from ordinary client messages less
//! well (at 95% urgent recall, 0.33 precision against 0.45, and 15% against 9% of ordinary
//! texts flagged urgent).
//!
//! `tend safety train` fits both from labelled statements (`safety/eval/dev.tsv`,
//! `safety/eval/heldout.tsv`, and `safety/train/`: more risk statements and hard negatives,
//! ordinary client texts and messages, and ordinary client talk from AnnoMI; see its README)
//! and picks the two thresholds by cross-validation so that, on statements each fold never
//! saw, at least [`RECALL_TARGET`] of urgent statements are flagged urgent and of risk
//! statements flagged at all: recall first, because a false alarm costs a clinician a look
//! and a miss could cost a life. `safety/eval/fresh.tsv` and
//! `safety/eval/messages_heldout.tsv` are never read by training.
//!
//! The head is tied to the encoder it was trained on: `head.json` records the SHA-256 of the
//! encoder's weights, and a mismatch switches this screen off with a loud error (the rules
//! keep running) instead of giving quiet wrong answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::screen::{Category, Level, Signal};
use crate::encoder::Encoder;

/// Share of urgent (and of all risk) statements the thresholds must catch in cross-validation.
pub const RECALL_TARGET: f64 = 0.95;

/// Word pieces an encoded window may hold; longer windows keep their end.
const MAX_TOKENS: usize = 128;

/// Word pieces of a training statement: statements are labelled whole, so they are encoded
/// whole (the longest journal-style rows run to about 200).
pub const TRAIN_MAX_TOKENS: usize = 256;

/// Words per window: short enough that one risky sentence is not averaged away by a long
/// entry about the day, long enough to keep a sentence's context.
const WINDOW_WORDS: usize = 60;

/// Encoded windows remembered, so a draft saved again re-encodes only what changed (windows
/// are packed from the start of the text, so typing at the end changes only the last one).
/// About 7 MB when full.
const CACHE_WINDOWS: usize = 4096;

/// The level classes, in the order of the level regression's rows.
pub const LEVELS: [Level; 3] = [Level::None, Level::Concern, Level::Urgent];

/// The kinds of risk, in the order of the category regression's rows.
pub const CATEGORIES: [Category; 4] = [
    Category::Suicide,
    Category::SelfHarm,
    Category::HarmToOthers,
    Category::Abuse,
];

/// A softmax regression: one row of weights and one bias per class.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Softmax {
    /// `classes × features` weights.
    pub weights: Vec<Vec<f32>>,
    /// One bias per class.
    pub bias: Vec<f32>,
}

impl Softmax {
    /// Class probabilities for a (standardised) feature vector.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        softmax(&affine(&self.weights, &self.bias, x).collect::<Vec<_>>())
    }

    fn has_shape(&self, features: usize, classes: usize) -> bool {
        self.weights.len() == classes
            && self.bias.len() == classes
            && self.weights.iter().all(|w| w.len() == features)
    }
}

/// `weights · x + bias`, one value per row.
fn affine<'a>(
    weights: &'a [Vec<f32>],
    bias: &'a [f32],
    x: &'a [f32],
) -> impl Iterator<Item = f32> + 'a {
    weights
        .iter()
        .zip(bias)
        .map(move |(w, b)| b + w.iter().zip(x).map(|(w, x)| w * x).sum::<f32>())
}

/// `(v − mean) / scale`, feature by feature.
pub fn standardise(v: &[f32], mean: &[f32], scale: &[f32]) -> Vec<f32> {
    v.iter()
        .zip(mean)
        .zip(scale)
        .map(|((v, m), s)| (v - m) / s)
        .collect()
}

/// A network with one hidden layer of rectified units, then a softmax: reads meaning that a
/// straight line through the encoder's space cannot separate (ordinary talk from quiet risk).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    /// `hidden × features` weights.
    pub hidden_weights: Vec<Vec<f32>>,
    /// One bias per hidden unit.
    pub hidden_bias: Vec<f32>,
    /// The output layer over the hidden units.
    pub out: Softmax,
}

impl Mlp {
    /// Class probabilities for a (standardised) feature vector.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        let hidden: Vec<f32> = affine(&self.hidden_weights, &self.hidden_bias, x)
            .map(|h| h.max(0.0))
            .collect();
        self.out.probabilities(&hidden)
    }

    fn has_shape(&self, features: usize, classes: usize) -> bool {
        let hidden = self.hidden_bias.len();
        hidden > 0
            && self.hidden_weights.len() == hidden
            && self.hidden_weights.iter().all(|w| w.len() == features)
            && self.out.has_shape(hidden, classes)
    }
}

/// Numerically stable softmax.
fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let exps: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum::<f32>().max(f32::MIN_POSITIVE);
    exps.iter().map(|e| e / sum).collect()
}

/// Figures from cross-validation, on statements each fold's model never saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Urgent statements flagged urgent.
    pub urgent_recall: f64,
    /// Statements flagged urgent that were labelled urgent.
    pub urgent_precision: f64,
    /// Risk statements (concern or urgent) flagged at all.
    pub risk_recall: f64,
    /// Statements flagged at all that were labelled concern or urgent.
    pub risk_precision: f64,
}

/// How the head was trained, kept beside its weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    /// The labelled files, as given to `tend safety train`.
    pub files: Vec<String>,
    /// Statements used.
    pub rows: usize,
    /// Of which labelled urgent.
    pub urgent: usize,
    /// Of which labelled concern or urgent.
    pub risk: usize,
    /// Cross-validation folds.
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Hidden units of the level network, chosen by cross-validation.
    pub hidden: usize,
    /// The L2 penalty chosen by cross-validation.
    pub l2: f32,
    /// Figures at the chosen thresholds, out of fold.
    pub cross_validated: Figures,
}

/// `head.json`: everything the meaning screen needs besides the encoder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// SHA-256 (hex) of the encoder's `model.safetensors` the head was trained on.
    pub encoder_sha256: String,
    /// Per-feature mean subtracted before the level network and kind-of-risk regression.
    pub mean: Vec<f32>,
    /// Per-feature divisor applied after subtracting the mean.
    pub scale: Vec<f32>,
    /// Level network (classes in [`LEVELS`] order).
    pub level: Mlp,
    /// Kind-of-risk regression (classes in [`CATEGORIES`] order).
    pub category: Softmax,
    /// A window is urgent when P(urgent) reaches this.
    pub urgent_threshold: f32,
    /// A window is a concern when P(concern) + P(urgent) reaches this.
    pub risk_threshold: f32,
    /// How it was trained.
    pub training: TrainingReport,
}

impl Head {
    /// Checks shapes so a damaged file fails at start-up, not at a client's message.
    fn check(&self) -> Result<(), String> {
        let dim = self.mean.len();
        if dim == 0 || self.scale.len() != dim {
            return Err("the feature scaling is missing or the wrong size".into());
        }
        if !self.level.has_shape(dim, LEVELS.len())
            || !self.category.has_shape(dim, CATEGORIES.len())
        {
            return Err("a regression has the wrong shape".into());
        }
        if !(0.0..=1.0).contains(&self.urgent_threshold)
            || !(0.0..=1.0).contains(&self.risk_threshold)
        {
            return Err("a threshold is outside 0..1".into());
        }
        Ok(())
    }

    /// The encoder's vector scaled as the level network and the kind-of-risk regression expect.
    pub fn standardise(&self, vector: &[f32]) -> Vec<f32> {
        standardise(vector, &self.mean, &self.scale)
    }

    /// The signal for a text's encoded windows, if any window reaches a threshold: the
    /// urgent window with the highest P(urgent), else the riskiest concern window.
    pub fn assess(&self, windows: &[String], vectors: &[Vec<f32>]) -> Option<Signal> {
        let scored: Vec<(usize, Vec<f32>, Vec<f32>)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let x = self.standardise(v);
                (i, self.level.probabilities(&x), x)
            })
            .collect();
        let urgent = |p: &[f32]| p.get(2).copied().unwrap_or(0.0);
        let risk = |p: &[f32]| urgent(p) + p.get(1).copied().unwrap_or(0.0);
        let best_by = |f: &dyn Fn(&[f32]) -> f32| {
            scored
                .iter()
                .max_by(|a, b| f(&a.1).total_cmp(&f(&b.1)))
                .map(|(i, p, x)| (*i, f(p), x))
        };
        let (index, score, level, x) = match best_by(&urgent) {
            Some((i, score, x)) if score >= self.urgent_threshold => (i, score, Level::Urgent, x),
            _ => match best_by(&risk) {
                Some((i, score, x)) if score >= self.risk_threshold => {
                    (i, score, Level::Concern, x)
                }
                _ => return None,
            },
        };
        let kinds = self.category.probabilities(x);
        let (kind, _) = kinds
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &0.0));
        let category = CATEGORIES.get(kind).copied().unwrap_or(Category::Suicide);
        let window = windows.get(index).map(String::as_str).unwrap_or_default();
        Some(signal(category, level, score, window))
    }
}

/// Builds the signal a meaning match reports.
fn signal(category: Category, level: Level, score: f32, window: &str) -> Signal {
    let (rule, what) = match level {
        Level::Urgent => (
            "meaning.urgent",
            "statements that need a clinician the same day",
        ),
        _ => ("meaning.concern", "statements worth a clinician's look"),
    };
    let kind = match category {
        Category::Suicide => "thoughts of suicide or of being dead",
        Category::SelfHarm => "self-harm",
        Category::HarmToOthers => "harming someone else",
        Category::Abuse => "being hurt or unsafe at someone else's hands",
    };
    Signal {
        category,
        level,
        rule,
        matched: quote(window),
        explanation: format!(
            "Reads close in meaning to {what}, most like {kind} (model score {score:.2}). No \
             phrase may have matched: the model reads the whole passage, so please read it \
             in full."
        ),
    }
}

/// The window as shown in a signal: at most 200 characters, cut at a character boundary.
fn quote(window: &str) -> String {
    const MAX: usize = 200;
    let trimmed = window.trim();
    match trimmed.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &trimmed[..at]),
        None => trimmed.to_string(),
    }
}

/// The words of a text without markup tags (`<b>`, `</p>`, …), which clients sometimes paste
/// and which are shown as text anyway: the model was trained on words, and markup it never
/// saw moves its scores in ways that mean nothing. A `<` that does not open a tag within 200
/// characters ("I'm <3 today", "x < y") is kept.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/');
        let close = after
            .char_indices()
            .take(200)
            .find(|(_, c)| *c == '>' || *c == '<')
            .filter(|(_, c)| *c == '>');
        match close {
            Some((end, _)) if opens_tag => {
                out.push(' ');
                rest = &after[end + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Cuts a text into the windows the encoder reads: the whole text when it is short, else
/// runs of whole sentences of about 60 words, each overlapping the next by one
/// sentence so a thought written across two sentences is read together. A single sentence
/// longer than a window is cut by words.
pub fn windows(text: &str) -> Vec<String> {
    let words = |s: &str| s.split_whitespace().count();
    if words(text) <= WINDOW_WORDS {
        let trimmed = text.trim();
        return if trimmed.is_empty() {
            Vec::new()
        } else {
            vec![trimmed.to_string()]
        };
    }
    let mut pieces: Vec<String> = Vec::new();
    for span in crate::coach::text::sentences(text) {
        let tokens: Vec<&str> = span.text.split_whitespace().collect();
        for chunk in tokens.chunks(WINDOW_WORDS) {
            pieces.push(chunk.join(" "));
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < pieces.len() {
        let mut end = start + 1;
        let mut count = words(&pieces[start]);
        while end < pieces.len() && count + words(&pieces[end]) <= WINDOW_WORDS {
            count += words(&pieces[end]);
            end += 1;
        }
        out.push(pieces[start..end].join(" "));
        if end >= pieces.len() {
            break;
        }
        // Overlap by one sentence, unless the window was that one sentence.
        start = if end - start > 1 { end - 1 } else { end };
    }
    out
}

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Reads and checks `head.json`.
pub fn load_head(path: &Path) -> Result<Head, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let head: Head = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not a risk model head: {e}", path.display()))?;
    head.check()
        .map_err(|e| format!("{} is damaged: {e}", path.display()))?;
    Ok(head)
}

/// Where the shipped head lives when `TEND_SAFETY_MODEL` is not set: `safety/model/head.json`
/// under the working directory, else under the source tree this binary was built from.
pub fn default_head_path() -> PathBuf {
    let here = PathBuf::from("safety/model/head.json");
    if here.exists() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("safety/model/head.json")
    }
}

/// The encoder a head at `head_path` reads with: the `encoder/` directory beside it.
pub fn encoder_dir(head_path: &Path) -> PathBuf {
    head_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("encoder")
}

/// The meaning screen as the server runs it: the head, its encoder (loaded on first use),
/// and a cache of encoded windows.
pub struct MeaningScreen {
    head: Result<Head, String>,
    /// `encoder/` beside the head.
    encoder_dir: PathBuf,
    /// The loaded encoder, once checked against the head's record of it.
    encoder: OnceLock<Result<Arc<Encoder>, String>>,
    /// Only for its limit of one encoder run per core, shared with the coach.
    coach: Arc<crate::coach::Engine>,
    cache: Mutex<HashMap<String, Vec<f32>>>,
    /// The latest span in which each draft's background screening was queued by this process
    /// (the job's key stops duplicates across instances; this saves the attempt).
    scheduled: Mutex<HashMap<uuid::Uuid, i64>>,
}

impl MeaningScreen {
    /// Whether `draft` has not yet had its background screening queued in `span` by this
    /// process; records that it now has. Forgets spans that have passed.
    pub fn first_in_span(&self, draft: uuid::Uuid, span: i64) -> bool {
        let Ok(mut scheduled) = self.scheduled.lock() else {
            return true;
        };
        if scheduled.len() > 10_000 {
            scheduled.retain(|_, s| *s >= span);
        }
        scheduled.insert(draft, span) != Some(span)
    }

    /// Loads the head; a missing or damaged head is logged as an error, and screening then
    /// runs on the phrase rules alone.
    pub fn new(head_path: &Path, coach: Arc<crate::coach::Engine>) -> MeaningScreen {
        let head = load_head(head_path);
        if let Err(problem) = &head {
            tracing::error!(%problem, "risk screening by meaning is off: only the phrase rules will run");
        }
        MeaningScreen {
            head,
            encoder_dir: encoder_dir(head_path),
            encoder: OnceLock::new(),
            coach,
            cache: Mutex::new(HashMap::new()),
            scheduled: Mutex::new(HashMap::new()),
        }
    }

    /// Why the meaning screen is off, as far as is known without loading the encoder (drafts
    /// ask on every autosave, on the async workers): the head's problem, the encoder's once
    /// it was loaded, or its weights missing before then. A mismatch shows after the first
    /// screening; [`MeaningScreen::ready`] loads to find out now.
    pub fn problem(&self) -> Option<String> {
        if let Err(problem) = &self.head {
            return Some(problem.clone());
        }
        match self.encoder.get() {
            Some(loaded) => loaded.as_ref().err().cloned(),
            None => {
                let weights = self.encoder_dir.join("model.safetensors");
                std::fs::metadata(&weights).err().map(|e| {
                    format!(
                        "the risk screen's encoder cannot be used: cannot read {}: {e}",
                        weights.display()
                    )
                })
            }
        }
    }

    /// Loads and checks the encoder now (blocking: reads and hashes its weights the first
    /// time), then says why the screen is off, if it is. For the CLI.
    pub fn ready(&self) -> Result<(), String> {
        self.encoder().map(|_| ())
    }

    /// The encoder, loaded and checked against the head on first use. A missing encoder, or
    /// one the head was not trained on, is logged once as an error and switches the screen
    /// off (the rules keep running) rather than giving quiet wrong answers.
    fn encoder(&self) -> Result<Arc<Encoder>, String> {
        let head = self.head.as_ref().map_err(Clone::clone)?;
        self.encoder
            .get_or_init(|| {
                let checked =
                    file_sha256(&self.encoder_dir.join("model.safetensors")).and_then(|actual| {
                        if actual == head.encoder_sha256 {
                            crate::encoder::load_shared(&self.encoder_dir).map_err(|e| {
                                format!("the risk screen's encoder cannot be used: {e}")
                            })
                        } else {
                            Err(format!(
                                "the risk model head was trained on a different encoder than {} \
                                 holds; run `tend safety train`",
                                self.encoder_dir.display()
                            ))
                        }
                    });
                if let Err(problem) = &checked {
                    tracing::error!(%problem, "risk screening by meaning is off");
                }
                checked
            })
            .clone()
    }

    /// The signal for `text` (what [`super::screen::read`] left for meaning), or `None` when
    /// nothing reaches a threshold or the screen is off (see [`MeaningScreen::problem`]).
    /// `Err` when the encoder failed while running: the caller treats that as a failed
    /// screening, which is retried.
    pub fn signal_blocking(&self, text: &str) -> Result<Option<Signal>, String> {
        let Ok(head) = &self.head else {
            return Ok(None);
        };
        // A missing or mismatched encoder is a configuration problem, logged when found: the
        // rules still screen, and retrying would not help.
        let Ok(encoder) = self.encoder() else {
            return Ok(None);
        };
        let windows = windows(&plain(text));
        if windows.is_empty() {
            return Ok(None);
        }
        let vectors = self.encode(&encoder, &windows)?;
        Ok(head.assess(&windows, &vectors))
    }

    /// The phrase rules and this screen together, in the calling thread (for the CLI).
    pub fn screen_blocking(&self, text: &str) -> Result<super::screen::Screening, String> {
        let (mut screening, for_meaning) = super::screen::read(text);
        if let Some(signal) = self.signal_blocking(for_meaning.as_deref().unwrap_or(text))? {
            screening.add(signal);
        }
        Ok(screening)
    }

    /// Encodes windows, taking what it can from the cache.
    fn encode(&self, encoder: &Encoder, windows: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let cached: Vec<Option<Vec<f32>>> = {
            let cache = self.cache.lock().map_err(|e| e.to_string())?;
            windows.iter().map(|w| cache.get(w).cloned()).collect()
        };
        let missing: Vec<&str> = windows
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(w, _)| w.as_str())
            .collect();
        let mut fresh = encoder
            .embed_texts(&missing, MAX_TOKENS)
            .map_err(|e| e.to_string())?
            .into_iter();
        let mut cache = self.cache.lock().map_err(|e| e.to_string())?;
        if cache.len() + missing.len() > CACHE_WINDOWS {
            cache.clear();
        }
        let mut out = Vec::with_capacity(windows.len());
        for (window, cached) in windows.iter().zip(cached) {
            let vector = match cached {
                Some(v) => v,
                None => {
                    let v = fresh.next().ok_or("the encoder returned too few vectors")?;
                    cache.insert(window.clone(), v.clone());
                    v
                }
            };
            out.push(vector);
        }
        Ok(out)
    }

    /// [`MeaningScreen::signal_blocking`] on a blocking thread, sharing the coach's limit of
    /// one encoder run per core.
    pub async fn signal(self: &Arc<Self>, text: String) -> Result<Option<Signal>, String> {
        if self.head.is_err() {
            return Ok(None);
        }
        let screen = Arc::clone(self);
        self.coach
            .run_blocking(move || screen.signal_blocking(&text), |e| e)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head over 2-d vectors: the first feature means "urgent", the second "concern".
    fn toy_head() -> Head {
        Head {
            encoder_sha256: "x".into(),
            mean: vec![0.0, 0.0],
            scale: vec![1.0, 1.0],
            // Hidden units copy the two features (rectified); the output reads them.
            level: Mlp {
                hidden_weights: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
                hidden_bias: vec![0.0, 0.0],
                out: Softmax {
                    weights: vec![vec![0.0, 0.0], vec![0.0, 4.0], vec![4.0, 0.0]],
                    bias: vec![1.0, 0.0, 0.0],
                },
            },
            category: Softmax {
                weights: vec![
                    vec![1.0, 0.0],
                    vec![0.0, 1.0],
                    vec![0.0, 0.0],
                    vec![0.0, 0.0],
                ],
                bias: vec![0.0; 4],
            },
            urgent_threshold: 0.6,
            risk_threshold: 0.6,
            training: TrainingReport::default(),
        }
    }

    #[test]
    fn the_riskiest_window_speaks_for_the_text_and_is_quoted() {
        let head = toy_head();
        assert!(head.check().is_ok());
        let windows = vec!["fine".to_string(), "not fine at all".to_string()];
        let signal = head
            .assess(&windows, &[vec![0.0, 0.0], vec![2.0, 0.0]])
            .unwrap();
        assert_eq!(signal.level, Level::Urgent);
        assert_eq!(signal.rule, "meaning.urgent");
        assert_eq!(signal.category, Category::Suicide);
        assert_eq!(signal.matched, "not fine at all");
        let concern = head
            .assess(&windows, &[vec![0.0, 2.0], vec![0.0, 0.0]])
            .unwrap();
        assert_eq!(
            (concern.level, concern.category),
            (Level::Concern, Category::SelfHarm)
        );
        assert_eq!(concern.matched, "fine");
        assert!(
            head.assess(&windows, &[vec![0.0, 0.0], vec![0.0, 0.0]])
                .is_none()
        );
    }

    #[test]
    fn a_damaged_head_is_refused() {
        let mut head = toy_head();
        head.level.out.weights.pop();
        assert!(head.check().is_err());
        let mut head = toy_head();
        head.level.hidden_weights[1].pop();
        assert!(head.check().is_err());
        let mut head = toy_head();
        head.scale.push(1.0);
        assert!(head.check().is_err());
        let mut head = toy_head();
        head.urgent_threshold = 1.5;
        assert!(head.check().is_err());
    }

    #[test]
    fn short_texts_are_one_window_and_long_ones_overlap_by_a_sentence() {
        assert_eq!(windows("  I had a long day.  "), vec!["I had a long day."]);
        assert!(windows("   ").is_empty());
        let sentence = |i: usize| format!("Sentence number {i} has exactly eight words here.");
        let text: Vec<String> = (0..20).map(sentence).collect();
        let text = text.join(" ");
        let got = windows(&text);
        assert!(got.len() > 2, "{got:?}");
        for w in &got {
            assert!(w.split_whitespace().count() <= WINDOW_WORDS, "{w}");
        }
        // Consecutive windows share a sentence, and every sentence is read.
        for pair in got.windows(2) {
            let last = pair[0].rsplit(". ").next().unwrap();
            assert!(pair[1].starts_with(last.trim_end_matches('.')), "{pair:?}");
        }
        for i in 0..20 {
            assert!(
                got.iter().any(|w| w.contains(&sentence(i))),
                "sentence {i} was skipped"
            );
        }
    }

    #[test]
    fn one_very_long_sentence_is_cut_by_words() {
        let text = vec!["word"; 200].join(" ");
        let got = windows(&text);
        assert_eq!(got.len(), 4);
        assert!(
            got.iter()
                .all(|w| w.split_whitespace().count() <= WINDOW_WORDS)
        );
    }

    #[test]
    fn markup_is_read_as_the_words_it_wraps() {
        assert_eq!(
            plain("Thank you. <b>The walk helped.</b>"),
            "Thank you.  The walk helped. "
        );
        assert_eq!(plain("I'm <3 today"), "I'm <3 today");
        assert_eq!(plain("x < y and <br/>z"), "x < y and  z");
        assert_eq!(plain("<unclosed tag"), "<unclosed tag");
    }

    #[test]
    fn quotes_are_cut_at_a_character_boundary() {
        let long = "é".repeat(300);
        let q = quote(&long);
        assert_eq!(q.chars().count(), 201);
        assert!(q.ends_with('…'));
        assert_eq!(quote(" short "), "short");
    }
}
