//! The token-major result of a batched matrix product: the kernels compute
//! a task's run of rows row by row (each row's values for every token), and
//! [`TokenMajor`] writes them where each token's row of results wants them,
//! eight rows by eight tokens at a time turned in AVX registers where the
//! CPU has them. Only values are moved, never computed, so the result is the
//! same on every path.

/// A token-major result (a row of `rows` results per token) that parallel
/// tasks fill, each with its own run of rows.
pub(super) struct TokenMajor {
    tokens: Vec<*mut f32>,
    rows: usize,
}

// SAFETY: tasks write disjoint rows (see `write_rows`), and the buffers
// outlive them.
unsafe impl Sync for TokenMajor {}

/// Rows and tokens of a block turned in registers.
const SIDE: usize = 8;

impl TokenMajor {
    pub(super) fn new(token_rows: &mut [&mut [f32]], rows: usize, tokens: usize) -> Self {
        assert_eq!(token_rows.len(), tokens, "one result row per token");
        assert!(token_rows.iter().all(|r| r.len() == rows), "result rows");
        Self {
            tokens: token_rows.iter_mut().map(|r| r.as_mut_ptr()).collect(),
            rows,
        }
    }

    /// A result in `out`'s spare capacity, token `t`'s row at `t · rows`
    /// (room for `rows × tokens` values is reserved; `out` is emptied). Its
    /// values are not initialized: the caller sets `out`'s length only once
    /// every row has been written for every token.
    pub(super) fn in_spare_capacity(out: &mut Vec<f32>, rows: usize, tokens: usize) -> Self {
        out.clear();
        out.reserve(rows * tokens);
        let first = out.spare_capacity_mut().as_mut_ptr().cast::<f32>();
        Self {
            tokens: (0..tokens).map(|t| first.wrapping_add(t * rows)).collect(),
            rows,
        }
    }

    /// Writes rows `first..` (`by_row`: those rows' values, `tokens` each)
    /// into every token's row of the result.
    ///
    /// # Safety
    /// No other write to these rows may run at the same time.
    pub(super) unsafe fn write_rows(&self, first: usize, by_row: &[f32]) {
        let tokens = self.tokens.len();
        let count = by_row.len() / tokens;
        assert!(first + count <= self.rows && by_row.len() == count * tokens);
        // Rows and tokens in whole blocks, turned in registers; the rest
        // are written one value at a time.
        let (block_rows, block_tokens) = if with_avx() {
            (count - count % SIDE, tokens - tokens % SIDE)
        } else {
            (0, 0)
        };
        #[cfg(target_arch = "x86_64")]
        if block_rows > 0 && block_tokens > 0 {
            // SAFETY: AVX is there (`with_avx`); the blocks lie inside
            // `by_row` and their outputs inside the tokens' rows (the
            // assert), which the caller keeps other tasks off.
            unsafe { self.turn_blocks(first, by_row, block_rows, block_tokens) };
        }
        for (i, row) in by_row.chunks_exact(tokens).enumerate() {
            let done = if i < block_rows { block_tokens } else { 0 };
            for (&value, &token_row) in row[done..].iter().zip(&self.tokens[done..]) {
                // SAFETY: the index is inside the token's row (the assert),
                // and the caller keeps other tasks off these rows.
                unsafe { *token_row.add(first + i) = value };
            }
        }
    }

    /// The first `block_rows` rows' first `block_tokens` values (multiples
    /// of [`SIDE`]) written block by block.
    ///
    /// # Safety
    /// The CPU must have AVX; `by_row` holds rows of `self.tokens.len()`
    /// values, and rows `first..first + block_rows` are inside the result
    /// and written by no one else meanwhile.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    unsafe fn turn_blocks(
        &self,
        first: usize,
        by_row: &[f32],
        block_rows: usize,
        block_tokens: usize,
    ) {
        let tokens = self.tokens.len();
        // Token by token, so that a token's run of rows (a cache line for
        // 16 rows) is written whole before the next.
        for t in (0..block_tokens).step_by(SIDE) {
            let token_rows = &self.tokens[t..t + SIDE];
            for h in (0..block_rows).step_by(SIDE) {
                // SAFETY: as the caller guarantees.
                unsafe {
                    let out = [0, 1, 2, 3, 4, 5, 6, 7].map(|k| token_rows[k].add(first + h));
                    turn_block(by_row.as_ptr().add(h * tokens + t), tokens, out);
                }
            }
        }
    }
}

/// Whether blocks are turned in AVX registers.
fn with_avx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The block of eight rows (`stride` apart) of eight values at `rows`,
/// stored as eight runs of eight: token `k`'s run (the block's column `k`)
/// at `out[k]`.
///
/// # Safety
/// The CPU must have AVX; the eight rows' eight values must be readable and
/// each `out[k]` writable for eight values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
unsafe fn turn_block(rows: *const f32, stride: usize, out: [*mut f32; SIDE]) {
    use std::arch::x86_64::*;
    // SAFETY: the caller keeps every load and store in bounds.
    unsafe {
        let r: [__m256; SIDE] = std::array::from_fn(|i| _mm256_loadu_ps(rows.add(i * stride)));
        // Pairs of rows interleaved, then quads, then the halves swapped:
        // the standard 8 × 8 transposition in 24 shuffles.
        let pairs = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        let quads = [
            _mm256_shuffle_ps::<0x44>(pairs[0], pairs[2]),
            _mm256_shuffle_ps::<0xEE>(pairs[0], pairs[2]),
            _mm256_shuffle_ps::<0x44>(pairs[1], pairs[3]),
            _mm256_shuffle_ps::<0xEE>(pairs[1], pairs[3]),
            _mm256_shuffle_ps::<0x44>(pairs[4], pairs[6]),
            _mm256_shuffle_ps::<0xEE>(pairs[4], pairs[6]),
            _mm256_shuffle_ps::<0x44>(pairs[5], pairs[7]),
            _mm256_shuffle_ps::<0xEE>(pairs[5], pairs[7]),
        ];
        for k in 0..4 {
            _mm256_storeu_ps(
                out[k],
                _mm256_permute2f128_ps::<0x20>(quads[k], quads[k + 4]),
            );
            _mm256_storeu_ps(
                out[k + 4],
                _mm256_permute2f128_ps::<0x31>(quads[k], quads[k + 4]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape of a task's run (rows 1..=17 of 20, tokens 1..=19, at
    /// several first rows) lands where the plain loop puts it.
    #[test]
    fn every_value_lands_in_its_tokens_row() {
        let rows = 20;
        for tokens in 1..=19 {
            for count in 1..=17 {
                for first in [0, 3, rows - count] {
                    let by_row: Vec<f32> = (0..count * tokens).map(|v| v as f32 + 0.5).collect();
                    let mut result = vec![vec![-1f32; rows]; tokens];
                    let mut views: Vec<&mut [f32]> =
                        result.iter_mut().map(|r| r.as_mut_slice()).collect();
                    let target = TokenMajor::new(&mut views, rows, tokens);
                    // SAFETY: one writer.
                    unsafe { target.write_rows(first, &by_row) };
                    for (t, token_row) in result.iter().enumerate() {
                        for (r, &value) in token_row.iter().enumerate() {
                            let expected = if (first..first + count).contains(&r) {
                                by_row[(r - first) * tokens + t]
                            } else {
                                -1.0
                            };
                            assert_eq!(
                                value, expected,
                                "tokens {tokens} count {count} first {first} at ({t}, {r})"
                            );
                        }
                    }
                }
            }
        }
    }
}
