//! Gemma 3 text decoder, written on candle ops because candle-transformers'
//! `quantized_gemma3` (0.11.1) uses SiLU where Gemma uses tanh-GELU, builds
//! rotary tables for 131,072 positions and dequantizes the 262k-row embedding
//! to f32. This module follows llama.cpp's Gemma 3 graph:
//!
//! - embeddings scaled by √d, looked up row by row from the quantized table,
//!   which is shared with the (tied) output projection;
//! - per block: RMSNorm → attention (per-head RMSNorm on q and k, NEOX RoPE,
//!   grouped-query heads, scale 1/√head_dim) → RMSNorm → residual, then
//!   RMSNorm → GELU(tanh)-gated MLP → RMSNorm → residual;
//! - five of every six layers attend within a sliding window of 512 positions
//!   with RoPE base 10,000; every sixth is global with the file's RoPE base.

use super::ModelConfig;
use std::sync::Arc;

use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_transformers::quantized_nn::RmsNorm;

use super::{weights_error, LanguageModel};
use crate::error::InputError;
use crate::gguf::GgufFile;

/// One layer in this many attends globally; the rest use the sliding window.
const SLIDING_WINDOW_PATTERN: usize = 6;
/// RoPE base of the sliding-window layers (fixed in Gemma 3).
const LOCAL_ROPE_BASE: f32 = 10_000.0;

/// Cosine and sine tables for rotary position embeddings.
#[derive(Clone)]
struct RotaryTables {
    cos: Tensor,
    sin: Tensor,
}

impl RotaryTables {
    fn new(
        head_dim: usize,
        base: f32,
        positions: usize,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let inv_freq: Vec<f32> = (0..head_dim)
            .step_by(2)
            .map(|i| 1f32 / base.powf(i as f32 / head_dim as f32))
            .collect();
        let inv_freq = Tensor::from_vec(inv_freq, (1, head_dim / 2), device)?;
        let positions = Tensor::arange(0u32, positions as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((positions, 1))?;
        let angles = positions.matmul(&inv_freq)?;
        Ok(Self {
            cos: angles.cos()?,
            sin: angles.sin()?,
        })
    }

    fn apply(&self, x: &Tensor, start: usize) -> candle_core::Result<Tensor> {
        let seq_len = x.dim(2)?;
        let cos = self.cos.narrow(0, start, seq_len)?;
        let sin = self.sin.narrow(0, start, seq_len)?;
        candle_nn::rotary_emb::rope(&x.contiguous()?, &cos, &sin)
    }
}

#[derive(Clone)]
struct Attention {
    q: QMatMul,
    k: QMatMul,
    v: QMatMul,
    output: QMatMul,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    /// `Some(n)`: a query attends only to the last `n` positions (itself included).
    window: Option<usize>,
    rotary: RotaryTables,
    cache: Option<(Tensor, Tensor)>,
}

impl Attention {
    fn forward(&mut self, x: &Tensor, start: usize) -> candle_core::Result<Tensor> {
        let (batch, seq_len, _) = x.dims3()?;
        let split = |t: Tensor, heads: usize| {
            t.reshape((batch, seq_len, heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q.forward(x)?, self.heads)?;
        let k = split(self.k.forward(x)?, self.kv_heads)?;
        let v = split(self.v.forward(x)?, self.kv_heads)?;
        let q = self.rotary.apply(&self.q_norm.forward(&q)?, start)?;
        let k = self.rotary.apply(&self.k_norm.forward(&k)?, start)?;

        let (k, v) = match (&self.cache, start) {
            (Some((k_cache, v_cache)), s) if s > 0 => (
                Tensor::cat(&[k_cache, &k], 2)?,
                Tensor::cat(&[v_cache, &v], 2)?,
            ),
            _ => (k, v),
        };
        self.cache = Some((k.clone(), v.clone()));

        let groups = self.heads / self.kv_heads;
        let k = candle_transformers::utils::repeat_kv(k, groups)?;
        let v = candle_transformers::utils::repeat_kv(v, groups)?.contiguous()?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let mut scores = (q.matmul(&k.t()?)? * scale)?;
        if let Some(mask) = attention_mask(seq_len, start, self.window, x.device())? {
            scores = scores.broadcast_add(&mask)?;
        }
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let attended = weights.matmul(&v)?;
        let attended =
            attended
                .transpose(1, 2)?
                .reshape((batch, seq_len, self.heads * self.head_dim))?;
        self.output.forward(&attended)
    }
}

/// Additive mask (0 or −∞) of shape `(seq_len, start + seq_len)` for queries at
/// absolute positions `start..start + seq_len`, or `None` when every query may
/// see every key. Query `i` sees key `j` when `j ≤ i` and, in a sliding-window
/// layer of width `w`, `i − j < w` (llama.cpp's rule).
fn attention_mask(
    seq_len: usize,
    start: usize,
    window: Option<usize>,
    device: &Device,
) -> candle_core::Result<Option<Tensor>> {
    let total = start + seq_len;
    let window_bites = window.is_some_and(|w| total > w);
    if seq_len == 1 && !window_bites {
        return Ok(None);
    }
    let mut mask = Vec::with_capacity(seq_len * total);
    for row in 0..seq_len {
        let query = start + row;
        for key in 0..total {
            let visible = key <= query && window.is_none_or(|w| query - key < w);
            mask.push(if visible { 0f32 } else { f32::NEG_INFINITY });
        }
    }
    Tensor::from_vec(mask, (seq_len, total), device).map(Some)
}

#[derive(Clone)]
struct FeedForward {
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
}

impl FeedForward {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let gate = self.gate.forward(x)?.gelu()?;
        self.down.forward(&(gate * self.up.forward(x)?)?)
    }
}

#[derive(Clone)]
struct Block {
    attention_norm: RmsNorm,
    attention: Attention,
    post_attention_norm: RmsNorm,
    feed_forward_norm: RmsNorm,
    feed_forward: FeedForward,
    post_feed_forward_norm: RmsNorm,
}

impl Block {
    fn forward(&mut self, x: &Tensor, start: usize) -> candle_core::Result<Tensor> {
        let h = self.attention_norm.forward(x)?;
        let h = self.attention.forward(&h, start)?;
        let x = (x + self.post_attention_norm.forward(&h)?)?;
        let h = self.feed_forward_norm.forward(&x)?;
        let h = self.feed_forward.forward(&h)?;
        x + self.post_feed_forward_norm.forward(&h)?
    }
}

/// A Gemma 3 decoder on the CPU.
#[derive(Clone)]
pub struct Gemma3 {
    embedding: Arc<QTensor>,
    embedding_scale: f64,
    blocks: Vec<Block>,
    final_norm: RmsNorm,
    output: QMatMul,
    context_length: usize,
    device: Device,
}

impl Gemma3 {
    /// Reads the weights from an opened GGUF.
    pub fn load(
        gguf: &mut GgufFile,
        config: &ModelConfig,
        device: &Device,
    ) -> Result<Self, InputError> {
        let (heads, kv_heads, layers, embedding_length, head_dim) = (
            config.heads,
            config.kv_heads,
            config.layers,
            config.hidden,
            config.head_dim,
        );
        let eps = config.eps as f64;
        let window = config.sliding_window;
        let global_base = config.rope_base;
        let context_length = config.context_length();
        let build = |gguf: &mut GgufFile| -> candle_core::Result<Self> {
            let mut tensor = |name: &str| gguf.content.tensor(&mut gguf.reader, name, device);
            let global_rope = RotaryTables::new(head_dim, global_base, context_length, device)?;
            let local_rope = RotaryTables::new(head_dim, LOCAL_ROPE_BASE, context_length, device)?;
            let embedding = Arc::new(tensor("token_embd.weight")?);
            let output = match tensor("output.weight") {
                Ok(separate) => QMatMul::from_qtensor(separate)?,
                Err(_) => QMatMul::from_arc(embedding.clone())?,
            };
            let final_norm = RmsNorm::from_qtensor(tensor("output_norm.weight")?, eps)?;
            let mut blocks = Vec::with_capacity(layers);
            for layer in 0..layers {
                let mut weight = |name: &str| tensor(&format!("blk.{layer}.{name}.weight"));
                let mut matmul = |name: &str| QMatMul::from_qtensor(weight(name)?);
                let q = matmul("attn_q")?;
                let k = matmul("attn_k")?;
                let v = matmul("attn_v")?;
                let output = matmul("attn_output")?;
                let gate = matmul("ffn_gate")?;
                let up = matmul("ffn_up")?;
                let down = matmul("ffn_down")?;
                let mut norm = |name: &str| RmsNorm::from_qtensor(weight(name)?, eps);
                let is_global = (layer + 1) % SLIDING_WINDOW_PATTERN == 0;
                blocks.push(Block {
                    attention_norm: norm("attn_norm")?,
                    attention: Attention {
                        q,
                        k,
                        v,
                        output,
                        q_norm: norm("attn_q_norm")?,
                        k_norm: norm("attn_k_norm")?,
                        heads,
                        kv_heads,
                        head_dim,
                        window: (!is_global).then_some(window),
                        rotary: if is_global {
                            global_rope.clone()
                        } else {
                            local_rope.clone()
                        },
                        cache: None,
                    },
                    post_attention_norm: norm("post_attention_norm")?,
                    feed_forward_norm: norm("ffn_norm")?,
                    feed_forward: FeedForward { gate, up, down },
                    post_feed_forward_norm: norm("post_ffw_norm")?,
                });
            }
            Ok(Self {
                embedding,
                embedding_scale: (embedding_length as f64).sqrt(),
                blocks,
                final_norm,
                output,
                context_length,
                device: device.clone(),
            })
        };
        build(gguf).map_err(|e| weights_error(gguf, e))
    }
}

impl LanguageModel for Gemma3 {
    fn forward(&mut self, tokens: &[u32], start: usize) -> candle_core::Result<Vec<f32>> {
        let ids = Tensor::new(tokens, &self.device)?;
        let mut x = (self.embedding.embedding(&ids)? * self.embedding_scale)?.unsqueeze(0)?;
        for block in &mut self.blocks {
            x = block.forward(&x, start)?;
        }
        let last = x.i((.., tokens.len() - 1, ..))?;
        let logits = self.output.forward(&self.final_norm.forward(&last)?)?;
        logits.squeeze(0)?.to_vec1()
    }

    fn context_length(&self) -> usize {
        self.context_length
    }

    fn fork(&self) -> Box<dyn LanguageModel> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_rows(seq_len: usize, start: usize, window: Option<usize>) -> Vec<Vec<bool>> {
        let mask = attention_mask(seq_len, start, window, &Device::Cpu)
            .unwrap()
            .unwrap();
        mask.to_vec2::<f32>()
            .unwrap()
            .into_iter()
            .map(|row| row.into_iter().map(|v| v == 0.0).collect())
            .collect()
    }

    #[test]
    fn causal_mask_hides_the_future() {
        let rows = mask_rows(3, 0, None);
        assert_eq!(rows[0], vec![true, false, false]);
        assert_eq!(rows[2], vec![true, true, true]);
    }

    #[test]
    fn sliding_window_keeps_exactly_window_keys() {
        // Query at position 4 with window 3 sees keys 2, 3, 4.
        let rows = mask_rows(1, 4, Some(3));
        assert_eq!(rows[0], vec![false, false, true, true, true]);
    }

    #[test]
    fn single_token_decode_needs_no_mask_inside_the_window() {
        assert!(attention_mask(1, 10, Some(512), &Device::Cpu)
            .unwrap()
            .is_none());
        assert!(attention_mask(1, 10, None, &Device::Cpu).unwrap().is_none());
    }
}
