//! The kernels with 256-bit integer instructions, in two builds of the same
//! source: [`plain`] for AVX2 (`maddubs` multiplies unsigned by signed bytes
//! and adds pairs, `madd` widens to 32 bits) and [`vnni`] for AVX-VNNI
//! (`vpdpbusd` does both in one instruction). Both sum each block's products
//! exactly in integers (no pair can saturate: codes are at most 15 or |128|
//! against at most |127|), so their results are bitwise the same.
//!
//! Each kernel is written once for N activation rows; the one-row and
//! four-row entry points are its N = 1 and N = 4 cases, so every row gets
//! the same instructions in the same order (the same bits) either way.
//! Factors stored as f16 are widened (`vcvtph2ps`) as each block is reached.

/// The kernels compiled for `$features`, with `block_sums` (one block's 32
/// products `unsigned · signed`, summed exactly to 8 lanes of 4 and
/// converted to f32) given as `|unsigned, signed| body`.
macro_rules! kernels {
    ($features:literal, |$unsigned:ident, $signed:ident| $block_sums:block) => {
        use std::arch::x86_64::*;

        use crate::lm::quant::{FactorRow, QuantizedRow, RowCodes, BLOCK};

        #[target_feature(enable = $features)]
        fn block_sums($unsigned: __m256i, $signed: __m256i) -> __m256 $block_sums

        #[target_feature(enable = $features)]
        fn horizontal_sum(v: __m256) -> f32 {
            let folded = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
            let folded = _mm_add_ps(folded, _mm_movehl_ps(folded, folded));
            let folded = _mm_add_ss(folded, _mm_movehdup_ps(folded));
            _mm_cvtss_f32(folded)
        }

        /// Activation block `b` of `x`.
        ///
        /// # Safety
        /// `x.codes` must hold at least `BLOCK · (b + 1)` codes.
        #[target_feature(enable = $features)]
        unsafe fn activation_block(x: &QuantizedRow, b: usize) -> __m256i {
            debug_assert!(x.codes.len() >= BLOCK * (b + 1));
            // SAFETY: the caller keeps the load inside `x.codes`.
            unsafe { _mm256_loadu_si256(x.codes.as_ptr().add(BLOCK * b) as *const __m256i) }
        }

        /// Factors `i` and `i + 1` as f32, from one load (a row's factors are
        /// followed by one more, so `i + 1` may be one past the row).
        #[target_feature(enable = $features)]
        fn factor_pair(factors: FactorRow, i: usize) -> (f32, f32) {
            match factors {
                FactorRow::Single(values) => (values[i], values[i + 1]),
                FactorRow::Half(values) => {
                    let pair = &values[i..i + 2];
                    // SAFETY: `pair` is two f16, four bytes.
                    let bits = unsafe { std::ptr::read_unaligned(pair.as_ptr() as *const i32) };
                    let wide = _mm_cvtph_ps(_mm_cvtsi32_si128(bits));
                    (_mm_cvtss_f32(wide), _mm_cvtss_f32(_mm_movehdup_ps(wide)))
                }
            }
        }

        /// Calls `each(b, factor b)` for blocks `0..blocks` of a layout with one
        /// factor per block, converting two blocks' factors per load (a load of one
        /// f16 alone compiles to an insert that waits on an unrelated register).
        #[target_feature(enable = $features)]
        fn each_factor(factors: FactorRow, blocks: usize, mut each: impl FnMut(usize, f32)) {
            for b in (0..blocks).step_by(2) {
                let (first, second) = factor_pair(factors, b);
                each(b, first);
                if b + 1 < blocks {
                    each(b + 1, second);
                }
            }
        }

        /// A Nibbles row times N activation rows.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // k indexes xs, acc and the loads together
        unsafe fn nibbles_rows<const N: usize>(
            codes: &[u8],
            factors: FactorRow,
            xs: [&QuantizedRow; N],
        ) -> [f32; N] {
            let blocks = factors.len() / 2;
            assert!(codes.len() == 16 * blocks);
            assert!(xs.iter().all(|x| x.codes.len() == BLOCK * blocks));
            let low_mask = _mm_set1_epi8(0x0F);
            let mut acc = [_mm256_setzero_ps(); N];
            let mut offset_terms = [0f32; N];
            for b in 0..blocks {
                let (scale, offset) = factor_pair(factors, 2 * b);
                // SAFETY: the asserts above keep every load inside the slices.
                let packed = unsafe { _mm_loadu_si128(codes.as_ptr().add(16 * b) as *const __m128i) };
                let low = _mm_and_si128(packed, low_mask);
                let high = _mm_and_si128(_mm_srli_epi16(packed, 4), low_mask);
                let weights = _mm256_set_m128i(high, low);
                for k in 0..N {
                    // SAFETY: as above.
                    let sums = block_sums(weights, unsafe { activation_block(xs[k], b) });
                    let scale = _mm256_set1_ps(scale * xs[k].scales[b]);
                    acc[k] = _mm256_fmadd_ps(sums, scale, acc[k]);
                    // `Σ offset_b · scale_b · Σ codes_b`: the offsets' share.
                    offset_terms[k] += offset * xs[k].sums[b];
                }
            }
            std::array::from_fn(|k| horizontal_sum(acc[k]) + offset_terms[k])
        }

        /// Signed codes (`ws`, one block) times activation block `b` of each of
        /// the N rows, added into `acc`: `|w| · (x with w's sign)`, because
        /// `maddubs` needs one unsigned operand.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // k indexes xs and acc together
        fn add_signed_block<const N: usize>(
            ws: __m256i,
            halves: __m256,
            xs: &[&QuantizedRow; N],
            b: usize,
            acc: &mut [__m256; N],
        ) {
            let magnitudes = _mm256_sign_epi8(ws, ws);
            for k in 0..N {
                // SAFETY: the callers assert every activation row holds the blocks.
                let x = unsafe { activation_block(xs[k], b) };
                let sums = block_sums(magnitudes, _mm256_sign_epi8(x, ws));
                let scale = _mm256_mul_ps(halves, _mm256_set1_ps(xs[k].scales[b]));
                acc[k] = _mm256_fmadd_ps(sums, scale, acc[k]);
            }
        }

        /// A Bytes row (`PER_BLOCK` scales per block) times N activation rows.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        unsafe fn bytes_rows<const N: usize, const PER_BLOCK: usize>(
            codes: &[i8],
            scales: FactorRow,
            xs: [&QuantizedRow; N],
        ) -> [f32; N] {
            let blocks = scales.len() / PER_BLOCK;
            assert!(codes.len() == BLOCK * blocks && scales.len() == PER_BLOCK * blocks);
            assert!(xs.iter().all(|x| x.codes.len() == BLOCK * blocks));
            let mut acc = [_mm256_setzero_ps(); N];
            // SAFETY: the asserts above keep every load inside the slices.
            let block =
                |b: usize| unsafe { _mm256_loadu_si256(codes.as_ptr().add(BLOCK * b) as *const __m256i) };
            if PER_BLOCK == 1 {
                each_factor(scales, blocks, |b, scale| {
                    add_signed_block(block(b), _mm256_set1_ps(scale), &xs, b, &mut acc);
                });
            } else {
                for b in 0..blocks {
                    // Lanes 0..4 hold weights 0..16, lanes 4..8 weights 16..32.
                    let (first, second) = factor_pair(scales, 2 * b);
                    let halves = _mm256_set_m128(_mm_set1_ps(second), _mm_set1_ps(first));
                    add_signed_block(block(b), halves, &xs, b, &mut acc);
                }
            }
            std::array::from_fn(|k| horizontal_sum(acc[k]))
        }

        /// One weight row times N activation rows, in the row's layout's kernel.
        ///
        /// # Safety
        /// The CPU must have the module's features; the row is cut as
        /// `QMatrix::row_codes` cuts it.
        #[target_feature(enable = $features)]
        pub unsafe fn dot_rows<const N: usize>(codes: RowCodes, xs: [&QuantizedRow; N]) -> [f32; N] {
            // SAFETY: the caller guarantees the CPU features.
            unsafe {
                match codes {
                    RowCodes::Nibbles { codes, factors } => nibbles_rows(codes, factors, xs),
                    RowCodes::Bytes {
                        codes,
                        scales,
                        per_block: 1,
                    } => bytes_rows::<N, 1>(codes, scales, xs),
                    RowCodes::Bytes { codes, scales, .. } => bytes_rows::<N, 2>(codes, scales, xs),
                    RowCodes::Dense(_) => unreachable!("dense rows use f32 activations"),
                }
            }
        }
    };
}

/// AVX2, FMA and F16C.
pub mod plain {
    kernels!("avx2,fma,f16c", |unsigned, signed| {
        let pairs = _mm256_maddubs_epi16(unsigned, signed);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
    });
}

/// AVX2, FMA, F16C and AVX-VNNI.
pub mod vnni {
    kernels!("avx2,fma,f16c,avxvnni", |unsigned, signed| {
        _mm256_cvtepi32_ps(_mm256_dpbusd_avx_epi32(
            _mm256_setzero_si256(),
            unsigned,
            signed,
        ))
    });
}
