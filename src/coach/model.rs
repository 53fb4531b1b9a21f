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
use candle_transformers::models::bert::Config;
use serde::Deserialize;

pub use crate::encoder::ModelError;
use crate::encoder::{Encoder, config_error, read};

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

/// The loaded classifier. Immutable after loading; inference takes `&self`.
pub struct Model {
    encoder: Encoder,
    hidden: Linear,
    out: Linear,
    max_sentence: usize,
    max_context: usize,
    contexts: Mutex<HashMap<String, Vec<f32>>>,
}

/// Coach models already loaded in this process, by directory.
static LOADED: LazyLock<Mutex<HashMap<PathBuf, Arc<Model>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Loads the model from `dir`, or returns the copy this process already loaded from there
/// (`crate::encoder::load_once`).
pub fn load_shared(dir: &Path) -> Result<Arc<Model>, ModelError> {
    crate::encoder::load_once(&LOADED, dir, Model::load)
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
        let weights = read(&dir.join("model.safetensors"))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)?;
        let encoder = Encoder::from_weights(vb.clone(), &config.bert, dir)?;
        let hidden_size = config.bert.hidden_size;
        let head = vb.pp("coach_head");
        let hidden_dim = config.coach.head_hidden;
        let hidden = candle_nn::linear(4 * hidden_size, hidden_dim, head.pp("hidden"))?;
        let out = candle_nn::linear(hidden_dim, Label::ALL.len(), head.pp("out"))?;
        Ok(Model {
            encoder,
            hidden,
            out,
            max_sentence: config.coach.max_sentence_tokens,
            max_context: config.coach.max_context_tokens,
            contexts: Mutex::new(HashMap::new()),
        })
    }

    /// How many word pieces a text has (with `[CLS]` and `[SEP]`), for benchmarks.
    pub fn token_count(&self, text: &str) -> Result<usize, ModelError> {
        self.encoder.token_count(text)
    }

    /// Forgets the encoded client messages (benchmarks measure the uncached path with it).
    pub fn forget_contexts(&self) {
        if let Ok(mut cache) = self.contexts.lock() {
            cache.clear();
        }
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
                    .encoder
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
        let s = self.encoder.embed(sentences, self.max_sentence)?;
        let c = self.context_vector(context)?.broadcast_as(s.shape())?;
        let features = Tensor::cat(&[&s, &c, &(&s * &c)?, &(&s - &c)?.abs()?], 1)?;
        let hidden = self.hidden.forward(&features)?.gelu_erf()?;
        let logits = self.out.forward(&hidden)?;
        let probs = candle_nn::ops::softmax_last_dim(&logits)?;
        Ok(probs.to_vec2::<f32>()?)
    }
}
