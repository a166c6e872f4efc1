//! The decoder's KV cache: one layer's keys and values, position after
//! position, held in chunks of [`CHUNK_POSITIONS`] positions behind `Arc`s.
//!
//! A fork of a decoder clones its caches: every chunk is shared, not copied.
//! A fork that writes into a chunk it shares (the prompt's last, partly
//! filled chunk) starts a chunk of its own that holds its positions only and
//! reads the earlier ones from the shared chunk below it; nothing is copied.
//! A grid of 32 samples after one prompt thus holds the prompt's keys and
//! values once, not 32 times, and each decoding step reads that one copy for
//! every sample; a walk that forks a state at every token of a few-token
//! answer (`emergence metric`) adds a few positions per fork, not a chunk.

use std::sync::Arc;

/// Positions per chunk: looking a position up is one shift.
pub const CHUNK_POSITIONS: usize = 16;

/// How many chunks may lie below one another before a new one copies the
/// positions below it instead (bounds the reads a lookup takes, however
/// often a state is forked, rewound and written within one chunk).
const MAX_DEPTH: usize = 8;

/// Positions `start..` of a chunk's [`CHUNK_POSITIONS`]: those below
/// `start` are read from the chunk `below`, the rest are held here.
struct Chunk {
    below: Option<Arc<Chunk>>,
    /// The first position (within the chunk) held here.
    start: usize,
    /// Chunks below this one.
    depth: usize,
    keys: Vec<f32>,
    values: Vec<f32>,
}

impl Chunk {
    fn new(width: usize) -> Self {
        Self {
            below: None,
            start: 0,
            depth: 0,
            keys: Vec::with_capacity(CHUNK_POSITIONS * width),
            values: Vec::with_capacity(CHUNK_POSITIONS * width),
        }
    }

    /// A chunk that reads positions `..start` from `below` (which holds at
    /// least that many) and holds the rest itself: shared, or copied when
    /// the chunks below are already [`MAX_DEPTH`] deep.
    fn over(below: &Arc<Chunk>, start: usize, width: usize) -> Self {
        let capacity = (CHUNK_POSITIONS - start) * width;
        if below.depth + 1 < MAX_DEPTH {
            return Self {
                below: Some(Arc::clone(below)),
                start,
                depth: below.depth + 1,
                keys: Vec::with_capacity(capacity),
                values: Vec::with_capacity(capacity),
            };
        }
        let mut copy = Self::new(width);
        for position in 0..start {
            copy.keys
                .extend_from_slice(below.at(Side::Keys, position, width));
            copy.values
                .extend_from_slice(below.at(Side::Values, position, width));
        }
        copy
    }

    /// Positions (within the chunk) readable here.
    fn len(&self, width: usize) -> usize {
        self.start + self.keys.len() / width
    }

    /// The keys or the values this chunk holds itself.
    fn held(&self, side: Side) -> &[f32] {
        match side {
            Side::Keys => &self.keys,
            Side::Values => &self.values,
        }
    }

    /// The key or value at `position` (within the chunk), here or below.
    fn at(&self, side: Side, position: usize, width: usize) -> &[f32] {
        match &self.below {
            Some(below) if position < self.start => below.at(side, position, width),
            _ => &self.held(side)[(position - self.start) * width..][..width],
        }
    }
}

/// Which of the cache's two arrays a read is of.
#[derive(Clone, Copy)]
enum Side {
    Keys,
    Values,
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
        let (index, within) = (position / CHUNK_POSITIONS, position % CHUNK_POSITIONS);
        if index == self.chunks.len() {
            self.chunks.push(Arc::new(Chunk::new(self.width)));
        }
        let width = self.width;
        let slot = &mut self.chunks[index];
        if Arc::get_mut(slot).is_none() {
            // Shared with another fork: positions ..within stay below.
            *slot = Arc::new(Chunk::over(slot, within, width));
        }
        let chunk = Arc::get_mut(slot).expect("a chunk of this cache alone");
        debug_assert_eq!(chunk.len(width), within);
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
            let width = self.width;
            let last = self
                .chunks
                .last_mut()
                .expect("a chunk holds the kept positions");
            match Arc::get_mut(last) {
                Some(chunk) if kept >= chunk.start => {
                    chunk.keys.truncate((kept - chunk.start) * width);
                    chunk.values.truncate((kept - chunk.start) * width);
                }
                // The kept positions lie (partly) below, or the chunk is
                // shared: a chunk over it reads them there.
                _ => *last = Arc::new(Chunk::over(last, kept, width)),
            }
        }
        self.positions = positions;
    }

    /// Appends to `out` the keys at `positions`, each cut to `part` (one
    /// head's), chunk by chunk: a chunk that holds all its positions is read
    /// as one slice.
    pub fn extend_keys<'a>(
        &'a self,
        positions: std::ops::RangeInclusive<usize>,
        part: std::ops::Range<usize>,
        out: &mut Vec<&'a [f32]>,
    ) {
        self.extend_with(positions, Side::Keys, part, out)
    }

    /// [`LayerCache::extend_keys`] for the values.
    pub fn extend_values<'a>(
        &'a self,
        positions: std::ops::RangeInclusive<usize>,
        part: std::ops::Range<usize>,
        out: &mut Vec<&'a [f32]>,
    ) {
        self.extend_with(positions, Side::Values, part, out)
    }

    /// [`LayerCache::extend_keys`] of either side.
    fn extend_with<'a>(
        &'a self,
        positions: std::ops::RangeInclusive<usize>,
        side: Side,
        part: std::ops::Range<usize>,
        out: &mut Vec<&'a [f32]>,
    ) {
        let (first, last) = (*positions.start(), *positions.end());
        if first > last {
            return;
        }
        let width = self.width;
        for index in first / CHUNK_POSITIONS..=last / CHUNK_POSITIONS {
            let chunk = &self.chunks[index];
            let base = index * CHUNK_POSITIONS;
            let within = first.max(base) - base..=last.min(base + CHUNK_POSITIONS - 1) - base;
            if chunk.below.is_none() {
                let held = chunk.held(side);
                let slice = &held[within.start() * width..(within.end() + 1) * width];
                out.extend(slice.chunks_exact(width).map(|one| &one[part.clone()]));
            } else {
                out.extend(within.map(|p| &chunk.at(side, p, width)[part.clone()]));
            }
        }
    }

    /// The key at `position` (all heads).
    pub fn key(&self, position: usize) -> &[f32] {
        self.chunks[position / CHUNK_POSITIONS].at(
            Side::Keys,
            position % CHUNK_POSITIONS,
            self.width,
        )
    }

    /// The value at `position` (all heads): the decoder reads values in
    /// runs ([`LayerCache::extend_values`]); the tests read them one by one.
    #[cfg(test)]
    pub fn value(&self, position: usize) -> &[f32] {
        self.chunks[position / CHUNK_POSITIONS].at(
            Side::Values,
            position % CHUNK_POSITIONS,
            self.width,
        )
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
        // The full chunk is still shared; the partly filled one lies below
        // the fork's own chunk, which holds only the new position.
        assert!(Arc::ptr_eq(&parent.chunks[0], &fork.chunks[0]));
        let own = &fork.chunks[1];
        assert!(Arc::ptr_eq(own.below.as_ref().unwrap(), &parent.chunks[1]));
        assert_eq!((own.start, own.keys.len()), (3, 2));
        assert_eq!(parent.len(), prompt);
        assert_eq!(fork.key(prompt), &[100.0, 101.0]);
        assert_eq!(fork.value(prompt), &[102.0, 103.0]);
        for p in 0..prompt {
            assert_eq!(fork.key(p), parent.key(p));
            assert_eq!(fork.value(p), parent.value(p));
        }
    }

    #[test]
    fn forks_of_forks_read_every_position_and_stay_shallow() {
        // A walk that forks at every position of one chunk, as the metric's
        // tries do, and rewinds and rewrites as a live screen may.
        let reference = filled(3, CHUNK_POSITIONS, 0.0);
        let mut state = filled(3, 1, 0.0);
        let mut kept = Vec::new();
        for p in 1..CHUNK_POSITIONS {
            let parent = state.clone();
            state.write(p, reference.key(p), reference.value(p));
            kept.push(parent);
        }
        for _ in 0..3 * MAX_DEPTH {
            let parent = state.clone();
            state.write(5, &[-1.0; 3], &[-2.0; 3]);
            state.write(6, reference.key(6), reference.value(6));
            kept.push(parent);
        }
        assert!(state.chunks[0].depth < MAX_DEPTH);
        assert_eq!(state.len(), 7);
        assert_eq!(state.key(5), &[-1.0; 3]);
        assert_eq!(state.value(5), &[-2.0; 3]);
        for p in (0..7).filter(|&p| p != 5) {
            assert_eq!(state.key(p), reference.key(p));
            assert_eq!(state.value(p), reference.value(p));
        }
        // Read in runs, as the decoder reads them: the same slices.
        for cache in kept.iter().chain([&state, &reference]) {
            for first in 0..cache.len() {
                let mut keys = Vec::new();
                let mut values = Vec::new();
                cache.extend_keys(first..=cache.len() - 1, 1..3, &mut keys);
                cache.extend_values(first..=cache.len() - 1, 1..3, &mut values);
                for (p, (key, value)) in (first..).zip(keys.iter().zip(&values)) {
                    assert_eq!(*key, &cache.key(p)[1..3]);
                    assert_eq!(*value, &cache.value(p)[1..3]);
                }
                assert_eq!(keys.len(), cache.len() - first);
            }
        }
        // Every state forked on the way still reads what it held.
        for (n, parent) in kept.iter().take(CHUNK_POSITIONS - 1).enumerate() {
            assert_eq!(parent.len(), n + 1);
            for p in 0..=n {
                assert_eq!(parent.key(p), reference.key(p));
            }
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
