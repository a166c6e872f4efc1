//! detprob's own forward pass: one decoder for every supported architecture
//! (llama for SmolLM2, Gemma 3, Qwen2), run on the [`QMatrix`] kernels with
//! a KV cache. It follows llama.cpp's graphs, and reads what sets one
//! architecture apart from the [`ArchitectureTraits`], never from its name:
//!
//! - every block: `x += Attn(RMSNorm(x))`, `x += MLP(RMSNorm(x))`, with
//!   grouped-query attention scaled by 1/√head_dim and a gated MLP; a final
//!   RMSNorm and an output projection (tied to the embedding when the file
//!   has none);
//! - the traits add: biases on the queries, keys and values (Qwen2);
//!   per-head RMSNorm on queries and keys, RMSNorm on each block output
//!   before its residual add, embeddings scaled by √d, sliding-window layers
//!   with a rotary base of their own (Gemma 3); and choose the rotary layout
//!   (interleaved for llama, NEOX halves otherwise) and the gate (SiLU, or
//!   tanh-GELU for Gemma 3).
//!
//! Weights live behind an `Arc` and the KV cache in shared chunks
//! (`kv_cache`), so [`LanguageModel::fork`] copies next to
//! nothing. Every value is computed in an order that depends neither on the
//! thread count nor on how tokens were batched.

use super::config::{Activation, ArchitectureTraits, RopePairs};
use super::ModelConfig;
use std::sync::{Arc, OnceLock};

use candle_core::quantized::QTensor;
use candle_core::Device;
use rayon::prelude::*;

use super::kv_cache::LayerCache;
use super::math::{add_scaled_each_of, dense_dot_each, exp, softmax};
use super::quant::{MatrixSource, QMatrix};
use super::{weights_error, LanguageModel};
use crate::error::InputError;
use crate::gguf::{GgufFile, Metadata};
use crate::simd::wider_where_available;

/// Positions whose cosines and sines are computed together, when a row at
/// one of them is first rotated.
const ROTARY_SPAN: usize = 256;

/// Cosine and sine of `position · θ_i` for every position and pair, computed
/// a span of positions at a time as they are first needed: Gemma's two
/// tables for all 8,192 positions were 16 MB and millions of libm calls at
/// every load, for the few hundred positions a prompt uses.
struct Rotary {
    pairs: RopePairs,
    half: usize,
    /// `θ_i` of each pair.
    inverse: Vec<f32>,
    /// Span `s`: the cosines and sines of positions `s·ROTARY_SPAN..`, each
    /// position's `half` values together.
    spans: Vec<OnceLock<(Vec<f32>, Vec<f32>)>>,
}

impl Rotary {
    fn new(pairs: RopePairs, head_dim: usize, base: f32, positions: usize) -> Self {
        let half = head_dim / 2;
        let inverse: Vec<f32> = (0..half)
            .map(|i| 1.0 / base.powf((2 * i) as f32 / head_dim as f32))
            .collect();
        Self {
            pairs,
            half,
            inverse,
            spans: (0..positions.div_ceil(ROTARY_SPAN))
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// The cosines and sines of `position`.
    fn at(&self, position: usize) -> (&[f32], &[f32]) {
        let (cos, sin) = self.spans[position / ROTARY_SPAN].get_or_init(|| {
            let first = position / ROTARY_SPAN * ROTARY_SPAN;
            let mut cos = Vec::with_capacity(ROTARY_SPAN * self.half);
            let mut sin = Vec::with_capacity(ROTARY_SPAN * self.half);
            for position in first..first + ROTARY_SPAN {
                for theta in &self.inverse {
                    let angle = position as f32 * theta;
                    cos.push(angle.cos());
                    sin.push(angle.sin());
                }
            }
            (cos, sin)
        });
        let offset = position % ROTARY_SPAN * self.half;
        (
            &cos[offset..offset + self.half],
            &sin[offset..offset + self.half],
        )
    }

    /// Rotates one head's values for `position`.
    fn apply(&self, head: &mut [f32], position: usize) {
        let (cos, sin) = self.at(position);
        for i in 0..self.half {
            let (a, b) = match self.pairs {
                RopePairs::Interleaved => (2 * i, 2 * i + 1),
                RopePairs::Halves => (i, i + self.half),
            };
            let (x0, x1) = (head[a], head[b]);
            head[a] = x0 * cos[i] - x1 * sin[i];
            head[b] = x0 * sin[i] + x1 * cos[i];
        }
    }
}

/// One transformer block's weights.
struct Layer {
    attention_norm: Vec<f32>,
    q: QMatrix,
    k: QMatrix,
    v: QMatrix,
    attention_output: QMatrix,
    /// Biases added to q, k and v.
    qkv_biases: Option<[Vec<f32>; 3]>,
    /// Per-head RMSNorm weights for q and k.
    qk_norms: Option<(Vec<f32>, Vec<f32>)>,
    /// RMSNorm on the attention output before the residual add.
    post_attention_norm: Option<Vec<f32>>,
    mlp_norm: Vec<f32>,
    gate: QMatrix,
    up: QMatrix,
    down: QMatrix,
    /// RMSNorm on the MLP output before the residual add.
    post_mlp_norm: Option<Vec<f32>>,
    /// `Some(w)`: queries see only the last `w` positions.
    window: Option<usize>,
    rotary: Arc<Rotary>,
}

/// Shapes and constants read from the file's metadata.
struct Shape {
    hidden: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    eps: f32,
    embedding_scale: Option<f32>,
    activation: Activation,
    context_length: usize,
}

/// All weights of a model; shared by every fork.
struct Weights {
    shape: Shape,
    embedding: QMatrix,
    /// `None`: the output projection is the embedding matrix.
    output: Option<QMatrix>,
    final_norm: Vec<f32>,
    layers: Vec<Layer>,
}

/// A loaded decoder with its KV cache.
#[derive(Clone)]
pub struct Decoder {
    weights: Arc<Weights>,
    cache: Vec<LayerCache>,
}

impl Decoder {
    /// Reads and repacks the weights of a GGUF of any supported architecture.
    pub fn load(gguf: &mut GgufFile, config: &ModelConfig) -> Result<Self, InputError> {
        let traits: ArchitectureTraits = config.traits;
        let (layers, hidden, heads, kv_heads, head_dim, eps) = (
            config.layers,
            config.hidden,
            config.heads,
            config.kv_heads,
            config.head_dim,
            config.eps,
        );
        let context_length = config.context_length();
        let pairs = traits.rope_pairs;
        let global_rotary = Arc::new(Rotary::new(
            pairs,
            head_dim,
            config.rope_base,
            context_length,
        ));
        let local = traits.local_attention.map(|local| {
            let rotary = Arc::new(Rotary::new(
                pairs,
                head_dim,
                local.rope_base,
                context_length,
            ));
            (local.global_every, rotary)
        });
        let window = config.sliding_window;
        let shape = Shape {
            hidden,
            heads,
            kv_heads,
            head_dim,
            eps,
            embedding_scale: traits.scaled_embedding.then(|| (hidden as f32).sqrt()),
            activation: traits.activation,
            context_length,
        };

        let mut source = MatrixSource::new(gguf);
        let read = |gguf: &mut GgufFile| -> candle_core::Result<Weights> {
            let embedding = source.read(gguf, "token_embd.weight")?;
            let output = match gguf.content.tensor_infos.contains_key("output.weight") {
                true => Some(source.read(gguf, "output.weight")?),
                false => None,
            };
            let final_norm = vector(gguf, "output_norm.weight")?;
            let mut blocks = Vec::with_capacity(layers);
            for layer in 0..layers {
                let name = |n: &str| format!("blk.{layer}.{n}.weight");
                let mut matrix = |n: &str| source.read(gguf, &name(n));
                let q = matrix("attn_q")?;
                let k = matrix("attn_k")?;
                let v = matrix("attn_v")?;
                let attention_output = matrix("attn_output")?;
                let gate = matrix("ffn_gate")?;
                let up = matrix("ffn_up")?;
                let down = matrix("ffn_down")?;
                let mut norm = |n: &str| vector(gguf, &name(n));
                let qk_norms = traits
                    .qk_norms
                    .then(|| {
                        Ok::<_, candle_core::Error>((norm("attn_q_norm")?, norm("attn_k_norm")?))
                    })
                    .transpose()?;
                let post_attention_norm = traits
                    .post_norms
                    .then(|| norm("post_attention_norm"))
                    .transpose()?;
                let post_mlp_norm = traits
                    .post_norms
                    .then(|| norm("post_ffw_norm"))
                    .transpose()?;
                let mlp_norm = norm("ffn_norm")?;
                let attention_norm = norm("attn_norm")?;
                let qkv_biases = traits
                    .qkv_biases
                    .then(|| {
                        let mut bias = |n: &str| vector(gguf, &format!("blk.{layer}.{n}.bias"));
                        Ok::<_, candle_core::Error>([
                            bias("attn_q")?,
                            bias("attn_k")?,
                            bias("attn_v")?,
                        ])
                    })
                    .transpose()?;
                if let Some([bq, bk, bv]) = &qkv_biases {
                    if bq.len() != q.rows() || bk.len() != k.rows() || bv.len() != v.rows() {
                        candle_core::bail!("blk.{layer}: a bias does not match its matrix's rows");
                    }
                }
                let local_rotary = local.as_ref().filter(|(every, _)| (layer + 1) % every != 0);
                blocks.push(Layer {
                    attention_norm,
                    q,
                    k,
                    v,
                    attention_output,
                    qkv_biases,
                    qk_norms,
                    post_attention_norm,
                    mlp_norm,
                    gate,
                    up,
                    down,
                    post_mlp_norm,
                    window: local_rotary.map(|_| window),
                    rotary: local_rotary.map_or_else(|| global_rotary.clone(), |(_, r)| r.clone()),
                });
            }
            Ok(Weights {
                shape,
                embedding,
                output,
                final_norm,
                layers: blocks,
            })
        };
        let weights = read(gguf).map_err(|e| weights_error(gguf, e))?;
        source.finish();
        if weights.embedding.rows() == 0 || weights.q_rows() != heads * head_dim {
            return Err(gguf.corrupt("attention weights do not match the head counts"));
        }
        Ok(Self {
            cache: vec![LayerCache::new(kv_heads * head_dim); weights.layers.len()],
            weights: Arc::new(weights),
        })
    }
}

impl Weights {
    fn q_rows(&self) -> usize {
        self.layers.first().map_or(0, |l| l.q.rows())
    }
}

/// A 1-D tensor (a norm's weights) as f32 values.
fn vector(gguf: &mut GgufFile, name: &str) -> candle_core::Result<Vec<f32>> {
    let tensor: QTensor = gguf.content.tensor(&mut gguf.reader, name, &Device::Cpu)?;
    tensor.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1()
}

/// RMSNorm of each `weight.len()`-long row of `x`, in place, as llama.cpp
/// computes it (sum of squares in f64, then `x · (1/√(mean + ε)) · weight`).
/// Rows are shared between threads when `x` is a prompt's worth
/// ([`share_elementwise`]); each row's arithmetic is the same either way.
fn rms_norm(x: &mut [f32], weight: &[f32], eps: f32) {
    let norm_row = |row: &mut [f32]| {
        let sum: f64 = row.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let mean = (sum / row.len() as f64) as f32;
        let scale = 1.0 / (mean + eps).sqrt();
        for (v, w) in row.iter_mut().zip(weight) {
            *v = *v * scale * w;
        }
    };
    if share_elementwise(x.len()) {
        x.par_chunks_exact_mut(weight.len()).for_each(norm_row);
    } else {
        x.chunks_exact_mut(weight.len()).for_each(norm_row);
    }
}

/// Values per share of element-wise work (norms, activations) handed to a
/// thread; fewer than this stay on the calling thread, as a decoded token's
/// do (waking a thread would cost more than the work).
const ELEMENTWISE_SHARE: usize = 1 << 14;

/// Whether `values` of element-wise work are worth sharing between threads:
/// a prompt's norms and activations are, so no thread waits through them
/// while another works; a decoded token's are not.
fn share_elementwise(values: usize) -> bool {
    values >= 2 * ELEMENTWISE_SHARE && rayon::current_num_threads() > 1
}

fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// One row of a forward pass: a token of sequence `sequence` at `position`.
#[derive(Clone, Copy)]
struct Row {
    sequence: usize,
    position: usize,
}

/// Rows of a batch of decoded tokens worth rotating and caching on both
/// threads (fewer are done where they are: waking a thread costs more).
const ROWS_WORTH_SHARING: usize = 8;

/// Runs block `index` over `rows` (their activations in `x`), appending each
/// row's key and value to its sequence's cache first.
fn block(
    weights: &Weights,
    index: usize,
    caches: &mut [&mut Vec<LayerCache>],
    rows: &[Row],
    x: &mut [f32],
) {
    let shape = &weights.shape;
    let layer = &weights.layers[index];
    let (heads, kv_heads, head_dim) = (shape.heads, shape.kv_heads, shape.head_dim);
    let tokens = rows.len();
    let kv_width = kv_heads * head_dim;

    let mut h = x.to_vec();
    rms_norm(&mut h, &layer.attention_norm, shape.eps);
    let [mut q, mut k, mut v]: [Vec<f32>; 3] =
        QMatrix::matmul_each(&[&layer.q, &layer.k, &layer.v], &h, tokens)
            .try_into()
            .expect("three results");
    if let Some([bq, bk, bv]) = &layer.qkv_biases {
        for (values, bias) in [(&mut q, bq), (&mut k, bk), (&mut v, bv)] {
            values
                .chunks_exact_mut(bias.len())
                .for_each(|row| add_in_place(row, bias));
        }
    }
    if let Some((q_norm, k_norm)) = &layer.qk_norms {
        rms_norm(&mut q, q_norm, shape.eps);
        rms_norm(&mut k, k_norm, shape.eps);
    }
    // Each row's query and key rotated, and its key and value appended to
    // its sequence's cache.
    let rotate_and_cache =
        |row: &Row, q_row: &mut [f32], k_row: &mut [f32], v_row: &[f32], cache: &mut LayerCache| {
            for head in q_row.chunks_exact_mut(head_dim) {
                layer.rotary.apply(head, row.position);
            }
            for head in k_row.chunks_exact_mut(head_dim) {
                layer.rotary.apply(head, row.position);
            }
            cache.write(row.position, k_row, v_row);
        };
    let q_width = heads * head_dim;
    // A batch of decoded tokens (row `t` of sequence `t`): each row on
    // whichever thread takes it (in order on one thread, they were a serial
    // part of every layer of a 200-row batch). A prompt's rows (one
    // sequence) go in order.
    let one_row_each =
        caches.len() == tokens && rows.iter().enumerate().all(|(t, r)| r.sequence == t);
    if one_row_each && tokens >= ROWS_WORTH_SHARING && rayon::current_num_threads() > 1 {
        q.par_chunks_exact_mut(q_width)
            .zip(k.par_chunks_exact_mut(kv_width))
            .zip(v.par_chunks_exact(kv_width))
            .zip(caches.par_iter_mut())
            .zip(rows)
            .for_each(|((((q_row, k_row), v_row), cache), row)| {
                rotate_and_cache(row, q_row, k_row, v_row, &mut cache[index]);
            });
    } else {
        for (((row, q_row), k_row), v_row) in rows
            .iter()
            .zip(q.chunks_exact_mut(q_width))
            .zip(k.chunks_exact_mut(kv_width))
            .zip(v.chunks_exact(kv_width))
        {
            rotate_and_cache(row, q_row, k_row, v_row, &mut caches[row.sequence][index]);
        }
    }

    let layer_caches: Vec<&LayerCache> = caches.iter().map(|c| &c[index]).collect();
    let attended = attend(&q, &layer_caches, shape, layer.window, rows);
    let mut h = layer.attention_output.matmul(&attended, tokens);
    if let Some(norm) = &layer.post_attention_norm {
        rms_norm(&mut h, norm, shape.eps);
    }
    add_in_place(x, &h);

    let mut h = x.to_vec();
    rms_norm(&mut h, &layer.mlp_norm, shape.eps);
    let [mut gate, up]: [Vec<f32>; 2] = QMatrix::matmul_each(&[&layer.gate, &layer.up], &h, tokens)
        .try_into()
        .expect("two results");
    gated_activation(shape.activation, &mut gate, &up);
    let mut h = layer.down.matmul(&gate, tokens);
    if let Some(norm) = &layer.post_mlp_norm {
        rms_norm(&mut h, norm, shape.eps);
    }
    add_in_place(x, &h);
}

/// Runs `tokens` (row `r` is `rows[r]`) through the whole model and writes
/// the logits after each row listed in `wanted` into `logits` (one buffer
/// each, resized to the vocabulary).
fn forward_rows(
    weights: &Weights,
    caches: &mut [&mut Vec<LayerCache>],
    tokens: &[u32],
    rows: &[Row],
    wanted: &[usize],
    logits: &mut [&mut Vec<f32>],
) -> candle_core::Result<()> {
    let shape = &weights.shape;
    let vocab = weights.embedding.rows();
    let mut x = Vec::with_capacity(tokens.len() * shape.hidden);
    for (&token, row) in tokens.iter().zip(rows) {
        if token as usize >= vocab {
            candle_core::bail!("token id {token} is outside the vocabulary of {vocab}");
        }
        if row.position >= shape.context_length {
            candle_core::bail!(
                "position {} is outside the context of {}",
                row.position,
                shape.context_length
            );
        }
        let mut embedded = weights.embedding.row(token as usize);
        if let Some(scale) = shape.embedding_scale {
            embedded.iter_mut().for_each(|v| *v *= scale);
        }
        x.extend_from_slice(&embedded);
    }
    for index in 0..weights.layers.len() {
        block(weights, index, caches, rows, &mut x);
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let mut last: Vec<f32> = wanted
        .iter()
        .flat_map(|&r| x[r * shape.hidden..(r + 1) * shape.hidden].iter().copied())
        .collect();
    rms_norm(&mut last, &weights.final_norm, shape.eps);
    let head = weights.output.as_ref().unwrap_or(&weights.embedding);
    head.matmul_into(&last, logits);
    Ok(())
}

impl Decoder {
    /// Refuses a token at `start` past the positions cached so far, which
    /// would leave a gap in the sequence.
    fn check_start(&self, start: usize) -> candle_core::Result<()> {
        let cached = self.cache.first().map_or(0, LayerCache::len);
        if start > cached {
            candle_core::bail!("position {start} follows only {cached} cached positions");
        }
        Ok(())
    }

    /// One next token for each decoder in one pass: `tokens[i]` at
    /// `positions[i]` of `decoders[i]`, its next-token logits written into
    /// `logits[i]` (not computed where that is `None`). Each row is computed exactly as a lone
    /// [`LanguageModel::forward`] would compute it, so batching changes no
    /// bit; the weights are read once for the whole batch.
    pub fn forward_batch(
        decoders: &mut [&mut Decoder],
        tokens: &[u32],
        positions: &[usize],
        logits: &mut [Option<&mut Vec<f32>>],
    ) -> candle_core::Result<()> {
        if decoders.is_empty()
            || tokens.len() != decoders.len()
            || positions.len() != decoders.len()
            || logits.len() != decoders.len()
        {
            candle_core::bail!("a batch needs one token, position and logits buffer per decoder");
        }
        let weights = decoders[0].weights.clone();
        if decoders.iter().any(|d| !Arc::ptr_eq(&d.weights, &weights)) {
            candle_core::bail!("a batch must share one model's weights");
        }
        for (decoder, &position) in decoders.iter().zip(positions) {
            decoder.check_start(position)?;
        }
        let rows: Vec<Row> = positions
            .iter()
            .enumerate()
            .map(|(sequence, &position)| Row { sequence, position })
            .collect();
        let mut caches: Vec<&mut Vec<LayerCache>> =
            decoders.iter_mut().map(|d| &mut d.cache).collect();
        let wanted: Vec<usize> = (0..rows.len()).filter(|&r| logits[r].is_some()).collect();
        let mut buffers: Vec<&mut Vec<f32>> =
            logits.iter_mut().filter_map(|l| l.as_deref_mut()).collect();
        forward_rows(&weights, &mut caches, tokens, &rows, &wanted, &mut buffers)
    }
}

/// `gate[i] = activation(gate[i]) · up[i]`, the MLP's gating. Each
/// activation is written as one loop of plain f32 arithmetic, which the
/// compiler vectorizes (libm's `expf` and `tanhf` are calls, one value at a
/// time: a tenth of Gemma's prefill went to `tanhf`). Every value goes
/// through the same operations, so the result does not depend on how the
/// loop was vectorized or how the values were shared between threads.
fn gated_activation(activation: Activation, gate: &mut [f32], up: &[f32]) {
    if share_elementwise(gate.len()) {
        gate.par_chunks_mut(ELEMENTWISE_SHARE)
            .zip(up.par_chunks(ELEMENTWISE_SHARE))
            .for_each(|(gate, up)| gate_values(activation, gate, up));
    } else {
        gate_values(activation, gate, up);
    }
}

wider_where_available!(
    "avx2",
    /// [`gated_activation`] of one share of the values, in AVX2 registers where
    /// the CPU has them (eight values at a time instead of four; the same
    /// operations on each value, so the same bits).
    fn gate_values(activation: Activation, gate: &mut [f32], up: &[f32]) = gate_each
);

#[inline(always)]
fn gate_each(activation: Activation, gate: &mut [f32], up: &[f32]) {
    match activation {
        Activation::Silu => {
            for (g, u) in gate.iter_mut().zip(up) {
                *g = *g / (1.0 + exp(-*g)) * u;
            }
        }
        Activation::GeluTanh => {
            for (g, u) in gate.iter_mut().zip(up) {
                *g = gelu_tanh(*g) * u;
            }
        }
    }
}

#[cfg(test)]
fn activate(activation: Activation, x: f32) -> f32 {
    let mut gate = [x];
    gated_activation(activation, &mut gate, &[1.0]);
    gate[0]
}

/// tanh-approximated GELU: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`, with
/// `tanh(u) = 1 − 2/(e^{2u} + 1)`.
#[inline(always)]
fn gelu_tanh(x: f32) -> f32 {
    const SQRT_TWO_OVER_PI: f32 = 0.797_884_6;
    let u = SQRT_TWO_OVER_PI * x * (1.0 + 0.044_715 * x * x);
    let tanh = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
    0.5 * x * (1.0 + tanh)
}

/// Query rows of one sequence attended together, so each cached key and
/// value is read once for the whole block instead of once per row.
const ATTENTION_BLOCK: usize = 16;

/// Causal (and, with `window`, sliding-window) attention of each row's
/// query over its own sequence's cached keys and values. Returns
/// `rows × heads·head_dim` values.
///
/// Consecutive rows of one sequence (a prompt) form blocks of up to
/// [`ATTENTION_BLOCK`]; every row's scores, softmax and weighted sum are
/// computed exactly as for a row alone (the same dot product, the same
/// order of summation over positions), so blocking changes no bit.
fn attend(
    q: &[f32],
    caches: &[&LayerCache],
    shape: &Shape,
    window: Option<usize>,
    rows: &[Row],
) -> Vec<f32> {
    let (heads, kv_heads, head_dim) = (shape.heads, shape.kv_heads, shape.head_dim);
    let groups = heads / kv_heads;
    let scale = 1.0 / (head_dim as f32).sqrt();
    // Blocks: runs of consecutive rows of the same sequence.
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        match blocks.last_mut() {
            Some((first, len))
                if *len < ATTENTION_BLOCK && rows[*first].sequence == row.sequence =>
            {
                *len += 1
            }
            _ => blocks.push((r, 1)),
        }
    }
    // Decoding (one row per sequence): each (row, KV head) straight into
    // the slice of the output its query heads own (a KV head's query heads
    // are consecutive). The keys are gathered once for the group and each
    // head's scores taken from them in turn, then each head's weighted
    // values, so the group's later heads find its keys, then its values,
    // in the caches the first head brought them into; each head's
    // arithmetic is a lone head's, in the same order.
    if blocks.iter().all(|&(_, len)| len == 1) {
        let mut out = vec![0f32; rows.len() * heads * head_dim];
        let attend_row_group = |(index, out): (usize, &mut [f32])| {
            let (row, kv_head) = (rows[index / kv_heads], index % kv_heads);
            let cache = caches[row.sequence];
            let first = window.map_or(0, |w| (row.position + 1).saturating_sub(w));
            let kv_offset = kv_head * head_dim;
            let head_part = kv_offset..kv_offset + head_dim;
            let seen = row.position + 1 - first;
            let mut keys: Vec<&[f32]> = Vec::with_capacity(seen);
            cache.extend_keys(first..=row.position, head_part.clone(), &mut keys);
            let queries = &q[index * groups * head_dim..(index + 1) * groups * head_dim];
            let mut scores = vec![0f32; groups * seen];
            for (query, scores) in queries
                .chunks_exact(head_dim)
                .zip(scores.chunks_exact_mut(seen))
            {
                dense_dot_each(&keys, query, scores);
                scores.iter_mut().for_each(|s| *s *= scale);
            }
            let mut values = keys;
            values.clear();
            cache.extend_values(first..=row.position, head_part, &mut values);
            for (out, scores) in out
                .chunks_exact_mut(head_dim)
                .zip(scores.chunks_exact(seen))
            {
                add_scaled_each_of(out, &softmax(scores), &values);
            }
        };
        // One query's heads are too little work to share out between threads.
        if rows.len() == 1 {
            out.chunks_mut(groups * head_dim)
                .enumerate()
                .for_each(attend_row_group);
        } else {
            out.par_chunks_mut(groups * head_dim)
                .enumerate()
                .for_each(attend_row_group);
        }
        return out;
    }
    let attend_block = |&(block, head): &(usize, usize)| -> Vec<f32> {
        let (first_row, len) = blocks[block];
        let block_rows = &rows[first_row..first_row + len];
        let cache = caches[block_rows[0].sequence];
        let kv_offset = (head / groups) * head_dim;
        let key_at = |j: usize| &cache.key(j)[kv_offset..][..head_dim];
        let spans: Vec<(usize, usize)> = block_rows
            .iter()
            .map(|row| {
                let first = window.map_or(0, |w| (row.position + 1).saturating_sub(w));
                (first, row.position)
            })
            .collect();
        let lowest = spans.iter().map(|s| s.0).min().unwrap_or(0);
        let highest = spans.iter().map(|s| s.1).max().unwrap_or(0);
        let queries: Vec<&[f32]> = (0..len)
            .map(|b| {
                let index = (first_row + b) * heads + head;
                &q[index * head_dim..(index + 1) * head_dim]
            })
            .collect();
        // Scores, position-major over the block: each key is read once.
        let mut scores: Vec<Vec<f32>> = spans
            .iter()
            .map(|(first, last)| Vec::with_capacity(last + 1 - first))
            .collect();
        // The rows that see each position, and their dot products with its
        // key, computed together.
        let mut seeing = [0usize; ATTENTION_BLOCK];
        let mut seeing_queries: [&[f32]; ATTENTION_BLOCK] = [&[]; ATTENTION_BLOCK];
        let mut dots = [0f32; ATTENTION_BLOCK];
        // Positions every row sees (a prompt's rows all see what came
        // before the block) need no search for the rows that see them.
        let seen_by_all = spans.iter().map(|s| s.0).max().unwrap_or(0)
            ..=spans.iter().map(|s| s.1).min().unwrap_or(0);
        for j in lowest..=highest {
            if seen_by_all.contains(&j) {
                dense_dot_each(&queries, key_at(j), &mut dots[..len]);
                for (row, dot) in scores.iter_mut().zip(&dots) {
                    row.push(dot * scale);
                }
                continue;
            }
            let mut count = 0;
            for (b, &(first, last)) in spans.iter().enumerate() {
                if (first..=last).contains(&j) {
                    seeing[count] = b;
                    seeing_queries[count] = queries[b];
                    count += 1;
                }
            }
            dense_dot_each(&seeing_queries[..count], key_at(j), &mut dots[..count]);
            for (&b, dot) in seeing[..count].iter().zip(&dots) {
                scores[b].push(dot * scale);
            }
        }
        // Softmax weights and weighted values per row, summed in position
        // order, exactly as for one row alone.
        let mut values: Vec<&[f32]> = Vec::with_capacity(highest + 1 - lowest);
        cache.extend_values(
            lowest..=highest,
            kv_offset..kv_offset + head_dim,
            &mut values,
        );
        let mut out = vec![0f32; len * head_dim];
        for ((out, row_scores), &(first, last)) in
            out.chunks_exact_mut(head_dim).zip(&scores).zip(&spans)
        {
            add_scaled_each_of(
                out,
                &softmax(row_scores),
                &values[first - lowest..=last - lowest],
            );
        }
        out
    };
    let tasks: Vec<(usize, usize)> = (0..blocks.len())
        .flat_map(|block| (0..heads).map(move |head| (block, head)))
        .collect();
    let results: Vec<Vec<f32>> = if rayon::current_num_threads() == 1 {
        tasks.iter().map(attend_block).collect()
    } else {
        tasks.par_iter().map(attend_block).collect()
    };
    let mut out = vec![0f32; rows.len() * heads * head_dim];
    for (&(block, head), result) in tasks.iter().zip(&results) {
        let (first_row, _) = blocks[block];
        for (b, values) in result.chunks_exact(head_dim).enumerate() {
            let index = (first_row + b) * heads + head;
            out[index * head_dim..(index + 1) * head_dim].copy_from_slice(values);
        }
    }
    out
}

impl LanguageModel for Decoder {
    fn forward(&mut self, tokens: &[u32], start: usize) -> candle_core::Result<Vec<f32>> {
        let mut logits = Vec::new();
        self.forward_into(tokens, start, &mut logits)?;
        Ok(logits)
    }

    fn forward_into(
        &mut self,
        tokens: &[u32],
        start: usize,
        logits: &mut Vec<f32>,
    ) -> candle_core::Result<()> {
        let weights = self.weights.clone();
        if tokens.is_empty() || start + tokens.len() > weights.shape.context_length {
            candle_core::bail!(
                "{} tokens at position {start} do not fit the context of {}",
                tokens.len(),
                weights.shape.context_length
            );
        }
        self.check_start(start)?;
        let rows: Vec<Row> = (0..tokens.len())
            .map(|t| Row {
                sequence: 0,
                position: start + t,
            })
            .collect();
        let mut caches = [&mut self.cache];
        let wanted = [tokens.len() - 1];
        forward_rows(&weights, &mut caches, tokens, &rows, &wanted, &mut [logits])
    }

    fn as_decoder(&mut self) -> Option<&mut Decoder> {
        Some(self)
    }

    fn context_length(&self) -> usize {
        self.weights.shape.context_length
    }

    fn fork(&self) -> Box<dyn LanguageModel> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotary_pairs_rotate_the_right_values() {
        let rotary = Rotary::new(RopePairs::Halves, 4, 10_000.0, 4);
        let mut head = [1.0, 0.0, 0.0, 0.0];
        rotary.apply(&mut head, 1);
        // Pair (0, 2) turned by 1 radian; pair (1, 3) untouched (zeros).
        assert!((head[0] - 1f32.cos()).abs() < 1e-6 && (head[2] - 1f32.sin()).abs() < 1e-6);
        let rotary = Rotary::new(RopePairs::Interleaved, 4, 10_000.0, 4);
        let mut head = [1.0, 0.0, 0.0, 0.0];
        rotary.apply(&mut head, 1);
        assert!((head[1] - 1f32.sin()).abs() < 1e-6 && head[2] == 0.0);
    }

    #[test]
    fn every_span_holds_its_own_positions() {
        let rotary = Rotary::new(RopePairs::Halves, 8, 10_000.0, 3 * ROTARY_SPAN);
        for position in [0, 1, ROTARY_SPAN - 1, ROTARY_SPAN, 2 * ROTARY_SPAN + 7] {
            let (cos, sin) = rotary.at(position);
            for (i, theta) in rotary.inverse.iter().enumerate() {
                let angle = position as f32 * theta;
                assert_eq!((cos[i], sin[i]), (angle.cos(), angle.sin()), "{position}");
            }
        }
    }

    #[test]
    fn wide_activations_give_the_bits_of_the_baseline_loop() {
        let up: Vec<f32> = (0..1000).map(|i| 1.0 + (i % 7) as f32 * 0.25).collect();
        for activation in [Activation::Silu, Activation::GeluTanh] {
            let inputs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.037).collect();
            let (mut wide, mut baseline) = (inputs.clone(), inputs);
            gate_values(activation, &mut wide, &up);
            gate_each(activation, &mut baseline, &up);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&wide), bits(&baseline));
        }
    }

    #[test]
    fn position_zero_is_not_rotated() {
        let rotary = Rotary::new(RopePairs::Halves, 8, 10_000.0, 2);
        let mut head = [0.5, -1.0, 2.0, 3.0, 4.0, -5.0, 6.0, 7.0];
        let before = head;
        rotary.apply(&mut head, 0);
        assert_eq!(head, before);
    }

    #[test]
    fn rms_norm_gives_unit_root_mean_square() {
        let mut x = vec![3.0, 4.0, 0.0, 0.0];
        rms_norm(&mut x, &[1.0; 4], 0.0);
        let rms = (x.iter().map(|v| v * v).sum::<f32>() / 4.0).sqrt();
        assert!((rms - 1.0).abs() < 1e-6);
        assert!((x[0] / x[1] - 0.75).abs() < 1e-6);
    }

    #[test]
    fn gelu_and_silu_match_their_definitions() {
        assert_eq!(activate(Activation::Silu, 0.0), 0.0);
        assert!((activate(Activation::Silu, 2.0) - 2.0 / (1.0 + (-2f32).exp())).abs() < 1e-6);
        // tanh-GELU(1) = 0.841192 (to six places).
        assert!((activate(Activation::GeluTanh, 1.0) - 0.841_192).abs() < 1e-5);
    }
}
