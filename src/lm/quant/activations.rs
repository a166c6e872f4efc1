//! Activations quantized for the integer kernels: a row of f32 values cut
//! into blocks of 32, each to signed 8-bit codes and one scale (with the
//! block sums the offset formats need), and the same rows four at a time.

use rayon::prelude::*;

use super::{BLOCK, GROUP};
use crate::simd::wider_where_available;

/// One row of activations quantized per block of 32.
pub struct QuantizedRow {
    pub(super) codes: Vec<i8>,
    /// `codes` with 128 added (`code ^ 0x80`), for the AVX-VNNI kernels.
    pub(super) biased: Vec<u8>,
    /// Block `b`'s scale at `2 b` and `scale · Σ codes` (for the Nibbles
    /// offset term) at `2 b + 1`, then zeros up to a whole [`GROUP`] of
    /// blocks, so the kernels load a group's factors in one vector.
    pub(super) factors: Vec<f32>,
}

impl QuantizedRow {
    wider_where_available!(
        "avx2",
        /// Quantizes `x` (length a multiple of 32) the way llama.cpp's Q8_0
        /// does: scale = max |x| / 127, codes rounded half away from zero; in
        /// AVX2 registers where the CPU has them.
        pub fn new(x: &[f32]) -> QuantizedRow = QuantizedRow::quantize, wide QuantizedRow::quantize_avx2
    );

    /// [`Self::quantize`] in AVX2 registers, written out: the compiler's
    /// own vectorization of it kept the maxima's NaN rule and the rounding's
    /// branches scalar. Every value goes through the same operations.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn quantize_avx2(x: &[f32]) -> Self {
        use std::arch::x86_64::*;
        assert!(x.len().is_multiple_of(BLOCK));
        let blocks = x.len() / BLOCK;
        let mut codes = vec![0i8; x.len()];
        let mut biased = vec![0u8; x.len()];
        let mut factors = Vec::with_capacity(2 * blocks.next_multiple_of(GROUP));
        let magnitude = _mm256_set1_ps(f32::from_bits(0x7fff_ffff));
        let (half, zero) = (_mm256_set1_ps(0.5), _mm256_setzero_ps());
        // The pairs of 128-bit halves that the packs leave interleaved.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for (b, values) in x.chunks_exact(BLOCK).enumerate() {
            // SAFETY: the block holds 32 values.
            let v = unsafe {
                [
                    _mm256_loadu_ps(values.as_ptr()),
                    _mm256_loadu_ps(values.as_ptr().add(8)),
                    _mm256_loadu_ps(values.as_ptr().add(16)),
                    _mm256_loadu_ps(values.as_ptr().add(24)),
                ]
            };
            // `max` returns its second operand where either is NaN, so the
            // running maxima come second: a NaN value is passed over, as
            // `f32::max` passes it over.
            let mut lanes = zero;
            for v in v {
                lanes = _mm256_max_ps(_mm256_and_ps(v, magnitude), lanes);
            }
            let mut eight = [0f32; 8];
            // SAFETY: eight f32.
            unsafe { _mm256_storeu_ps(eight.as_mut_ptr(), lanes) };
            let max = eight.iter().fold(0f32, |m, &v| m.max(v));
            let scale = max / 127.0;
            let inverse = _mm256_set1_ps(finite_or_zero(1.0 / scale));
            // round_half_away on each value: truncate, then step away from
            // zero where the rest is at least a half (NaN gives 0, as
            // `as i32` does).
            let mut ints = [_mm256_setzero_si256(); 4];
            for (int, v) in ints.iter_mut().zip(v) {
                let y = _mm256_mul_ps(v, inverse);
                let t = _mm256_cvttps_epi32(y);
                let rest = _mm256_and_ps(_mm256_sub_ps(y, _mm256_cvtepi32_ps(t)), magnitude);
                let away = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GE_OQ>(rest, half));
                let up = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(y, zero));
                // −1 where away, then +2 where also up: ±1 away from zero.
                let step = _mm256_sub_epi32(
                    _mm256_and_si256(away, _mm256_and_si256(up, _mm256_set1_epi32(2))),
                    _mm256_and_si256(away, _mm256_set1_epi32(1)),
                );
                let ordered = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_ORD_Q>(y, y));
                *int = _mm256_and_si256(_mm256_add_epi32(t, step), ordered);
            }
            let total = _mm256_add_epi32(
                _mm256_add_epi32(ints[0], ints[1]),
                _mm256_add_epi32(ints[2], ints[3]),
            );
            let mut sums = [0i32; 8];
            // SAFETY: eight i32.
            unsafe { _mm256_storeu_si256(sums.as_mut_ptr() as *mut __m256i, total) };
            let total: i32 = sums.iter().sum();
            let packed = _mm256_permutevar8x32_epi32(
                _mm256_packs_epi16(
                    _mm256_packs_epi32(ints[0], ints[1]),
                    _mm256_packs_epi32(ints[2], ints[3]),
                ),
                order,
            );
            // SAFETY: block `b` of both outputs holds 32 bytes.
            unsafe {
                _mm256_storeu_si256(codes.as_mut_ptr().add(BLOCK * b) as *mut __m256i, packed);
                _mm256_storeu_si256(
                    biased.as_mut_ptr().add(BLOCK * b) as *mut __m256i,
                    _mm256_xor_si256(packed, _mm256_set1_epi8(-128)),
                );
            }
            factors.extend([scale, scale * total as f32]);
        }
        Self::padded(codes, biased, factors)
    }

    #[inline(always)]
    pub(super) fn quantize(x: &[f32]) -> Self {
        debug_assert!(x.len().is_multiple_of(BLOCK));
        let blocks = x.len() / BLOCK;
        let mut codes = vec![0i8; x.len()];
        let mut biased = vec![0u8; x.len()];
        let mut factors = Vec::with_capacity(2 * blocks.next_multiple_of(GROUP));
        let blocks_out = codes
            .chunks_exact_mut(BLOCK)
            .zip(biased.chunks_exact_mut(BLOCK));
        for (values, (out, out_biased)) in x.chunks_exact(BLOCK).zip(blocks_out) {
            // Eight running maxima, then theirs: the same maximum as one
            // running maximum (max ignores order, and NaN either way), but
            // not one long chain of dependent compares.
            let mut lanes = [0f32; 8];
            for eight in values.as_chunks::<8>().0 {
                for (lane, v) in lanes.iter_mut().zip(eight) {
                    *lane = lane.max(v.abs());
                }
            }
            let max = lanes.iter().fold(0f32, |m, &v| m.max(v));
            let scale = max / 127.0;
            let inverse = finite_or_zero(1.0 / scale);
            let mut total = 0i32;
            for ((v, q), biased) in values.iter().zip(out.iter_mut()).zip(out_biased) {
                *q = round_half_away(v * inverse) as i8;
                *biased = *q as u8 ^ 0x80;
                total += *q as i32;
            }
            factors.extend([scale, scale * total as f32]);
        }
        Self::padded(codes, biased, factors)
    }

    /// The row, its factors padded with zeros to a whole [`GROUP`] of
    /// blocks.
    fn padded(codes: Vec<i8>, biased: Vec<u8>, mut factors: Vec<f32>) -> Self {
        factors.resize(2 * (codes.len() / BLOCK).next_multiple_of(GROUP), 0.0);
        Self {
            codes,
            biased,
            factors,
        }
    }

    /// Block `b`'s scale.
    pub(super) fn scale(&self, b: usize) -> f32 {
        self.factors[2 * b]
    }

    /// Block `b`'s `scale · Σ codes`.
    pub(super) fn sum(&self, b: usize) -> f32 {
        self.factors[2 * b + 1]
    }
}

/// `1 / scale` where finite, else 0: a block of zeros (scale 0) or of
/// values so small that `1 / scale` overflows gets codes of 0, and every
/// scaled value stays within ±127.5 or NaN.
#[inline(always)]
fn finite_or_zero(inverse: f32) -> f32 {
    if inverse.is_finite() {
        inverse
    } else {
        0.0
    }
}

/// `x.round() as i32` (halves away from zero) for |x| < 2³¹, in arithmetic
/// that vectorizes: `round` is a libm call per value on the baseline target.
/// The truncation is exact, and so is `x − t` (the two are within 1 of each
/// other), so the result is the same integer.
#[inline(always)]
pub(super) fn round_half_away(x: f32) -> i32 {
    let t = x as i32;
    if (x - t as f32).abs() >= 0.5 {
        t + if x > 0.0 { 1 } else { -1 }
    } else {
        t
    }
}

/// Four activation rows interleaved for the kernels that take tokens four at
/// a time: per block and quarter `m` (weights `8m..8m + 8`), 32 bytes hold
/// each row's eight codes in turn, so eight weights broadcast to four lanes
/// meet all four rows in one instruction.
pub struct QuantizedQuad<'a> {
    pub(super) rows: [&'a QuantizedRow; 4],
    pub(super) codes: Vec<i8>,
    /// Per block, each row's `−128 · Σ codes` over its even quads of four
    /// codes (`0..4`, `8..12`, …) and over its odd ones: where the AVX-VNNI
    /// kernel's sums of `(w + 128) · x` start, to end at `Σ w · x`.
    pub(super) starts: Vec<i32>,
    /// Per block, each row's scale and `scale · Σ codes` in turn (eight
    /// f32: row `k`'s in lanes `2k` and `2k + 1`, as the quad's sums lie).
    pub(super) factors: Vec<f32>,
}

impl<'a> QuantizedQuad<'a> {
    pub(super) fn new(rows: [&'a QuantizedRow; 4]) -> Self {
        let blocks = rows[0].codes.len() / BLOCK;
        let mut codes = Vec::with_capacity(4 * BLOCK * blocks);
        let mut starts = Vec::with_capacity(8 * blocks);
        for b in 0..blocks {
            for m in 0..4 {
                for row in rows {
                    codes.extend_from_slice(&row.codes[BLOCK * b + 8 * m..BLOCK * b + 8 * m + 8]);
                }
            }
            for row in rows {
                let block = &row.codes[BLOCK * b..BLOCK * (b + 1)];
                let mut sums = [0i32; 2];
                for (q, four) in block.chunks_exact(4).enumerate() {
                    sums[q % 2] += four.iter().map(|&c| c as i32).sum::<i32>();
                }
                starts.extend(sums.map(|sum| -128 * sum));
            }
        }
        let mut factors = Vec::with_capacity(4 * 2 * blocks);
        for b in 0..blocks {
            for row in rows {
                factors.extend_from_slice(&row.factors[2 * b..2 * b + 2]);
            }
        }
        Self {
            rows,
            codes,
            starts,
            factors,
        }
    }

    /// `rows` four at a time, the last four filled up with copies of the
    /// last row (its extra values are computed and dropped: a quad costs
    /// less than even one row alone in the one-token kernel, which reads
    /// the weights again); none for fewer than two rows. Built in parallel
    /// with `parallel`.
    pub(super) fn each(rows: &'a [QuantizedRow], parallel: bool) -> Vec<Self> {
        if rows.len() < 2 {
            return Vec::new();
        }
        let quad = |four: &'a [QuantizedRow]| {
            let row = |k: usize| &four[k.min(four.len() - 1)];
            Self::new([row(0), row(1), row(2), row(3)])
        };
        if parallel {
            rows.par_chunks(4).map(quad).collect()
        } else {
            rows.chunks(4).map(quad).collect()
        }
    }
}
