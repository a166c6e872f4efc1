//! Text ⇄ token ids, built from a GGUF file's own metadata with the
//! `tokenizers` crate, so detprob tokenizes exactly as the model was trained
//! (and as llama.cpp, the reference GGUF implementation, does).
//!
//! Two vocabularies are supported:
//! - `gpt2` (SmolLM2, Qwen2): byte-level BPE with the file's merges, split
//!   into words first by the file's `tokenizer.ggml.pre`: `smollm` splits
//!   every digit on its own, then applies the GPT-2 regex with no prefix
//!   space; `qwen2` applies Qwen2's regex (every digit alone, letter runs
//!   with one leading mark); an unknown name is an error.
//! - `llama` (Gemma 3): SentencePiece-style score-driven merging, in
//!   `sentencepiece` (the `tokenizers` crate has no such model: a BPE
//!   emulating it needs every split of every token as a merge, slow to
//!   build for Gemma's 262,144-token vocabulary).
//!
//! In both, control tokens (type 3) and user-defined tokens (type 4, e.g.
//! Gemma's runs of newlines and spaces) are always split out of the text
//! first, as llama.cpp does when parsing special tokens.

mod pieces;
mod sentencepiece;

use std::collections::HashMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::SplitDelimiterBehavior;
use tokenizers::{AddedToken, PreTokenizerWrapper, Tokenizer};

use crate::error::InputError;
use crate::gguf::Metadata;
use candle_core::quantized::gguf_file::Value;
use pieces::Pieces;
use sentencepiece::{SentencePiece, SPACE_MARKER};

/// GGUF token types (llama.cpp's `llama_token_type`).
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;
const TOKEN_TYPE_BYTE: i32 = 6;

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

/// How text is split into ids.
enum Splitter {
    /// The `tokenizers` crate's BPE (byte-level for `gpt2` vocabularies).
    Bpe(Box<Tokenizer>),
    /// Score-driven merging for `llama` vocabularies.
    SentencePiece(SentencePiece),
}

/// A model's tokenizer plus the facts about its vocabulary that generation needs.
pub struct TextTokenizer {
    splitter: Splitter,
    /// Each token's raw bytes, indexed by id.
    token_bytes: Pieces,
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
    /// Freeing a BPE vocabulary's maps (SmolLM2's: one string per token and
    /// per merge) took about a tenth of a `tokenize` run: it happens on a
    /// thread of its own, so a command does not wait for it on its way out
    /// (the process may end first). Gemma's vocabulary frees in a few
    /// allocations either way.
    fn drop(&mut self) {
        let empty = Splitter::Bpe(Box::new(Tokenizer::new(BPE::default())));
        let splitter = std::mem::replace(&mut self.splitter, empty);
        let token_bytes = std::mem::take(&mut self.token_bytes);
        let freeing = move || drop((splitter, token_bytes));
        // If no thread can start, the closure (and the vocabulary) is
        // dropped here instead.
        let _ = std::thread::Builder::new()
            .name("tokenizer-free".into())
            .spawn(freeing);
    }
}

/// Qwen2's split of text into words before BPE (llama.cpp's `qwen2`
/// pre-tokenizer): case-insensitive English contractions, a letter run with
/// at most one leading non-letter, every digit alone, punctuation runs with
/// the line breaks after them, line-break runs, and whitespace.
const QWEN2_SPLIT: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The pre-tokenizer of a byte-level BPE vocabulary, by the GGUF's
/// `tokenizer.ggml.pre`: an unknown name is refused rather than split the
/// GPT-2 way, which would give other ids than the model was trained on.
fn byte_level_pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper, String> {
    Ok(match pre {
        "gpt2" | "gpt-2" => PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
        "smollm" => PreTokenizerWrapper::Sequence(Sequence::new(vec![
            PreTokenizerWrapper::Digits(Digits::new(true)),
            PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
        ])),
        "qwen2" => {
            let split = Split::new(
                SplitPattern::Regex(QWEN2_SPLIT.into()),
                SplitDelimiterBehavior::Isolated,
                false,
            )
            .map_err(|e| format!("cannot build the qwen2 pre-tokenizer: {e}"))?;
            PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Split(split),
                PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, false, false)),
            ]))
        }
        other => {
            return Err(format!(
                "unsupported pre-tokenizer '{}' (supported: gpt2, smollm, qwen2)",
                other.chars().take(40).collect::<String>()
            ))
        }
    })
}

impl TextTokenizer {
    /// Builds the tokenizer from `gguf`'s `tokenizer.ggml.*` metadata.
    pub fn from_gguf(gguf: &impl Metadata) -> Result<Self, InputError> {
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
        let token_types = numeric_array(gguf, "tokenizer.ggml.token_type", |t| {
            t.to_i32().unwrap_or(1)
        })?
        .unwrap_or_else(|| vec![1; tokens.len()]);
        if token_types.len() != tokens.len() {
            return Err(gguf.corrupt("token_type and tokens differ in length"));
        }
        let merges = match kind {
            VocabularyKind::Gpt2 => string_array(gguf, "tokenizer.ggml.merges")?,
            VocabularyKind::Llama => Vec::new(),
        };
        let scores = match kind {
            VocabularyKind::Gpt2 => Vec::new(),
            VocabularyKind::Llama => {
                let scores =
                    numeric_array(gguf, "tokenizer.ggml.scores", |s| s.to_f32().unwrap_or(0.0))?
                        .ok_or_else(|| gguf.corrupt("llama vocabulary without scores"))?;
                if scores.len() != tokens.len() {
                    return Err(gguf.corrupt("scores and tokens differ in length"));
                }
                scores
            }
        };
        // The fingerprint and each token's raw bytes on a second thread,
        // the splitter on this one: a third of the work of building
        // SmolLM2's tokenizer, which a command waits for before its prompt.
        let (splitter, (fingerprint, token_bytes)) = std::thread::scope(|scope| {
            let facts = scope.spawn(|| {
                (
                    fingerprint(kind, &tokens, &token_types, &merges, &scores),
                    raw_pieces(kind, &tokens, &token_types),
                )
            });
            let splitter = Self::splitter(gguf, kind, &tokens, &token_types, &merges, &scores);
            let facts = facts.join().expect("the fingerprint thread does not panic");
            (splitter, facts)
        });
        let splitter = splitter?;
        let bos = gguf.optional_u32("tokenizer.ggml.bos_token_id");
        let eos = gguf.optional_u32("tokenizer.ggml.eos_token_id");
        for (what, id) in [("bos", bos), ("eos", eos)] {
            if let Some(id) = id.filter(|&id| id as usize >= tokens.len()) {
                return Err(gguf.corrupt(format!(
                    "its {what} token id {id} is beyond its {} tokens",
                    tokens.len()
                )));
            }
        }
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
            splitter,
            token_bytes,
            token_types,
            bos,
            add_bos,
            stop_ids,
            fingerprint,
        })
    }

    /// The part of a tokenizer that splits text: the BPE with its merges
    /// (GPT-2 vocabularies) or the score-driven merging (Llama ones).
    fn splitter(
        gguf: &impl Metadata,
        kind: VocabularyKind,
        tokens: &[&str],
        token_types: &[i32],
        merges: &[&str],
        scores: &[f32],
    ) -> Result<Splitter, InputError> {
        Ok(match kind {
            VocabularyKind::Gpt2 => {
                // The vocabulary's map on a second thread while this one
                // splits the merges.
                let (vocab, merges) = std::thread::scope(|scope| {
                    let vocab = scope.spawn(|| -> Vocab {
                        tokens
                            .iter()
                            .enumerate()
                            .map(|(id, t)| (t.to_string(), id as u32))
                            .collect()
                    });
                    let merges: Result<Vec<(String, String)>, InputError> = merges
                        .iter()
                        .map(|m| {
                            m.split_once(' ')
                                .map(|(a, b)| (a.to_string(), b.to_string()))
                                .ok_or_else(|| gguf.corrupt(format!("malformed merge {m:?}")))
                        })
                        .collect();
                    (
                        vocab.join().expect("the vocabulary thread does not panic"),
                        merges,
                    )
                });
                let bpe = BPE::builder()
                    .vocab_and_merges(vocab, merges?)
                    .build()
                    .map_err(|e| {
                        // It may quote a token of the file: short, escaped.
                        let reason = crate::comparison::shorten(&e.to_string(), 120);
                        gguf.corrupt(format!("cannot build BPE: {}", reason.escape_debug()))
                    })?;
                let mut tokenizer = Tokenizer::new(bpe);
                let pre = gguf.optional_str("tokenizer.ggml.pre").unwrap_or("none");
                tokenizer.with_pre_tokenizer(Some(
                    byte_level_pre_tokenizer(pre).map_err(|e| gguf.corrupt(e))?,
                ));
                // Control tokens are special added tokens, user-defined
                // ones plain added tokens matched before normalizing.
                let mut special = Vec::new();
                let mut user_defined = Vec::new();
                for (token, &ty) in tokens.iter().zip(token_types) {
                    match ty {
                        TOKEN_TYPE_CONTROL => special.push(AddedToken::from(*token, true)),
                        TOKEN_TYPE_USER_DEFINED => {
                            user_defined.push(AddedToken::from(*token, false).normalized(false))
                        }
                        _ => {}
                    }
                }
                tokenizer
                    .add_special_tokens(special)
                    .and_then(|_| tokenizer.add_tokens(user_defined))
                    .map_err(|e| gguf.corrupt(format!("cannot add the special tokens: {e}")))?;
                Splitter::Bpe(Box::new(tokenizer))
            }
            VocabularyKind::Llama => {
                if gguf.optional_bool("tokenizer.ggml.add_space_prefix") == Some(true) {
                    return Err(gguf.corrupt("add_space_prefix=true is not supported"));
                }
                let mut byte_ids = [None; 256];
                for (id, (token, &ty)) in tokens.iter().zip(token_types).enumerate() {
                    if ty == TOKEN_TYPE_BYTE {
                        if let Some(b) = byte_token_value(token) {
                            byte_ids[b as usize] = Some(id as u32);
                        }
                    }
                }
                let unknown = gguf
                    .optional_u32("tokenizer.ggml.unknown_token_id")
                    .filter(|&id| (id as usize) < tokens.len());
                let split_ids = (0..tokens.len() as u32)
                    .filter(|&id| {
                        let ty = token_types[id as usize];
                        ty == TOKEN_TYPE_CONTROL || ty == TOKEN_TYPE_USER_DEFINED
                    })
                    .collect();
                Splitter::SentencePiece(SentencePiece::new(
                    tokens,
                    scores.to_vec(),
                    |b| byte_ids[b as usize],
                    unknown,
                    split_ids,
                ))
            }
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
        inner
            .add_special_tokens([AddedToken::from(eos.to_string(), true)])
            .expect("one added token over a fixed vocabulary is accepted");
        let mut token_bytes = Pieces::default();
        for token in &tokens {
            token_bytes.push(token.as_bytes());
        }
        token_bytes.push(eos.as_bytes());
        let mut token_types = vec![1; tokens.len()];
        token_types.push(TOKEN_TYPE_CONTROL);
        let mut hasher = Sha256::new();
        hasher.update(alphabet.as_bytes());
        Self {
            splitter: Splitter::Bpe(Box::new(inner)),
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
        let mut ids = Vec::new();
        if add_bos {
            ids.extend(self.bos);
        }
        match &self.splitter {
            Splitter::Bpe(tokenizer) => {
                let encoding = tokenizer
                    .encode_fast(text, false)
                    .expect("BPE encoding of a str cannot fail");
                ids.extend_from_slice(encoding.get_ids());
            }
            Splitter::SentencePiece(vocabulary) => vocabulary.encode(text, &mut ids),
        }
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
        self.token_bytes.get(id as usize).unwrap_or(&[])
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

/// Reads a GGUF string array (borrowing the strings).
fn string_array<'a>(gguf: &'a impl Metadata, key: &str) -> Result<Vec<&'a str>, InputError> {
    gguf.require(key)?
        .to_vec()
        .map_err(|e| gguf.corrupt(format!("{key}: {e}")))?
        .iter()
        .map(|v| {
            v.to_string()
                .map(String::as_str)
                .map_err(|e| gguf.corrupt(format!("{key}: {e}")))
        })
        .collect()
}

/// Reads a GGUF array of numbers, each through `convert`; `None` when the
/// key is absent.
fn numeric_array<T>(
    gguf: &impl Metadata,
    key: &str,
    convert: impl Fn(&Value) -> T,
) -> Result<Option<Vec<T>>, InputError> {
    let Some(value) = gguf.get(key) else {
        return Ok(None);
    };
    let values = value
        .to_vec()
        .map_err(|e| gguf.corrupt(format!("{key}: {e}")))?;
    Ok(Some(values.iter().map(convert).collect()))
}

/// The byte a SentencePiece byte token (`<0xNN>`) stands for.
fn byte_token_value(token: &str) -> Option<u8> {
    let hex = token.strip_prefix("<0x")?.strip_suffix('>')?;
    u8::from_str_radix(hex, 16).ok()
}

/// SHA-256 over the vocabulary's kind, each token with its type, and the
/// merges (GPT-2) or scores (Llama), as hex.
fn fingerprint(
    kind: VocabularyKind,
    tokens: &[&str],
    token_types: &[i32],
    merges: &[&str],
    scores: &[f32],
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{kind:?}\n"));
    let mut number = String::new();
    for (token, ty) in tokens.iter().zip(token_types) {
        // The bytes of "{ty}\t{token}\n", without a string per token.
        number.clear();
        write!(number, "{ty}").expect("writing to a String succeeds");
        hasher.update(&number);
        hasher.update(b"\t");
        hasher.update(token);
        hasher.update(b"\n");
    }
    for merge in merges {
        hasher.update(merge);
        hasher.update(b"\n");
    }
    for score in scores {
        hasher.update(score.to_le_bytes());
    }
    crate::store::hex(&hasher.finalize())
}

/// Each token's raw bytes, indexed by id.
fn raw_pieces(kind: VocabularyKind, tokens: &[&str], token_types: &[i32]) -> Pieces {
    let text_bytes = tokens.iter().map(|t| t.len()).sum();
    let mut token_bytes = Pieces::with_capacity(tokens.len(), text_bytes);
    for (token, &ty) in tokens.iter().zip(token_types) {
        token_bytes.push_with(|out| push_raw_bytes(kind, token, ty, out));
    }
    token_bytes
}

/// Appends a token's raw bytes to `out`, undoing the vocabulary's encoding
/// of them.
fn push_raw_bytes(kind: VocabularyKind, token: &str, ty: i32, out: &mut Vec<u8>) {
    if ty == TOKEN_TYPE_CONTROL {
        out.extend_from_slice(token.as_bytes());
        return;
    }
    match kind {
        VocabularyKind::Gpt2 => {
            let table = gpt2_char_to_byte();
            let start = out.len();
            for c in token.chars() {
                match table.get(&c) {
                    Some(&b) => out.push(b),
                    None => {
                        // Not byte-level text after all: keep it as written.
                        out.truncate(start);
                        out.extend_from_slice(token.as_bytes());
                        return;
                    }
                }
            }
        }
        VocabularyKind::Llama => {
            if ty == TOKEN_TYPE_BYTE {
                if let Some(b) = byte_token_value(token) {
                    out.push(b);
                    return;
                }
            }
            let mut rest = token;
            while let Some((before, after)) = rest.split_once(SPACE_MARKER) {
                out.extend_from_slice(before.as_bytes());
                out.push(b' ');
                rest = after;
            }
            out.extend_from_slice(rest.as_bytes());
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
    use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

    /// The words `pre` splits `text` into, in the GPT-2 byte alphabet.
    fn words(pre: &str, text: &str) -> Vec<String> {
        let mut split = PreTokenizedString::from(text);
        byte_level_pre_tokenizer(pre)
            .unwrap()
            .pre_tokenize(&mut split)
            .unwrap();
        split
            .get_splits(OffsetReferential::Original, OffsetType::Byte)
            .into_iter()
            .map(|(word, _, _)| word.to_string())
            .collect()
    }

    #[test]
    fn qwen2_splits_digits_alone_and_keeps_one_mark_before_letters() {
        assert_eq!(
            words("qwen2", "He's 123  x,\n\nok"),
            ["He", "'s", "Ġ", "1", "2", "3", "Ġ", "Ġx", ",ĊĊ", "ok"]
        );
        // GPT-2's split keeps digit runs together and a space before them.
        assert_eq!(words("gpt2", "x 123"), ["x", "Ġ123"]);
        assert_eq!(words("smollm", "x 123"), ["x", "Ġ", "1", "2", "3"]);
    }

    #[test]
    fn an_unknown_pre_tokenizer_is_refused_not_split_the_gpt2_way() {
        for name in ["llama-bpe", "deepseek-llm", "none", ""] {
            let error = byte_level_pre_tokenizer(name).err().unwrap();
            assert!(error.contains("unsupported pre-tokenizer"), "{error}");
        }
    }

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
        let raw = |token, ty| {
            let mut out = b"before".to_vec();
            push_raw_bytes(VocabularyKind::Llama, token, ty, &mut out);
            out
        };
        assert_eq!(raw("<0x0A>", TOKEN_TYPE_BYTE), b"before\n");
        assert_eq!(raw("▁the▁▁end", 1), b"before the  end");
        assert_eq!(raw("<0x0A>", 1), b"before<0x0A>", "only byte-type tokens");
    }
}
