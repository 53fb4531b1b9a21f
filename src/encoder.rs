//! A sentence encoder run in-process with candle: a BERT model whose token vectors are
//! mean-pooled and L2-normalised, as sentence-transformers does.
//!
//! Two features read text by meaning, each with its own encoder: the listening coach
//! (`coach/model/`, fine-tuned to tell kinds of therapist replies apart, with a head of its
//! own in `crate::coach::model`) and the risk screen (`safety/model/encoder/`, a general
//! sentence-similarity model, `crate::safety::meaning`). Each directory is loaded once per
//! process ([`load_shared`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

/// Why a model could not be used.
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
    /// `config.json` does not describe the model expected there.
    #[error("{path} is not a usable model config: {message}")]
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

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// A `Config` error for `path`.
pub fn config_error(path: &Path, message: impl ToString) -> ModelError {
    ModelError::Config {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// The encoder: immutable after loading; inference takes `&self`.
pub struct Encoder {
    bert: BertModel,
    tokenizer: Tokenizer,
}

impl Encoder {
    /// Builds the encoder from weights already opened (a model may keep more tensors beside
    /// the encoder's, as the coach's head) and the tokenizer in `dir`.
    pub fn from_weights(
        vb: VarBuilder,
        config: &Config,
        dir: &Path,
    ) -> Result<Encoder, ModelError> {
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        // Pad per batch, never to a fixed width; truncation is ours (keep the end).
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Ok(Encoder {
            bert: BertModel::load(vb, config)?,
            tokenizer,
        })
    }

    /// Loads a plain encoder from a directory holding `config.json` (BERT's),
    /// `tokenizer.json` and `model.safetensors` (f16 or f32; computed in f32).
    pub fn load(dir: &Path) -> Result<Encoder, ModelError> {
        let path = dir.join("config.json");
        let config: Config =
            serde_json::from_slice(&read(&path)?).map_err(|e| config_error(&path, e))?;
        let weights = read(&dir.join("model.safetensors"))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)?;
        Encoder::from_weights(vb, &config, dir)
    }

    /// How many word pieces a text has (with `[CLS]` and `[SEP]`), for benchmarks.
    pub fn token_count(&self, text: &str) -> Result<usize, ModelError> {
        Ok(self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?
            .len())
    }

    /// Mean-pooled, L2-normalised vectors for `texts` (each kept to its last `max_tokens` word
    /// pieces), one row per text.
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
    /// sentence (a question mark) and the writer's latest words carry the most.
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
    pub fn embed(&self, texts: &[&str], max: usize) -> Result<Tensor, ModelError> {
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
}

/// Plain encoders already loaded in this process, by directory: the files do not change while
/// Tend runs, so every screen reading the same directory shares one copy of the weights.
static LOADED: LazyLock<Mutex<HashMap<PathBuf, Arc<Encoder>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Loads the encoder in `dir`, or returns the copy this process already loaded from there.
pub fn load_shared(dir: &Path) -> Result<Arc<Encoder>, ModelError> {
    load_once(&LOADED, dir, Encoder::load)
}

/// Returns the copy of what `load` reads from `dir` that `cache` holds, loading it first if
/// this process has not: model files do not change while Tend runs, so every user of the same
/// directory (the server, each test app, each screen) shares one copy of the weights.
pub fn load_once<T>(
    cache: &Mutex<HashMap<PathBuf, Arc<T>>>,
    dir: &Path,
    load: impl FnOnce(&Path) -> Result<T, ModelError>,
) -> Result<Arc<T>, ModelError> {
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    // Held while loading, so two first users do not both read the weights.
    let mut loaded = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(model) = loaded.get(&key) {
        return Ok(Arc::clone(model));
    }
    let model = Arc::new(load(dir)?);
    loaded.insert(key, Arc::clone(&model));
    Ok(model)
}
