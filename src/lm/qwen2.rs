//! Qwen2-architecture models (Qwen2.5-Coder) on the candle engine, run with
//! candle-transformers' `quantized_qwen2`: the reference path that
//! detprob's own decoder is checked against.
//!
//! That model cannot be copied, so the forks of one load share it: each fork
//! remembers the calls that built its state, and when another fork has used
//! the model since, the model's cache is cleared and the fork's calls are
//! run again in the same chunks. A fork's logits are therefore those of an
//! uninterrupted run, whatever ran in between; only the time grows (the
//! candle engine is for checking, not for grids).

use std::sync::{Arc, Mutex};

use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_qwen2::ModelWeights;

use super::{weights_error, LanguageModel, ModelConfig};
use crate::error::InputError;
use crate::gguf::GgufFile;

/// The one model of a load, and whose calls its cache holds now.
struct Shared {
    weights: ModelWeights,
    /// The token chunks, in order, whose keys and values the cache holds.
    cached_calls: Vec<Vec<u32>>,
}

/// A Qwen2 decoder on the CPU (one fork of a load).
pub struct Qwen2 {
    shared: Arc<Mutex<Shared>>,
    /// The token chunks this fork has run, in order.
    calls: Vec<Vec<u32>>,
    context_length: usize,
    device: Device,
}

impl Qwen2 {
    /// Reads the weights from an opened GGUF.
    pub fn load(
        gguf: &mut GgufFile,
        config: &ModelConfig,
        device: &Device,
    ) -> Result<Self, InputError> {
        let placeholder = super::llama::empty_content(&gguf.content);
        let content = std::mem::replace(&mut gguf.content, placeholder);
        let weights = ModelWeights::from_gguf(content, &mut gguf.reader, device);
        let weights = weights.map_err(|e| weights_error(gguf, e))?;
        Ok(Self {
            shared: Arc::new(Mutex::new(Shared {
                weights,
                cached_calls: Vec::new(),
            })),
            calls: Vec::new(),
            context_length: config.context_length(),
            device: device.clone(),
        })
    }

    fn seen(&self) -> usize {
        self.calls.iter().map(Vec::len).sum()
    }

    /// Forgets every position from `positions` on (a rewrite from an
    /// earlier position), splitting the call that holds it.
    fn keep_first(&mut self, positions: usize) {
        let mut kept = 0;
        let mut calls = Vec::new();
        for call in self.calls.drain(..) {
            if kept >= positions {
                break;
            }
            let take = call.len().min(positions - kept);
            kept += take;
            calls.push(call[..take].to_vec());
        }
        self.calls = calls;
    }
}

impl LanguageModel for Qwen2 {
    fn forward(&mut self, tokens: &[u32], start: usize) -> candle_core::Result<Vec<f32>> {
        if tokens.is_empty() || start + tokens.len() > self.context_length {
            candle_core::bail!(
                "{} tokens at position {start} do not fit the context of {}",
                tokens.len(),
                self.context_length
            );
        }
        let seen = self.seen();
        if start > seen {
            candle_core::bail!("position {start} follows only {seen} positions seen");
        }
        if start < seen {
            self.keep_first(start);
        }
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let shared = &mut *shared;
        if shared.cached_calls != self.calls {
            shared.weights.clear_kv_cache();
            shared.cached_calls.clear();
            let mut position = 0;
            for call in &self.calls {
                let input = Tensor::new(call.as_slice(), &self.device)?.unsqueeze(0)?;
                shared.weights.forward(&input, position)?;
                shared.cached_calls.push(call.clone());
                position += call.len();
            }
        }
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let logits = shared.weights.forward(&input, start)?;
        self.calls.push(tokens.to_vec());
        shared.cached_calls.push(tokens.to_vec());
        logits.squeeze(0)?.to_vec1()
    }

    fn context_length(&self) -> usize {
        self.context_length
    }

    fn fork(&self) -> Box<dyn LanguageModel> {
        Box::new(Self {
            shared: self.shared.clone(),
            calls: self.calls.clone(),
            context_length: self.context_length,
            device: self.device.clone(),
        })
    }
}
