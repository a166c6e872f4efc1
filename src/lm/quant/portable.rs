//! The kernels in plain Rust: the reference every SIMD kernel must match
//! bit for bit, and what runs on CPUs without AVX2 and FMA.

use super::{QuantizedRow, BLOCK};

pub fn nibbles_dot(codes: &[u8], scales: &[f32], offsets: &[f32], x: &QuantizedRow) -> f32 {
    let mut total = 0f32;
    for (b, packed) in codes.chunks_exact(16).enumerate() {
        let xs = &x.codes[b * BLOCK..(b + 1) * BLOCK];
        let mut sum = 0i32;
        for (j, byte) in packed.iter().enumerate() {
            sum += (byte & 0xF) as i32 * xs[j] as i32 + (byte >> 4) as i32 * xs[j + 16] as i32;
        }
        total += sum as f32 * (scales[b] * x.scales[b]);
    }
    total + offset_term(offsets, &x.sums)
}

pub fn bytes_dot(codes: &[i8], scales: &[f32], x: &QuantizedRow) -> f32 {
    let mut total = 0f32;
    for (b, ws) in codes.chunks_exact(BLOCK).enumerate() {
        let xs = &x.codes[b * BLOCK..(b + 1) * BLOCK];
        let half = |h: usize| -> i32 {
            (16 * h..16 * h + 16)
                .map(|j| ws[j] as i32 * xs[j] as i32)
                .sum()
        };
        total += half(0) as f32 * (scales[2 * b] * x.scales[b])
            + half(1) as f32 * (scales[2 * b + 1] * x.scales[b]);
    }
    total
}

/// `Σ offset_b · scale_b · Σ codes_b`: the offsets' share of a Nibbles dot.
pub fn offset_term(offsets: &[f32], sums: &[f32]) -> f32 {
    offsets.iter().zip(sums).map(|(o, s)| o * s).sum()
}
