//! The sentence classifier: a fine-tuned MiniLM encoder run in-process with candle.
//!
//! The files in `coach/model/` come from `coach/train/run` (see its model card). A sentence and
//! the client's words are encoded separately by the same encoder (mean pooling, then L2
//! normalisation, as sentence-transformers does); a small head reads
//! `[sentence, context, sentence × context, |sentence − context|]` and gives six
//! probabilities. Encoding the client's words once lets every sentence of a reply share them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config};
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::Label;

/// How many encoded client messages are remembered: a person revising a draft keeps the same
/// client message, and each costs one encoder pass.
const CONTEXT_CACHE: usize = 64;

/// Settings the training script writes beside the encoder's own.
#[derive(Deserialize)]
struct CoachSettings {
    labels: Vec<String>,
    max_sentence_tokens: usize,
    max_context_tokens: usize,
    head_hidden: usize,
}

/// `config.json`: the BERT settings plus ours.
#[derive(Deserialize)]
struct ModelConfig {
    #[serde(flatten)]
    bert: Config,
    coach: CoachSettings,
}

/// Why the model could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `config.json` does not describe a coach model.
    #[error("{path} is not a coach model config: {message}")]
    Config {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The tokenizer file could not be parsed.
    #[error("cannot load the tokenizer: {0}")]
    Tokenizer(String),
    /// The weights are missing a tensor or have the wrong shape, or inference failed.
    #[error("model error: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// The loaded classifier. Immutable after loading; inference takes `&self`.
pub struct Model {
    bert: BertModel,
    hidden: Linear,
    out: Linear,
    tokenizer: Tokenizer,
    max_sentence: usize,
    max_context: usize,
    contexts: Mutex<HashMap<String, Vec<f32>>>,
}

fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn config_error(path: &Path, message: impl ToString) -> ModelError {
    ModelError::Config {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Models already loaded in this process, by directory: the files do not change while Tend
/// runs, so every engine reading the same directory (the server's, the risk screen's, each
/// test app's) shares one copy of the weights instead of 100 MB each.
static LOADED: LazyLock<Mutex<HashMap<PathBuf, Arc<Model>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Loads the model from `dir`, or returns the copy this process already loaded from there.
pub fn load_shared(dir: &Path) -> Result<Arc<Model>, ModelError> {
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    // Held while loading, so two first users do not both read 46 MB.
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(model) = loaded.get(&key) {
        return Ok(Arc::clone(model));
    }
    let model = Arc::new(Model::load(dir)?);
    loaded.insert(key, Arc::clone(&model));
    Ok(model)
}

/// Reads and checks `config.json` without touching the weights: cheap enough for start-up.
pub fn check_files(dir: &Path) -> Result<(), ModelError> {
    load_config(dir)?;
    for file in ["model.safetensors", "tokenizer.json"] {
        let path = dir.join(file);
        std::fs::metadata(&path).map_err(|source| ModelError::Read {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Reads `config.json` and checks that its labels are Tend's six, in order.
fn load_config(dir: &Path) -> Result<ModelConfig, ModelError> {
    let path = dir.join("config.json");
    let config: ModelConfig =
        serde_json::from_slice(&read(&path)?).map_err(|e| config_error(&path, e))?;
    let labels = config
        .coach
        .labels
        .iter()
        .map(|name| name.parse::<Label>().map_err(|e| config_error(&path, e)))
        .collect::<Result<Vec<_>, _>>()?;
    if labels != Label::ALL {
        return Err(config_error(&path, "the labels differ from Tend's six"));
    }
    Ok(config)
}

impl Model {
    /// Loads the model from a directory holding `config.json`, `tokenizer.json` and
    /// `model.safetensors` (f16 or f32; computed in f32).
    pub fn load(dir: &Path) -> Result<Model, ModelError> {
        let config = load_config(dir)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        // Pad per batch, never to a fixed width; truncation is ours (keep the end).
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        let weights = read(&dir.join("model.safetensors"))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)?;
        let bert = BertModel::load(vb.clone(), &config.bert)?;
        let hidden_size = config.bert.hidden_size;
        let head = vb.pp("coach_head");
        let hidden_dim = config.coach.head_hidden;
        let hidden = candle_nn::linear(4 * hidden_size, hidden_dim, head.pp("hidden"))?;
        let out = candle_nn::linear(hidden_dim, Label::ALL.len(), head.pp("out"))?;
        Ok(Model {
            bert,
            hidden,
            out,
            tokenizer,
            max_sentence: config.coach.max_sentence_tokens,
            max_context: config.coach.max_context_tokens,
            contexts: Mutex::new(HashMap::new()),
        })
    }

    /// How many word pieces a text has (with `[CLS]` and `[SEP]`), for benchmarks.
    pub fn token_count(&self, text: &str) -> Result<usize, ModelError> {
        Ok(self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?
            .len())
    }

    /// Forgets the encoded client messages (benchmarks measure the uncached path with it).
    pub fn forget_contexts(&self) {
        if let Ok(mut cache) = self.contexts.lock() {
            cache.clear();
        }
    }

    /// Mean-pooled, L2-normalised vectors for `texts` (each kept to its last `max_tokens` word
    /// pieces), one row per text: the same meaning space the coach reads, for features that
    /// compare texts by meaning (risk screening in `crate::safety::meaning`).
    pub fn embed_texts(
        &self,
        texts: &[&str],
        max_tokens: usize,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.embed(texts, max_tokens.max(2))?.to_vec2::<f32>()?)
    }

    /// Token ids with `[CLS]`/`[SEP]`, keeping the last `max - 2` word pieces: the end of a
    /// sentence (a question mark) and the client's latest words carry the most.
    fn token_ids(&self, text: &str, max: usize) -> Result<Vec<u32>, ModelError> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        let ids = encoding.get_ids();
        if ids.len() <= max || ids.len() < 2 {
            return Ok(ids.to_vec());
        }
        let mut kept = Vec::with_capacity(max);
        kept.push(ids[0]);
        kept.extend_from_slice(&ids[ids.len() - (max - 1)..]);
        Ok(kept)
    }

    /// Mean-pooled, L2-normalised vectors for a batch of texts, shape `(n, hidden)`.
    fn embed(&self, texts: &[&str], max: usize) -> Result<Tensor, ModelError> {
        let ids = texts
            .iter()
            .map(|t| self.token_ids(t, max))
            .collect::<Result<Vec<_>, _>>()?;
        // One padded batch: running each sentence alone avoids the pad tokens, but measured
        // slower (bench/coach: 116 against 79 ms per reply with six layers), because the
        // matrix kernels work best on more rows at once.
        self.embed_batch(&ids)
    }

    /// Mean-pooled, L2-normalised vectors for token-id rows run as one padded batch.
    fn embed_batch(&self, ids: &[Vec<u32>]) -> Result<Tensor, ModelError> {
        let width = ids.iter().map(Vec::len).max().unwrap_or(2);
        let mut flat = Vec::with_capacity(ids.len() * width);
        let mut mask = Vec::with_capacity(ids.len() * width);
        for row in ids {
            flat.extend_from_slice(row);
            flat.extend(std::iter::repeat_n(0, width - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, width - row.len()));
        }
        let device = Device::Cpu;
        let input = Tensor::from_vec(flat, (ids.len(), width), &device)?;
        let mask = Tensor::from_vec(mask, (ids.len(), width), &device)?;
        let types = input.zeros_like()?;
        let hidden = self.bert.forward(&input, &types, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1.0, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norm)?)
    }

    /// The client's words as a vector, from the cache when seen recently.
    fn context_vector(&self, context: &str) -> Result<Tensor, ModelError> {
        let cached = self
            .contexts
            .lock()
            .ok()
            .and_then(|cache| cache.get(context).cloned());
        let vector = match cached {
            Some(v) => v,
            None => {
                let v = self
                    .embed(&[context], self.max_context)?
                    .squeeze(0)?
                    .to_vec1::<f32>()?;
                if let Ok(mut cache) = self.contexts.lock() {
                    if cache.len() >= CONTEXT_CACHE {
                        cache.clear();
                    }
                    cache.insert(context.to_owned(), v.clone());
                }
                v
            }
        };
        let n = vector.len();
        Ok(Tensor::from_vec(vector, (1, n), &Device::Cpu)?)
    }

    /// For each sentence, the probability of each label (order: [`Label::ALL`]), given the
    /// client's message it answers.
    pub fn classify(&self, context: &str, sentences: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        if sentences.is_empty() {
            return Ok(Vec::new());
        }
        let s = self.embed(sentences, self.max_sentence)?;
        let c = self.context_vector(context)?.broadcast_as(s.shape())?;
        let features = Tensor::cat(&[&s, &c, &(&s * &c)?, &(&s - &c)?.abs()?], 1)?;
        let hidden = self.hidden.forward(&features)?.gelu_erf()?;
        let logits = self.out.forward(&hidden)?;
        let probs = candle_nn::ops::softmax_last_dim(&logits)?;
        Ok(probs.to_vec2::<f32>()?)
    }
}
