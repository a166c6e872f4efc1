//! [`ModelConfig`]: a model's shape and constants, read once from its GGUF
//! metadata (with the architecture's defaults for keys a file may omit),
//! for every engine and for the facts `detprob` reports about the model;
//! and [`ArchitectureTraits`], what sets one architecture's forward pass
//! apart from another's, so the decoder never asks for an architecture by
//! name.

use crate::error::InputError;
use crate::gguf::{Architecture, GgufFile, Metadata};

/// The most positions any engine keeps rotary tables and caches for.
pub const MAX_POSITIONS: usize = 8192;

/// Which pairs of a head's values rotary position embedding turns together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopePairs {
    /// `(2i, 2i + 1)`: llama's layout in GGUF (its converter permutes the
    /// query and key rows into it).
    Interleaved,
    /// `(i, i + d/2)`: the NEOX layout (Gemma, Qwen2).
    Halves,
}

/// The nonlinearity of the MLP's gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `x·σ(x)`.
    Silu,
    /// tanh-approximated GELU.
    GeluTanh,
}

/// Layers that attend only within a window of recent positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalAttention {
    /// One layer in this many (the last of each run) attends globally.
    pub global_every: usize,
    /// The rotary base of the windowed layers (global ones use the file's).
    pub rope_base: f32,
}

/// How an architecture's forward pass differs from a plain pre-norm
/// transformer (`x += Attn(RMSNorm(x))`, `x += MLP(RMSNorm(x))`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchitectureTraits {
    /// The rotary layout.
    pub rope_pairs: RopePairs,
    /// The MLP's gate.
    pub activation: Activation,
    /// RMSNorm on each head of the queries and keys (`attn_q_norm`, `attn_k_norm`).
    pub qk_norms: bool,
    /// RMSNorm on the attention and MLP outputs before each residual add
    /// (`post_attention_norm`, `post_ffw_norm`).
    pub post_norms: bool,
    /// Biases added to the queries, keys and values (`attn_q.bias`, …).
    pub qkv_biases: bool,
    /// Embeddings multiplied by √width.
    pub scaled_embedding: bool,
    /// Sliding-window layers, if any.
    pub local_attention: Option<LocalAttention>,
    /// Rotary base when the file gives none.
    pub default_rope_base: f32,
    /// Trained context when the file gives none.
    pub default_context: usize,
}

impl ArchitectureTraits {
    /// The traits of `architecture`: a new architecture is one more arm here.
    pub fn of(architecture: Architecture) -> Self {
        let plain = Self {
            rope_pairs: RopePairs::Interleaved,
            activation: Activation::Silu,
            qk_norms: false,
            post_norms: false,
            qkv_biases: false,
            scaled_embedding: false,
            local_attention: None,
            default_rope_base: 10_000.0,
            default_context: 2048,
        };
        match architecture {
            Architecture::Llama => plain,
            Architecture::Gemma3 => Self {
                rope_pairs: RopePairs::Halves,
                activation: Activation::GeluTanh,
                qk_norms: true,
                post_norms: true,
                scaled_embedding: true,
                local_attention: Some(LocalAttention {
                    global_every: 6,
                    rope_base: 10_000.0,
                }),
                default_rope_base: 1_000_000.0,
                default_context: 32_768,
                ..plain
            },
            Architecture::Qwen2 => Self {
                rope_pairs: RopePairs::Halves,
                qkv_biases: true,
                default_rope_base: 1_000_000.0,
                default_context: 32_768,
                ..plain
            },
        }
    }
}

/// Shape and constants of a decoder-only transformer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// The architecture the file names.
    pub architecture: Architecture,
    /// What its forward pass does differently.
    pub traits: ArchitectureTraits,
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
    /// Window of the sliding-window layers (where the architecture has them).
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
        // The embedding (and an output matrix of its own) is vocabulary ×
        // width: one stored the other way round, or from another model, is
        // refused here, before either engine reads it.
        for name in ["token_embd.weight", "output.weight"] {
            let Some(info) = gguf.content.tensor_infos.get(name) else {
                if name == "token_embd.weight" {
                    return Err(gguf.corrupt("it has no token_embd.weight"));
                }
                continue;
            };
            match info.shape.dims() {
                [_, width] if *width == hidden => {}
                dims => {
                    return Err(gguf.corrupt(format!(
                        "{name} is {dims:?}, not vocabulary × {hidden} (the model's width): stored transposed, or from another model"
                    )))
                }
            }
        }
        let traits = ArchitectureTraits::of(architecture);
        Ok(Self {
            architecture,
            traits,
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
                .unwrap_or(traits.default_rope_base),
            sliding_window: gguf
                .optional_u32(&key("attention.sliding_window"))
                .unwrap_or(512) as usize,
            trained_context: gguf
                .optional_u32(&key("context_length"))
                .unwrap_or(traits.default_context as u32) as usize,
        })
    }

    /// Positions the engines serve: the trained context, at most [`MAX_POSITIONS`].
    pub fn context_length(&self) -> usize {
        self.trained_context.min(MAX_POSITIONS)
    }
}
