//! e^x of the sampler's f64 exponents (log-probabilities, logits minus their
//! maximum), in plain arithmetic: libm's `exp` is a call per value, and a
//! step over Gemma's 262,144 logits made a quarter of a million of them. The
//! same operations run whether the compiler puts two or four values in a
//! vector, and with no fused multiply-add, so every CPU gets the same bits.

/// Values one pass of [`exp_in_place`] handles in a stack buffer, for callers
/// that stream a long slice through it.
pub const CHUNK: usize = 1024;

use crate::simd::wider_where_available;

/// Below this, e^x is 0 here (the true value is under 2⁻¹⁰²¹).
const LOWEST: f64 = -708.0;

/// e^x for x ≤ 0, within two units in the last place of the true value
/// (Cephes' `exp`: x = n·ln 2 + r with |r| ≤ ½ ln 2, a rational function for
/// e^r, and 2ⁿ built from its exponent bits). Below −708 it is 0; `-∞` gives 0.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    const LN2_HIGH: f64 = 0.693145751953125;
    const LN2_LOW: f64 = 1.4286068203094173e-06;
    const P: [f64; 3] = [0.00012617719307481058, 0.030299440770744195, 1.0];
    const Q: [f64; 4] = [
        3.0019850513866446e-06,
        0.002524483403496841,
        0.22726554820815503,
        2.0,
    ];
    // Adding and subtracting 1.5·2⁵² rounds to the nearest integer and leaves
    // that integer in the low bits of the sum's mantissa.
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    let clamped = x.clamp(LOWEST, 0.0);
    let shifted = clamped * LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = clamped - n * LN2_HIGH - n * LN2_LOW;
    let rr = r * r;
    let p = r * ((P[0] * rr + P[1]) * rr + P[2]);
    let q = ((Q[0] * rr + Q[1]) * rr + Q[2]) * rr + Q[3];
    let e_r = 1.0 + 2.0 * (p / (q - p));
    // n's low 12 bits, moved into the exponent field, plus the bias.
    let two_n = f64::from_bits((shifted.to_bits() << 52).wrapping_add(1023 << 52));
    if x < LOWEST {
        0.0
    } else {
        e_r * two_n
    }
}

wider_where_available!(
    "avx512f" or "avx2",
    /// Replaces each value with its [`exp`]: eight at a time on a CPU with
    /// AVX-512, four with AVX2 (the same operations as two at a time, so
    /// the same bits).
    pub fn exp_in_place(values: &mut [f64]) = exp_each
);

#[inline(always)]
fn exp_each(values: &mut [f64]) {
    values.iter_mut().for_each(|v| *v = exp(*v));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn within_two_ulp_of_libm_over_the_whole_range() {
        let mut worst = 0;
        for i in 0..=200_000 {
            let x = LOWEST * i as f64 / 200_000.0;
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        for x in [-1e-300, -1e-17, -0.5, -std::f64::consts::LN_2, -1.0, -37.25] {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
    }

    #[test]
    fn far_below_and_minus_infinity_give_zero() {
        assert_eq!(exp(-708.5), 0.0);
        assert_eq!(exp(-1e6), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn the_vector_loop_gives_the_bits_of_one_value_at_a_time() {
        let mut values: Vec<f64> = (0..1003).map(|i| -(i as f64) * 0.713 - 1e-3).collect();
        let one_at_a_time: Vec<u64> = values.iter().map(|&v| exp(v).to_bits()).collect();
        let mut avx2 = values.clone();
        exp_in_place(&mut values);
        let vectored: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(vectored, one_at_a_time);
        // The AVX2 loop, which a CPU with AVX-512 does not take otherwise.
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            fn four_at_a_time(values: &mut [f64]) {
                exp_each(values)
            }
            // SAFETY: the CPU has AVX2.
            unsafe { four_at_a_time(&mut avx2) };
            let vectored: Vec<u64> = avx2.iter().map(|v| v.to_bits()).collect();
            assert_eq!(vectored, one_at_a_time);
        }
    }
}
