//! Errors the user caused and can fix: a bad flag value, a missing or corrupt
//! model file, an empty or oversized prompt.
//!
//! Every variant prints as one line that names the problem; `main` maps them to
//! exit code 2. Anything else that goes wrong is a bug or an environment fault
//! and exits 1.

use std::path::PathBuf;

/// A problem with what the user asked for or gave detprob.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A model alias detprob does not know.
    #[error("unknown model '{alias}' (known: {known})")]
    UnknownModel { alias: String, known: String },

    /// `--model-file` points at nothing.
    #[error("model file {path} does not exist")]
    ModelFileMissing { path: PathBuf },

    /// The model file exists but cannot be read.
    #[error("cannot read model file {path}: {reason}")]
    ModelFileUnreadable { path: PathBuf, reason: String },

    /// The file does not start with the GGUF magic bytes.
    #[error("{path} is not a GGUF file")]
    NotGguf { path: PathBuf },

    /// The GGUF header or metadata could not be parsed.
    #[error("{path} is a corrupt GGUF file: {reason}")]
    CorruptGguf { path: PathBuf, reason: String },

    /// The file ends before the tensor data its header describes.
    #[error(
        "{path} is truncated: its header describes {expected} bytes but the file has {actual}"
    )]
    TruncatedGguf {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },

    /// The GGUF holds a model architecture detprob cannot run.
    #[error("{path}: unsupported architecture '{architecture}' (supported: {supported})")]
    UnsupportedArchitecture {
        path: PathBuf,
        architecture: String,
        supported: String,
    },

    /// A downloaded or cached file does not have the published checksum.
    #[error("{what}: checksum mismatch (expected sha256 {expected}, got {actual})")]
    ChecksumMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    /// Every way of obtaining a model failed.
    #[error("could not obtain model '{alias}': {attempts}. To place it by hand, put {file} (sha256 {sha256}) at {target}")]
    ModelUnavailable {
        alias: String,
        attempts: String,
        file: String,
        sha256: String,
        target: PathBuf,
    },

    /// The prompt is empty (or only whitespace).
    #[error("the prompt is empty")]
    EmptyPrompt,

    /// The prompt does not fit in the model's context window.
    #[error("the prompt is {tokens} tokens long, but the model's context holds {context}")]
    PromptTooLong { tokens: usize, context: usize },

    /// A sampling or other setting is out of range.
    #[error("{0}")]
    InvalidSetting(String),
}

/// Shorthand for building an [`InputError::InvalidSetting`].
pub fn invalid(message: impl Into<String>) -> InputError {
    InputError::InvalidSetting(message.into())
}
