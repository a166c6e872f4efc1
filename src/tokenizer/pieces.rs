//! Many short byte strings stored end to end in one buffer: a vocabulary's
//! 262,144 token texts cost two allocations instead of one each.

/// Byte strings indexed from 0, stored end to end.
#[derive(Default)]
pub struct Pieces {
    bytes: Vec<u8>,
    /// Where each piece ends in `bytes` (it starts where the previous ends).
    ends: Vec<usize>,
}

impl Pieces {
    /// Room for `count` pieces of `bytes` bytes in all.
    pub fn with_capacity(count: usize, bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Adds a piece at the next index.
    pub fn push(&mut self, piece: &[u8]) {
        self.bytes.extend_from_slice(piece);
        self.ends.push(self.bytes.len());
    }

    /// Adds a piece written by `write` into the buffer's end.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.bytes);
        self.ends.push(self.bytes.len());
    }

    /// Piece `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        Some(&self.bytes[start..end])
    }

    /// How many pieces there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_come_back_as_pushed() {
        let mut pieces = Pieces::with_capacity(3, 4);
        pieces.push(b"ab");
        pieces.push(b"");
        pieces.push_with(|out| out.extend_from_slice(b"cde"));
        assert_eq!(pieces.len(), 3);
        let all: Vec<&[u8]> = (0..3).filter_map(|i| pieces.get(i)).collect();
        assert_eq!(all, [&b"ab"[..], b"", b"cde"]);
        assert_eq!(pieces.get(3), None);
    }
}
