//! Running a loaded model on a prompt: prefill once, then sample one token at
//! a time until an end-of-text token, the token budget or the context's end.
//! Every step is recorded with the probabilities the sampler saw.

use std::time::Instant;

use rayon::prelude::*;
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
    complete_streaming(loaded, prompt_ids, settings, &mut |_| {})
}

/// [`complete`], calling `on_text` with each new piece of the completion's
/// text as its tokens come (a character split across tokens is held back
/// until it is whole). The pieces join to exactly [`Completion::text`], and
/// the completion is the one [`complete`] gives.
pub fn complete_streaming(
    loaded: &mut LoadedModel,
    prompt_ids: &[u32],
    settings: &GenerationSettings,
    on_text: &mut dyn FnMut(&str),
) -> anyhow::Result<Completion> {
    check_max_tokens(
        loaded.model.context_length(),
        std::slice::from_ref(settings),
    )?;
    let (logits, prefill_seconds) = prefill(loaded, prompt_ids)?;
    let tokenizer = &loaded.tokenizer;
    let model = loaded.model.as_mut();
    let run = Run {
        logits,
        prompt_len: prompt_ids.len(),
        prefill_seconds,
    };
    decode_streaming(model, tokenizer, run, settings, on_text)
}

/// Where a decode starts: the prompt's next-token logits and length, and
/// the seconds its prefill took.
struct Run {
    logits: Vec<f32>,
    prompt_len: usize,
    prefill_seconds: f64,
}

/// [`decode`], handing out each new whole piece of the text as it comes.
fn decode_streaming(
    model: &mut dyn LanguageModel,
    tokenizer: &TextTokenizer,
    run: Run,
    settings: &GenerationSettings,
    on_text: &mut dyn FnMut(&str),
) -> anyhow::Result<Completion> {
    let mut stream = TextStream::default();
    let completion = decode(
        model,
        tokenizer,
        run.logits,
        run.prompt_len,
        settings,
        run.prefill_seconds,
        &mut |tokens| {
            if let Some(piece) = stream.next(tokenizer, tokens) {
                on_text(&piece);
            }
        },
    )?;
    if let Some(piece) = stream.rest(&completion.text) {
        on_text(&piece);
    }
    Ok(completion)
}

/// Generates one completion of `prompt_ids` per entry of `settings`. The
/// prompt is prefilled once and every completion decodes from a fork of that
/// state, so each equals what [`complete`] gives with the same settings.
pub fn complete_each(
    loaded: &mut LoadedModel,
    prompt_ids: &[u32],
    settings: &[GenerationSettings],
) -> anyhow::Result<Vec<Completion>> {
    Prefilled::new(loaded, prompt_ids)?.complete_many(loaded, settings)
}

/// A prompt run through the model once; each [`Prefilled::complete`] decodes
/// from a fork of that state.
pub struct Prefilled {
    state: Box<dyn LanguageModel>,
    logits: Vec<f32>,
    prompt_ids: Vec<u32>,
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
            prompt_ids: prompt_ids.to_vec(),
            prompt_len: prompt_ids.len(),
            seconds,
        })
    }

    /// `prompt_ids` prefilled from a fork of this state when they begin
    /// with this prompt (a system prompt shared by every question), so only
    /// the rest runs through the model; from scratch otherwise. With
    /// detprob's decoder the logits are bitwise those of [`Self::new`] (each
    /// row is computed alike however the prompt is split; a test checks it).
    pub fn extend(&self, loaded: &mut LoadedModel, prompt_ids: &[u32]) -> anyhow::Result<Self> {
        let started = Instant::now();
        let mut state = self.state.fork();
        let shared = prompt_ids.len() > self.prompt_len
            && prompt_ids.starts_with(&self.prompt_ids)
            && prompt_ids.len() < state.context_length()
            && state.as_decoder().is_some();
        if !shared {
            return Self::new(loaded, prompt_ids);
        }
        let logits = state.forward(&prompt_ids[self.prompt_len..], self.prompt_len)?;
        Ok(Self {
            state,
            logits,
            prompt_ids: prompt_ids.to_vec(),
            prompt_len: prompt_ids.len(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// One completion per entry of `settings`, decoded in lockstep: at each
    /// step the unfinished completions go through the model as one batch, so
    /// the weights are read once per step instead of once per completion.
    /// Batching changes no bit: each completion equals [`complete`] with the
    /// same settings. `decode_seconds` is the batch's shared wall time.
    pub fn complete_many(
        &self,
        loaded: &LoadedModel,
        settings: &[GenerationSettings],
    ) -> anyhow::Result<Vec<Completion>> {
        check_max_tokens(self.state.context_length(), settings)?;
        let tokenizer = &loaded.tokenizer;
        let started = Instant::now();
        let mut sequences: Vec<Sequence> =
            settings.iter().map(|s| self.sequence(s.clone())).collect();
        while step_batch(&mut sequences, tokenizer)? {}
        let seconds = started.elapsed().as_secs_f64();
        Ok(sequences
            .into_iter()
            .map(|s| s.finish(tokenizer, seconds))
            .collect())
    }

    /// A completion with `settings` that starts from this prompt, to be
    /// stepped with [`step_batch`] (alone or beside others).
    pub fn sequence(&self, settings: GenerationSettings) -> Sequence {
        Sequence {
            model: self.state.fork(),
            logits: self.logits.clone(),
            context: self.state.context_length(),
            prefill_seconds: self.seconds,
            state: Decoding::new(settings, self.prompt_len),
        }
    }

    /// One completion with `settings`: equal to [`complete`] with the same settings.
    pub fn complete(
        &self,
        loaded: &LoadedModel,
        settings: &GenerationSettings,
    ) -> anyhow::Result<Completion> {
        self.complete_streaming(loaded, settings, &mut |_| {})
    }

    /// [`Self::complete`], handing out the text as it comes (as
    /// [`complete_streaming`] does).
    pub fn complete_streaming(
        &self,
        loaded: &LoadedModel,
        settings: &GenerationSettings,
        on_text: &mut dyn FnMut(&str),
    ) -> anyhow::Result<Completion> {
        let mut fork = self.state.fork();
        let run = Run {
            logits: self.logits.clone(),
            prompt_len: self.prompt_len,
            prefill_seconds: self.seconds,
        };
        decode_streaming(fork.as_mut(), &loaded.tokenizer, run, settings, on_text)
    }

    /// The next-token logits after the prompt (the first step's distribution).
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }
}

/// One completion in progress on its own fork of a prefilled prompt:
/// [`step_batch`] advances any number of them by one token each, in one
/// batched forward pass. A sequence's tokens do not depend on what else is
/// in the batch (detprob's decoder computes each row alike; tests check it).
pub struct Sequence {
    model: Box<dyn LanguageModel>,
    logits: Vec<f32>,
    context: usize,
    prefill_seconds: f64,
    state: Decoding,
}

impl Sequence {
    /// The tokens sampled so far.
    pub fn tokens(&self) -> &[u32] {
        &self.state.tokens
    }

    /// One record per token sampled so far.
    pub fn steps(&self) -> &[Step] {
        &self.state.steps
    }

    /// Whether the next [`step_batch`] samples another token.
    pub fn is_running(&self) -> bool {
        self.state.stop.is_none()
    }

    /// Ends the completion here, for `reason` (a stop string, a client gone).
    pub fn stop(&mut self, reason: StopReason) {
        if self.is_running() {
            self.state.stop = Some(reason);
        }
    }

    /// Why it stopped, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.state.stop
    }

    /// The finished completion; `decode_seconds` is the wall time its steps took.
    pub fn finish(self, tokenizer: &TextTokenizer, decode_seconds: f64) -> Completion {
        self.state
            .finish(tokenizer, self.prefill_seconds, decode_seconds)
    }
}

/// Samples one token for every running sequence (each with its own
/// sampler, shared out between threads), then feeds the tokens of those
/// that go on through the model as one batch. Returns whether any sequence
/// is still running.
pub fn step_batch(sequences: &mut [Sequence], tokenizer: &TextTokenizer) -> anyhow::Result<bool> {
    // The samplers' part of each sequence (the model itself stays here).
    let mut samplers: Vec<(&mut Decoding, &mut Vec<f32>, usize)> = sequences
        .iter_mut()
        .map(|s| (&mut s.state, &mut s.logits, s.context))
        .collect();
    // A stopped sequence samples nothing (`advance` sets `stop` whenever
    // it returns no token to feed).
    let sampled: Vec<Option<u32>> = samplers
        .par_iter_mut()
        .map(|(state, logits, context)| {
            state
                .stop
                .is_none()
                .then(|| state.advance(logits, tokenizer, *context))
                .flatten()
        })
        .collect();
    let (mut batch, mut logits, mut tokens, mut positions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (sequence, token) in sequences.iter_mut().zip(sampled) {
        if let Some(token) = token {
            tokens.push(token);
            positions.push(sequence.state.position);
            batch.push(&mut sequence.model);
            logits.push(&mut sequence.logits);
        }
    }
    if tokens.is_empty() {
        return Ok(false);
    }
    crate::lm::forward_batch(&mut batch, &tokens, &positions, &mut logits)?;
    for sequence in sequences.iter_mut().filter(|s| s.is_running()) {
        sequence.state.fed();
    }
    Ok(true)
}

/// Hands out a completion's text as its tokens come: each call gives the
/// text added since the last one, holding back a character split across
/// tokens until it is whole. The pieces join to the completion's text.
#[derive(Debug, Default)]
pub struct TextStream {
    shown: usize,
}

impl TextStream {
    /// The new text of `tokens` (all the tokens so far), if any is whole.
    pub fn next(&mut self, tokenizer: &TextTokenizer, tokens: &[u32]) -> Option<String> {
        let text = tokenizer.visible_text(tokens);
        if text.ends_with('\u{FFFD}') {
            return None;
        }
        self.rest(&text)
    }

    /// What is left of the finished `text` after the pieces handed out.
    pub fn rest(&mut self, text: &str) -> Option<String> {
        if text.len() > self.shown && text.is_char_boundary(self.shown) {
            let piece = text[self.shown..].to_string();
            self.shown = text.len();
            Some(piece)
        } else {
            None
        }
    }
}

/// Checks that no completion asks for more tokens than the model's context
/// holds (the context would end the run first, after minutes of work the
/// flag promised to allow): refused before any work.
pub fn check_max_tokens(context: usize, settings: &[GenerationSettings]) -> Result<(), InputError> {
    match settings.iter().map(|s| s.max_tokens).max() {
        Some(most) if most >= context => Err(crate::error::invalid(format!(
            "--max-tokens {most} is more than the model's context holds ({context} tokens)"
        ))),
        _ => Ok(()),
    }
}

/// Checks that a prompt is not empty and leaves room in the model's context
/// for at least one generated token (a run with several prompts checks them
/// all before it starts).
pub fn check_prompt(loaded: &LoadedModel, prompt_ids: &[u32]) -> Result<(), InputError> {
    let context = loaded.model.context_length();
    if prompt_ids.is_empty() {
        return Err(InputError::EmptyPrompt);
    }
    if prompt_ids.len() >= context {
        return Err(InputError::PromptTooLong {
            tokens: prompt_ids.len(),
            context,
        });
    }
    Ok(())
}

/// Checks the prompt fits, runs it through the model from position 0, and
/// returns the next-token logits and the seconds it took.
pub fn prefill(loaded: &mut LoadedModel, prompt_ids: &[u32]) -> anyhow::Result<(Vec<f32>, f64)> {
    check_prompt(loaded, prompt_ids)?;
    let started = Instant::now();
    // A long prompt goes in chunks, with progress on a terminal; the logits
    // are bitwise those of one pass (detprob's decoder computes each row
    // alike whatever the chunking, and a test checks it). candle's llama
    // masks only within one call, so its engine gets the prompt whole.
    if prompt_ids.len() <= PREFILL_CHUNK || loaded.model.as_decoder().is_none() {
        let logits = loaded.model.forward(prompt_ids, 0)?;
        return Ok((logits, started.elapsed().as_secs_f64()));
    }
    let progress = crate::progress::bar_for("generate.prefill_progress", prompt_ids.len() as u64);
    let mut logits = Vec::new();
    for (i, chunk) in prompt_ids.chunks(PREFILL_CHUNK).enumerate() {
        logits = loaded.model.forward(chunk, i * PREFILL_CHUNK)?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    Ok((logits, started.elapsed().as_secs_f64()))
}

/// Prompts longer than this are prefilled in chunks of this many tokens.
const PREFILL_CHUNK: usize = 512;

/// One completion in progress: the sampler, what it produced, and where it
/// stands. [`Decoding::advance`] is one step of the sampling loop.
struct Decoding {
    settings: GenerationSettings,
    sampler: Sampler,
    tokens: Vec<u32>,
    steps: Vec<Step>,
    seen_text: bool,
    /// Position the next fed token takes.
    position: usize,
    decoded_tokens: usize,
    stop: Option<StopReason>,
}

impl Decoding {
    fn new(settings: GenerationSettings, prompt_len: usize) -> Self {
        Self {
            sampler: Sampler::new(
                settings.sampling.clone(),
                settings.seed,
                settings.alternatives,
            ),
            settings,
            tokens: Vec::new(),
            steps: Vec::new(),
            seen_text: false,
            position: prompt_len,
            decoded_tokens: 0,
            stop: None,
        }
    }

    /// Samples the next token from `logits`. Returns the token to feed back
    /// into the model at `self.position`, or `None` once generation stopped.
    fn advance(
        &mut self,
        logits: &mut [f32],
        tokenizer: &TextTokenizer,
        context: usize,
    ) -> Option<u32> {
        let settings = &self.settings;
        if self.tokens.len() == settings.max_tokens {
            self.stop = Some(StopReason::MaxTokens);
            return None;
        }
        if settings.ignore_eos {
            for &id in &tokenizer.stop_ids {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l = f32::NEG_INFINITY;
                }
            }
        }
        let sampled = self.sampler.sample(logits);
        let piece = |id: u32| tokenizer.piece(id);
        self.steps.push(Step {
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
        self.tokens.push(sampled.token);
        if tokenizer.stop_ids.contains(&sampled.token) {
            self.stop = Some(StopReason::EndOfText);
            return None;
        }
        if settings.stop_at_newline && !tokenizer.is_control(sampled.token) {
            let bytes = tokenizer.bytes_of(sampled.token);
            let before_newline = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
            self.seen_text |= before_newline.iter().any(|b| !b.is_ascii_whitespace());
            if self.seen_text && bytes.contains(&b'\n') {
                self.stop = Some(StopReason::Newline);
                return None;
            }
            self.seen_text |= bytes.iter().any(|b| !b.is_ascii_whitespace());
        }
        if self.tokens.len() == settings.max_tokens {
            self.stop = Some(StopReason::MaxTokens);
            return None;
        }
        if self.position + 1 >= context {
            self.stop = Some(StopReason::ContextFull);
            return None;
        }
        Some(sampled.token)
    }

    /// The token was fed at `self.position`.
    fn fed(&mut self) {
        self.position += 1;
        self.decoded_tokens += 1;
    }

    fn finish(
        self,
        tokenizer: &TextTokenizer,
        prefill_seconds: f64,
        decode_seconds: f64,
    ) -> Completion {
        Completion {
            text: tokenizer.visible_text(&self.tokens),
            tokens: self.tokens,
            steps: self.steps,
            stop_reason: self.stop.unwrap_or(StopReason::MaxTokens),
            prefill_seconds,
            decode_seconds,
            decoded_tokens: self.decoded_tokens,
        }
    }
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
    on_tokens: &mut dyn FnMut(&[u32]),
) -> anyhow::Result<Completion> {
    let context = model.context_length();
    let started = Instant::now();
    let mut state = Decoding::new(settings.clone(), prompt_len);
    loop {
        let next = state.advance(&mut logits, tokenizer, context);
        on_tokens(&state.tokens);
        let Some(token) = next else { break };
        model.forward_into(&[token], state.position, &mut logits)?;
        state.fed();
    }
    Ok(state.finish(tokenizer, prefill_seconds, started.elapsed().as_secs_f64()))
}
