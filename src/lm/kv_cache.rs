//! The decoder's KV cache: one layer's keys and values, position after
//! position, held in chunks of [`CHUNK_POSITIONS`] positions behind `Arc`s.
//!
//! A fork of a decoder clones its caches: every chunk is shared, not copied,
//! and a chunk is copied only when a fork writes into one it shares (the
//! prompt's last, partly filled chunk, once per fork). A grid of 32 samples
//! after one prompt thus holds the prompt's keys and values once, not 32
//! times, and each decoding step reads that one copy for every sample.

use std::sync::Arc;

/// Positions per chunk: small enough that the part of a prompt each fork
/// copies stays small, large enough that looking a position up is one shift.
pub const CHUNK_POSITIONS: usize = 16;

/// Up to [`CHUNK_POSITIONS`] positions' keys and values.
struct Chunk {
    keys: Vec<f32>,
    values: Vec<f32>,
}

impl Chunk {
    fn new(width: usize) -> Self {
        Self {
            keys: Vec::with_capacity(CHUNK_POSITIONS * width),
            values: Vec::with_capacity(CHUNK_POSITIONS * width),
        }
    }
}

impl Clone for Chunk {
    /// A copy with room for the whole chunk, as the fork that copies it is
    /// about to write into it.
    fn clone(&self) -> Self {
        let mut keys = Vec::with_capacity(self.keys.capacity());
        keys.extend_from_slice(&self.keys);
        let mut values = Vec::with_capacity(self.values.capacity());
        values.extend_from_slice(&self.values);
        Self { keys, values }
    }
}

/// One layer's keys and values, `width` values each per position.
#[derive(Clone)]
pub struct LayerCache {
    width: usize,
    positions: usize,
    chunks: Vec<Arc<Chunk>>,
}

impl LayerCache {
    /// An empty cache of `width` values (`kv_heads · head_dim`) per position.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            positions: 0,
            chunks: Vec::new(),
        }
    }

    /// How many positions are cached.
    pub fn len(&self) -> usize {
        self.positions
    }

    /// Stores the key and value at `position`, forgetting every later
    /// position (a sequence rewritten from an earlier point).
    pub fn write(&mut self, position: usize, key: &[f32], value: &[f32]) {
        assert!(
            position <= self.positions,
            "position {position} written after only {} cached",
            self.positions
        );
        assert_eq!((key.len(), value.len()), (self.width, self.width));
        self.truncate(position);
        let index = position / CHUNK_POSITIONS;
        if index == self.chunks.len() {
            self.chunks.push(Arc::new(Chunk::new(self.width)));
        }
        let chunk = Arc::make_mut(&mut self.chunks[index]);
        chunk.keys.extend_from_slice(key);
        chunk.values.extend_from_slice(value);
        self.positions = position + 1;
    }

    /// Keeps the first `positions` positions.
    fn truncate(&mut self, positions: usize) {
        if positions >= self.positions {
            return;
        }
        self.chunks.truncate(positions.div_ceil(CHUNK_POSITIONS));
        let kept = positions % CHUNK_POSITIONS;
        if kept > 0 {
            let last = self
                .chunks
                .last_mut()
                .expect("a chunk holds the kept positions");
            let chunk = Arc::make_mut(last);
            chunk.keys.truncate(kept * self.width);
            chunk.values.truncate(kept * self.width);
        }
        self.positions = positions;
    }

    /// The key at `position` (all heads).
    pub fn key(&self, position: usize) -> &[f32] {
        let chunk = &self.chunks[position / CHUNK_POSITIONS];
        &chunk.keys[(position % CHUNK_POSITIONS) * self.width..][..self.width]
    }

    /// The value at `position` (all heads).
    pub fn value(&self, position: usize) -> &[f32] {
        let chunk = &self.chunks[position / CHUNK_POSITIONS];
        &chunk.values[(position % CHUNK_POSITIONS) * self.width..][..self.width]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(width: usize, positions: usize, offset: f32) -> LayerCache {
        let mut cache = LayerCache::new(width);
        for p in 0..positions {
            let key: Vec<f32> = (0..width)
                .map(|i| offset + (p * width + i) as f32)
                .collect();
            let value: Vec<f32> = key.iter().map(|k| -k).collect();
            cache.write(p, &key, &value);
        }
        cache
    }

    #[test]
    fn every_position_reads_back_what_was_written() {
        let cache = filled(3, 2 * CHUNK_POSITIONS + 5, 0.0);
        assert_eq!(cache.len(), 2 * CHUNK_POSITIONS + 5);
        for p in 0..cache.len() {
            let expected: Vec<f32> = (0..3).map(|i| (p * 3 + i) as f32).collect();
            assert_eq!(cache.key(p), expected.as_slice());
            let negated: Vec<f32> = expected.iter().map(|k| -k).collect();
            assert_eq!(cache.value(p), negated.as_slice());
        }
    }

    #[test]
    fn a_fork_shares_full_chunks_and_writes_apart() {
        let prompt = CHUNK_POSITIONS + 3;
        let parent = filled(2, prompt, 0.0);
        let mut fork = parent.clone();
        assert!(Arc::ptr_eq(&parent.chunks[0], &fork.chunks[0]));
        fork.write(prompt, &[100.0, 101.0], &[102.0, 103.0]);
        // The full chunk is still shared; the partly filled one was copied.
        assert!(Arc::ptr_eq(&parent.chunks[0], &fork.chunks[0]));
        assert!(!Arc::ptr_eq(&parent.chunks[1], &fork.chunks[1]));
        assert_eq!(parent.len(), prompt);
        assert_eq!(fork.key(prompt), &[100.0, 101.0]);
        assert_eq!(fork.value(prompt), &[102.0, 103.0]);
        for p in 0..prompt {
            assert_eq!(fork.key(p), parent.key(p));
        }
    }

    #[test]
    fn rewriting_an_earlier_position_leaves_the_parent_alone() {
        let parent = filled(2, 2 * CHUNK_POSITIONS, 0.0);
        let mut fork = parent.clone();
        let at = CHUNK_POSITIONS / 2;
        fork.write(at, &[-1.0, -2.0], &[-3.0, -4.0]);
        assert_eq!(fork.len(), at + 1);
        assert_eq!(fork.key(at), &[-1.0, -2.0]);
        assert_eq!(parent.len(), 2 * CHUNK_POSITIONS);
        assert_eq!(parent.key(at), &[(at * 2) as f32, (at * 2 + 1) as f32]);
        // Writing on from there fills the fork's own chunks.
        let reference = filled(2, 2 * CHUNK_POSITIONS, 0.5);
        for p in at..2 * CHUNK_POSITIONS {
            fork.write(p, reference.key(p), reference.value(p));
        }
        assert_eq!(
            fork.key(2 * CHUNK_POSITIONS - 1),
            reference.key(2 * CHUNK_POSITIONS - 1)
        );
        assert_eq!(
            parent.key(2 * CHUNK_POSITIONS - 1),
            filled(2, 2 * CHUNK_POSITIONS, 0.0).key(2 * CHUNK_POSITIONS - 1)
        );
    }

    #[test]
    #[should_panic(expected = "written after only")]
    fn a_gap_is_refused() {
        let mut cache = filled(1, 2, 0.0);
        cache.write(4, &[0.0], &[0.0]);
    }
}
