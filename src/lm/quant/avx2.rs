//! The kernels with 256-bit integer instructions, in two builds of the same
//! source: [`plain`] for AVX2 (`maddubs` multiplies unsigned by signed bytes
//! and adds pairs, `madd` widens to 32 bits) and [`vnni`] for AVX-VNNI
//! (`vpdpbusd` does both in one instruction). Both sum each block's products
//! exactly in integers (no pair can saturate: codes are at most 15 or |128|
//! against at most |127|), so their results are bitwise the same.
//!
//! Each kernel is written once for R weight rows times N activation rows,
//! and every (weight row, activation row) pair gets the same instructions in
//! the same order (the same bits) in each of the shapes used: 1 × 4 for a
//! prompt's tokens, 2 × 1 for a single token in the AVX2 build, 1 × 1 for a
//! single token in the AVX-VNNI build and for what is left over.
//!
//! Blocks go in groups of four ([`GROUP`](crate::lm::quant::GROUP)): one
//! load and one multiplication give a group's products of weight and
//! activation factors (f16 factors widened with `vcvtph2ps` on the way),
//! which are stored and broadcast back one block at a time. Each pair keeps
//! one running sum of its blocks (and, for Nibbles, one of its offsets).

/// The kernels compiled for `$features`, given
/// - `block_sums`: one block's 32 products `unsigned · signed`, summed
///   exactly to 8 lanes of 4 and converted to f32 (the Nibbles blocks);
/// - `signed_weights`: what a block of signed weight codes `ws` becomes
///   once, before meeting each activation block;
/// - `signed_block`: one block's products of those weights and an
///   activation block, summed and converted as above (the Bytes blocks);
/// - `signed_activations`: the field of [`QuantizedRow`] those activation
///   blocks are read from.
macro_rules! kernels {
    (
        $features:literal,
        block_sums: |$unsigned:ident, $signed:ident| $block_sums:block,
        signed_weights: |$ws:ident| $signed_weights:block,
        signed_block: |$prepared:ident, $x:ident| $signed_block:block,
        signed_activations: $field:ident $(,)?
    ) => {
        use std::arch::x86_64::*;

        use crate::lm::quant::{FactorRow, QuantizedRow, RowCodes, BLOCK, GROUP, PADDING};

        #[target_feature(enable = $features)]
        fn block_sums($unsigned: __m256i, $signed: __m256i) -> __m256 $block_sums

        #[target_feature(enable = $features)]
        fn signed_weights($ws: __m256i) -> [__m256i; 2] $signed_weights

        #[target_feature(enable = $features)]
        fn signed_block($prepared: [__m256i; 2], $x: __m256i) -> __m256 $signed_block

        #[target_feature(enable = $features)]
        fn horizontal_sum(v: __m256) -> f32 {
            let folded = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
            let folded = _mm_add_ps(folded, _mm_movehl_ps(folded, folded));
            let folded = _mm_add_ss(folded, _mm_movehdup_ps(folded));
            _mm_cvtss_f32(folded)
        }

        /// Factors `first..first + count` of a row (`count` ≤ `WIDTH`, which
        /// is 4 or 8) as f32 in the lowest lanes, zeros in the rest. The load
        /// stays inside the factors' padding after the row.
        #[target_feature(enable = $features)]
        fn factor_group<const WIDTH: usize>(factors: FactorRow, first: usize, count: usize) -> __m256 {
            assert!(first + WIDTH <= factors.len() + PADDING && count <= WIDTH);
            // SAFETY: the assert keeps the `WIDTH` values inside the slice,
            // whose padding is part of it.
            let values = unsafe {
                match factors {
                    FactorRow::Single(values) if WIDTH == 8 => _mm256_loadu_ps(values.as_ptr().add(first)),
                    FactorRow::Single(values) => {
                        _mm256_zextps128_ps256(_mm_loadu_ps(values.as_ptr().add(first)))
                    }
                    FactorRow::Half(values) => _mm256_cvtph_ps(if WIDTH == 8 {
                        _mm_loadu_si128(values.as_ptr().add(first) as *const __m128i)
                    } else {
                        _mm_loadl_epi64(values.as_ptr().add(first) as *const __m128i)
                    }),
                }
            };
            if count == WIDTH {
                return values;
            }
            // The next row's factors or the padding: cut off.
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let kept = _mm256_cmpgt_epi32(_mm256_set1_epi32(count as i32), lanes);
            _mm256_and_ps(values, _mm256_castsi256_ps(kept))
        }

        /// The activation rows as the kernels read them: each row's codes and
        /// factors, checked once to hold `blocks` blocks.
        struct Activations<const N: usize> {
            codes: [*const i8; N],
            /// What the Bytes kernel reads (`signed_activations`).
            signed: [*const u8; N],
            factors: [*const f32; N],
        }

        impl<const N: usize> Activations<N> {
            fn new(xs: [&QuantizedRow; N], blocks: usize) -> Self {
                for x in xs {
                    assert!(x.codes.len() == BLOCK * blocks && x.$field.len() == BLOCK * blocks);
                    assert!(x.factors.len() == 2 * blocks.next_multiple_of(GROUP));
                }
                Self {
                    codes: xs.map(|x| x.codes.as_ptr()),
                    signed: xs.map(|x| x.$field.as_ptr() as *const u8),
                    factors: xs.map(|x| x.factors.as_ptr()),
                }
            }

            /// Block `b`'s codes of row `k`.
            ///
            /// # Safety
            /// `b` must be below the `blocks` the rows were checked for.
            #[target_feature(enable = $features)]
            unsafe fn block(&self, k: usize, b: usize) -> __m256i {
                // SAFETY: `new` checked that the row holds block `b`.
                unsafe { _mm256_loadu_si256(self.codes[k].add(BLOCK * b) as *const __m256i) }
            }

            /// Block `b` of row `k` as the Bytes kernel reads it.
            ///
            /// # Safety
            /// As for [`Activations::block`].
            #[target_feature(enable = $features)]
            unsafe fn signed_block(&self, k: usize, b: usize) -> __m256i {
                // SAFETY: `new` checked that the row holds block `b`.
                unsafe { _mm256_loadu_si256(self.signed[k].add(BLOCK * b) as *const __m256i) }
            }

            /// The factors of row `k`'s group of blocks from `first`.
            ///
            /// # Safety
            /// `first` must be a multiple of `GROUP` below `blocks`.
            #[target_feature(enable = $features)]
            unsafe fn factors(&self, k: usize, first: usize) -> __m256 {
                // SAFETY: `new` checked that the row's factors fill whole groups.
                unsafe { _mm256_loadu_ps(self.factors[k].add(2 * first)) }
            }
        }

        /// `value` in every lane, loaded from memory: the compiler would
        /// otherwise take a value just stored from its register with a
        /// shuffle, an instruction where the load needs none.
        #[target_feature(enable = $features)]
        #[inline]
        fn broadcast_from_memory(value: &f32) -> __m256 {
            let lanes: __m256;
            // SAFETY: reads the four bytes of `value`, nothing else.
            unsafe {
                std::arch::asm!(
                    "vbroadcastss {lanes}, dword ptr [{value}]",
                    value = in(reg) value,
                    lanes = out(ymm_reg) lanes,
                    options(pure, readonly, nostack, preserves_flags),
                );
            }
            lanes
        }

        /// R Nibbles weight rows times N activation rows.
        ///
        /// Per group of four blocks, one multiplication gives every block's
        /// `scale_w · scale_x` and `offset_w · scale_x · Σ codes_x` (the
        /// factors of both are interleaved the same way); the second kind,
        /// the offsets' share, is summed apart from the products.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // r and k index rows, sums and products together
        unsafe fn nibbles_rows<const R: usize, const N: usize>(
            rows: [(&[u8], FactorRow); R],
            xs: [&QuantizedRow; N],
        ) -> [[f32; N]; R] {
            let blocks = rows[0].1.len() / 2;
            for (codes, factors) in rows {
                assert!(codes.len() == 16 * blocks && factors.len() == 2 * blocks);
            }
            let xs = Activations::new(xs, blocks);
            let low_mask = _mm_set1_epi8(0x0F);
            // 1 in the offsets' lanes, 0 in the scales'.
            let offset_lanes = _mm256_setr_ps(0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0);
            let mut acc = [[_mm256_setzero_ps(); N]; R];
            let mut offsets = [[_mm256_setzero_ps(); N]; R];
            let mut products = [[[0f32; 2 * GROUP]; N]; R];
            for first in (0..blocks).step_by(GROUP) {
                let count = GROUP.min(blocks - first);
                for r in 0..R {
                    let weight_factors = factor_group::<8>(rows[r].1, 2 * first, 2 * count);
                    for k in 0..N {
                        // SAFETY: `first` is a group's first block.
                        let group = _mm256_mul_ps(weight_factors, unsafe { xs.factors(k, first) });
                        offsets[r][k] = _mm256_fmadd_ps(group, offset_lanes, offsets[r][k]);
                        // SAFETY: `products[r][k]` is eight f32.
                        unsafe { _mm256_storeu_ps(products[r][k].as_mut_ptr(), group) };
                    }
                }
                for j in 0..count {
                    let b = first + j;
                    for r in 0..R {
                        // SAFETY: the asserts above keep the load inside the codes.
                        let packed = unsafe { _mm_loadu_si128(rows[r].0.as_ptr().add(16 * b) as *const __m128i) };
                        let low = _mm_and_si128(packed, low_mask);
                        let high = _mm_and_si128(_mm_srli_epi16(packed, 4), low_mask);
                        let weights = _mm256_set_m128i(high, low);
                        for k in 0..N {
                            // SAFETY: `b` < `blocks`.
                            let sums = block_sums(weights, unsafe { xs.block(k, b) });
                            let scale = broadcast_from_memory(&products[r][k][2 * j]);
                            acc[r][k] = _mm256_fmadd_ps(sums, scale, acc[r][k]);
                        }
                    }
                }
            }
            std::array::from_fn(|r| {
                std::array::from_fn(|k| horizontal_sum(_mm256_add_ps(acc[r][k], offsets[r][k])))
            })
        }

        /// R Bytes weight rows (`PER_BLOCK` scales per block) times N
        /// activation rows.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // r and k index rows, sums and products together
        unsafe fn bytes_rows<const R: usize, const N: usize, const PER_BLOCK: usize>(
            rows: [(&[i8], FactorRow); R],
            xs: [&QuantizedRow; N],
        ) -> [[f32; N]; R] {
            let blocks = rows[0].1.len() / PER_BLOCK;
            for (codes, scales) in rows {
                assert!(codes.len() == BLOCK * blocks && scales.len() == PER_BLOCK * blocks);
            }
            let xs = Activations::new(xs, blocks);
            let mut acc = [[_mm256_setzero_ps(); N]; R];
            let mut products = [[[0f32; 2 * GROUP]; N]; R];
            for first in (0..blocks).step_by(GROUP) {
                let count = GROUP.min(blocks - first);
                for r in 0..R {
                    // Lined up with the activations' factors: with one scale
                    // per block each scale twice, with two the block's pair.
                    let weight_factors = if PER_BLOCK == 1 {
                        let four = factor_group::<4>(rows[r].1, first, count);
                        _mm256_permutevar8x32_ps(four, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3))
                    } else {
                        factor_group::<8>(rows[r].1, 2 * first, 2 * count)
                    };
                    for k in 0..N {
                        // SAFETY: `first` is a group's first block.
                        let x_scales = _mm256_moveldup_ps(unsafe { xs.factors(k, first) });
                        let group = _mm256_mul_ps(weight_factors, x_scales);
                        // SAFETY: `products[r][k]` is eight f32.
                        unsafe { _mm256_storeu_ps(products[r][k].as_mut_ptr(), group) };
                    }
                }
                for j in 0..count {
                    let b = first + j;
                    for r in 0..R {
                        // SAFETY: the asserts above keep the load inside the codes.
                        let ws = unsafe { _mm256_loadu_si256(rows[r].0.as_ptr().add(BLOCK * b) as *const __m256i) };
                        let prepared = signed_weights(ws);
                        for k in 0..N {
                            // SAFETY: `b` < `blocks`.
                            let sums = signed_block(prepared, unsafe { xs.signed_block(k, b) });
                            // Lanes 0..4 hold weights 0..16, lanes 4..8 weights 16..32.
                            let scale = if PER_BLOCK == 1 {
                                broadcast_from_memory(&products[r][k][2 * j])
                            } else {
                                _mm256_set_m128(
                                    _mm_set1_ps(products[r][k][2 * j + 1]),
                                    _mm_set1_ps(products[r][k][2 * j]),
                                )
                            };
                            acc[r][k] = _mm256_fmadd_ps(sums, scale, acc[r][k]);
                        }
                    }
                }
            }
            std::array::from_fn(|r| std::array::from_fn(|k| horizontal_sum(acc[r][k])))
        }

        /// R weight rows (cut as `QMatrix::row_codes` cuts them, all of one
        /// matrix) times N activation rows, in the rows' layout's kernel.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        pub unsafe fn dot_rows<const R: usize, const N: usize>(
            rows: [RowCodes; R],
            xs: [&QuantizedRow; N],
        ) -> [[f32; N]; R] {
            let nibbles = |row| match row {
                RowCodes::Nibbles { codes, factors } => (codes, factors),
                _ => unreachable!("one matrix's rows share a layout"),
            };
            let bytes = |row| match row {
                RowCodes::Bytes { codes, scales, .. } => (codes, scales),
                _ => unreachable!("one matrix's rows share a layout"),
            };
            // SAFETY: the caller guarantees the CPU features.
            unsafe {
                match rows[0] {
                    RowCodes::Nibbles { .. } => nibbles_rows(rows.map(nibbles), xs),
                    RowCodes::Bytes { per_block: 1, .. } => {
                        bytes_rows::<R, N, 1>(rows.map(bytes), xs)
                    }
                    RowCodes::Bytes { .. } => bytes_rows::<R, N, 2>(rows.map(bytes), xs),
                    RowCodes::Dense(_) => unreachable!("dense rows use f32 activations"),
                }
            }
        }
    };
}

/// AVX2, FMA and F16C. The byte products need one unsigned operand, so a
/// Bytes block is multiplied as `|w| · (x with w's sign)`.
pub mod plain {
    kernels!(
        "avx2,fma,f16c",
        block_sums: |unsigned, signed| {
            let pairs = _mm256_maddubs_epi16(unsigned, signed);
            _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
        },
        signed_weights: |ws| { [_mm256_sign_epi8(ws, ws), ws] },
        signed_block: |prepared, x| {
            let [magnitudes, ws] = prepared;
            block_sums(magnitudes, _mm256_sign_epi8(x, ws))
        },
        signed_activations: codes,
    );
}

/// AVX2, FMA, F16C and AVX-VNNI. A Bytes block is multiplied as
/// `(x + 128) · w`, from activation codes stored with 128 added, starting
/// from `−128 · Σ w` per lane instead of zero: the same integer as
/// `x · w` with no sign instruction per activation block (`vpdpbusd`
/// accumulates in 32 bits and cannot saturate here, where `maddubs` would).
pub mod vnni {
    kernels!(
        "avx2,fma,f16c,avxvnni",
        block_sums: |unsigned, signed| {
            _mm256_cvtepi32_ps(_mm256_dpbusd_avx_epi32(
                _mm256_setzero_si256(),
                unsigned,
                signed,
            ))
        },
        signed_weights: |ws| {
            let zero = _mm256_setzero_si256();
            let bias = _mm256_dpbusd_avx_epi32(zero, _mm256_set1_epi8(-128), ws);
            [_mm256_sub_epi32(zero, bias), ws]
        },
        signed_block: |prepared, biased| {
            let [start, ws] = prepared;
            _mm256_cvtepi32_ps(_mm256_dpbusd_avx_epi32(start, biased, ws))
        },
        signed_activations: biased,
    );
}
