//! [`ModelConfig`]: a model's shape and constants, read once from its GGUF
//! metadata (with the architecture's defaults for keys a file may omit),
//! for every engine and for the facts `detprob` reports about the model.

use crate::error::InputError;
use crate::gguf::{Architecture, GgufFile, Metadata};

/// The most positions any engine keeps rotary tables and caches for.
pub const MAX_POSITIONS: usize = 8192;

/// Shape and constants of a decoder-only transformer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// llama or Gemma 3.
    pub architecture: Architecture,
    /// Transformer blocks.
    pub layers: usize,
    /// Width of the residual stream.
    pub hidden: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention when fewer than `heads`).
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// RMS norm epsilon.
    pub eps: f32,
    /// Rotary base of the global attention layers.
    pub rope_base: f32,
    /// Window of Gemma 3's local attention layers.
    pub sliding_window: usize,
    /// The context the model was trained for.
    pub trained_context: usize,
}

impl ModelConfig {
    /// Reads the metadata of `gguf`; missing required keys or head counts
    /// that do not divide are a corrupt-file error.
    pub fn from_gguf(gguf: &GgufFile) -> Result<Self, InputError> {
        let architecture = gguf.architecture;
        let key = |suffix: &str| gguf.arch_key(suffix);
        let heads = gguf.require_u32(&key("attention.head_count"))? as usize;
        let kv_heads = gguf.require_u32(&key("attention.head_count_kv"))? as usize;
        let hidden = gguf.require_u32(&key("embedding_length"))? as usize;
        if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(gguf.corrupt("head counts do not divide"));
        }
        let (default_base, default_context) = match architecture {
            Architecture::Llama => (10_000.0, 2048),
            Architecture::Gemma3 => (1_000_000.0, 32_768),
        };
        Ok(Self {
            architecture,
            layers: gguf.require_u32(&key("block_count"))? as usize,
            hidden,
            heads,
            kv_heads,
            head_dim: gguf
                .optional_u32(&key("attention.key_length"))
                .map_or(hidden / heads, |d| d as usize),
            eps: gguf
                .optional_f32(&key("attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-6),
            rope_base: gguf
                .optional_f32(&key("rope.freq_base"))
                .unwrap_or(default_base),
            sliding_window: gguf
                .optional_u32(&key("attention.sliding_window"))
                .unwrap_or(512) as usize,
            trained_context: gguf
                .optional_u32(&key("context_length"))
                .unwrap_or(default_context) as usize,
        })
    }

    /// Positions the engines serve: the trained context, at most [`MAX_POSITIONS`].
    pub fn context_length(&self) -> usize {
        self.trained_context.min(MAX_POSITIONS)
    }
}
