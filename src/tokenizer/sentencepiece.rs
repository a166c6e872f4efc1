//! SentencePiece-style tokenizing of `llama` vocabularies (Gemma 3), done the
//! way llama.cpp, the reference GGUF implementation, does it:
//!
//! 1. control and user-defined tokens (Gemma's `<start_of_turn>`, its runs of
//!    newlines and spaces) are split out of the text first, the leftmost
//!    longest match winning;
//! 2. in the text between them, spaces become `▁` and every character starts
//!    as a symbol of its own;
//! 3. the adjacent pair whose concatenation is the highest-scoring vocabulary
//!    token is merged, again and again (equal scores: the leftmost pair);
//! 4. a symbol left that is no vocabulary token (a character the vocabulary
//!    lacks) becomes its UTF-8 bytes' `<0xNN>` tokens.
//!
//! The vocabulary is only a map from text to id plus the scores: nothing is
//! derived from it up front, so building one for Gemma's 262,144 tokens costs
//! a hash table of ids over the texts stored end to end, not the millions of
//! candidate merges a BPE over the same vocabulary needs.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use std::hash::BuildHasher;

use aho_corasick::{AhoCorasick, MatchKind};
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::pieces::Pieces;

/// The word-boundary marker that stands for a space.
pub const SPACE_MARKER: char = '\u{2581}';

/// A `llama` vocabulary ready to split text.
pub struct SentencePiece {
    /// Each token's text, indexed by id.
    texts: Pieces,
    /// The ids, found by their text's hash (a text listed twice keeps its
    /// last id, as in llama.cpp).
    ids: HashTable<u32>,
    /// Each token's score, indexed by id: higher merges first.
    scores: Vec<f32>,
    /// The `<0xNN>` token of every byte (indexed by the byte) the
    /// vocabulary has one for.
    byte_ids: Vec<Option<u32>>,
    /// What a byte without a byte token becomes, if anything.
    unknown: Option<u32>,
    /// Finds the texts split out before merging, with their ids.
    split_out: Option<(AhoCorasick, Vec<u32>)>,
}

/// One symbol of the text being merged: a span of the normalized text,
/// linked to its neighbours (a merged-away symbol has `len` 0).
#[derive(Clone, Copy)]
struct Symbol {
    start: usize,
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

/// A candidate merge of the symbols at `left` and `right`, valid while their
/// lengths still add up to `len`.
struct Candidate {
    score: f32,
    left: usize,
    right: usize,
    len: usize,
}

impl Ord for Candidate {
    /// Higher score first; equal scores: the leftmost pair first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.left.cmp(&self.left))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl SentencePiece {
    /// A vocabulary of `tokens` with their `scores`; the tokens at the ids in
    /// `split_out` are split out of text before merging. `byte_token(b)`
    /// names the id of byte `b`'s token, if the vocabulary has one.
    pub fn new(
        tokens: &[&str],
        scores: Vec<f32>,
        byte_token: impl Fn(u8) -> Option<u32>,
        unknown: Option<u32>,
        split_out: Vec<u32>,
    ) -> Self {
        let bytes = tokens.iter().map(|t| t.len()).sum();
        let mut texts = Pieces::with_capacity(tokens.len(), bytes);
        let mut ids = HashTable::with_capacity(tokens.len());
        for (id, token) in tokens.iter().enumerate() {
            texts.push(token.as_bytes());
            let hash = hash(token.as_bytes());
            let same_text = |&other: &u32| texts.get(other as usize) == Some(token.as_bytes());
            match ids.find_mut(hash, same_text) {
                Some(earlier) => *earlier = id as u32,
                None => {
                    ids.insert_unique(hash, id as u32, |&other: &u32| {
                        self::hash(texts.get(other as usize).expect("inserted"))
                    });
                }
            }
        }
        let byte_ids = (0..=255u8).map(byte_token).collect();
        let split_out = (!split_out.is_empty()).then(|| {
            let patterns = split_out.iter().map(|&id| tokens[id as usize]);
            let finder = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(patterns)
                .expect("a few thousand short patterns fit an automaton");
            (finder, split_out)
        });
        Self {
            texts,
            ids,
            scores,
            byte_ids,
            unknown,
            split_out,
        }
    }

    /// Appends the ids of `text` to `out`.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) {
        let Some((finder, split_ids)) = &self.split_out else {
            self.encode_plain(text, out);
            return;
        };
        let mut from = 0;
        for found in finder.find_iter(text) {
            self.encode_plain(&text[from..found.start()], out);
            out.push(split_ids[found.pattern().as_usize()]);
            from = found.end();
        }
        self.encode_plain(&text[from..], out);
    }

    /// Merges `text` (no split-out token in it) into tokens.
    fn encode_plain(&self, text: &str, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let text: String = text
            .chars()
            .map(|c| if c == ' ' { SPACE_MARKER } else { c })
            .collect();
        let mut symbols: Vec<Symbol> = text
            .char_indices()
            .map(|(start, c)| Symbol {
                start,
                len: c.len_utf8(),
                prev: None,
                next: None,
            })
            .collect();
        let count = symbols.len();
        for (i, symbol) in symbols.iter_mut().enumerate() {
            symbol.prev = i.checked_sub(1);
            symbol.next = (i + 1 < count).then_some(i + 1);
        }
        let mut queue = BinaryHeap::new();
        for left in 1..count {
            self.consider(&text, &symbols, left - 1, left, &mut queue);
        }
        while let Some(merge) = queue.pop() {
            let (left, right) = (symbols[merge.left], symbols[merge.right]);
            if left.len == 0 || right.len == 0 || left.len + right.len != merge.len {
                continue; // one side was merged into something else since
            }
            symbols[merge.left].len = merge.len;
            symbols[merge.left].next = right.next;
            symbols[merge.right].len = 0;
            if let Some(next) = right.next {
                symbols[next].prev = Some(merge.left);
            }
            if let Some(prev) = left.prev {
                self.consider(&text, &symbols, prev, merge.left, &mut queue);
            }
            if let Some(next) = right.next {
                self.consider(&text, &symbols, merge.left, next, &mut queue);
            }
        }
        let mut at = Some(0);
        while let Some(i) = at {
            let symbol = symbols[i];
            let piece = &text[symbol.start..symbol.start + symbol.len];
            match self.id(piece) {
                Some(id) => out.push(id),
                None => out.extend(
                    piece
                        .bytes()
                        .filter_map(|b| self.byte_ids[b as usize].or(self.unknown)),
                ),
            }
            at = symbol.next;
        }
    }

    /// The id of the token spelled `text`, if there is one.
    fn id(&self, text: &str) -> Option<u32> {
        let text = text.as_bytes();
        self.ids
            .find(hash(text), |&id| self.texts.get(id as usize) == Some(text))
            .copied()
    }

    /// Queues merging the symbols at `left` and `right` if together they
    /// spell a vocabulary token.
    fn consider(
        &self,
        text: &str,
        symbols: &[Symbol],
        left: usize,
        right: usize,
        queue: &mut BinaryHeap<Candidate>,
    ) {
        let start = symbols[left].start;
        let len = symbols[left].len + symbols[right].len;
        if let Some(id) = self.id(&text[start..start + len]) {
            queue.push(Candidate {
                score: self.scores[id as usize],
                left,
                right,
                len,
            });
        }
    }
}

/// A token text's hash in the id table.
fn hash(text: &[u8]) -> u64 {
    FxBuildHasher.hash_one(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vocabulary of `tokens` (scores as given), with byte tokens for
    /// `a`–`c` only and the tokens at `split_out` split out first.
    fn vocabulary(tokens: &[(&str, f32)], split_out: Vec<u32>) -> SentencePiece {
        let texts: Vec<&str> = tokens.iter().map(|(t, _)| *t).collect();
        let scores = tokens.iter().map(|(_, s)| *s).collect();
        let byte = |b: u8| {
            let name = format!("<0x{b:02X}>");
            texts.iter().position(|t| *t == name).map(|p| p as u32)
        };
        SentencePiece::new(&texts, scores, byte, None, split_out)
    }

    fn encode(vocabulary: &SentencePiece, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        vocabulary.encode(text, &mut ids);
        ids
    }

    #[test]
    fn the_higher_scoring_merge_wins() {
        // "abc": whichever of "ab" and "bc" scores higher merges; "abc" is
        // no token, so the third character stays on its own.
        let v = vocabulary(
            &[
                ("a", 0.0),
                ("b", 0.0),
                ("c", 0.0),
                ("ab", -2.0),
                ("bc", -1.0),
            ],
            vec![],
        );
        assert_eq!(encode(&v, "abc"), vec![0, 4]);
        let v = vocabulary(
            &[
                ("a", 0.0),
                ("b", 0.0),
                ("c", 0.0),
                ("ab", -1.0),
                ("bc", -2.0),
            ],
            vec![],
        );
        assert_eq!(encode(&v, "abc"), vec![3, 2]);
    }

    #[test]
    fn merges_continue_into_longer_tokens() {
        let v = vocabulary(
            &[
                ("a", 0.0),
                ("b", 0.0),
                ("c", 0.0),
                ("ab", -1.0),
                ("abc", -3.0),
                ("bc", -2.0),
            ],
            vec![],
        );
        assert_eq!(encode(&v, "abcab"), vec![4, 3]);
    }

    #[test]
    fn equal_scores_merge_the_leftmost_pair_first() {
        // "aaa": both "aa" pairs score the same; the left one merges.
        let v = vocabulary(&[("a", 0.0), ("aa", -1.0)], vec![]);
        assert_eq!(encode(&v, "aaa"), vec![1, 0]);
    }

    #[test]
    fn a_text_listed_twice_keeps_its_last_id() {
        let v = vocabulary(&[("a", 0.0), ("b", 0.0), ("a", 0.0)], vec![]);
        assert_eq!(encode(&v, "ab"), vec![2, 1]);
    }

    #[test]
    fn spaces_become_the_marker_and_unknown_characters_their_bytes() {
        let v = vocabulary(
            &[
                ("▁", 0.0),
                ("a", 0.0),
                ("▁a", -1.0),
                ("<0x63>", 0.0),
                ("<0xC3>", 0.0),
                ("<0xA9>", 0.0),
            ],
            vec![],
        );
        assert_eq!(encode(&v, "a a"), vec![1, 2]);
        // "c" and "é" (C3 A9) are not tokens: their bytes are.
        assert_eq!(encode(&v, "cé"), vec![3, 4, 5]);
        assert_eq!(encode(&v, ""), Vec::<u32>::new());
    }

    #[test]
    fn split_out_tokens_are_never_merged_into() {
        // "<t>" is split out: its characters do not merge with neighbours,
        // and the longest split-out text at a place wins.
        let v = vocabulary(
            &[
                ("a", 0.0),
                ("<t>", 0.0),
                ("a<", -1.0),
                ("<", 0.0),
                ("\n", 0.0),
                ("\n\n", 0.0),
            ],
            vec![1, 4, 5],
        );
        assert_eq!(encode(&v, "a<t>a"), vec![0, 1, 0]);
        assert_eq!(encode(&v, "a<a"), vec![2, 0]);
        assert_eq!(encode(&v, "\n\n\na"), vec![5, 4, 0]);
    }
}
