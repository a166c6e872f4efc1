//! The kernel for several tokens at once in 512-bit AVX-512 VNNI registers:
//! the arithmetic of the AVX-VNNI quad kernel ([`super::avx2`]), lane for
//! lane, on two quads of tokens per instruction ([`QuantizedOctet`]), so
//! each instruction does twice the work. A single token still runs the
//! 256-bit kernels.
//!
//! Why the bits are the same as every other kernel's: each lane holds the
//! same integer sums (exact, whatever the instruction), is converted and
//! scaled by the same f32 multiply-adds in the same order, and each (row,
//! token) pair's eight running sums are added as the 256-bit kernels'
//! `horizontal_sum` adds them (`fold_octet`). Q6_K's rows (two scales per
//! block) get the one-token kernel's arithmetic too: each quarter of a
//! block's codes is summed into its own vector, so every lane is one quad of
//! four codes, as there.

use std::arch::x86_64::*;

use rayon::prelude::*;

use super::activations::QuantizedQuad;
use super::avx2::plain::{as_bytes, factor_group, prefetch_ahead, unpack_nibbles};
use super::{FactorRow, RowCodes, BLOCK, GROUP, QUAD_CACHE_BYTES};

/// Two quads of activation rows side by side (quad `A` in the low 256 bits
/// of each vector, `B` in the high), laid out as [`QuantizedQuad`] lays out
/// one.
pub struct QuantizedOctet {
    /// Per block and quarter `m`: quad A's 32 bytes, then B's.
    codes: Vec<i8>,
    /// Per block: A's eight starts, then B's (see [`QuantizedQuad::starts`]).
    starts: Vec<i32>,
    /// Per block and quarter `m`: sixteen starts, one per quad of four
    /// codes: lanes `2k`, `2k + 1` of each half hold `−128 · Σ x` over row
    /// `k`'s codes `8m..8m + 4` and `8m + 4..8m + 8` (for Q6_K's rows,
    /// whose quarters are summed apart; empty where no such row is met).
    quarter_starts: Vec<i32>,
    /// Per block: A's eight factors, then B's.
    factors: Vec<f32>,
}

impl QuantizedOctet {
    fn new(a: &QuantizedQuad, b: &QuantizedQuad, halves: bool) -> Self {
        let blocks = a.codes.len() / (4 * BLOCK);
        let mut codes = Vec::with_capacity(8 * BLOCK * blocks);
        let mut starts = Vec::with_capacity(16 * blocks);
        let mut quarter_starts = Vec::with_capacity(if halves { 64 * blocks } else { 0 });
        let mut factors = Vec::with_capacity(16 * blocks);
        for block in 0..blocks {
            for m in 0..4 {
                for quad in [a, b] {
                    let at = 4 * BLOCK * block + BLOCK * m;
                    codes.extend_from_slice(&quad.codes[at..at + BLOCK]);
                }
                for quad in [a, b].into_iter().filter(|_| halves) {
                    for row in quad.rows {
                        let quarter = &row.codes[BLOCK * block + 8 * m..BLOCK * block + 8 * m + 8];
                        for four in quarter.chunks_exact(4) {
                            quarter_starts.push(-128 * four.iter().map(|&c| c as i32).sum::<i32>());
                        }
                    }
                }
            }
            for quad in [a, b] {
                starts.extend_from_slice(&quad.starts[8 * block..8 * block + 8]);
                factors.extend_from_slice(&quad.factors[8 * block..8 * block + 8]);
            }
        }
        Self {
            codes,
            starts,
            quarter_starts,
            factors,
        }
    }

    /// The bytes the kernel reads of this octet.
    fn bytes(&self) -> usize {
        self.codes.len() + 4 * (self.starts.len() + self.quarter_starts.len() + self.factors.len())
    }

    /// `quads` two at a time, the last alone paired with itself (its copy's
    /// values are computed and dropped), ready for Q6_K's rows if `halves`.
    /// Built in parallel with `parallel`.
    pub(super) fn each(quads: &[QuantizedQuad], halves: bool, parallel: bool) -> Vec<Self> {
        let octet = |two: &[QuantizedQuad]| Self::new(&two[0], two.last().expect("a quad"), halves);
        if parallel {
            quads.par_chunks(2).map(octet).collect()
        } else {
            quads.chunks(2).map(octet).collect()
        }
    }
}

/// Lanes of a Nibbles group's factors for block `j`: its scale and offset,
/// repeated.
const NIBBLE_PATTERNS: [[i32; 16]; 4] = {
    let mut patterns = [[0; 16]; 4];
    let mut j = 0;
    while j < 4 {
        let mut i = 0;
        while i < 16 {
            patterns[j][i] = 2 * j as i32 + (i % 2) as i32;
            i += 1;
        }
        j += 1;
    }
    patterns
};

/// What a row's codes are multiplied as.
const NIBBLES: u8 = 0;
/// Signed bytes, one scale per block.
const BYTES: u8 = 1;
/// Signed bytes, a scale per half block (Q6_K).
const BYTES_HALVES: u8 = 2;

/// Lane `i` of the result: lane `pattern[i]` of `v`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
fn lanes_of(v: __m256, pattern: [i32; 16]) -> __m512 {
    // SAFETY: a plain register permutation.
    let index = unsafe { _mm512_loadu_si512(pattern.as_ptr() as *const __m512i) };
    _mm512_permutexvar_ps(index, _mm512_castps256_ps512(v))
}

/// `R` weight rows (one byte per weight: unsigned 4-bit codes for
/// [`NIBBLES`], else signed codes) times the eight rows of each of `O`
/// octets, into `out[r]` (eight values per octet, fewer for the last if
/// `out[r]` ends sooner). Each activation load serves the `R` rows and each
/// weight load the `O` octets; every (row, token) pair's arithmetic is the
/// one-row kernel's, in the same order.
///
/// # Safety
/// The CPU must have the features of this function.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::needless_range_loop)] // j, m, o and r index sums, rows and octets together
unsafe fn octet_rows<const LAYOUT: u8, const R: usize, const O: usize>(
    weights: [&[u8]; R],
    factors: [FactorRow; R],
    octets: [&QuantizedOctet; O],
    out: [&mut [f32]; R],
) {
    let blocks = weights[0].len() / BLOCK;
    let factors_per_block = if LAYOUT == BYTES { 1 } else { 2 };
    for r in 0..R {
        assert!(weights[r].len() == BLOCK * blocks);
        assert!(out[r].len() <= 8 * O && out[r].len() + 8 > 8 * O);
        assert!(factors[r].len() == factors_per_block * blocks);
    }
    for octet in octets {
        assert!(octet.codes.len() == 8 * BLOCK * blocks && octet.starts.len() == 16 * blocks);
        assert!(octet.factors.len() == 16 * blocks);
        assert!(LAYOUT != BYTES_HALVES || octet.quarter_starts.len() == 64 * blocks);
    }
    let weights = weights.map(|w| w.as_ptr());
    let codes = octets.map(|octet| octet.codes.as_ptr());
    let starts = octets.map(|octet| octet.starts.as_ptr());
    let quarter_starts = octets.map(|octet| octet.quarter_starts.as_ptr());
    let x_factors = octets.map(|octet| octet.factors.as_ptr());
    // NIBBLES and BYTES: a running sum per block position in the group;
    // BYTES_HALVES: one per quarter of a block.
    let mut acc = [[[_mm512_setzero_ps(); 4]; O]; R];
    // 1 in the offsets' lanes of a Nibbles block's products, 0 in the scales'.
    let offset_lanes = _mm512_setr_ps(
        0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0,
    );
    const { assert!(GROUP == 4) };
    for first in (0..blocks).step_by(GROUP) {
        let count = GROUP.min(blocks - first);
        // Each row's group of weight factors: `[scale₀, offset₀, …]` (or two
        // scales a block), or four scales.
        let mut group = [_mm256_setzero_ps(); R];
        for r in 0..R {
            group[r] = if LAYOUT == BYTES {
                factor_group::<4>(factors[r], first, count)
            } else {
                factor_group::<8>(factors[r], 2 * first, 2 * count)
            };
        }
        // Block `first + j` of the group. Called with constant `j` below,
        // so that every running sum is indexed by a constant and stays in a
        // register (indexed by a loop counter, they had lived on the stack,
        // loaded and stored at every block).
        macro_rules! step {
            ($j:expr) => {{
                let j: usize = $j;
                let b = first + j;
                let j = j as i32;
                if LAYOUT != NIBBLES {
                    // The codes straight from the weights (Nibbles rows were
                    // unpacked into `scratch`, prefetched there).
                    for r in 0..R {
                        prefetch_ahead(weights[r].wrapping_add(BLOCK * b));
                    }
                }
                let mut ws = [[_mm512_setzero_si512(); 4]; R];
                for r in 0..R {
                    for m in 0..4 {
                        // SAFETY: the asserts above keep every load inside
                        // block `b` of the weights and of the octets.
                        let w = _mm512_set1_epi64(unsafe {
                            (weights[r].add(BLOCK * b + 8 * m) as *const i64).read_unaligned()
                        });
                        ws[r][m] = if LAYOUT == NIBBLES {
                            w
                        } else {
                            _mm512_xor_si512(w, _mm512_set1_epi8(-128))
                        };
                    }
                }
                match LAYOUT {
                    NIBBLES | BYTES => {
                        let mut block_factors = [_mm512_setzero_ps(); R];
                        for r in 0..R {
                            block_factors[r] = if LAYOUT == NIBBLES {
                                lanes_of(group[r], NIBBLE_PATTERNS[j as usize])
                            } else {
                                lanes_of(group[r], [j; 16])
                            };
                        }
                        for o in 0..O {
                            // SAFETY: as above.
                            let (ints, x_factors) = unsafe {
                                let mut ints = [if LAYOUT == NIBBLES {
                                    _mm512_setzero_si512()
                                } else {
                                    _mm512_loadu_si512(starts[o].add(16 * b) as *const __m512i)
                                }; R];
                                for m in 0..4 {
                                    let xs = _mm512_loadu_si512(
                                        codes[o].add(8 * BLOCK * b + 64 * m) as *const __m512i,
                                    );
                                    for r in 0..R {
                                        ints[r] = _mm512_dpbusd_epi32(ints[r], ws[r][m], xs);
                                    }
                                }
                                (ints, _mm512_loadu_ps(x_factors[o].add(16 * b)))
                            };
                            for r in 0..R {
                                let sums = _mm512_cvtepi32_ps(ints[r]);
                                let acc = &mut acc[r][o][j as usize];
                                if LAYOUT == NIBBLES {
                                    let products = _mm512_mul_ps(block_factors[r], x_factors);
                                    *acc =
                                        _mm512_fmadd_ps(sums, _mm512_moveldup_ps(products), *acc);
                                    *acc = _mm512_fmadd_ps(products, offset_lanes, *acc);
                                } else {
                                    let scales = _mm512_mul_ps(
                                        block_factors[r],
                                        _mm512_moveldup_ps(x_factors),
                                    );
                                    *acc = _mm512_fmadd_ps(sums, scales, *acc);
                                }
                            }
                        }
                    }
                    _ => {
                        // Weights 0..16 (quarters 0, 1) take the block's
                        // first scale, 16..32 its second.
                        let mut halves = [[_mm512_setzero_ps(); 2]; R];
                        for r in 0..R {
                            halves[r] = [
                                lanes_of(group[r], [2 * j; 16]),
                                lanes_of(group[r], [2 * j + 1; 16]),
                            ];
                        }
                        for o in 0..O {
                            // SAFETY: as above.
                            let x_scales = _mm512_moveldup_ps(unsafe {
                                _mm512_loadu_ps(x_factors[o].add(16 * b))
                            });
                            let mut products = [[_mm512_setzero_ps(); 2]; R];
                            for r in 0..R {
                                for h in 0..2 {
                                    products[r][h] = _mm512_mul_ps(halves[r][h], x_scales);
                                }
                            }
                            for m in 0..4 {
                                // SAFETY: as above.
                                let (start, xs) = unsafe {
                                    (
                                        _mm512_loadu_si512(quarter_starts[o].add(64 * b + 16 * m)
                                            as *const __m512i),
                                        _mm512_loadu_si512(
                                            codes[o].add(8 * BLOCK * b + 64 * m) as *const __m512i
                                        ),
                                    )
                                };
                                for r in 0..R {
                                    let ints = _mm512_dpbusd_epi32(start, ws[r][m], xs);
                                    acc[r][o][m] = _mm512_fmadd_ps(
                                        _mm512_cvtepi32_ps(ints),
                                        products[r][m / 2],
                                        acc[r][o][m],
                                    );
                                }
                            }
                        }
                    }
                }
            }};
        }
        match count {
            4 => {
                step!(0);
                step!(1);
                step!(2);
                step!(3);
            }
            3 => {
                step!(0);
                step!(1);
                step!(2);
            }
            2 => {
                step!(0);
                step!(1);
            }
            _ => step!(0),
        }
    }
    // Each row's values, eight per octet (fewer for the last if the row's
    // `out` ends sooner).
    for (acc, out) in acc.into_iter().zip(out) {
        for (acc, out) in acc.into_iter().zip(out.chunks_mut(8)) {
            fold_octet(acc, out);
        }
    }
}

/// A row's running sums with one octet (lanes `2t`, `2t + 1` of `acc[j]`:
/// token `t`'s sums over the even and the odd quads of the groups' block
/// `j`, or for Q6_K's rows over the first and second half of each block's
/// quarter `j`) folded into its eight values (fewer if `out` ends sooner),
/// all eight at once. In the one-token kernels' order a token's eight sums
/// are `[acc₀[2t], acc₀[2t+1], acc₁[2t], …, acc₃[2t+1]]`, and their
/// `horizontal_sum` adds them as `(acc₀ + acc₂) + (acc₁ + acc₃)` lane by
/// lane, then the even lane's total to the odd one's: done here for all
/// sixteen lanes at once, the same additions of the same values, so every
/// value has the bits the one-token kernels give it (the 512-bit twin of
/// the quad kernels' `fold_quad`, two quads' tokens at once). Shuffling each
/// token's sums into one vector and summing it alone had been about a
/// tenth of the kernel's time on rows of 896 columns.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
fn fold_octet(acc: [__m512; 4], out: &mut [f32]) {
    let quads = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[1], acc[3]));
    let pairs = _mm512_add_ps(quads, _mm512_movehdup_ps(quads));
    let evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    let values = _mm512_castps512_ps256(_mm512_permutexvar_ps(evens, pairs));
    let mut eight = [0f32; 8];
    // SAFETY: eight f32.
    unsafe { _mm256_storeu_ps(eight.as_mut_ptr(), values) };
    out.copy_from_slice(&eight[..out.len()]);
}

/// Weight rows (`rows`, all of one matrix) times the activation rows of
/// `octets` (`tokens` of them, copies at the end not counted): row `i`'s
/// values go to `out[i * tokens..(i + 1) * tokens]`, as
/// [`super::avx2::vnni::dot_quads`] does with quads: the octets are taken
/// as many at a time as fit in [`QUAD_CACHE_BYTES`] (but at least two,
/// which measured faster on the 1.5B's rows of 1,536 and 8,960 columns
/// even where two overflow it), each run meets every row, and the rows'
/// weights, loaded once, serve two octets at a time, or four where four
/// fit in [`FOUR_OCTETS_BYTES`]. With two octets, the rows go two at a
/// time too, so that each load of an octet's codes serves two rows.
/// `scratch` holds
/// Nibbles rows' codes unpacked to a byte per weight.
///
/// # Safety
/// The CPU must have the features of this function.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub unsafe fn dot_octets(
    rows: &[RowCodes],
    scratch: &mut Vec<u8>,
    octets: &[QuantizedOctet],
    out: &mut [f32],
    tokens: usize,
) {
    assert!(tokens <= 8 * octets.len() && tokens + 8 > 8 * octets.len());
    assert!(out.len() == tokens * rows.len());
    let cols = octets.first().map_or(0, |octet| octet.codes.len() / 8);
    let octet_bytes = octets.first().map_or(1, QuantizedOctet::bytes).max(1);
    let together = if 4 * octet_bytes <= FOUR_OCTETS_BYTES {
        4
    } else {
        2
    };
    let per_run = (QUAD_CACHE_BYTES / octet_bytes).max(together);
    let outputs = |i: usize, first: usize, count: usize| {
        i * tokens + 8 * first..i * tokens + tokens.min(8 * (first + count))
    };
    if let Some(RowCodes::Nibbles { .. }) = rows.first() {
        scratch.clear();
        for row in rows {
            match row {
                RowCodes::Nibbles { codes, .. } => unpack_nibbles(codes, scratch),
                _ => unreachable!("one matrix's rows share a layout"),
            }
        }
    }
    // A row's weights, factors and layout.
    let row_of = |i: usize| match rows[i] {
        RowCodes::Nibbles { factors, .. } => (&scratch[i * cols..(i + 1) * cols], factors, NIBBLES),
        RowCodes::Bytes {
            codes,
            scales,
            per_block,
        } => (
            as_bytes(codes),
            scales,
            if per_block == 1 { BYTES } else { BYTES_HALVES },
        ),
        RowCodes::Dense(_) => unreachable!("dense rows use f32 activations"),
    };
    // Two rows at a time where two octets go together: each activation
    // load then serves two rows (four octets and two rows would need 32
    // running sums, all the registers there are).
    let pairs = together == 2;
    for (run, run_octets) in octets.chunks(per_run).enumerate() {
        let first = run * per_run;
        let mut i = 0;
        while i < rows.len() {
            let (weights, factors, layout) = row_of(i);
            if pairs && i + 1 < rows.len() {
                let (other_weights, other_factors, _) = row_of(i + 1);
                let (head, tail) = out.split_at_mut((i + 1) * tokens);
                let out_a = &mut head[outputs(i, first, run_octets.len())];
                let b = outputs(i + 1, first, run_octets.len());
                let out_b = &mut tail[b.start - (i + 1) * tokens..b.end - (i + 1) * tokens];
                for ((group, out_a), out_b) in run_octets
                    .chunks(together)
                    .zip(out_a.chunks_mut(8 * together))
                    .zip(out_b.chunks_mut(8 * together))
                {
                    let (weights, factors, out) = (
                        [weights, other_weights],
                        [factors, other_factors],
                        [out_a, out_b],
                    );
                    // SAFETY: the caller guarantees the CPU features.
                    unsafe {
                        match layout {
                            NIBBLES => octets_of_rows::<NIBBLES, 2>(weights, factors, group, out),
                            BYTES => octets_of_rows::<BYTES, 2>(weights, factors, group, out),
                            _ => octets_of_rows::<BYTES_HALVES, 2>(weights, factors, group, out),
                        }
                    }
                }
                i += 2;
                continue;
            }
            let out = &mut out[outputs(i, first, run_octets.len())];
            for (group, out) in run_octets
                .chunks(together)
                .zip(out.chunks_mut(8 * together))
            {
                let (weights, factors, out) = ([weights], [factors], [out]);
                // SAFETY: the caller guarantees the CPU features.
                unsafe {
                    match layout {
                        NIBBLES => octets_of_rows::<NIBBLES, 1>(weights, factors, group, out),
                        BYTES => octets_of_rows::<BYTES, 1>(weights, factors, group, out),
                        _ => octets_of_rows::<BYTES_HALVES, 1>(weights, factors, group, out),
                    }
                }
            }
            i += 1;
        }
    }
}

/// Four octets at most this size (in bytes) are taken with each weight row
/// at once, and else two: a little under the 48 KiB level-1 data cache of
/// the cores measured. Gemma 3 270M's four (640 columns, 31 KB) made its
/// 32 × 48 grid 7 % faster than two; Qwen2.5-Coder 0.5B's (896 columns,
/// 43 KB) made its grid a little slower.
const FOUR_OCTETS_BYTES: usize = 32 * 1024;

/// [`octet_rows`] for up to four octets.
///
/// # Safety
/// The CPU must have the features of [`octet_rows`].
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
unsafe fn octets_of_rows<const LAYOUT: u8, const R: usize>(
    weights: [&[u8]; R],
    factors: [FactorRow; R],
    group: &[QuantizedOctet],
    out: [&mut [f32]; R],
) {
    // SAFETY: the caller guarantees the CPU features.
    unsafe {
        match group {
            [a, b, c, d] => octet_rows::<LAYOUT, R, 4>(weights, factors, [a, b, c, d], out),
            [a, b, c] => octet_rows::<LAYOUT, R, 3>(weights, factors, [a, b, c], out),
            [a, b] => octet_rows::<LAYOUT, R, 2>(weights, factors, [a, b], out),
            [a] => octet_rows::<LAYOUT, R, 1>(weights, factors, [a], out),
            _ => unreachable!("chunks of at most four"),
        }
    }
}
