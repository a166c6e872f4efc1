//! Reports about the model itself: `generate` (one completion with its
//! sampling record), `tokenize`, and `model list` (the catalogue and cache).

use serde::Serialize;

use crate::generation::{Completion, GenerationSettings};
use crate::lm::ModelInfo;

/// Everything one `generate` run did.
#[derive(Debug, Serialize)]
pub struct GenerateReport {
    /// The model that ran.
    pub model: ModelInfo,
    /// The user's prompt, as given.
    pub prompt: String,
    /// The text actually tokenized (after the chat template, unless `--raw`).
    pub formatted_prompt: String,
    /// Token ids of the formatted prompt.
    pub prompt_ids: Vec<u32>,
    /// Sampling settings, seed and limits.
    pub settings: GenerationSettings,
    /// Order in which the sampler applies its settings.
    pub sampler_order: &'static str,
    /// What came out.
    pub completion: Completion,
}

/// `generate --endpoint`: one completion from a server, with what the
/// server reported of its tokens.
#[derive(Debug, Serialize)]
pub struct RemoteGenerateReport {
    /// The server's base URL.
    pub endpoint: String,
    /// The model's name on the server.
    pub model: String,
    /// The server's `system_fingerprint`, if it sent one.
    pub system_fingerprint: Option<String>,
    /// The prompt, as sent (a chat's user message, or with `--raw` the plain
    /// prompt).
    pub prompt: String,
    /// Whether it went to `/v1/chat/completions`.
    pub chat: bool,
    /// Sampling settings, seed and limits, as sent.
    pub settings: GenerationSettings,
    /// The text that came back.
    pub text: String,
    /// Each token with its logprob and alternatives, where the server gave them.
    pub tokens: Option<Vec<crate::remote::RemoteToken>>,
    /// Tokens generated, as the server counted them.
    pub completion_tokens: Option<usize>,
    /// `max_tokens` when the limit cut the text, else `stop`.
    pub stop_reason: String,
}

/// One token of the split text.
#[derive(Debug, Serialize)]
pub struct TokenPiece {
    /// Token id.
    pub id: u32,
    /// The token's text (lossy UTF-8).
    pub text: String,
    /// The token shown visibly: `␣` space, `↵` newline, `⇥` tab, `<0xNN>` partial bytes.
    pub visible: String,
}

/// The result of tokenizing one text.
#[derive(Debug, Serialize)]
pub struct TokenizeReport {
    /// Model alias or file.
    pub model: String,
    /// The text that was split (after the chat template with `--chat`).
    pub text: String,
    /// The tokens, in order (BOS first for models that add one).
    pub tokens: Vec<TokenPiece>,
}

/// One catalogue entry and its cache state.
#[derive(Debug, Serialize)]
pub struct ModelEntry {
    /// Alias for `--model`.
    pub alias: &'static str,
    /// Model name.
    pub name: &'static str,
    /// File name.
    pub file: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the file.
    pub sha256: &'static str,
    /// Licence of the weights.
    pub licence: &'static str,
    /// Whether the file is in detprob's cache.
    pub cached: bool,
    /// Where it is (or will be) cached.
    pub path: String,
}

/// The catalogue.
#[derive(Debug, Serialize)]
pub struct ModelListReport {
    /// Cache directory.
    pub cache_dir: String,
    /// Known models, default first.
    pub models: Vec<ModelEntry>,
}
