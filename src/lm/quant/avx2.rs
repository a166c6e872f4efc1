//! The kernels with 256-bit integer instructions: `maddubs` multiplies
//! unsigned by signed bytes and adds pairs, `madd` widens to 32 bits.
//!
//! Each kernel is written once for N activation rows; the one-row and
//! four-row entry points are its N = 1 and N = 4 cases, so every row gets
//! the same instructions in the same order (the same bits) either way.

use std::arch::x86_64::*;

use super::{QuantizedRow, BLOCK};

#[target_feature(enable = "avx2,fma")]
fn horizontal_sum(v: __m256) -> f32 {
    let folded = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let folded = _mm_add_ps(folded, _mm_movehl_ps(folded, folded));
    let folded = _mm_add_ss(folded, _mm_movehdup_ps(folded));
    _mm_cvtss_f32(folded)
}

/// One block's 32 products `unsigned · signed`, summed in exact integers
/// to 8 lanes of 4 and converted to f32.
#[target_feature(enable = "avx2,fma")]
fn block_sums(unsigned: __m256i, signed: __m256i) -> __m256 {
    let pairs = _mm256_maddubs_epi16(unsigned, signed);
    _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
}

/// Activation block `b` of `x`.
///
/// # Safety
/// `x.codes` must hold at least `BLOCK · (b + 1)` codes.
#[target_feature(enable = "avx2,fma")]
unsafe fn activation_block(x: &QuantizedRow, b: usize) -> __m256i {
    debug_assert!(x.codes.len() >= BLOCK * (b + 1));
    // SAFETY: the caller keeps the load inside `x.codes`.
    unsafe { _mm256_loadu_si256(x.codes.as_ptr().add(BLOCK * b) as *const __m256i) }
}

/// A Nibbles row times N activation rows.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // k indexes xs, acc and the loads together
unsafe fn nibbles_rows<const N: usize>(
    codes: &[u8],
    scales: &[f32],
    offsets: &[f32],
    xs: [&QuantizedRow; N],
) -> [f32; N] {
    let blocks = scales.len();
    assert!(codes.len() == 16 * blocks);
    assert!(xs.iter().all(|x| x.codes.len() == BLOCK * blocks));
    let low_mask = _mm_set1_epi8(0x0F);
    let mut acc = [_mm256_setzero_ps(); N];
    for b in 0..blocks {
        // SAFETY: the asserts above keep every load inside the slices.
        let packed = unsafe { _mm_loadu_si128(codes.as_ptr().add(16 * b) as *const __m128i) };
        let low = _mm_and_si128(packed, low_mask);
        let high = _mm_and_si128(_mm_srli_epi16(packed, 4), low_mask);
        let weights = _mm256_set_m128i(high, low);
        for k in 0..N {
            // SAFETY: as above.
            let sums = block_sums(weights, unsafe { activation_block(xs[k], b) });
            let scale = _mm256_set1_ps(scales[b] * xs[k].scales[b]);
            acc[k] = _mm256_fmadd_ps(sums, scale, acc[k]);
        }
    }
    std::array::from_fn(|k| {
        horizontal_sum(acc[k]) + super::portable::offset_term(offsets, &xs[k].sums)
    })
}

/// A Bytes row times N activation rows.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // k indexes xs, acc and the loads together
unsafe fn bytes_rows<const N: usize>(
    codes: &[i8],
    scales: &[f32],
    xs: [&QuantizedRow; N],
) -> [f32; N] {
    let blocks = scales.len() / 2;
    assert!(codes.len() == BLOCK * blocks && scales.len() == 2 * blocks);
    assert!(xs.iter().all(|x| x.codes.len() == BLOCK * blocks));
    let mut acc = [_mm256_setzero_ps(); N];
    for b in 0..blocks {
        // SAFETY: the asserts above keep every load inside the slices.
        let ws = unsafe { _mm256_loadu_si256(codes.as_ptr().add(BLOCK * b) as *const __m256i) };
        let magnitudes = _mm256_sign_epi8(ws, ws);
        // Lanes 0..4 hold weights 0..16, lanes 4..8 weights 16..32.
        let halves = _mm256_set_m128(_mm_set1_ps(scales[2 * b + 1]), _mm_set1_ps(scales[2 * b]));
        for k in 0..N {
            // SAFETY: as above.
            let x = unsafe { activation_block(xs[k], b) };
            // |w| · (x with w's sign): maddubs needs one unsigned operand.
            let sums = block_sums(magnitudes, _mm256_sign_epi8(x, ws));
            let scale = _mm256_mul_ps(halves, _mm256_set1_ps(xs[k].scales[b]));
            acc[k] = _mm256_fmadd_ps(sums, scale, acc[k]);
        }
    }
    std::array::from_fn(|k| horizontal_sum(acc[k]))
}

/// # Safety
/// The CPU must support AVX2 and FMA; slices as [`super::QMatrix::dot`] cuts them.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn nibbles_dot(codes: &[u8], scales: &[f32], offsets: &[f32], x: &QuantizedRow) -> f32 {
    // SAFETY: the caller guarantees the CPU features.
    unsafe { nibbles_rows(codes, scales, offsets, [x])[0] }
}

/// [`nibbles_dot`] for four activation rows at once (same bits per row).
///
/// # Safety
/// The CPU must support AVX2 and FMA; slices as [`super::QMatrix::dot`] cuts them.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn nibbles_dot4(
    codes: &[u8],
    scales: &[f32],
    offsets: &[f32],
    xs: [&QuantizedRow; 4],
) -> [f32; 4] {
    // SAFETY: the caller guarantees the CPU features.
    unsafe { nibbles_rows(codes, scales, offsets, xs) }
}

/// # Safety
/// The CPU must support AVX2 and FMA; slices as [`super::QMatrix::dot`] cuts them.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn bytes_dot(codes: &[i8], scales: &[f32], x: &QuantizedRow) -> f32 {
    // SAFETY: the caller guarantees the CPU features.
    unsafe { bytes_rows(codes, scales, [x])[0] }
}

/// [`bytes_dot`] for four activation rows at once (same bits per row).
///
/// # Safety
/// The CPU must support AVX2 and FMA; slices as [`super::QMatrix::dot`] cuts them.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn bytes_dot4(codes: &[i8], scales: &[f32], xs: [&QuantizedRow; 4]) -> [f32; 4] {
    // SAFETY: the caller guarantees the CPU features.
    unsafe { bytes_rows(codes, scales, xs) }
}
