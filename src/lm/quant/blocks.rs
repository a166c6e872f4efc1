//! GGUF block formats (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K) decoded one
//! block at a time and repacked, weight for weight, into the kernels'
//! layouts.

use std::io::Read;

use candle_core::quantized::GgmlDType;
use half::f16;

use super::factors::PER_SUPER;
use super::{Codes, Factors, BLOCK};

/// One block decoded from a GGUF type: 32 codes and how to scale them.
struct Block {
    codes: [i8; BLOCK],
    /// Scales of weights 0..16 and 16..32.
    scales: [f32; 2],
    /// `Some(offset)` for unsigned 4-bit codes (`w = scale·q + offset`).
    offset: Option<f32>,
    /// A k-quant block's two factors as the file keeps them: integers,
    /// and the f16 pair of the super-block they multiply (see
    /// [`Factors::Scaled`]).
    scaled: Option<([i8; 2], [f16; 2])>,
}

/// Bytes and weights per GGUF block of the types that repack losslessly.
pub(super) fn block_layout(dtype: GgmlDType) -> Option<(usize, usize)> {
    match dtype {
        GgmlDType::Q4_0 => Some((18, 32)),
        GgmlDType::Q4_1 => Some((20, 32)),
        GgmlDType::Q5_0 => Some((22, 32)),
        GgmlDType::Q8_0 => Some((34, 32)),
        GgmlDType::Q4K => Some((144, 256)),
        GgmlDType::Q6K => Some((210, 256)),
        _ => None,
    }
}

/// GGUF blocks read from the source at a time while repacking.
const REPACK_CHUNK_BLOCKS: usize = 4096;

/// Repacks the `rows × cols` weights of `dtype` (a type [`block_layout`]
/// knows, a whole number of blocks) read from `source`, a chunk at a time,
/// so the raw tensor is never held in memory whole.
pub(super) fn repack(
    dtype: GgmlDType,
    rows: usize,
    cols: usize,
    source: &mut dyn Read,
) -> std::io::Result<Codes> {
    let elements = rows * cols;
    let (bytes_per_block, values_per_block) = block_layout(dtype).expect("caller checked the type");
    let blocks = elements / BLOCK;
    let mut layout = match dtype {
        GgmlDType::Q4_0 | GgmlDType::Q4_1 | GgmlDType::Q4K => Packing::Nibbles {
            codes: Vec::with_capacity(elements / 2),
            factors: Vec::with_capacity(2 * blocks),
            scaled: Some(Default::default()),
        },
        _ => {
            let per_block = if dtype == GgmlDType::Q6K { 2 } else { 1 };
            Packing::Bytes {
                codes: Vec::with_capacity(elements),
                scales: Vec::with_capacity(per_block * blocks),
                per_block,
                scaled: Some(Default::default()),
            }
        }
    };
    let mut remaining = elements / values_per_block;
    let mut buffer = vec![0u8; REPACK_CHUNK_BLOCKS.min(remaining) * bytes_per_block];
    while remaining > 0 {
        let count = REPACK_CHUNK_BLOCKS.min(remaining);
        let chunk = &mut buffer[..count * bytes_per_block];
        source.read_exact(chunk)?;
        for raw in chunk.chunks_exact(bytes_per_block) {
            match dtype {
                GgmlDType::Q4_0 => layout.push(decode_q4_0(raw)),
                GgmlDType::Q4_1 => layout.push(decode_q4_1(raw)),
                GgmlDType::Q5_0 => layout.push(decode_q5_0(raw)),
                GgmlDType::Q8_0 => layout.push(decode_q8_0(raw)),
                GgmlDType::Q4K => decode_q4k(raw).into_iter().for_each(|b| layout.push(b)),
                GgmlDType::Q6K => decode_q6k(raw).into_iter().for_each(|b| layout.push(b)),
                _ => unreachable!("block_layout filtered the type"),
            }
        }
        remaining -= count;
    }
    // A k-quant's factors kept as integers and pairs, where every row
    // starts on a super-block (as GGUF's k-quant rows do).
    Ok(layout.finish(cols.is_multiple_of(BLOCK * PER_SUPER / 2)))
}

/// A [`Codes`] layout being filled, its factors still f32 (in the layout's
/// order: a Nibbles block's scale, then its offset), and a k-quant's as
/// the file keeps them too.
enum Packing {
    Nibbles {
        codes: Vec<u8>,
        factors: Vec<f32>,
        scaled: Scaled,
    },
    Bytes {
        codes: Vec<i8>,
        scales: Vec<f32>,
        per_block: usize,
        scaled: Scaled,
    },
}

/// The multipliers and super-block pairs of [`Factors::Scaled`] while
/// they are read, `None` once a block without them came.
type Scaled = Option<(Vec<i8>, Vec<f16>)>;

impl Packing {
    fn push(&mut self, block: Block) {
        let (Packing::Nibbles { scaled, .. } | Packing::Bytes { scaled, .. }) = self;
        match (scaled.as_mut(), block.scaled) {
            (Some((multipliers, supers)), Some((two, pair))) => {
                if multipliers.len().is_multiple_of(PER_SUPER) {
                    supers.extend(pair);
                }
                multipliers.extend(two);
            }
            _ => *scaled = None,
        }
        match self {
            Packing::Nibbles { codes, factors, .. } => {
                codes.extend(
                    (0..16).map(|j| block.codes[j] as u8 | ((block.codes[j + 16] as u8) << 4)),
                );
                factors.extend([block.scales[0], block.offset.unwrap_or(0.0)]);
            }
            Packing::Bytes {
                codes,
                scales,
                per_block,
                ..
            } => {
                codes.extend_from_slice(&block.codes);
                scales.extend_from_slice(&block.scales[..*per_block]);
            }
        }
    }

    /// The layout, with a k-quant's factors kept [`Factors::Scaled`] if
    /// `rows_on_super_blocks`.
    fn finish(self, rows_on_super_blocks: bool) -> Codes {
        let factors = |values, scaled: Scaled| match scaled {
            Some((multipliers, supers)) if rows_on_super_blocks => {
                Factors::scaled(multipliers, supers)
            }
            _ => Factors::new(values),
        };
        match self {
            Packing::Nibbles {
                codes,
                factors: values,
                scaled,
            } => Codes::Nibbles {
                codes: codes.into(),
                factors: factors(values, scaled),
            },
            Packing::Bytes {
                codes,
                scales,
                per_block,
                scaled,
            } => Codes::Bytes {
                codes: codes.into(),
                scales: factors(scales, scaled),
                per_block,
            },
        }
    }
}

/// Whether `dtype` weights of shape `(rows, cols)` repack into a kernel layout.
pub(super) fn repackable(dtype: GgmlDType, rows: usize, cols: usize) -> bool {
    block_layout(dtype).is_some_and(|(_, per_block)| {
        cols.is_multiple_of(BLOCK) && (rows * cols).is_multiple_of(per_block)
    })
}

fn half_at(raw: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([raw[at], raw[at + 1]]).to_f32()
}

/// Splits 16 packed bytes into 32 codes: low nibbles first, then high.
fn split_nibbles(packed: &[u8]) -> [i8; BLOCK] {
    let mut codes = [0i8; BLOCK];
    for (j, byte) in packed.iter().enumerate() {
        codes[j] = (byte & 0xF) as i8;
        codes[j + 16] = (byte >> 4) as i8;
    }
    codes
}

/// Q4_0: `w = d·(q − 8)`.
fn decode_q4_0(raw: &[u8]) -> Block {
    let d = half_at(raw, 0);
    Block {
        codes: split_nibbles(&raw[2..18]),
        scales: [d; 2],
        offset: Some(-8.0 * d),
        scaled: None,
    }
}

/// Q4_1: `w = d·q + m`.
fn decode_q4_1(raw: &[u8]) -> Block {
    let d = half_at(raw, 0);
    Block {
        codes: split_nibbles(&raw[4..20]),
        scales: [d; 2],
        offset: Some(half_at(raw, 2)),
        scaled: None,
    }
}

/// Q5_0: `w = d·(q − 16)`, the fifth bit of weight `j` in bit `j` of `qh`.
fn decode_q5_0(raw: &[u8]) -> Block {
    let d = half_at(raw, 0);
    let high = u32::from_le_bytes([raw[2], raw[3], raw[4], raw[5]]);
    let mut codes = split_nibbles(&raw[6..22]);
    for (j, code) in codes.iter_mut().enumerate() {
        *code = (*code | ((((high >> j) & 1) as i8) << 4)) - 16;
    }
    Block {
        codes,
        scales: [d; 2],
        offset: None,
        scaled: None,
    }
}

/// Q8_0: `w = d·q`.
fn decode_q8_0(raw: &[u8]) -> Block {
    let d = half_at(raw, 0);
    let mut codes = [0i8; BLOCK];
    for (code, byte) in codes.iter_mut().zip(&raw[2..34]) {
        *code = *byte as i8;
    }
    Block {
        codes,
        scales: [d; 2],
        offset: None,
        scaled: None,
    }
}

/// The 6-bit scale and min of sub-block `j` of a Q4_K super-block.
fn q4k_scale_min(j: usize, packed: &[u8]) -> (u8, u8) {
    if j < 4 {
        (packed[j] & 63, packed[j + 4] & 63)
    } else {
        (
            (packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4),
            (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4),
        )
    }
}

/// Q4_K: 256 weights in 8 sub-blocks of 32, `w = d·sc·q − dmin·m`.
fn decode_q4k(raw: &[u8]) -> [Block; 8] {
    let d = half_at(raw, 0);
    let dmin = half_at(raw, 2);
    let pair = [
        f16::from_le_bytes([raw[0], raw[1]]),
        -f16::from_le_bytes([raw[2], raw[3]]),
    ];
    let packed_scales = &raw[4..16];
    let qs = &raw[16..144];
    std::array::from_fn(|sub| {
        let (scale, min) = q4k_scale_min(sub, packed_scales);
        let bytes = &qs[(sub / 2) * 32..(sub / 2) * 32 + 32];
        let mut codes = [0i8; BLOCK];
        for (code, byte) in codes.iter_mut().zip(bytes) {
            *code = if sub % 2 == 0 { byte & 0xF } else { byte >> 4 } as i8;
        }
        Block {
            codes,
            scales: [d * scale as f32; 2],
            offset: Some(-(dmin * min as f32)),
            scaled: Some(([scale as i8, min as i8], pair)),
        }
    })
}

/// Q6_K: 256 weights, `w = d·sc·(q − 32)` with one 8-bit scale per 16.
fn decode_q6k(raw: &[u8]) -> [Block; 8] {
    let (ql, qh) = (&raw[0..128], &raw[128..192]);
    let scales = &raw[192..208];
    let d = half_at(raw, 208);
    let pair = [f16::from_le_bytes([raw[208], raw[209]]); 2];
    let mut values = [0i8; 256];
    for half in 0..2 {
        let (ql, qh) = (&ql[64 * half..], &qh[32 * half..]);
        let out = &mut values[128 * half..];
        for l in 0..32 {
            out[l] = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) as i8 - 32;
            out[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) as i8 - 32;
            out[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i8 - 32;
            out[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i8 - 32;
        }
    }
    std::array::from_fn(|sub| {
        let mut codes = [0i8; BLOCK];
        codes.copy_from_slice(&values[sub * BLOCK..(sub + 1) * BLOCK]);
        Block {
            codes,
            scales: [
                d * scales[2 * sub] as i8 as f32,
                d * scales[2 * sub + 1] as i8 as f32,
            ],
            offset: None,
            scaled: Some(([scales[2 * sub] as i8, scales[2 * sub + 1] as i8], pair)),
        }
    })
}
