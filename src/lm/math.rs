//! The f32 math of the forward pass: the dot products of a query with many
//! keys and the weighted sum of values, `exp` and the attention softmax —
//! each element's operations in a fixed order, so the bits do not depend on
//! the CPU or on how rows were batched.

use crate::simd::wider_where_available;

wider_where_available!(
    "avx",
    /// f32 dot product with eight running sums, in AVX registers where the CPU
    /// has them (the attention's dot products were SSE-wide on the baseline
    /// target). Each sum gets the same operations either way, with no fused
    /// multiply-add, so the bits do not depend on the CPU.
    pub fn dense_dot(a: &[f32], b: &[f32]) -> f32 = dense_dot_sums
);

#[inline(always)]
pub(crate) fn dense_dot_sums(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0f32; 8];
    let (a_chunks, a_rest) = a.as_chunks::<8>();
    let (b_chunks, b_rest) = b.as_chunks::<8>();
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for i in 0..8 {
            sums[i] += x[i] * y[i];
        }
    }
    finish_dot(&sums, a_rest, b_rest)
}

/// A dot product's eight running sums added in [`dense_dot`]'s fixed order,
/// then the products of the last values past a multiple of eight.
#[inline(always)]
pub(crate) fn finish_dot(sums: &[f32; 8], a_rest: &[f32], b_rest: &[f32]) -> f32 {
    let mut total =
        ((sums[0] + sums[4]) + (sums[1] + sums[5])) + ((sums[2] + sums[6]) + (sums[3] + sums[7]));
    for (x, y) in a_rest.iter().zip(b_rest) {
        total += x * y;
    }
    total
}

wider_where_available!(
    "avx",
    /// `out[k] = dense_dot(many[k], one)` for each `k`, bit for bit, four at a
    /// time: four independent chains of sums keep the adder busy, where one dot
    /// product alone waits on its own previous sum (the attention's dot products
    /// are short and many).
    pub fn dense_dot_each(many: &[&[f32]], one: &[f32], out: &mut [f32]) =
        dense_dot_one_at_a_time, wide dense_dot_each_avx
);

/// [`dense_dot_each`] in AVX, written out (the compiler's own vectorization
/// of four chains spilled them to the stack): each lane's product rounded,
/// then added, as in [`dense_dot`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
pub(crate) fn dense_dot_each_avx(many: &[&[f32]], one: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    assert_eq!(many.len(), out.len(), "one result per vector");
    assert!(many.iter().all(|a| a.len() == one.len()), "lengths differ");
    let chunks = one.len() / 8;
    let mut fours = many.chunks_exact(4);
    let mut out_fours = out.chunks_exact_mut(4);
    for (four, out) in (&mut fours).zip(&mut out_fours) {
        let mut acc = [_mm256_setzero_ps(); 4];
        for c in 0..chunks {
            // SAFETY: every vector holds `one.len()` ≥ 8·(c + 1) values.
            unsafe {
                let y = _mm256_loadu_ps(one.as_ptr().add(8 * c));
                for (acc, a) in acc.iter_mut().zip(four) {
                    let x = _mm256_loadu_ps(a.as_ptr().add(8 * c));
                    *acc = _mm256_add_ps(*acc, _mm256_mul_ps(x, y));
                }
            }
        }
        for ((value, acc), a) in out.iter_mut().zip(acc).zip(four) {
            let mut sums = [0f32; 8];
            // SAFETY: `sums` is eight f32.
            unsafe { _mm256_storeu_ps(sums.as_mut_ptr(), acc) };
            *value = finish_dot(&sums, &a[8 * chunks..], &one[8 * chunks..]);
        }
    }
    for (a, value) in fours.remainder().iter().zip(out_fours.into_remainder()) {
        *value = dense_dot_sums(a, one);
    }
}

/// [`dense_dot_each`] where AVX is missing: one dot product after another.
#[inline(always)]
pub(crate) fn dense_dot_one_at_a_time(many: &[&[f32]], one: &[f32], out: &mut [f32]) {
    assert_eq!(many.len(), out.len(), "one result per vector");
    for (a, value) in many.iter().zip(out) {
        *value = dense_dot_sums(a, one);
    }
}

wider_where_available!(
    "avx",
    /// `out[i] += weight · values[i]` (an attention row's weighted value), in
    /// AVX registers where the CPU has them; the same bits either way.
    pub fn add_scaled(out: &mut [f32], weight: f32, values: &[f32]) = add_scaled_each
);

#[inline(always)]
pub(crate) fn add_scaled_each(out: &mut [f32], weight: f32, values: &[f32]) {
    for (o, v) in out.iter_mut().zip(values) {
        *o += weight * v;
    }
}

wider_where_available!(
    "avx",
    /// [`add_scaled`] of each of `values` with its weight, in order (the
    /// same bits), with a run of `out` kept in registers across them
    /// instead of loaded and stored again for each.
    pub fn add_scaled_each_of(out: &mut [f32], weights: &[f32], values: &[&[f32]]) =
        add_scaled_runs
);

/// Output values [`add_scaled_runs`] keeps in registers at once.
pub(super) const RUN: usize = 32;

#[inline(always)]
pub(crate) fn add_scaled_runs(out: &mut [f32], weights: &[f32], values: &[&[f32]]) {
    assert_eq!(weights.len(), values.len(), "one weight per vector");
    assert!(
        values.iter().all(|v| v.len() == out.len()),
        "lengths differ"
    );
    for (c, run) in out.chunks_mut(RUN).enumerate() {
        let start = c * RUN;
        match <&mut [f32; RUN]>::try_from(&mut *run) {
            Ok(run) => {
                let mut sums = *run;
                for (&weight, v) in weights.iter().zip(values) {
                    let v: &[f32; RUN] = v[start..start + RUN].try_into().expect("a run");
                    for (sum, v) in sums.iter_mut().zip(v) {
                        *sum += weight * v;
                    }
                }
                *run = sums;
            }
            Err(_) => {
                for (&weight, v) in weights.iter().zip(values) {
                    add_scaled_each(run, weight, &v[start..]);
                }
            }
        }
    }
}

/// e^x within two units in the last place (Cephes' `expf`): x = n·ln 2 + r
/// with |r| ≤ ½ln 2, a degree-6 polynomial for e^r, and 2^n built from its
/// exponent bits. Inputs beyond ±87 are clamped (e^±87 is already far past
/// what the activations can tell apart from 0 or ∞).
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer with
    // plain adds (`round` would be a call on the baseline target).
    const ROUNDER: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 87.0);
    let shifted = x * LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e_r = p * r2 + r + 1.0;
    // n's low 9 bits (|n| ≤ 126) moved into the sign and exponent fields,
    // plus the bias: 2ⁿ with no float-to-integer conversion, which `as`
    // (saturating, NaN to 0) would make a scalar step in a vector loop.
    let two_n = f32::from_bits((shifted.to_bits() << 23).wrapping_add(127 << 23));
    e_r * two_n
}

wider_where_available!(
    "avx2",
    /// The attention weights of one query's `scores`, in position order: the
    /// one softmax both attention paths use, so a row gets the same bits
    /// whether it was decoded alone or prefilled in a block. Plain f32
    /// arithmetic the compiler vectorizes ([`exp`], and the total in eight
    /// f64 lanes added in a fixed order), so the bits do not depend on the
    /// CPU; libm's `expf` call per score and one long chain of additions had
    /// been a sixth of a 3,300-token prefill.
    pub fn softmax(scores: &[f32]) -> Vec<f32> = softmax_lanes
);

/// The highest of `values` (−∞ for none; NaN is passed over), as
/// `fold(−∞, f32::max)` finds it, from eight running maxima instead of one
/// chain of dependent compares (the maximum does not depend on the order).
/// The sampler's logits and the attention softmax's scores take theirs here.
#[inline(always)]
pub fn highest(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let (eights, rest) = values.as_chunks::<8>();
    for eight in eights {
        for (lane, &v) in lanes.iter_mut().zip(eight) {
            *lane = lane.max(v);
        }
    }
    lanes
        .iter()
        .chain(rest)
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

/// Independent running sums a long sum is split into.
pub const LANES: usize = 8;

/// Adds `values[i]` (widened to f64, exactly) to `lanes[i % LANES]`; a long
/// sum fed through it in slices whose lengths are multiples of [`LANES`]
/// (but the last) keeps each value in the same lane. Plain additions in a
/// fixed order: the same bits whether the compiler uses vectors of two,
/// four or eight. The sampler's sums and the attention softmax's total run
/// through it.
#[inline(always)]
pub fn add_in_lanes<T: Copy + Into<f64>>(lanes: &mut [f64; LANES], values: &[T]) {
    let (whole, rest) = values.as_chunks::<LANES>();
    for values in whole {
        for (lane, &v) in lanes.iter_mut().zip(values) {
            *lane += v.into();
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(rest) {
        *lane += v.into();
    }
}

/// The lanes' total, as a fixed tree of additions.
#[inline(always)]
pub fn fold_lanes(lanes: [f64; LANES]) -> f64 {
    let [a, b, c, d, e, f, g, h] = lanes;
    ((a + b) + (c + d)) + ((e + f) + (g + h))
}

#[inline(always)]
fn softmax_lanes(scores: &[f32]) -> Vec<f32> {
    let max = highest(scores);
    // A loop here, not `collect`: that would be compiled outside this
    // function, without its wider registers.
    let mut exps = vec![0f32; scores.len()];
    for (e, &s) in exps.iter_mut().zip(scores) {
        *e = exp(s - max);
    }
    let mut lanes = [0f64; LANES];
    add_in_lanes(&mut lanes, &exps);
    let total = fold_lanes(lanes);
    let norm = (1.0 / total) as f32;
    exps.iter_mut().for_each(|e| *e *= norm);
    exps
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A deterministic pseudo-random matrix in [-1, 1).
    pub(crate) fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn dot_products_four_at_a_time_give_the_bits_of_one_at_a_time() {
        let one = values(259, 21);
        let many: Vec<Vec<f32>> = (0..11).map(|k| values(259, 30 + k)).collect();
        let many: Vec<&[f32]> = many.iter().map(Vec::as_slice).collect();
        let mut out = vec![0f32; many.len()];
        dense_dot_each(&many, &one, &mut out);
        for (a, value) in many.iter().zip(&out) {
            assert_eq!(value.to_bits(), dense_dot(a, &one).to_bits());
            assert_eq!(value.to_bits(), dense_dot_sums(a, &one).to_bits());
        }
    }

    #[test]
    fn weighted_sums_in_registers_give_the_bits_of_one_vector_at_a_time() {
        // 64 and 256 (the models' head sizes) and a length with a partial run.
        for len in [64, 256, 71] {
            let vectors: Vec<Vec<f32>> = (0..37).map(|k| values(len, 50 + k)).collect();
            let vectors: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
            let weights = values(vectors.len(), 3);
            let mut one_at_a_time = values(len, 4);
            let mut together = one_at_a_time.clone();
            for (&weight, v) in weights.iter().zip(&vectors) {
                add_scaled(&mut one_at_a_time, weight, v);
            }
            add_scaled_each_of(&mut together, &weights, &vectors);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&together), bits(&one_at_a_time), "length {len}");
        }
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut x = -87.0f32;
        while x < 87.0 {
            let (ours, libm) = (exp(x), x.exp());
            let ulp = (libm.to_bits() as i64 - ours.to_bits() as i64).abs();
            assert!(ulp <= 2, "exp({x}) = {ours}, libm {libm}");
            x += 0.013_7;
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1e9) >= 0.0 && exp(1e9).is_finite());
        assert!(exp(f32::NAN).is_nan());
    }

    /// 2ⁿ taken from the rounding sum's bits is the 2ⁿ an integer `n`
    /// gives, at every n the clamped inputs reach (so the exponentials,
    /// and the activations built on them, kept their bits).
    #[test]
    fn the_power_of_two_from_the_rounding_sum_is_exact() {
        for n in -126i32..=126 {
            let shifted = n as f32 + 12_582_912.0;
            let from_bits = f32::from_bits((shifted.to_bits() << 23).wrapping_add(127 << 23));
            assert_eq!(from_bits, 2f32.powi(n), "n = {n}");
        }
        let softmax_of = |scores: &[f32]| softmax(scores);
        let weights = softmax_of(&[1.0, 2.0, 3.0, -200.0, 0.5, 7.0, 1.0, 2.0, 3.5]);
        let total: f32 = weights.iter().sum();
        assert!((total - 1.0).abs() < 1e-6 && weights[5] > weights[8] && weights[3] < 1e-30);
    }
}
