//! The kernels with 256-bit integer instructions, in two builds of the same
//! source: [`plain`] for AVX2 (`maddubs` multiplies unsigned by signed bytes
//! and adds pairs, `madd` widens to 32 bits) and [`vnni`] for AVX-VNNI
//! (`vpdpbusd` does both in one instruction). Both sum each block's products
//! exactly in integers (no sum can overflow its lane), so their results are
//! bitwise the same.
//!
//! The arithmetic every (weight row, activation row) pair gets, in every
//! shape: blocks go in groups of four ([`GROUP`](crate::lm::quant::GROUP));
//! of each block, the products of its even quads of weights (`0..4`,
//! `8..12`, `16..20`, `24..28`) and of its odd quads are summed exactly,
//! giving eight integers per group, which are converted to f32 and multiplied
//! by their blocks' products of weight and activation scales into one
//! running sum of eight lanes (with, for Nibbles, the group's offset terms).
//! One load and one multiplication give a group's scale products (f16
//! factors widened with `vcvtph2ps` on the way).
//!
//! Two shapes compute it:
//! - one activation row (`dot_rows`, a decoded token, R weight rows at a
//!   time): each block's eight lanes of quad sums are folded into its even
//!   and odd sums, four blocks into one vector;
//! - four activation rows (`dot_quads`, a prompt's or a grid's tokens):
//!   the rows are interleaved (`QuantizedQuad`) so that eight weights,
//!   broadcast to four lanes, meet all four rows in one instruction; a
//!   block's four such products leave every row's even and odd sums in one
//!   vector, which is converted and scaled where it lies (one running sum
//!   per block position in the group), and each row's eight running sums
//!   are added, in `horizontal_sum`'s order, for all four rows at once
//!   only at the end (`fold_quad`). Two quads take each weight load at once.
//!
//! Q6_K's two scales per block keep the older arithmetic (each block's eight
//! quad sums converted and multiplied apart, `bytes_rows`) in both shapes:
//! with quads (`quad_rows_halves`), each quarter of a block is summed into
//! its own vector, so every lane still holds one quad of four codes of one
//! row, and each block's weights are prepared once for two quads.

/// The kernels compiled for `$features`, given
/// - `block_sums`: one block's 32 products `unsigned · signed`, summed
///   exactly to 8 lanes of 4 (lane `i`: quad `i`);
/// - `signed_weights`: what a block of signed weight codes `ws` becomes
///   once, before meeting each activation block;
/// - `signed_block`: one block's products of those weights and an
///   activation block, summed as above (the Bytes blocks);
/// - `signed_activations`: the field of [`QuantizedRow`] those activation
///   blocks are read from;
/// - `unsigned_quarters`: a block's four products of eight unsigned weights
///   (each broadcast to the four rows of a [`QuantizedQuad`]) and the
///   quad's codes, summed per row into its even and odd quads;
/// - `signed_quarters`: the same for eight signed weights, given the
///   block's [`QuantizedQuad::starts`].
macro_rules! kernels {
    (
        $features:literal,
        block_sums: |$unsigned:ident, $signed:ident| $block_sums:block,
        signed_weights: |$ws:ident| $signed_weights:block,
        signed_block: |$prepared:ident, $x:ident| $signed_block:block,
        signed_activations: $field:ident,
        unsigned_quarters: |$uw:ident, $ux:ident| $unsigned_quarters:block,
        signed_quarters: |$sw:ident, $sx:ident, $start:ident| $signed_quarters:block $(,)?
    ) => {
        use std::arch::x86_64::*;

        use crate::lm::quant::{
            FactorRow, QuantizedQuad, QuantizedRow, RowCodes, BLOCK, GROUP, PADDING, PER_SUPER, QUAD_CACHE_BYTES,
        };

        #[target_feature(enable = $features)]
        fn block_sums($unsigned: __m256i, $signed: __m256i) -> __m256i $block_sums

        #[target_feature(enable = $features)]
        fn signed_weights($ws: __m256i) -> [__m256i; 2] $signed_weights

        #[target_feature(enable = $features)]
        fn signed_block($prepared: [__m256i; 2], $x: __m256i) -> __m256i $signed_block

        #[target_feature(enable = $features)]
        fn unsigned_quarters($uw: [__m256i; 4], $ux: [__m256i; 4]) -> __m256i $unsigned_quarters

        #[target_feature(enable = $features)]
        fn signed_quarters($sw: [__m256i; 4], $sx: [__m256i; 4], $start: __m256i) -> __m256i $signed_quarters

        #[target_feature(enable = $features)]
        pub(in crate::lm::quant) fn horizontal_sum(v: __m256) -> f32 {
            let folded = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
            let folded = _mm_add_ps(folded, _mm_movehl_ps(folded, folded));
            let folded = _mm_add_ss(folded, _mm_movehdup_ps(folded));
            _mm_cvtss_f32(folded)
        }

        /// Four blocks' quad sums (lane `i` of `v[j]`: block `j`'s quad `i`)
        /// folded to `[even₀, odd₀, even₁, odd₁, …, odd₃]` and converted.
        #[target_feature(enable = $features)]
        fn group_sums(v: [__m256i; GROUP]) -> __m256 {
            let pairs = |a, b| _mm256_add_epi32(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
            let (first, second) = (pairs(v[0], v[1]), pairs(v[2], v[3]));
            _mm256_cvtepi32_ps(_mm256_add_epi32(
                _mm256_permute2x128_si256(first, second, 0x20),
                _mm256_permute2x128_si256(first, second, 0x31),
            ))
        }

        /// A row's running sums with one quad (lanes `2k`, `2k + 1` of
        /// `v[j]`: token `k`'s sums over the even and the odd quads of the
        /// groups' block `j`, or for Q6_K's rows over the first and second
        /// half of each block's quarter `j`) folded into its four values
        /// (fewer if `out` ends sooner), all four at once. Token `k`'s
        /// eight sums are, in the one-token kernels' order, `[v₀[2k],
        /// v₀[2k+1], v₁[2k], …, v₃[2k+1]]`, and [`horizontal_sum`] adds
        /// lanes `i` and `i + 4`, then the first two of those to the last
        /// two, then the two left: here `(v₀ + v₂) + (v₁ + v₃)` in every
        /// lane, then each even lane plus the odd one after it, the same
        /// additions of the same values, so the same bits.
        #[target_feature(enable = $features)]
        pub(in crate::lm::quant) fn fold_quad(v: [__m256; 4], out: &mut [f32]) {
            let quads = _mm256_add_ps(_mm256_add_ps(v[0], v[2]), _mm256_add_ps(v[1], v[3]));
            let pairs = _mm256_add_ps(quads, _mm256_movehdup_ps(quads));
            let values = _mm256_permutevar8x32_ps(pairs, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0));
            let mut four = [0f32; 4];
            // SAFETY: four f32.
            unsafe { _mm_storeu_ps(four.as_mut_ptr(), _mm256_castps256_ps128(values)) };
            out.copy_from_slice(&four[..out.len()]);
        }

        /// Factors `first..first + count` of a row (`count` ≤ `WIDTH`, which
        /// is 4 or 8) as f32 in the lowest lanes, zeros in the rest. The load
        /// stays inside the factors' padding after the row.
        #[target_feature(enable = $features)]
        pub(in crate::lm::quant) fn factor_group<const WIDTH: usize>(factors: FactorRow, first: usize, count: usize) -> __m256 {
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
                    FactorRow::Scaled { multipliers, supers } => {
                        // The integers times their super-block's pair (in
                        // alternate lanes, as `first` is even): exact.
                        let pair = 2 * (first / PER_SUPER);
                        assert!(first % PER_SUPER + WIDTH <= PER_SUPER && pair + 2 <= supers.len());
                        let integers = if WIDTH == 8 {
                            _mm_loadl_epi64(multipliers.as_ptr().add(first) as *const __m128i)
                        } else {
                            _mm_cvtsi32_si128((multipliers.as_ptr().add(first) as *const i32).read_unaligned())
                        };
                        let pair = (supers.as_ptr().add(pair) as *const i32).read_unaligned();
                        _mm256_mul_ps(
                            _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(integers)),
                            _mm256_cvtph_ps(_mm_set1_epi32(pair)),
                        )
                    }
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

        /// A Nibbles row's group of factors, `[scale₀, offset₀, …]`.
        #[target_feature(enable = $features)]
        fn nibble_factors(factors: FactorRow, first: usize, count: usize) -> __m256 {
            factor_group::<8>(factors, 2 * first, 2 * count)
        }

        /// A Bytes row's group of scales (one per block), each twice, lined
        /// up with the even and odd sums.
        #[target_feature(enable = $features)]
        fn byte_scales(scales: FactorRow, first: usize, count: usize) -> __m256 {
            let four = factor_group::<4>(scales, first, count);
            _mm256_permutevar8x32_ps(four, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3))
        }

        /// 1 in the offsets' lanes of a Nibbles group's products, 0 in the scales'.
        #[target_feature(enable = $features)]
        fn offset_lanes() -> __m256 {
            _mm256_setr_ps(0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0)
        }

        /// A group's contribution to a Nibbles pair's running sum: `sums`
        /// (from [`group_sums`]) times the blocks' scale products, then the
        /// offset terms (`products`: the weight factors times the activation
        /// row's interleaved scales and sums).
        #[target_feature(enable = $features)]
        fn nibbles_step(acc: __m256, sums: __m256, products: __m256) -> __m256 {
            let acc = _mm256_fmadd_ps(sums, _mm256_moveldup_ps(products), acc);
            _mm256_fmadd_ps(products, offset_lanes(), acc)
        }

        /// The same for a Bytes pair (`scales`: [`byte_scales`] of the row).
        #[target_feature(enable = $features)]
        fn bytes_step(acc: __m256, sums: __m256, scales: __m256, x_factors: __m256) -> __m256 {
            _mm256_fmadd_ps(sums, _mm256_mul_ps(scales, _mm256_moveldup_ps(x_factors)), acc)
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

        /// Signed codes as the bytes they are, for the kernels that take
        /// either kind of code.
        pub(in crate::lm::quant) fn as_bytes(codes: &[i8]) -> &[u8] {
            // SAFETY: i8 and u8 have the same size and alignment.
            unsafe { std::slice::from_raw_parts(codes.as_ptr() as *const u8, codes.len()) }
        }

        /// One Nibbles block's 16 packed bytes (the low nibble of byte `j`
        /// is weight `j`, the high nibble weight `j + 16`) as 32 bytes.
        ///
        /// # Safety
        /// `packed` must point at 16 readable bytes.
        #[target_feature(enable = $features)]
        unsafe fn unpack_block(packed: *const u8) -> __m256i {
            // SAFETY: the caller guarantees the 16 bytes.
            let packed = unsafe { _mm_loadu_si128(packed as *const __m128i) };
            // The packed bytes in both halves: the low half keeps the low
            // nibbles, the high half the high ones.
            let both = _mm256_broadcastsi128_si256(packed);
            _mm256_and_si256(_mm256_srlv_epi64(both, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0F))
        }

        /// How far ahead of the weights being read the kernels ask for
        /// weights to be loaded into the cache. A decoded token reads every
        /// weight once, so decoding waits on memory: the hardware's own
        /// prefetching stops at each 4 KiB page, so the kernels ask for one
        /// page ahead (the README's performance section has the figures).
        const PREFETCH_AHEAD: usize = 4096;

        /// Asks for the cache line `PREFETCH_AHEAD` bytes after `weights`
        /// (a hint: an address past the weights' end is never read).
        #[target_feature(enable = $features)]
        #[inline]
        pub(in crate::lm::quant) fn prefetch_ahead<T>(weights: *const T) {
            // A prefetch reads nothing the program sees and cannot fault;
            // `wrapping_add` keeps the address arithmetic defined.
            _mm_prefetch::<_MM_HINT_T0>((weights as *const i8).wrapping_add(PREFETCH_AHEAD));
        }

        /// R weight rows times one activation row: with `NIBBLES` the rows'
        /// packed 4-bit codes and `[scale, offset]` per block, else their
        /// signed codes (as bytes) and one scale per block.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // r indexes rows and sums together
        unsafe fn one_token<const R: usize, const NIBBLES: bool>(
            rows: [(&[u8], FactorRow); R],
            x: &QuantizedRow,
        ) -> [f32; R] {
            let (codes_per_block, factors_per_block) = if NIBBLES { (16, 2) } else { (BLOCK, 1) };
            let blocks = rows[0].1.len() / factors_per_block;
            for (codes, factors) in rows {
                assert!(codes.len() == codes_per_block * blocks && factors.len() == factors_per_block * blocks);
            }
            let xs = Activations::new([x], blocks);
            let mut acc = [_mm256_setzero_ps(); R];
            for first in (0..blocks).step_by(GROUP) {
                let count = GROUP.min(blocks - first);
                // SAFETY: `first` is a group's first block.
                let x_factors = unsafe { xs.factors(0, first) };
                for r in 0..R {
                    let mut sums = [_mm256_setzero_si256(); GROUP];
                    for j in 0..count {
                        let b = first + j;
                        // SAFETY: the asserts above keep the loads inside the
                        // codes, and `b` < `blocks`.
                        sums[j] = unsafe {
                            let codes = rows[r].0.as_ptr().add(codes_per_block * b);
                            prefetch_ahead(codes);
                            if NIBBLES {
                                block_sums(unpack_block(codes), xs.block(0, b))
                            } else {
                                let ws = _mm256_loadu_si256(codes as *const __m256i);
                                signed_block(signed_weights(ws), xs.signed_block(0, b))
                            }
                        };
                    }
                    acc[r] = if NIBBLES {
                        let products = _mm256_mul_ps(nibble_factors(rows[r].1, first, count), x_factors);
                        nibbles_step(acc[r], group_sums(sums), products)
                    } else {
                        bytes_step(acc[r], group_sums(sums), byte_scales(rows[r].1, first, count), x_factors)
                    };
                }
            }
            acc.map(|v| horizontal_sum(v))
        }

        /// One weight row, one byte per weight (`weights`: unsigned 4-bit
        /// codes with `NIBBLES`, else signed codes), times the four rows of
        /// each of `Q` quads at once (the row's weights, loaded once, serve
        /// all of them), into `out` (four values per quad, fewer for the
        /// last if `out` ends sooner); `factors` as [`one_token`] reads them.
        ///
        /// A quad's sums keep every row's even and odd sums of block `b`
        /// in lanes `2k, 2k + 1`; they are scaled where they lie, into one
        /// running sum per block position `b % GROUP` (per phase). Lane for
        /// lane these are the multiply-adds the one-token kernel gives a
        /// row's group of blocks, and [`fold_quad`] adds each row's eight
        /// sums as [`horizontal_sum`] does, so the bits are the same.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // j and q index sums and quads together
        unsafe fn quad_rows<const NIBBLES: bool, const Q: usize>(
            weights: &[u8],
            factors: FactorRow,
            quads: [&QuantizedQuad; Q],
            out: &mut [f32],
        ) {
            let blocks = weights.len() / BLOCK;
            assert!(weights.len() == BLOCK * blocks && out.len() <= 4 * Q && out.len() + 4 > 4 * Q);
            assert!(factors.len() == if NIBBLES { 2 * blocks } else { blocks });
            for quad in quads {
                assert!(quad.codes.len() == 4 * BLOCK * blocks && quad.starts.len() == 8 * blocks);
                assert!(quad.factors.len() == 4 * 2 * blocks);
            }
            let weights = weights.as_ptr();
            let codes = quads.map(|quad| quad.codes.as_ptr());
            let starts = quads.map(|quad| quad.starts.as_ptr());
            let x_factors = quads.map(|quad| quad.factors.as_ptr());
            let mut acc = [[_mm256_setzero_ps(); GROUP]; Q];
            for first in (0..blocks).step_by(GROUP) {
                let count = GROUP.min(blocks - first);
                // The group's weight factors: `[scale₀, offset₀, …]`, or
                // four scales.
                let group = if NIBBLES {
                    nibble_factors(factors, first, count)
                } else {
                    factor_group::<4>(factors, first, count)
                };
                for j in 0..GROUP {
                    if j >= count {
                        break;
                    }
                    let b = first + j;
                    if !NIBBLES {
                        // The codes straight from the weights (Nibbles rows
                        // were unpacked into `scratch`, prefetched there).
                        prefetch_ahead(weights.wrapping_add(BLOCK * b));
                    }
                    // Block `b`'s weight factors in every row's lanes.
                    let lanes = if NIBBLES {
                        _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1)
                    } else {
                        _mm256_setzero_si256()
                    };
                    let block_factors = _mm256_permutevar8x32_ps(
                        group,
                        _mm256_add_epi32(lanes, _mm256_set1_epi32(if NIBBLES { 2 * j as i32 } else { j as i32 })),
                    );
                    // SAFETY: the asserts above keep every load inside
                    // block `b` of the weights and of the quads.
                    let ws: [__m256i; 4] = std::array::from_fn(|m| unsafe {
                        _mm256_set1_epi64x((weights.add(BLOCK * b + 8 * m) as *const i64).read_unaligned())
                    });
                    for q in 0..Q {
                        // SAFETY: as above.
                        let (xq, start, x_factors) = unsafe {
                            (
                                std::array::from_fn(|m| {
                                    _mm256_loadu_si256(codes[q].add(4 * BLOCK * b + BLOCK * m) as *const __m256i)
                                }),
                                _mm256_loadu_si256(starts[q].add(8 * b) as *const __m256i),
                                _mm256_loadu_ps(x_factors[q].add(8 * b)),
                            )
                        };
                        let ints = if NIBBLES {
                            unsigned_quarters(ws, xq)
                        } else {
                            signed_quarters(ws, xq, start)
                        };
                        let sums = _mm256_cvtepi32_ps(ints);
                        acc[q][j] = if NIBBLES {
                            nibbles_step(acc[q][j], sums, _mm256_mul_ps(block_factors, x_factors))
                        } else {
                            bytes_step(acc[q][j], sums, block_factors, x_factors)
                        };
                    }
                }
            }
            for (acc, out) in acc.into_iter().zip(out.chunks_mut(4)) {
                fold_quad(acc, out);
            }
        }

        /// [`quad_rows`] over `quads`, two at a time.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        unsafe fn quads_in_pairs<const NIBBLES: bool>(
            weights: &[u8],
            factors: FactorRow,
            quads: &[QuantizedQuad],
            out: &mut [f32],
        ) {
            for (pair, out) in quads.chunks(2).zip(out.chunks_mut(8)) {
                // SAFETY: the caller guarantees the CPU features.
                unsafe {
                    match pair {
                        [a, b] => quad_rows::<NIBBLES, 2>(weights, factors, [a, b], out),
                        [a] => quad_rows::<NIBBLES, 1>(weights, factors, [a], out),
                        _ => unreachable!("chunks of two"),
                    }
                }
            }
        }

        /// One Bytes weight row with two scales per block (weights 0..16
        /// and 16..32, Q6_K's) times the four rows of each of `Q` quads,
        /// into `out` (four values per quad, fewer for the last if `out`
        /// ends sooner): the arithmetic of [`bytes_rows`] for each token,
        /// with each block's weights prepared once for all `Q` quads.
        ///
        /// Each quarter `m` of a block (weights `8m..8m + 8`, broadcast to
        /// the quad's four rows) is summed into its own vector, whose lanes
        /// `2k`, `2k + 1` are row `k`'s sums over weights `8m..8m + 4` and
        /// `8m + 4..8m + 8`: lanes `2m`, `2m + 1` of the one-token kernel's
        /// vector, converted and scaled by the same product and added in
        /// the same order. Row `k`'s eight running sums, a pair from each
        /// quarter, are added in [`horizontal_sum`]'s order ([`fold_quad`]).
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // m and q index sums and quads together
        unsafe fn quad_rows_halves<const Q: usize>(
            weights: &[i8],
            scales: FactorRow,
            quads: [&QuantizedQuad; Q],
            out: &mut [f32],
        ) {
            let blocks = weights.len() / BLOCK;
            assert!(weights.len() == BLOCK * blocks && out.len() <= 4 * Q && out.len() + 4 > 4 * Q);
            assert!(scales.len() == 2 * blocks);
            for quad in quads {
                assert!(quad.codes.len() == 4 * BLOCK * blocks && quad.factors.len() == 4 * 2 * blocks);
            }
            let weights = weights.as_ptr();
            let codes = quads.map(|quad| quad.codes.as_ptr());
            let x_factors = quads.map(|quad| quad.factors.as_ptr());
            let mut acc = [[_mm256_setzero_ps(); 4]; Q];
            for first in (0..blocks).step_by(GROUP) {
                let count = GROUP.min(blocks - first);
                // The group's two scales a block.
                let group = factor_group::<8>(scales, 2 * first, 2 * count);
                for j in 0..count {
                    let b = first + j;
                    prefetch_ahead(weights.wrapping_add(BLOCK * b));
                    let half = |h: i32| _mm256_permutevar8x32_ps(group, _mm256_set1_epi32(2 * j as i32 + h));
                    let halves = [half(0), half(1)];
                    let mut products = [[_mm256_setzero_ps(); 2]; Q];
                    for q in 0..Q {
                        // SAFETY: the asserts above keep the load inside block
                        // `b` of the quad's factors.
                        let x_scales = _mm256_moveldup_ps(unsafe { _mm256_loadu_ps(x_factors[q].add(8 * b)) });
                        products[q] = [_mm256_mul_ps(halves[0], x_scales), _mm256_mul_ps(halves[1], x_scales)];
                    }
                    for m in 0..4 {
                        // SAFETY: as above, inside block `b` of the weights.
                        let ws = _mm256_set1_epi64x(unsafe { (weights.add(BLOCK * b + 8 * m) as *const i64).read_unaligned() });
                        let magnitudes = _mm256_sign_epi8(ws, ws);
                        for q in 0..Q {
                            // SAFETY: as above, inside block `b` of the quad's codes.
                            let xs = unsafe { _mm256_loadu_si256(codes[q].add(4 * BLOCK * b + BLOCK * m) as *const __m256i) };
                            let ints = block_sums(magnitudes, _mm256_sign_epi8(xs, ws));
                            acc[q][m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ints), products[q][m / 2], acc[q][m]);
                        }
                    }
                }
            }
            for (acc, out) in acc.into_iter().zip(out.chunks_mut(4)) {
                fold_quad(acc, out);
            }
        }

        /// R Bytes weight rows with two scales per block (weights 0..16 and
        /// 16..32) times N activation rows: each block's quad sums converted
        /// and multiplied by the block's two scale products apart.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)] // r and k index rows, sums and products together
        unsafe fn bytes_rows<const R: usize, const N: usize>(
            rows: [(&[i8], FactorRow); R],
            xs: [&QuantizedRow; N],
        ) -> [[f32; N]; R] {
            let blocks = rows[0].1.len() / 2;
            for (codes, scales) in rows {
                assert!(codes.len() == BLOCK * blocks && scales.len() == 2 * blocks);
            }
            let xs = Activations::new(xs, blocks);
            let mut acc = [[_mm256_setzero_ps(); N]; R];
            let mut products = [[[0f32; 2 * GROUP]; N]; R];
            for first in (0..blocks).step_by(GROUP) {
                let count = GROUP.min(blocks - first);
                for r in 0..R {
                    let weight_factors = factor_group::<8>(rows[r].1, 2 * first, 2 * count);
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
                        prefetch_ahead(rows[r].0.as_ptr().wrapping_add(BLOCK * b));
                        let prepared = signed_weights(ws);
                        for k in 0..N {
                            // SAFETY: `b` < `blocks`.
                            let sums = _mm256_cvtepi32_ps(signed_block(prepared, unsafe { xs.signed_block(k, b) }));
                            // Lanes 0..4 hold weights 0..16, lanes 4..8 weights 16..32.
                            let low = broadcast_from_memory(&products[r][k][2 * j]);
                            let high = broadcast_from_memory(&products[r][k][2 * j + 1]);
                            let scale = _mm256_blend_ps(low, high, 0xF0);
                            acc[r][k] = _mm256_fmadd_ps(sums, scale, acc[r][k]);
                        }
                    }
                }
            }
            std::array::from_fn(|r| std::array::from_fn(|k| horizontal_sum(acc[r][k])))
        }

        /// R weight rows (cut as `QMatrix::row_codes` cuts them, all of one
        /// matrix) times one activation row, in the rows' layout's kernel.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        pub unsafe fn dot_rows<const R: usize>(rows: [RowCodes; R], x: &QuantizedRow) -> [f32; R] {
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
                    RowCodes::Nibbles { .. } => one_token::<R, true>(rows.map(nibbles), x),
                    RowCodes::Bytes { per_block: 1, .. } => {
                        one_token::<R, false>(rows.map(bytes).map(|(codes, scales)| (as_bytes(codes), scales)), x)
                    }
                    RowCodes::Bytes { .. } => bytes_rows(rows.map(bytes), [x]).map(|[v]| v),
                    RowCodes::Dense(_) => unreachable!("dense rows use f32 activations"),
                }
            }
        }

        /// A Nibbles row's codes (16 bytes per block: the low nibble of byte
        /// `j` is weight `j`, the high nibble weight `j + 16`) as one byte
        /// per weight, appended to `out`.
        #[target_feature(enable = $features)]
        pub(in crate::lm::quant) fn unpack_nibbles(codes: &[u8], out: &mut Vec<u8>) {
            let start = out.len();
            out.resize(start + 2 * codes.len(), 0);
            for (packed, weights) in codes.chunks_exact(16).zip(out[start..].chunks_exact_mut(BLOCK)) {
                prefetch_ahead(packed.as_ptr());
                // SAFETY: `packed` is 16 bytes and `weights` 32.
                unsafe { _mm256_storeu_si256(weights.as_mut_ptr() as *mut __m256i, unpack_block(packed.as_ptr())) };
            }
        }

        /// Weight rows (`rows`, all of one matrix) times the activation
        /// rows of `quads` (`tokens` of them, the last quad's copies of its
        /// last row not counted): row `i`'s values go to
        /// `out[i * tokens..(i + 1) * tokens]`. `scratch` holds Nibbles
        /// rows' codes unpacked to a byte per weight.
        ///
        /// The quads are taken a few at a time (as many as fit in about
        /// half of a level-1 data cache, [`QUAD_CACHE_BYTES`], rounded up to
        /// an even number for [`quads_in_pairs`]) and each
        /// such run meets every row before the next run does: the
        /// activations, five times a row's size per quad, are then read
        /// from that cache, and only the smaller rows are read again per
        /// run. Each (row, token) pair's arithmetic is the same in any order.
        ///
        /// # Safety
        /// The CPU must have the module's features.
        #[target_feature(enable = $features)]
        pub unsafe fn dot_quads(
            rows: &[RowCodes],
            scratch: &mut Vec<u8>,
            quads: &[QuantizedQuad],
            out: &mut [f32],
            tokens: usize,
        ) {
            assert!(tokens <= 4 * quads.len() && tokens + 4 > 4 * quads.len());
            assert!(out.len() == tokens * rows.len());
            let cols = quads.first().map_or(0, |quad| quad.codes.len() / 4);
            // An even number, so that runs split into pairs of quads.
            let per_run = (QUAD_CACHE_BYTES / (5 * cols.max(1))).next_multiple_of(2).max(2);
            // Row `i`'s values for the tokens of `count` quads from `first`.
            let outputs = |i: usize, first: usize, count: usize| {
                i * tokens + 4 * first..i * tokens + tokens.min(4 * (first + count))
            };
            // A row's codes as one byte per weight, with its factors.
            let weights: Vec<(std::ops::Range<usize>, FactorRow)> = match rows.first() {
                Some(RowCodes::Nibbles { .. }) => {
                    scratch.clear();
                    rows.iter()
                        .map(|row| match row {
                            RowCodes::Nibbles { codes, factors } => {
                                let start = scratch.len();
                                unpack_nibbles(codes, scratch);
                                (start..scratch.len(), *factors)
                            }
                            _ => unreachable!("one matrix's rows share a layout"),
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            for (run, run_quads) in quads.chunks(per_run).enumerate() {
                let first = run * per_run;
                for (i, row) in rows.iter().enumerate() {
                    let out = &mut out[outputs(i, first, run_quads.len())];
                    // SAFETY: the caller guarantees the CPU features.
                    unsafe {
                        match *row {
                            RowCodes::Nibbles { .. } => {
                                let (codes, factors) = &weights[i];
                                quads_in_pairs::<true>(&scratch[codes.clone()], *factors, run_quads, out)
                            }
                            RowCodes::Bytes { codes, scales, per_block: 1 } => {
                                quads_in_pairs::<false>(as_bytes(codes), scales, run_quads, out)
                            }
                            RowCodes::Bytes { codes, scales, .. } => {
                                for (pair, out) in run_quads.chunks(2).zip(out.chunks_mut(8)) {
                                    match pair {
                                        [a, b] => quad_rows_halves::<2>(codes, scales, [a, b], out),
                                        [a] => quad_rows_halves::<1>(codes, scales, [a], out),
                                        _ => unreachable!("chunks of two"),
                                    }
                                }
                            }
                            RowCodes::Dense(_) => unreachable!("dense rows use f32 activations"),
                        }
                    }
                }
            }
        }
    };
}

/// AVX2, FMA and F16C. The byte products need one unsigned operand, so a
/// Bytes block is multiplied as `|w| · (x with w's sign)`. A Nibbles block's
/// four quarters of pair sums (each at most 2 · 15 · 127) are added in 16
/// bits before widening once.
pub mod plain {
    kernels!(
        "avx2,fma,f16c",
        block_sums: |unsigned, signed| {
            _mm256_madd_epi16(_mm256_maddubs_epi16(unsigned, signed), _mm256_set1_epi16(1))
        },
        signed_weights: |ws| { [_mm256_sign_epi8(ws, ws), ws] },
        signed_block: |prepared, x| {
            let [magnitudes, ws] = prepared;
            block_sums(magnitudes, _mm256_sign_epi8(x, ws))
        },
        signed_activations: codes,
        unsigned_quarters: |ws, xs| {
            let mut pairs = _mm256_maddubs_epi16(ws[0], xs[0]);
            for m in 1..4 {
                pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(ws[m], xs[m]));
            }
            _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))
        },
        signed_quarters: |ws, xs, _start| {
            let mut sums = _mm256_setzero_si256();
            for m in 0..4 {
                sums = _mm256_add_epi32(sums, signed_block(signed_weights(ws[m]), xs[m]));
            }
            sums
        },
    );
}

/// AVX2, FMA, F16C and AVX-VNNI. A Bytes block of one row is multiplied as
/// `(x + 128) · w`, from activation codes stored with 128 added, starting
/// from `−128 · Σ w` per lane; a quad's as `(w + 128) · x`, starting from
/// `−128 · Σ x` ([`QuantizedQuad::starts`]). Either is the integer `x · w`
/// with no sign instruction per product (`vpdpbusd` accumulates in 32 bits
/// and cannot saturate here, where `maddubs` would).
pub mod vnni {
    kernels!(
        "avx2,fma,f16c,avxvnni",
        block_sums: |unsigned, signed| {
            _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), unsigned, signed)
        },
        signed_weights: |ws| {
            let zero = _mm256_setzero_si256();
            let bias = _mm256_dpbusd_avx_epi32(zero, _mm256_set1_epi8(-128), ws);
            [_mm256_sub_epi32(zero, bias), ws]
        },
        signed_block: |prepared, biased| {
            let [start, ws] = prepared;
            _mm256_dpbusd_avx_epi32(start, biased, ws)
        },
        signed_activations: biased,
        unsigned_quarters: |ws, xs| {
            let mut sums = _mm256_setzero_si256();
            for m in 0..4 {
                sums = _mm256_dpbusd_avx_epi32(sums, ws[m], xs[m]);
            }
            sums
        },
        signed_quarters: |ws, xs, start| {
            let mut sums = start;
            for m in 0..4 {
                let biased = _mm256_xor_si256(ws[m], _mm256_set1_epi8(-128));
                sums = _mm256_dpbusd_avx_epi32(sums, biased, xs[m]);
            }
            sums
        },
    );
}
