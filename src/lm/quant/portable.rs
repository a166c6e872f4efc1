//! The kernels in plain Rust: the reference the SIMD kernels are tested
//! against, and what runs on CPUs without AVX2, FMA and F16C.

use super::{FactorRow, QuantizedRow, RowCodes, BLOCK};

/// One weight row times one activation row.
pub fn dot(codes: RowCodes, x: &QuantizedRow) -> f32 {
    match codes {
        RowCodes::Nibbles { codes, factors } => nibbles_dot(codes, factors, x),
        RowCodes::Bytes {
            codes,
            scales,
            per_block,
        } => {
            let mut total = 0f32;
            for (b, ws) in codes.chunks_exact(BLOCK).enumerate() {
                let halves = [
                    scales.get(per_block * b),
                    scales.get(per_block * b + per_block - 1),
                ];
                total += signed_block(ws.try_into().expect("a block"), halves, x, b);
            }
            total
        }
        RowCodes::Dense(_) => unreachable!("dense rows use f32 activations"),
    }
}

fn nibbles_dot(codes: &[u8], factors: FactorRow, x: &QuantizedRow) -> f32 {
    let mut total = 0f32;
    for (b, packed) in codes.chunks_exact(16).enumerate() {
        let xs = &x.codes[b * BLOCK..(b + 1) * BLOCK];
        let mut sum = 0i32;
        for (j, byte) in packed.iter().enumerate() {
            sum += (byte & 0xF) as i32 * xs[j] as i32 + (byte >> 4) as i32 * xs[j + 16] as i32;
        }
        total += sum as f32 * (factors.get(2 * b) * x.scale(b));
    }
    let offsets = (0..codes.len() / 16).map(|b| factors.get(2 * b + 1) * x.sum(b));
    total + offsets.sum::<f32>()
}

/// Block `b` of signed codes times activation block `b`, the scale of
/// weights 0..16 and 16..32 applied to each half.
fn signed_block(ws: &[i8; BLOCK], halves: [f32; 2], x: &QuantizedRow, b: usize) -> f32 {
    let xs = &x.codes[b * BLOCK..(b + 1) * BLOCK];
    let half = |h: usize| -> i32 {
        (16 * h..16 * h + 16)
            .map(|j| ws[j] as i32 * xs[j] as i32)
            .sum()
    };
    half(0) as f32 * (halves[0] * x.scale(b)) + half(1) as f32 * (halves[1] * x.scale(b))
}
