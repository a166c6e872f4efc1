//! Quantized weight matrices and the kernels that multiply them by
//! activations: the hot loop of every forward pass.
//!
//! GGUF files store weights in many block formats (Q4_0, Q4_1, Q5_0, Q8_0,
//! Q4_K, Q6_K, …). At load each matrix is repacked, without changing a single
//! weight's value, into one of three layouts that one kernel each runs fast:
//!
//! - `Codes::Nibbles`: per 32 weights, 4-bit codes `q ∈ 0..=15`, a scale and
//!   an offset, `w = scale·q + offset` (Q4_0, Q4_1, Q4_K);
//! - `Codes::Bytes`: per 32 weights, signed 8-bit codes and one scale per 32
//!   or per 16, `w = scale·q` (Q5_0, Q8_0, Q6_K);
//! - `Codes::Dense`: plain f32 rows, for any other type.
//!
//! A cached model's repacked matrices are kept in a file beside it and
//! memory-mapped on later loads (`repacked`), so only the first load repacks.
//!
//! Decoding a token reads every weight once, so fewer bytes per weight help:
//! scales and offsets stay f16 where they are exact f16 values, and the
//! k-quants' as the file's integers and f16 pairs (see `factors`). Q5_0 is widened to bytes: rebuilding 5-bit codes in the
//! kernel costs more than the bytes they save.
//!
//! Activations are quantized per 32 values to 8 bits, as llama.cpp does
//! (Q8_0/Q8_1 for the 32-blocks; the k-quants get the same 32-value blocks
//! instead of llama.cpp's 256-value Q8_K, which is slightly more precise).
//! Each block's products are summed exactly in integers and blocks are
//! combined in f32. The AVX2 kernels are chosen at run time when the CPU has
//! AVX2 and FMA (with AVX-VNNI's or AVX-512 VNNI's byte dot products where
//! it has them); elsewhere a portable loop runs.
//!
//! Determinism: every output element is computed by the same instructions in
//! the same order whatever the thread count, the rows a thread was given or
//! the other tokens in the batch, so results are bitwise reproducible on a
//! given kind of CPU.
//!
//! Where each job lives: the layouts and the scheduling of a matrix times a
//! batch of activations here; quantizing the activations in `activations`;
//! choosing and dispatching a kernel in `kernels`, the kernels themselves in
//! `avx2`, `avx512` and `portable`; reading GGUF blocks into the layouts in `blocks`,
//! `factors` and `stored`; the repacked-weights cache file in `repacked`.
//! The f32 math of attention is in [`crate::lm::math`].

use std::io::{Seek, SeekFrom};

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::Device;
use rayon::prelude::*;

use crate::gguf::GgufFile;

/// Weights per block in the repacked layouts (and per activation block).
pub const BLOCK: usize = 32;
/// Output rows one parallel task computes.
const ROWS_PER_TASK: usize = 16;

/// How many bytes of activation quads the quad kernels keep in the level-1
/// data cache while weight rows pass through it: about half of the 32 to
/// 48 KiB of current x86-64 cores.
pub const QUAD_CACHE_BYTES: usize = 24 * 1024;

/// How the weights of a [`QMatrix`] are stored.
#[derive(Clone)]
enum Codes {
    /// `codes[16 b..16 b + 16]` hold block `b`: the low nibble of byte `j` is
    /// weight `j`, the high nibble weight `j + 16`; block `b`'s scale is
    /// `factors[2 b]`, its offset `factors[2 b + 1]`.
    Nibbles { codes: Stored<u8>, factors: Factors },
    /// One signed byte per weight and `per_block` (1 or 2) scales per block:
    /// with two, `scales[2 b]` applies to weights 0..16 of block `b`,
    /// `scales[2 b + 1]` to weights 16..32.
    Bytes {
        codes: Stored<i8>,
        scales: Factors,
        per_block: usize,
    },
    /// Row-major f32 weights.
    Dense(Stored<f32>),
}

/// One weight row's slices of a [`Codes`] layout: what the kernels take.
#[derive(Clone, Copy)]
enum RowCodes<'a> {
    Nibbles {
        codes: &'a [u8],
        factors: FactorRow<'a>,
    },
    Bytes {
        codes: &'a [i8],
        scales: FactorRow<'a>,
        per_block: usize,
    },
    Dense(&'a [f32]),
}

impl<'a> RowCodes<'a> {
    /// Row `row` of a whole matrix's codes ([`QMatrix::all_codes`]), rows
    /// of `cols` weights.
    fn row(self, row: usize, cols: usize) -> Self {
        let blocks = cols / BLOCK;
        let range = row * blocks..(row + 1) * blocks;
        match self {
            RowCodes::Nibbles { codes, factors } => RowCodes::Nibbles {
                codes: &codes[range.start * 16..range.end * 16],
                factors: factors.slice(2 * range.start..2 * range.end),
            },
            RowCodes::Bytes {
                codes,
                scales,
                per_block,
            } => RowCodes::Bytes {
                codes: &codes[range.start * BLOCK..range.end * BLOCK],
                scales: scales.slice(per_block * range.start..per_block * range.end),
                per_block,
            },
            RowCodes::Dense(values) => RowCodes::Dense(&values[row * cols..(row + 1) * cols]),
        }
    }
}

/// A `rows × cols` weight matrix ready for [`QMatrix::matmul`].
#[derive(Clone)]
pub struct QMatrix {
    rows: usize,
    cols: usize,
    codes: Codes,
    /// The GGUF type the weights came in (for reports and tests).
    source: GgmlDType,
}

/// Blocks whose factors a kernel loads at once (eight f32: four scales and
/// their four partners, interleaved).
pub const GROUP: usize = 4;

impl QMatrix {
    /// Repacks a GGUF tensor of shape `(rows, cols)`.
    pub fn from_qtensor(tensor: &QTensor) -> candle_core::Result<Self> {
        let (rows, cols) = tensor.shape().dims2()?;
        let source = tensor.dtype();
        let codes = if repackable(source, rows, cols) {
            let data = tensor.data()?;
            let (bytes, per_block) = block_layout(source).expect("repackable");
            if data.len() != rows * cols / per_block * bytes {
                candle_core::bail!(
                    "tensor data has {} bytes, expected {}",
                    data.len(),
                    rows * cols / per_block * bytes
                );
            }
            repack(source, rows, cols, &mut &data[..])?
        } else {
            let values: Vec<f32> = tensor.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1()?;
            Codes::Dense(values.into())
        };
        Ok(Self {
            rows,
            cols,
            codes,
            source,
        })
    }

    /// Reads tensor `name` from a GGUF file and repacks it block by block as
    /// it is read (candle reads other types and the file's layout).
    pub fn read(gguf: &mut GgufFile, name: &str) -> candle_core::Result<Self> {
        let info = match gguf.content.tensor_infos.get(name) {
            Some(info) => info,
            None => candle_core::bail!("cannot find tensor info for {name}"),
        };
        let (rows, cols) = info.shape.dims2()?;
        let source = info.ggml_dtype;
        if !repackable(source, rows, cols) {
            let tensor = gguf.content.tensor(&mut gguf.reader, name, &Device::Cpu)?;
            return Self::from_qtensor(&tensor);
        }
        let start = gguf.content.tensor_data_offset + info.offset;
        gguf.reader.seek(SeekFrom::Start(start))?;
        let codes = repack(source, rows, cols, &mut gguf.reader)?;
        Ok(Self {
            rows,
            cols,
            codes,
            source,
        })
    }

    /// Output rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The GGUF block type the weights were read from.
    pub fn source_type(&self) -> GgmlDType {
        self.source
    }

    /// The byte ranges (start, length) of a memory map that this
    /// matrix's arrays view.
    fn mapped_bytes(&self) -> Vec<(usize, usize)> {
        match &self.codes {
            Codes::Nibbles { codes, factors } => codes
                .mapped_bytes()
                .into_iter()
                .chain(factors.mapped_bytes())
                .collect(),
            Codes::Bytes { codes, scales, .. } => codes
                .mapped_bytes()
                .into_iter()
                .chain(scales.mapped_bytes())
                .collect(),
            Codes::Dense(values) => values.mapped_bytes().into_iter().collect(),
        }
    }

    /// Bytes the repacked weights occupy.
    pub fn size_in_bytes(&self) -> usize {
        match &self.codes {
            Codes::Nibbles { codes, factors } => codes.len() + factors.size_in_bytes(),
            Codes::Bytes { codes, scales, .. } => codes.len() + scales.size_in_bytes(),
            Codes::Dense(values) => 4 * values.len(),
        }
    }

    /// Row `row` as f32 values (an embedding lookup).
    pub fn row(&self, row: usize) -> Vec<f32> {
        let mut out = vec![0f32; self.cols];
        match self.row_codes(row) {
            RowCodes::Nibbles { codes, factors } => {
                for (b, packed) in codes.chunks_exact(16).enumerate() {
                    let (scale, offset) = (factors.get(2 * b), factors.get(2 * b + 1));
                    for (j, byte) in packed.iter().enumerate() {
                        out[b * BLOCK + j] = scale * (byte & 0xF) as f32 + offset;
                        out[b * BLOCK + j + 16] = scale * (byte >> 4) as f32 + offset;
                    }
                }
            }
            RowCodes::Bytes {
                codes,
                scales,
                per_block,
            } => {
                for (i, &q) in codes.iter().enumerate() {
                    out[i] = scales.get(i * per_block / BLOCK) * q as f32;
                }
            }
            RowCodes::Dense(values) => out.copy_from_slice(values),
        }
        out
    }

    /// Weight row `row`, cut out of the matrix's layout.
    fn row_codes(&self, row: usize) -> RowCodes<'_> {
        self.all_codes().row(row, self.cols)
    }

    /// Every row's codes, to cut rows from with [`RowCodes::row`]: a mapped
    /// array is checked and sliced here once, not once per row (Gemma's
    /// output matrix has 262,144 rows per token).
    fn all_codes(&self) -> RowCodes<'_> {
        match &self.codes {
            Codes::Nibbles { codes, factors } => RowCodes::Nibbles {
                codes,
                factors: factors.whole(),
            },
            Codes::Bytes {
                codes,
                scales,
                per_block,
            } => RowCodes::Bytes {
                codes,
                scales: scales.whole(),
                per_block: *per_block,
            },
            Codes::Dense(values) => RowCodes::Dense(values),
        }
    }

    /// `out[t][r] = Σ_c self[r][c] · x[t][c]` for `tokens` rows of `x`
    /// (row-major, `tokens × cols`); `out` is `tokens × rows`.
    pub fn matmul(&self, x: &[f32], tokens: usize) -> Vec<f32> {
        Self::matmul_each(&[self], x, tokens).remove(0)
    }

    /// [`QMatrix::matmul`] into `out`, one buffer per token (each resized to
    /// the matrix's rows, keeping its allocation): a grid's logits go into
    /// the same buffers at every step instead of fresh megabytes.
    pub fn matmul_into(&self, x: &[f32], out: &mut [&mut Vec<f32>]) {
        let tokens = out.len();
        let mut rows: Vec<&mut [f32]> = out
            .iter_mut()
            .map(|buffer| {
                buffer.resize(self.rows, 0.0);
                buffer.as_mut_slice()
            })
            .collect();
        let target = TokenMajor::new(&mut rows, self.rows, tokens);
        Self::matmul_each_into(&[self], x, tokens, vec![target]);
    }

    /// [`QMatrix::matmul`] of the same input by several matrices with the same
    /// column count, in one parallel pass (fewer thread wake-ups per token).
    /// The results are written into fresh allocations that are never
    /// zeroed first: every value is written once by the tasks (zeroing them
    /// had been a serial `memset` of megabytes per layer of a 200-row batch,
    /// with the other thread waiting).
    pub fn matmul_each(matrices: &[&QMatrix], x: &[f32], tokens: usize) -> Vec<Vec<f32>> {
        let mut outputs: Vec<Vec<f32>> = vec![Vec::new(); matrices.len()];
        let targets = outputs
            .iter_mut()
            .zip(matrices)
            .map(|(out, m)| TokenMajor::in_spare_capacity(out, m.rows, tokens))
            .collect();
        Self::matmul_each_into(matrices, x, tokens, targets);
        for (out, m) in outputs.iter_mut().zip(matrices) {
            // SAFETY: `in_spare_capacity` reserved the capacity, and every
            // task has written each of its rows for every token
            // (`write_rows`): the tasks' rows cover `0..m.rows`.
            unsafe { out.set_len(m.rows * tokens) };
        }
        outputs
    }

    /// The matrix products of [`QMatrix::matmul_each`], each matrix's into
    /// `targets[m]`.
    fn matmul_each_into(matrices: &[&QMatrix], x: &[f32], tokens: usize, targets: Vec<TokenMajor>) {
        let cols = matrices[0].cols;
        assert!(
            matrices.iter().all(|m| m.cols == cols),
            "column counts differ"
        );
        assert_eq!(x.len(), tokens * cols, "activation shape");
        let needs_quantized = matrices.iter().any(|m| !matches!(m.codes, Codes::Dense(_)));
        // A prompt's rows are quantized on every thread: done here alone,
        // with the results turned token-major, they were about a sixth of a
        // two-thread Gemma prefill. Each row is the same arithmetic wherever it runs.
        let share_rows = tokens > 1 && rayon::current_num_threads() > 1;
        let quantized: Vec<QuantizedRow> = match (needs_quantized, share_rows) {
            (false, _) => Vec::new(),
            (true, false) => x.chunks_exact(cols).map(QuantizedRow::new).collect(),
            (true, true) => x.par_chunks_exact(cols).map(QuantizedRow::new).collect(),
        };
        let kernel = Kernel::detect();
        let halves = matrices
            .iter()
            .any(|m| matches!(m.codes, Codes::Bytes { per_block: 2, .. }));
        let batches = Batches::new(kernel, &quantized, halves, share_rows);
        // Each matrix's result is token-major (a row of results per token).
        // A task owns a run of output rows: with one token a slice of the
        // result, with more its rows of every token, computed row by row
        // (rows × tokens) and then written where they go (16 floats per
        // token, one cache line), which leaves no transposing pass and no
        // second buffer.
        let tasks: Vec<(usize, usize)> = matrices
            .iter()
            .enumerate()
            .flat_map(|(m, matrix)| {
                (0..matrix.rows)
                    .step_by(ROWS_PER_TASK)
                    .map(move |first| (m, first))
            })
            .collect();
        let work = |(m, first): (usize, usize)| {
            let matrix = matrices[m];
            let count = ROWS_PER_TASK.min(matrix.rows - first);
            // A decoded token's rows stay on the stack (one task per 16 of
            // Gemma's 262,144 output rows would otherwise allocate each).
            let (mut on_stack, mut on_heap) = ([0f32; ROWS_PER_TASK], Vec::new());
            let by_row = if tokens == 1 {
                &mut on_stack[..count]
            } else {
                on_heap.resize(count * tokens, 0f32);
                &mut on_heap[..]
            };
            match matrix.all_codes() {
                RowCodes::Dense(values) => {
                    for (i, row_out) in by_row.chunks_exact_mut(tokens).enumerate() {
                        let weights = &values[(first + i) * cols..(first + i + 1) * cols];
                        for (value, x) in row_out.iter_mut().zip(x.chunks_exact(cols)) {
                            *value = dense_dot(weights, x);
                        }
                    }
                }
                all => dot_rows_each(kernel, all, cols, first, &quantized, &batches, by_row),
            }
            // SAFETY: tasks own disjoint runs of rows.
            unsafe { targets[m].write_rows(first, by_row) };
        };
        // With one thread, handing each task to the pool only costs wake-ups
        // (a quarter of a one-thread decode's time): run them here instead.
        // The tasks and the order of arithmetic within each are the same.
        if rayon::current_num_threads() == 1 {
            tasks.into_iter().for_each(work);
        } else {
            tasks.into_par_iter().for_each(work);
        }
        drop(targets);
    }
}

mod activations;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod blocks;
mod factors;
mod kernels;
mod portable;
mod repacked;
mod stored;
mod token_major;

use crate::lm::math::dense_dot;
use factors::{FactorRow, Factors, PADDING, PER_SUPER};
pub use repacked::MatrixSource;
use stored::Stored;
use token_major::TokenMajor;

pub use activations::{QuantizedQuad, QuantizedRow};
pub use kernels::Kernel;
use kernels::{dot_rows_each, Batches};

use blocks::{block_layout, repack, repackable};

#[cfg(test)]
mod tests {
    use super::activations::round_half_away;
    use super::kernels::dot;
    use super::*;
    use crate::lm::math::tests::values;
    use candle_core::Tensor;

    fn quantized(dtype: GgmlDType, rows: usize, cols: usize) -> (QTensor, Vec<f32>) {
        let tensor = Tensor::from_vec(values(rows * cols, 7), (rows, cols), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&tensor, dtype).unwrap();
        let exact = q
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        (q, exact)
    }

    const TYPES: [GgmlDType; 6] = [
        GgmlDType::Q4_0,
        GgmlDType::Q4_1,
        GgmlDType::Q5_0,
        GgmlDType::Q8_0,
        GgmlDType::Q4K,
        GgmlDType::Q6K,
    ];

    #[test]
    fn rounding_matches_round_exactly() {
        let mut cases: Vec<f32> = vec![0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 126.5, -127.0];
        cases.extend([0.5f32, 1.5, 126.5].map(|h| f32::from_bits(h.to_bits() - 1)));
        cases.extend([0.5f32, 1.5, 126.5].map(|h| -f32::from_bits(h.to_bits() + 1)));
        cases.extend(values(100_000, 3).iter().map(|v| v * 127.0));
        for x in cases {
            assert_eq!(round_half_away(x), x.round() as i32, "{x}");
        }
    }

    #[test]
    fn wide_quantizing_gives_the_codes_of_the_baseline_loop() {
        let mut x: Vec<f32> = values(64 * BLOCK, 11).iter().map(|v| v * 3.0).collect();
        // Blocks of odd values: halves to round away from zero, NaN and
        // infinities, zeros, and values so small that 1 / scale overflows.
        // (Scale 1: the largest is 127, so each value is rounded as it stands.)
        let halves = (0..BLOCK).map(|i| if i == 0 { 127.0 } else { i as f32 - 16.5 });
        x.extend(halves);
        x.extend((0..BLOCK).map(|i| [f32::NAN, 1.0, -2.0, 0.25][i % 4]));
        x.extend((0..BLOCK).map(|i| [f32::INFINITY, 1.0, f32::NEG_INFINITY][i % 3]));
        x.extend([0.0; BLOCK]);
        x.extend((0..BLOCK).map(|i| (i as f32 - 7.0) * 1e-39));
        let (wide, baseline) = (QuantizedRow::new(&x), QuantizedRow::quantize(&x));
        assert_eq!(wide.codes, baseline.codes);
        assert_eq!(wide.biased, baseline.biased);
        for (&code, &biased) in baseline.codes.iter().zip(&baseline.biased) {
            assert_eq!(biased as i32, code as i32 + 128);
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&wide.factors), bits(&baseline.factors));
        // The eight running maxima give the one running maximum's scale.
        for (b, block) in x.chunks_exact(BLOCK).enumerate() {
            let max = block.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert_eq!(baseline.scale(b).to_bits(), (max / 127.0).to_bits());
        }
    }

    #[test]
    fn repacking_keeps_every_weight() {
        for dtype in TYPES {
            let (q, exact) = quantized(dtype, 4, 512);
            let matrix = QMatrix::from_qtensor(&q).unwrap();
            assert!(
                !matches!(matrix.codes, Codes::Dense(_)),
                "{dtype:?} fell back to dense"
            );
            for row in 0..4 {
                assert_eq!(
                    matrix.row(row),
                    exact[row * 512..(row + 1) * 512],
                    "{dtype:?} row {row}"
                );
            }
        }
    }

    /// The activations a kernel actually multiplies: `x` after 8-bit rounding.
    fn rounded(x: &[f32]) -> Vec<f32> {
        let q = QuantizedRow::new(x);
        q.codes
            .iter()
            .enumerate()
            .map(|(i, &c)| c as f32 * q.scale(i / BLOCK))
            .collect()
    }

    #[test]
    fn matmul_matches_dequantized_weights() {
        let (rows, tokens) = (37, 3);
        // 96 columns: an odd number of blocks, so the kernels' two-factor
        // loads reach the factor after a row's last (32-weight types only).
        let cases = TYPES.map(|dtype| (dtype, 512)).into_iter().chain(
            [
                GgmlDType::Q4_0,
                GgmlDType::Q4_1,
                GgmlDType::Q5_0,
                GgmlDType::Q8_0,
            ]
            .map(|d| (d, 96)),
        );
        for (dtype, cols) in cases {
            let x = values(tokens * cols, 11);
            let (q, exact) = quantized(dtype, rows, cols);
            let out = QMatrix::from_qtensor(&q).unwrap().matmul(&x, tokens);
            for t in 0..tokens {
                let x_t = &x[t * cols..(t + 1) * cols];
                let x_rounded = rounded(x_t);
                for r in 0..rows {
                    let w = &exact[r * cols..(r + 1) * cols];
                    let got = out[t * rows + r];
                    // Exact up to f32 summation order once the activations'
                    // 8-bit rounding is accounted for…
                    let same_inputs = dense_dot(w, &x_rounded);
                    assert!(
                        (got - same_inputs).abs() < 1e-4 * (1.0 + same_inputs.abs()),
                        "{dtype:?} [{t}][{r}]: {got} vs {same_inputs}"
                    );
                    // …and that rounding moves the result only a little.
                    let unrounded = dense_dot(w, x_t);
                    assert!(
                        (got - unrounded).abs() < 0.15,
                        "{dtype:?}: {got} vs {unrounded}"
                    );
                }
            }
        }
    }

    #[test]
    fn kernels_agree_and_batching_changes_nothing() {
        // An odd row count: a single token's rows go two at a time, then
        // one. Three tokens: one quad, filled up with a copy. Six: two
        // quads, taken as a pair. Nine: a pair and one quad alone.
        // Thirteen (four quads, the last filled up) of rows so long that
        // the quads meet the weight rows in runs of two. Thirty-three: with
        // AVX-512, four octets at once and one alone.
        const { assert!(QUAD_CACHE_BYTES / (5 * 2560) <= 2) };
        for (rows, cols, tokens) in [
            (21, 256, 3),
            (21, 256, 6),
            (21, 256, 9),
            (5, 2560, 13),
            (21, 256, 33),
        ] {
            batching_changes_nothing(rows, cols, tokens);
        }
    }

    fn batching_changes_nothing(rows: usize, cols: usize, tokens: usize) {
        let x = values(tokens * cols, 5);
        for dtype in TYPES {
            let (q, _) = quantized(dtype, rows, cols);
            let matrix = QMatrix::from_qtensor(&q).unwrap();
            let batch = matrix.matmul(&x, tokens);
            for t in 0..tokens {
                let alone = matrix.matmul(&x[t * cols..(t + 1) * cols], 1);
                assert_eq!(
                    alone,
                    batch[t * rows..(t + 1) * rows],
                    "{dtype:?} token {t}"
                );
                let row = QuantizedRow::new(&x[t * cols..(t + 1) * cols]);
                for (r, fast) in alone.iter().enumerate() {
                    let portable = dot(Kernel::Portable, matrix.row_codes(r), &row);
                    assert!(
                        (portable - fast).abs() <= 1e-4 * (1.0 + portable.abs()),
                        "{dtype:?}"
                    );
                }
            }
        }
    }

    /// Every SIMD kernel this CPU has besides the AVX2 one (the AVX-VNNI
    /// build, the AVX-512 kernel), skipping with a word if there is none.
    #[cfg(target_arch = "x86_64")]
    fn wider_kernels() -> Vec<Kernel> {
        let has = |features: &[&str]| {
            features.iter().all(|&f| match f {
                "avxvnni" => is_x86_feature_detected!("avxvnni"),
                "avx512f" => is_x86_feature_detected!("avx512f"),
                "avx512bw" => is_x86_feature_detected!("avx512bw"),
                "avx512vnni" => is_x86_feature_detected!("avx512vnni"),
                _ => unreachable!("a feature listed here"),
            })
        };
        let mut kernels = Vec::new();
        if has(&["avxvnni"]) {
            kernels.push(Kernel::AvxVnni);
        }
        if has(&["avx512f", "avx512bw", "avx512vnni"]) {
            kernels.push(Kernel::Avx512Vnni);
        }
        if kernels.is_empty() {
            // Straight to the terminal, past the harness's capture, so
            // the skip is seen.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: this CPU has neither AVX-VNNI nor AVX-512 VNNI"
            );
        }
        kernels
    }

    /// The AVX2, AVX-VNNI and AVX-512 kernels sum the same integers and
    /// scale them alike, so they must agree bit for bit, one row at a time
    /// and several at a time (one quad or octet, several, a last one filled
    /// up with copies).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn wider_kernels_give_the_avx2_kernels_bits() {
        if !(is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c"))
        {
            return;
        }
        // 256 columns: four octets are taken at once; 512: two (each
        // octet holds Q6_K's starts too, as here), with the rows two at a
        // time and the odd one alone.
        for (rows, cols) in [(9, 512), (9, 256)] {
            avx2_and_wider_agree(rows, cols);
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn avx2_and_wider_agree(rows: usize, cols: usize) {
        let xs: Vec<QuantizedRow> = (0..37)
            .map(|t| QuantizedRow::new(&values(cols, 20 + t)))
            .collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for kernel in wider_kernels() {
            for dtype in TYPES {
                let (q, _) = quantized(dtype, rows, cols);
                let matrix = QMatrix::from_qtensor(&q).unwrap();
                // Where four octets go at once, 21 tokens are three octets
                // together and 37 four, then one.
                for count in [1, 5, 8, 13, 21, 37] {
                    let tokens = &xs[..count];
                    let mut avx2 = vec![0f32; rows * count];
                    let mut wider = vec![0f32; rows * count];
                    let all = matrix.all_codes();
                    let narrow = Batches::new(Kernel::Avx2, tokens, true, false);
                    dot_rows_each(Kernel::Avx2, all, cols, 0, tokens, &narrow, &mut avx2);
                    let batches = Batches::new(kernel, tokens, true, false);
                    dot_rows_each(kernel, all, cols, 0, tokens, &batches, &mut wider);
                    assert_eq!(
                        bits(&avx2),
                        bits(&wider),
                        "{kernel:?} {dtype:?}, {count} tokens"
                    );
                }
            }
        }
    }

    /// A `rows × cols` matrix in `layout` ("nibbles", or "bytes" with 1 or
    /// 2 scales per block) whose factors f16 cannot hold, so they stay f32.
    fn matrix_with_f32_factors(
        layout: &str,
        per_block: usize,
        rows: usize,
        cols: usize,
    ) -> QMatrix {
        let blocks = rows * cols / BLOCK;
        let factors = |n: usize| {
            let values = (0..n)
                .map(|i| 0.01 + 0.0013 * (i % 17) as f32 + 1e-7)
                .collect();
            let factors = Factors::new(values);
            assert!(!factors.is_half());
            factors
        };
        let codes = match layout {
            "nibbles" => Codes::Nibbles {
                codes: (0..16 * blocks)
                    .map(|i| (i * 37 % 256) as u8)
                    .collect::<Vec<_>>()
                    .into(),
                factors: factors(2 * blocks),
            },
            _ => Codes::Bytes {
                codes: (0..BLOCK * blocks)
                    .map(|i| (i * 53 % 256) as u8 as i8)
                    .collect::<Vec<_>>()
                    .into(),
                scales: factors(per_block * blocks),
                per_block,
            },
        };
        QMatrix {
            rows,
            cols,
            codes,
            source: GgmlDType::F32,
        }
    }

    /// The paths real models rarely take: f32 factors, and rows whose blocks
    /// end in a partial group. A token gives the same bits
    /// alone as in a batch, every kernel agrees with the portable one, and
    /// the AVX-VNNI kernels give the AVX2 kernels' bits.
    #[test]
    fn kernels_agree_on_f32_factors_and_partial_groups() {
        // Rows of 3 blocks, and of a whole group and 1 or 2 blocks more;
        // rows so long that, with AVX-512, two octets go at a time and the
        // rows two at a time (an odd one alone), their last group ending in
        // one and in three blocks.
        for cols in [96, 160, 192, 1056, 1120] {
            f32_factors_and_partial_groups(7, cols);
        }
    }

    fn f32_factors_and_partial_groups(rows: usize, cols: usize) {
        let xs: Vec<QuantizedRow> = (0..13)
            .map(|t| QuantizedRow::new(&values(cols, 40 + t)))
            .collect();
        let mut kernels = vec![Kernel::detect()];
        #[cfg(target_arch = "x86_64")]
        if Kernel::detect() != Kernel::Portable {
            kernels = vec![Kernel::Avx2];
            kernels.extend(wider_kernels());
        }
        for (layout, per_block) in [("nibbles", 1), ("bytes", 1), ("bytes", 2)] {
            let matrix = matrix_with_f32_factors(layout, per_block, rows, cols);
            let all = matrix.all_codes();
            let batches: Vec<Vec<f32>> = kernels
                .iter()
                .map(|&kernel| {
                    let mut batch = vec![0f32; rows * xs.len()];
                    let batches = Batches::new(kernel, &xs, per_block == 2, false);
                    dot_rows_each(kernel, all, cols, 0, &xs, &batches, &mut batch);
                    batch
                })
                .collect();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for batch in &batches[1..] {
                assert_eq!(bits(batch), bits(&batches[0]), "{layout} {per_block}");
            }
            for (t, x) in xs.iter().enumerate() {
                let mut alone = vec![0f32; rows];
                dot_rows_each(
                    kernels[0],
                    all,
                    cols,
                    0,
                    std::slice::from_ref(x),
                    &Batches::new(kernels[0], &[], false, false),
                    &mut alone,
                );
                for (r, value) in alone.iter().enumerate() {
                    let in_batch = batches[0][r * xs.len() + t];
                    assert_eq!(value.to_bits(), in_batch.to_bits(), "{layout} [{r}][{t}]");
                    let portable = dot(Kernel::Portable, all.row(r, cols), x);
                    assert!(
                        (portable - value).abs() <= 1e-4 * (1.0 + portable.abs()),
                        "{layout} {per_block} [{r}][{t}]: {value} vs {portable}"
                    );
                }
            }
        }
    }

    #[test]
    fn layouts_take_no_more_bytes_than_the_file_where_factors_are_f16() {
        let (rows, cols) = (8, 256);
        for (dtype, layout, gguf_bytes_per_32) in [
            (GgmlDType::Q4_0, "nibbles", 18.0),
            (GgmlDType::Q4_1, "nibbles", 20.0),
            (GgmlDType::Q5_0, "bytes", 34.0),
            (GgmlDType::Q8_0, "bytes", 34.0),
        ] {
            let (q, _) = quantized(dtype, rows, cols);
            let matrix = QMatrix::from_qtensor(&q).unwrap();
            let (name, half) = match &matrix.codes {
                Codes::Nibbles { factors, .. } => ("nibbles", factors.is_half()),
                Codes::Bytes { scales, .. } => ("bytes", scales.is_half()),
                Codes::Dense(_) => ("dense", false),
            };
            assert_eq!((name, half), (layout, true), "{dtype:?}");
            // Q4_0 keeps its implied offset −8·d as a second f16, and every
            // matrix seven f16 zeros after its last factor.
            let extra = if dtype == GgmlDType::Q4_0 { 2.0 } else { 0.0 };
            let expected =
                (gguf_bytes_per_32 + extra) * (rows * cols / BLOCK) as f64 + 2.0 * PADDING as f64;
            assert_eq!(matrix.size_in_bytes() as f64, expected, "{dtype:?}");
        }
    }

    /// The k-quants' factors are kept as the file keeps them (a byte per
    /// factor, an f16 pair per super-block), not as f32, and every weight
    /// still comes back exactly (`repacking_keeps_every_weight` checks the
    /// values; this checks the form and the bytes).
    #[test]
    fn k_quant_factors_take_a_byte_each_and_a_pair_per_super_block() {
        let (rows, cols) = (4, 512);
        let blocks = rows * cols / BLOCK;
        for (dtype, codes_per_block) in [(GgmlDType::Q4K, 16), (GgmlDType::Q6K, 32)] {
            let (q, exact) = quantized(dtype, rows, cols);
            let matrix = QMatrix::from_qtensor(&q).unwrap();
            let factors = match &matrix.codes {
                Codes::Nibbles { factors, .. }
                | Codes::Bytes {
                    scales: factors, ..
                } => factors,
                Codes::Dense(_) => panic!("{dtype:?} was not repacked"),
            };
            assert!(matches!(factors, Factors::Scaled { .. }), "{dtype:?}");
            let supers = rows * cols / 256;
            assert_eq!(
                matrix.size_in_bytes(),
                codes_per_block * blocks + (2 * blocks + PADDING) + 2 * (2 * supers),
                "{dtype:?}"
            );
            for r in 0..rows {
                let row = matrix.row(r);
                assert_eq!(row, exact[r * cols..(r + 1) * cols], "{dtype:?} row {r}");
            }
        }
    }

    #[test]
    fn unsupported_types_fall_back_to_exact_f32() {
        let (q, exact) = quantized(GgmlDType::Q5_1, 3, 64);
        let matrix = QMatrix::from_qtensor(&q).unwrap();
        assert!(matches!(matrix.codes, Codes::Dense(_)));
        assert_eq!(matrix.row(2), exact[128..192]);
    }
}
