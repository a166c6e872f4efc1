//! The language-model side of detprob: a [`LanguageModel`] trait that hides
//! the architecture, and [`LoadedModel`], which bundles a model with its
//! tokenizer and prompt format, all read from one GGUF file.

mod config;
pub mod decoder;
#[cfg(test)]
pub mod fake;
mod gemma3;
mod kv_cache;
mod llama;
pub mod math;
pub mod quant;
mod qwen2;

pub use config::{ModelConfig, MAX_POSITIONS};

use std::path::PathBuf;
use std::time::Instant;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::gguf::{Architecture, GgufFile, Metadata};
use crate::prompt::PromptFormat;
use crate::store::ModelChoice;
use crate::tokenizer::TextTokenizer;

/// A causal language model that turns token ids into next-token logits.
///
/// Implementations keep a KV cache: `forward` appends `tokens` at positions
/// `start..start + tokens.len()` and must be called with `start` equal to the
/// number of tokens already seen; `start == 0` begins a new sequence.
pub trait LanguageModel {
    /// Runs `tokens` and returns the logits (one per vocabulary entry) for the
    /// position after the last of them.
    fn forward(&mut self, tokens: &[u32], start: usize) -> candle_core::Result<Vec<f32>>;

    /// [`LanguageModel::forward`] into `logits`, whose allocation an engine
    /// may keep (a decode loop's one buffer instead of a fresh one per
    /// token: Gemma's logits are a megabyte).
    fn forward_into(
        &mut self,
        tokens: &[u32],
        start: usize,
        logits: &mut Vec<f32>,
    ) -> candle_core::Result<()> {
        *logits = self.forward(tokens, start)?;
        Ok(())
    }

    /// The longest sequence (prompt plus completion) this model will run.
    fn context_length(&self) -> usize;

    /// An independent copy of the model in its current state (KV cache
    /// included). Weights and cached tensors are reference-counted, so this
    /// is cheap: a prompt is prefilled once and each sample decodes from a fork.
    fn fork(&self) -> Box<dyn LanguageModel>;

    /// This model as detprob's own decoder, which can run several forks in
    /// one batch ([`forward_batch`]); `None` for the candle engine.
    fn as_decoder(&mut self) -> Option<&mut decoder::Decoder> {
        None
    }
}

/// The next-token logits of several forks of one model, each fed one token
/// at its own position, into `logits` (one buffer per fork, whose
/// allocation is kept from step to step): in one batched pass when the
/// engine supports it (the results are bitwise those of one `forward`
/// each), else one by one.
pub fn forward_batch(
    models: &mut [&mut Box<dyn LanguageModel>],
    tokens: &[u32],
    positions: &[usize],
    logits: &mut [&mut Vec<f32>],
) -> candle_core::Result<()> {
    let mut wanted: Vec<Option<&mut Vec<f32>>> =
        logits.iter_mut().map(|l| Some(&mut **l)).collect();
    forward_batch_feeding(models, tokens, positions, &mut wanted)
}

/// [`forward_batch`] where a fork whose buffer is `None` is only fed its
/// token (a prompt's tokens before its last): its logits are not computed,
/// which saves the output matrix, for Gemma most of a token's work.
pub fn forward_batch_feeding(
    models: &mut [&mut Box<dyn LanguageModel>],
    tokens: &[u32],
    positions: &[usize],
    logits: &mut [Option<&mut Vec<f32>>],
) -> candle_core::Result<()> {
    if models.iter_mut().all(|m| m.as_decoder().is_some()) && models.len() > 1 {
        let mut decoders: Vec<&mut decoder::Decoder> = models
            .iter_mut()
            .map(|m| m.as_decoder().expect("checked above"))
            .collect();
        return decoder::Decoder::forward_batch(&mut decoders, tokens, positions, logits);
    }
    let mut unwanted = Vec::new();
    for ((m, (&t, &p)), out) in models
        .iter_mut()
        .zip(tokens.iter().zip(positions))
        .zip(logits.iter_mut())
    {
        m.forward_into(&[t], p, out.as_deref_mut().unwrap_or(&mut unwanted))?;
    }
    Ok(())
}

/// Which code runs the forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// detprob's own decoder on weights repacked for its SIMD kernels (fast).
    #[default]
    Detprob,
    /// candle's tensor ops and quantized matmuls (the reference path).
    Candle,
}

/// Facts about a loaded model, read from its GGUF metadata.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// Catalogue alias, or `null` for a file given with `--model-file`.
    pub alias: Option<String>,
    /// `general.name` from the file.
    pub name: String,
    /// Model architecture.
    pub architecture: Architecture,
    /// The file the weights came from.
    pub path: PathBuf,
    /// Number of parameters (sum of all tensor sizes).
    pub parameters: u64,
    /// Transformer blocks.
    pub layers: usize,
    /// Width of the residual stream.
    pub embedding_length: usize,
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Longest sequence detprob will run with this model.
    pub context_length: usize,
    /// SHA-256 fingerprint of the tokenizer's vocabulary.
    pub tokenizer_fingerprint: String,
    /// The file's `general.size_label` (e.g. `135M`), if present.
    pub size_label: Option<String>,
    /// The code that ran the forward pass.
    pub engine: Engine,
    /// Seconds spent loading (reading weights, building the tokenizer).
    pub load_seconds: f64,
}

impl ModelInfo {
    /// How reports name the model: its alias, else its `general.name`.
    pub fn label(&self) -> String {
        self.alias.clone().unwrap_or_else(|| self.name.clone())
    }
}

/// A model ready to run: weights, tokenizer and prompt format.
pub struct LoadedModel {
    /// The network.
    pub model: Box<dyn LanguageModel>,
    /// Its tokenizer (shared: a server's HTTP side reads token texts too).
    pub tokenizer: std::sync::Arc<TextTokenizer>,
    /// How a user's prompt is wrapped before tokenizing.
    pub prompt_format: PromptFormat,
    /// Facts about it.
    pub info: ModelInfo,
}

/// Loads the tokenizer only (no weights): enough for `tokenize`.
pub fn load_tokenizer(choice: &ModelChoice) -> Result<(TextTokenizer, PromptFormat), InputError> {
    let path = choice.local_path()?;
    let gguf = GgufFile::open(&path)?;
    Ok((
        TextTokenizer::from_gguf(&gguf)?,
        PromptFormat::from_gguf(&gguf),
    ))
}

/// Fetches (if needed) and loads the chosen model onto the CPU.
pub fn load(choice: &ModelChoice, engine: Engine) -> Result<LoadedModel, InputError> {
    let path = choice.local_path()?;
    let started = Instant::now();
    let mut gguf = GgufFile::open(&path)?;
    let prompt_format = PromptFormat::from_gguf(&gguf);
    let name = gguf
        .optional_str("general.name")
        .unwrap_or("unnamed model")
        .to_string();
    let config = ModelConfig::from_gguf(&gguf)?;
    let parameters = gguf
        .content
        .tensor_infos
        .values()
        .map(|t| t.shape.elem_count() as u64)
        .sum();
    let size_label = gguf.optional_str("general.size_label").map(str::to_string);
    let architecture = gguf.architecture;
    // Everything above is read before the weights: candle's llama loader
    // takes the header's metadata with it.
    // The tokenizer (Gemma's vocabulary has 262,144 tokens) is built from
    // the header's `tokenizer.` keys on a second thread while this one reads
    // the weights.
    let tokenizer_keys = gguf.split_off("tokenizer.");
    let (tokenizer, model) = std::thread::scope(|scope| {
        let tokenizer = scope.spawn(|| TextTokenizer::from_gguf(&tokenizer_keys));
        let model = load_weights(&mut gguf, &config, engine);
        let tokenizer = tokenizer
            .join()
            .expect("the tokenizer thread does not panic");
        (tokenizer, model)
    });
    let (tokenizer, model) = (tokenizer?, model?);
    let info = ModelInfo {
        alias: choice.spec().map(|s| s.alias.to_string()),
        name,
        architecture,
        path,
        parameters,
        layers: config.layers,
        embedding_length: config.hidden,
        vocab_size: tokenizer.vocab_size(),
        context_length: model.context_length(),
        tokenizer_fingerprint: tokenizer.fingerprint.clone(),
        size_label,
        engine,
        load_seconds: started.elapsed().as_secs_f64(),
    };
    Ok(LoadedModel {
        model,
        tokenizer: std::sync::Arc::new(tokenizer),
        prompt_format,
        info,
    })
}

/// Reads the weights for `engine`.
fn load_weights(
    gguf: &mut GgufFile,
    config: &ModelConfig,
    engine: Engine,
) -> Result<Box<dyn LanguageModel>, InputError> {
    let device = Device::Cpu;
    Ok(match (engine, gguf.architecture) {
        (Engine::Detprob, _) => Box::new(decoder::Decoder::load(gguf, config)?),
        (Engine::Candle, Architecture::Llama) => {
            Box::new(llama::Llama::load(gguf, config, &device)?)
        }
        (Engine::Candle, Architecture::Gemma3) => {
            Box::new(gemma3::Gemma3::load(gguf, config, &device)?)
        }
        (Engine::Candle, Architecture::Qwen2) => {
            Box::new(qwen2::Qwen2::load(gguf, config, &device)?)
        }
    })
}

/// Turns a candle error while reading weights into a corrupt-file error.
fn weights_error(gguf: &GgufFile, e: candle_core::Error) -> InputError {
    gguf.corrupt(crate::gguf::first_line(&e.to_string()))
}
