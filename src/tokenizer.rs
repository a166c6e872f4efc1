//! Text ⇄ token ids, built from a GGUF file's own metadata with the
//! `tokenizers` crate, so detprob tokenizes exactly as the model was trained
//! (and as llama.cpp, the reference GGUF implementation, does).
//!
//! Two vocabularies are supported:
//! - `gpt2` (SmolLM2): byte-level BPE with the file's merges; the `smollm`
//!   pre-tokenizer splits every digit on its own, then applies the GPT-2 regex
//!   with no prefix space.
//! - `llama` (Gemma 3): SentencePiece-style. llama.cpp repeatedly merges the
//!   adjacent pair whose concatenation is the highest-scoring vocabulary token;
//!   a BPE whose merges are every split of every token into two vocabulary
//!   tokens, ranked by the merged token's score, does the same. Spaces become
//!   `▁`; characters outside the vocabulary fall back to byte tokens.
//!
//! In both, control tokens (type 3) are special added tokens and user-defined
//! tokens (type 4, e.g. Gemma's runs of newlines and spaces) are always split
//! out of the text first, as llama.cpp does when parsing special tokens.

use std::collections::HashMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::replace::Replace;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, PreTokenizerWrapper, Tokenizer};

use crate::error::InputError;
use crate::gguf::GgufFile;

/// GGUF token types (llama.cpp's `llama_token_type`).
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;
const TOKEN_TYPE_BYTE: i32 = 6;

/// The SentencePiece word-boundary marker that stands for a space.
const SPACE_MARKER: &str = "\u{2581}";

/// Texts that end a turn in the chat formats detprob knows.
const END_OF_TURN_TEXTS: &[&str] = &["<|im_end|>", "<|endoftext|>", "<end_of_turn>", "<eos>"];

/// Which family of vocabulary the GGUF declares (`tokenizer.ggml.model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VocabularyKind {
    /// Byte-level BPE (GPT-2 style).
    Gpt2,
    /// SentencePiece-style with scores and byte fallback.
    Llama,
}

/// A model's tokenizer plus the facts about its vocabulary that generation needs.
pub struct TextTokenizer {
    inner: Tokenizer,
    /// Each token's raw bytes, indexed by id.
    token_bytes: Vec<Vec<u8>>,
    /// Each token's GGUF type, indexed by id.
    token_types: Vec<i32>,
    /// Beginning-of-sequence token, if the vocabulary has one.
    pub bos: Option<u32>,
    /// Whether the model expects a BOS token before every prompt.
    pub add_bos: bool,
    /// Tokens that end a completion (EOS and end-of-turn markers).
    pub stop_ids: Vec<u32>,
    /// SHA-256 over the vocabulary, merges, scores and types: two tokenizers
    /// with the same fingerprint split text identically.
    pub fingerprint: String,
}

impl Drop for TextTokenizer {
    /// Freeing a large vocabulary's maps takes a tenth of a second (Gemma's
    /// 262,144 tokens): it happens on a thread of its own, so a command does
    /// not wait for it on its way out (the process may end first).
    fn drop(&mut self) {
        let inner = std::mem::replace(&mut self.inner, Tokenizer::new(BPE::default()));
        let token_bytes = std::mem::take(&mut self.token_bytes);
        let freeing = move || drop((inner, token_bytes));
        // If no thread can start, the closure (and the vocabulary) is
        // dropped here instead.
        let _ = std::thread::Builder::new()
            .name("tokenizer-free".into())
            .spawn(freeing);
    }
}

impl TextTokenizer {
    /// Builds the tokenizer from `gguf`'s `tokenizer.ggml.*` metadata.
    pub fn from_gguf(gguf: &GgufFile) -> Result<Self, InputError> {
        let kind = match gguf.optional_str("tokenizer.ggml.model") {
            Some("gpt2") => VocabularyKind::Gpt2,
            Some("llama") => VocabularyKind::Llama,
            other => {
                return Err(gguf.corrupt(format!(
                    "unsupported tokenizer model {:?} (supported: gpt2, llama)",
                    other.unwrap_or("none")
                )))
            }
        };
        let tokens = string_array(gguf, "tokenizer.ggml.tokens")?;
        let token_types: Vec<i32> = match gguf.get("tokenizer.ggml.token_type") {
            Some(v) => v
                .to_vec()
                .map_err(|e| gguf.corrupt(e.to_string()))?
                .iter()
                .map(|t| t.to_i32().unwrap_or(1))
                .collect(),
            None => vec![1; tokens.len()],
        };
        if token_types.len() != tokens.len() {
            return Err(gguf.corrupt("token_type and tokens differ in length"));
        }
        let mut hasher = Sha256::new();
        hasher.update(format!("{kind:?}\n"));
        let mut number = String::new();
        for (token, ty) in tokens.iter().zip(&token_types) {
            // The bytes of "{ty}\t{token}\n", without a string per token.
            number.clear();
            write!(number, "{ty}").expect("writing to a String succeeds");
            hasher.update(&number);
            hasher.update(b"\t");
            hasher.update(token);
            hasher.update(b"\n");
        }

        let vocab: HashMap<String, u32> = tokens
            .iter()
            .enumerate()
            .map(|(id, t)| (t.clone(), id as u32))
            .collect();
        let mut tokenizer = match kind {
            VocabularyKind::Gpt2 => {
                let merges: Vec<(String, String)> = string_array(gguf, "tokenizer.ggml.merges")?
                    .into_iter()
                    .map(|m| {
                        hasher.update(&m);
                        hasher.update(b"\n");
                        m.split_once(' ')
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .ok_or_else(|| gguf.corrupt(format!("malformed merge {m:?}")))
                    })
                    .collect::<Result<_, _>>()?;
                let bpe = BPE::builder()
                    .vocab_and_merges(vocab.into_iter().collect::<Vocab>(), merges)
                    .build()
                    .map_err(|e| gguf.corrupt(format!("cannot build BPE: {e}")))?;
                let mut tokenizer = Tokenizer::new(bpe);
                let pre = gguf.optional_str("tokenizer.ggml.pre").unwrap_or("default");
                let byte_level = ByteLevel::new(false, true, true);
                if pre == "smollm" {
                    tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
                        PreTokenizerWrapper::Digits(Digits::new(true)),
                        PreTokenizerWrapper::ByteLevel(byte_level),
                    ])));
                } else {
                    tokenizer.with_pre_tokenizer(Some(byte_level));
                }
                tokenizer
            }
            VocabularyKind::Llama => {
                let scores: Vec<f32> = match gguf.get("tokenizer.ggml.scores") {
                    Some(v) => v
                        .to_vec()
                        .map_err(|e| gguf.corrupt(e.to_string()))?
                        .iter()
                        .map(|s| s.to_f32().unwrap_or(0.0))
                        .collect(),
                    None => return Err(gguf.corrupt("llama vocabulary without scores")),
                };
                for s in &scores {
                    hasher.update(s.to_le_bytes());
                }
                let merges = merges_from_scores(&tokens, &token_types, &scores);
                let unk = gguf
                    .optional_u32("tokenizer.ggml.unknown_token_id")
                    .and_then(|id| tokens.get(id as usize).cloned());
                let mut builder = BPE::builder()
                    .vocab_and_merges(vocab.into_iter().collect::<Vocab>(), merges)
                    .byte_fallback(true)
                    .fuse_unk(true);
                if let Some(unk) = unk {
                    builder = builder.unk_token(unk);
                }
                let bpe = builder
                    .build()
                    .map_err(|e| gguf.corrupt(format!("cannot build BPE: {e}")))?;
                let mut tokenizer = Tokenizer::new(bpe);
                let replace = Replace::new(" ", SPACE_MARKER).expect("valid pattern");
                tokenizer.with_normalizer(Some(replace));
                if gguf.optional_bool("tokenizer.ggml.add_space_prefix") == Some(true) {
                    return Err(gguf.corrupt("add_space_prefix=true is not supported"));
                }
                tokenizer
            }
        };

        let mut special = Vec::new();
        let mut user_defined = Vec::new();
        for (token, ty) in tokens.iter().zip(&token_types) {
            match *ty {
                TOKEN_TYPE_CONTROL => special.push(AddedToken::from(token.clone(), true)),
                TOKEN_TYPE_USER_DEFINED => {
                    user_defined.push(AddedToken::from(token.clone(), false).normalized(false))
                }
                _ => {}
            }
        }
        tokenizer.add_special_tokens(&special);
        tokenizer.add_tokens(&user_defined);

        let token_bytes = tokens
            .iter()
            .zip(&token_types)
            .map(|(t, ty)| raw_bytes(kind, t, *ty))
            .collect();
        let bos = gguf.optional_u32("tokenizer.ggml.bos_token_id");
        let eos = gguf.optional_u32("tokenizer.ggml.eos_token_id");
        let add_bos = gguf
            .optional_bool("tokenizer.ggml.add_bos_token")
            .unwrap_or(kind == VocabularyKind::Llama)
            && bos.is_some();
        let mut stop_ids: Vec<u32> = eos.into_iter().collect();
        for text in END_OF_TURN_TEXTS {
            if let Some(&id) = tokens
                .iter()
                .position(|t| t == text)
                .map(|p| p as u32)
                .as_ref()
            {
                if token_types[id as usize] == TOKEN_TYPE_CONTROL && !stop_ids.contains(&id) {
                    stop_ids.push(id);
                }
            }
        }
        Ok(Self {
            inner: tokenizer,
            token_bytes,
            token_types,
            bos,
            add_bos,
            stop_ids,
            fingerprint: crate::store::hex(&hasher.finalize()),
        })
    }

    /// A character-level tokenizer for tests: one token per character of
    /// `alphabet` (characters outside it are dropped), then the control
    /// token `eos`, which ends a completion.
    pub fn characters(alphabet: &str, eos: &str) -> Self {
        let mut tokens: Vec<String> = Vec::new();
        for c in alphabet.chars() {
            if !tokens.iter().any(|t| t.chars().eq([c])) {
                tokens.push(c.to_string());
            }
        }
        let eos_id = tokens.len() as u32;
        let vocab: HashMap<String, u32> = tokens
            .iter()
            .enumerate()
            .map(|(id, t)| (t.clone(), id as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab.into_iter().collect::<Vocab>(), Vec::new())
            .build()
            .expect("a vocabulary without merges builds");
        let mut inner = Tokenizer::new(bpe);
        inner.add_special_tokens(&[AddedToken::from(eos.to_string(), true)]);
        let mut token_bytes: Vec<Vec<u8>> = tokens.iter().map(|t| t.as_bytes().to_vec()).collect();
        token_bytes.push(eos.as_bytes().to_vec());
        let mut token_types = vec![1; tokens.len()];
        token_types.push(TOKEN_TYPE_CONTROL);
        let mut hasher = Sha256::new();
        hasher.update(alphabet.as_bytes());
        Self {
            inner,
            token_bytes,
            token_types,
            bos: None,
            add_bos: false,
            stop_ids: vec![eos_id],
            fingerprint: crate::store::hex(&hasher.finalize()),
        }
    }

    /// Splits `text` into token ids; control-token text such as
    /// `<|im_start|>` becomes that token. Adds BOS first when `add_bos`.
    pub fn encode(&self, text: &str, add_bos: bool) -> Vec<u32> {
        let encoding = self
            .inner
            .encode_fast(text, false)
            .expect("BPE encoding of a str cannot fail");
        let mut ids = Vec::with_capacity(encoding.len() + 1);
        if add_bos {
            ids.extend(self.bos);
        }
        ids.extend_from_slice(encoding.get_ids());
        ids
    }

    /// Encodes `text` the way the model expects a prompt (BOS if the model adds one).
    pub fn encode_prompt(&self, text: &str) -> Vec<u32> {
        self.encode(text, self.add_bos)
    }

    /// The text the ids stand for; invalid UTF-8 (a split multi-byte
    /// character) becomes U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&id| self.bytes_of(id).iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The text `ids` spell with control tokens (end of text, chat markers)
    /// left out: what a completion shows.
    pub fn visible_text(&self, ids: &[u32]) -> String {
        let visible: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&t| !self.is_control(t))
            .collect();
        self.decode(&visible)
    }

    /// The raw bytes of one token (control tokens: their text).
    pub fn bytes_of(&self, id: u32) -> &[u8] {
        self.token_bytes
            .get(id as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// One token's text: its bytes as UTF-8, invalid bytes replaced.
    pub fn piece(&self, id: u32) -> String {
        String::from_utf8_lossy(self.bytes_of(id)).into_owned()
    }

    /// One token shown so a class can see it: spaces as `␣`, newlines as `↵`,
    /// tabs as `⇥`, bytes that are not whole UTF-8 characters as `<0xNN>`.
    pub fn visible_piece(&self, id: u32) -> String {
        if self.is_control(id) {
            return self.piece(id);
        }
        visible(self.bytes_of(id))
    }

    /// Whether `id` is a control token (BOS, EOS, chat markers).
    pub fn is_control(&self, id: u32) -> bool {
        self.token_types.get(id as usize) == Some(&TOKEN_TYPE_CONTROL)
    }

    /// How many tokens the vocabulary holds.
    pub fn vocab_size(&self) -> usize {
        self.token_bytes.len()
    }
}

/// Shows bytes visibly: whitespace as symbols, invalid UTF-8 as `<0xNN>`.
pub fn visible(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                push_visible(&mut out, s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                push_visible(&mut out, std::str::from_utf8(good).expect("valid prefix"));
                let bad_len = e.error_len().unwrap_or(bad.len()).max(1);
                for b in &bad[..bad_len] {
                    out.push_str(&format!("<0x{b:02X}>"));
                }
                rest = &bad[bad_len..];
            }
        }
    }
    out
}

fn push_visible(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            ' ' => out.push('␣'),
            '\n' => out.push('↵'),
            '\t' => out.push('⇥'),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
}

/// Reads a GGUF string array.
fn string_array(gguf: &GgufFile, key: &str) -> Result<Vec<String>, InputError> {
    gguf.require(key)?
        .to_vec()
        .map_err(|e| gguf.corrupt(format!("{key}: {e}")))?
        .iter()
        .map(|v| {
            v.to_string()
                .cloned()
                .map_err(|e| gguf.corrupt(format!("{key}: {e}")))
        })
        .collect()
}

/// BPE merges equivalent to SentencePiece's score-driven merging: every way
/// of splitting a token into two vocabulary tokens, highest merged-token score
/// first (ties: lower merged id, then lower left id). Byte tokens are never
/// merge results.
fn merges_from_scores(tokens: &[String], types: &[i32], scores: &[f32]) -> Vec<(String, String)> {
    // Gemma's 262,144 tokens give about 2 million substring lookups: a map
    // keyed by borrowed text with a fast hash keeps this under a fifth of a
    // second. Built like the tokenizer's vocabulary, it holds the same id per
    // text (a repeated text keeps its last id).
    let ids: rustc_hash::FxHashMap<&str, u32> = tokens
        .iter()
        .enumerate()
        .map(|(id, t)| (t.as_str(), id as u32))
        .collect();
    let mut ranked: Vec<(f32, u32, u32, usize)> = Vec::with_capacity(2 * tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        if types[id] == TOKEN_TYPE_BYTE || ids.get(token.as_str()) != Some(&(id as u32)) {
            continue;
        }
        for (split, _) in token.char_indices().skip(1) {
            let (left, right) = token.split_at(split);
            if let Some(&l) = ids.get(left) {
                if ids.contains_key(right) {
                    ranked.push((scores[id], id as u32, l, split));
                }
            }
        }
    }
    // (score, merged id, left id) is unique per entry, so an unstable sort
    // gives the one order.
    ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    ranked
        .into_iter()
        .map(|(_, id, _, split)| {
            let (l, r) = tokens[id as usize].split_at(split);
            (l.to_string(), r.to_string())
        })
        .collect()
}

/// A token's raw bytes, undoing the vocabulary's encoding of them.
fn raw_bytes(kind: VocabularyKind, token: &str, ty: i32) -> Vec<u8> {
    if ty == TOKEN_TYPE_CONTROL {
        return token.as_bytes().to_vec();
    }
    match kind {
        VocabularyKind::Gpt2 => {
            let table = gpt2_char_to_byte();
            token
                .chars()
                .map(|c| table.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .unwrap_or_else(|| token.as_bytes().to_vec())
        }
        VocabularyKind::Llama => {
            if ty == TOKEN_TYPE_BYTE {
                if let Some(hex) = token.strip_prefix("<0x").and_then(|t| t.strip_suffix('>')) {
                    if let Ok(b) = u8::from_str_radix(hex, 16) {
                        return vec![b];
                    }
                }
            }
            token.replace(SPACE_MARKER, " ").into_bytes()
        }
    }
}

/// GPT-2's byte-level alphabet, reversed: the printable character that stands
/// for each byte.
fn gpt2_char_to_byte() -> &'static HashMap<char, u8> {
    static TABLE: std::sync::OnceLock<HashMap<char, u8>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let printable =
            |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
        let mut next = 256u32;
        (0..=255u8)
            .map(|b| {
                let c = if printable(b) {
                    char::from(b)
                } else {
                    next += 1;
                    char::from_u32(next - 1).expect("valid char")
                };
                (c, b)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_alphabet_maps_space_and_newline_like_gpt2() {
        let table = gpt2_char_to_byte();
        assert_eq!(table[&'Ġ'], b' ');
        assert_eq!(table[&'Ċ'], b'\n');
        assert_eq!(table[&'a'], b'a');
        assert_eq!(table.len(), 256);
    }

    #[test]
    fn visible_marks_whitespace_and_broken_utf8() {
        assert_eq!(visible(b" a\n\t"), "␣a↵⇥");
        assert_eq!(visible(&[0xE4, 0xBD]), "<0xE4><0xBD>");
        assert_eq!(visible("中".as_bytes()), "中");
    }

    #[test]
    fn spm_byte_tokens_decode_to_their_byte() {
        assert_eq!(
            raw_bytes(VocabularyKind::Llama, "<0x0A>", TOKEN_TYPE_BYTE),
            vec![b'\n']
        );
        assert_eq!(
            raw_bytes(VocabularyKind::Llama, "▁the", 1),
            b" the".to_vec()
        );
    }

    #[test]
    fn merges_from_scores_prefer_the_higher_scoring_result() {
        let tokens: Vec<String> = ["a", "b", "c", "ab", "bc", "abc"]
            .map(String::from)
            .to_vec();
        let types = vec![1; 6];
        let scores = vec![0.0, 0.0, 0.0, -2.0, -1.0, -3.0];
        let merges = merges_from_scores(&tokens, &types, &scores);
        let pairs: Vec<(&str, &str)> = merges
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![("b", "c"), ("a", "b"), ("a", "bc"), ("ab", "c")]
        );
    }
}
