//! Running a loaded model on a prompt: prefill once, then sample one token at
//! a time until an end-of-text token, the token budget or the context's end.
//! Every step is recorded with the probabilities the sampler saw.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::lm::{LanguageModel, LoadedModel};
use crate::sampler::{Sampler, Sampling};
use crate::tokenizer::TextTokenizer;

/// How to generate one completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationSettings {
    /// How each token is chosen.
    pub sampling: Sampling,
    /// Seed of the sampler's ChaCha20 stream (unused by greedy sampling).
    pub seed: u64,
    /// At most this many new tokens.
    pub max_tokens: usize,
    /// Never stop at an end-of-text token: their logits are set to −∞ before
    /// sampling (as llama.cpp's `--ignore-eos` does), so exactly `max_tokens`
    /// tokens come out unless the context fills.
    pub ignore_eos: bool,
    /// How many of the model's most likely tokens to record at each step.
    pub alternatives: usize,
    /// Stop after the first newline that follows some non-blank text (for
    /// short answers).
    pub stop_at_newline: bool,
}

/// One of the model's most likely tokens at a step.
#[derive(Debug, Clone, Serialize)]
pub struct AlternativeToken {
    /// Token id.
    pub token: u32,
    /// Its text (lossy UTF-8 of its bytes).
    pub piece: String,
    /// Natural-log probability under the model (temperature 1).
    pub logprob: f64,
}

/// One generated token and the distribution it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The chosen token id.
    pub token: u32,
    /// Its text (lossy UTF-8 of its bytes).
    pub piece: String,
    /// Its probability in the distribution sampled from (1 for greedy).
    pub probability: f64,
    /// Its natural-log probability under the model (temperature 1).
    pub logprob: f64,
    /// Entropy of the model's distribution at this step, in nats.
    pub entropy: f64,
    /// The model's most likely tokens at this step, most likely first.
    pub alternatives: Vec<AlternativeToken>,
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced an end-of-text token (the last token).
    EndOfText,
    /// `max_tokens` tokens were generated.
    MaxTokens,
    /// The context window is full.
    ContextFull,
    /// A newline ended a one-line answer (`stop_at_newline`).
    Newline,
}

/// The result of one generation.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    /// Every sampled token, including a final end-of-text token.
    pub tokens: Vec<u32>,
    /// The generated text (control tokens left out).
    pub text: String,
    /// One record per sampled token.
    pub steps: Vec<Step>,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Wall time of the prompt's forward pass, in seconds (shared by every
    /// completion of a grid, which prefills the prompt once).
    pub prefill_seconds: f64,
    /// Wall time of the remaining forward passes, in seconds.
    pub decode_seconds: f64,
    /// Forward passes after the prompt's (tokens fed back into the model).
    pub decoded_tokens: usize,
}

/// Generates a completion of `prompt_ids`.
pub fn complete(
    loaded: &mut LoadedModel,
    prompt_ids: &[u32],
    settings: &GenerationSettings,
) -> anyhow::Result<Completion> {
    let (logits, prefill_seconds) = prefill(loaded, prompt_ids)?;
    let model = loaded.model.as_mut();
    decode(
        model,
        &loaded.tokenizer,
        logits,
        prompt_ids.len(),
        settings,
        prefill_seconds,
    )
}

/// Generates one completion of `prompt_ids` per entry of `settings`. The
/// prompt is prefilled once and every completion decodes from a fork of that
/// state, so each equals what [`complete`] gives with the same settings.
pub fn complete_each(
    loaded: &mut LoadedModel,
    prompt_ids: &[u32],
    settings: &[GenerationSettings],
) -> anyhow::Result<Vec<Completion>> {
    let prefilled = Prefilled::new(loaded, prompt_ids)?;
    settings
        .iter()
        .map(|s| prefilled.complete(loaded, s))
        .collect()
}

/// A prompt run through the model once; each [`Prefilled::complete`] decodes
/// from a fork of that state.
pub struct Prefilled {
    state: Box<dyn LanguageModel>,
    logits: Vec<f32>,
    prompt_len: usize,
    seconds: f64,
}

impl Prefilled {
    /// Prefills `prompt_ids`.
    pub fn new(loaded: &mut LoadedModel, prompt_ids: &[u32]) -> anyhow::Result<Self> {
        let (logits, seconds) = prefill(loaded, prompt_ids)?;
        Ok(Self {
            state: loaded.model.fork(),
            logits,
            prompt_len: prompt_ids.len(),
            seconds,
        })
    }

    /// One completion with `settings`: equal to [`complete`] with the same settings.
    pub fn complete(
        &self,
        loaded: &LoadedModel,
        settings: &GenerationSettings,
    ) -> anyhow::Result<Completion> {
        let mut fork = self.state.fork();
        decode(
            fork.as_mut(),
            &loaded.tokenizer,
            self.logits.clone(),
            self.prompt_len,
            settings,
            self.seconds,
        )
    }
}

/// Checks the prompt fits, runs it through the model from position 0, and
/// returns the next-token logits and the seconds it took.
pub fn prefill(loaded: &mut LoadedModel, prompt_ids: &[u32]) -> anyhow::Result<(Vec<f32>, f64)> {
    let context = loaded.model.context_length();
    if prompt_ids.is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    if prompt_ids.len() >= context {
        return Err(InputError::PromptTooLong {
            tokens: prompt_ids.len(),
            context,
        }
        .into());
    }
    let started = Instant::now();
    let logits = loaded.model.forward(prompt_ids, 0)?;
    Ok((logits, started.elapsed().as_secs_f64()))
}

/// Samples tokens after a prefilled prompt of `prompt_len` tokens whose
/// next-token logits are `logits`.
fn decode(
    model: &mut dyn LanguageModel,
    tokenizer: &TextTokenizer,
    mut logits: Vec<f32>,
    prompt_len: usize,
    settings: &GenerationSettings,
    prefill_seconds: f64,
) -> anyhow::Result<Completion> {
    let context = model.context_length();
    let mut sampler = Sampler::new(
        settings.sampling.clone(),
        settings.seed,
        settings.alternatives,
    );
    let decode_started = Instant::now();
    let mut position = prompt_len;
    let mut steps = Vec::new();
    let mut tokens = Vec::new();
    let mut decoded_tokens = 0;
    let mut seen_text = false;
    let stop_reason = loop {
        if tokens.len() == settings.max_tokens {
            break StopReason::MaxTokens;
        }
        if settings.ignore_eos {
            for &id in &tokenizer.stop_ids {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l = f32::NEG_INFINITY;
                }
            }
        }
        let sampled = sampler.sample(&logits);
        let piece = |id: u32| String::from_utf8_lossy(tokenizer.bytes_of(id)).into_owned();
        steps.push(Step {
            token: sampled.token,
            piece: piece(sampled.token),
            probability: sampled.probability,
            logprob: sampled.logprob,
            entropy: sampled.entropy,
            alternatives: sampled
                .alternatives
                .iter()
                .map(|a| AlternativeToken {
                    token: a.token,
                    piece: piece(a.token),
                    logprob: a.logprob,
                })
                .collect(),
        });
        tokens.push(sampled.token);
        if tokenizer.stop_ids.contains(&sampled.token) {
            break StopReason::EndOfText;
        }
        if settings.stop_at_newline && !tokenizer.is_control(sampled.token) {
            let bytes = tokenizer.bytes_of(sampled.token);
            let before_newline = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
            seen_text |= before_newline.iter().any(|b| !b.is_ascii_whitespace());
            if seen_text && bytes.contains(&b'\n') {
                break StopReason::Newline;
            }
            seen_text |= bytes.iter().any(|b| !b.is_ascii_whitespace());
        }
        if tokens.len() == settings.max_tokens {
            break StopReason::MaxTokens;
        }
        if position + 1 >= context {
            break StopReason::ContextFull;
        }
        logits = model.forward(&[sampled.token], position)?;
        position += 1;
        decoded_tokens += 1;
    };
    let visible: Vec<u32> = tokens
        .iter()
        .copied()
        .filter(|&t| !tokenizer.is_control(t))
        .collect();
    Ok(Completion {
        text: tokenizer.decode(&visible),
        tokens,
        steps,
        stop_reason,
        prefill_seconds,
        decode_seconds: decode_started.elapsed().as_secs_f64(),
        decoded_tokens,
    })
}
