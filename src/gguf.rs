//! Opening a GGUF model file: checks that it is a complete GGUF of a supported
//! architecture before any weights are read, and typed access to its metadata.
//!
//! A missing, foreign, corrupt or truncated file is reported as an
//! [`InputError`] here, so model code never sees a half-valid file.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, Value};

use crate::error::InputError;

/// The model architectures detprob can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Llama-style decoder (SmolLM2).
    Llama,
    /// Gemma 3 text decoder.
    Gemma3,
}

/// A GGUF file whose header has been read and checked.
pub struct GgufFile {
    /// Where the file is.
    pub path: PathBuf,
    /// The parsed header: metadata and tensor directory.
    pub content: Content,
    /// A reader positioned anywhere; model loaders seek as they need.
    pub reader: BufReader<File>,
    /// The architecture named in `general.architecture`.
    pub architecture: Architecture,
}

const GGUF_MAGIC: &[u8; 4] = b"GGUF";

impl GgufFile {
    /// Opens and validates `path`: exists, starts with the GGUF magic, parses,
    /// holds all the tensor bytes its header describes, and names a supported
    /// architecture.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let unreadable = |e: std::io::Error| InputError::ModelFileUnreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        if !path.exists() {
            return Err(InputError::ModelFileMissing {
                path: path.to_path_buf(),
            });
        }
        // Opening a FIFO would block until a writer appears; a device or a
        // directory is no model file either.
        if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
            return Err(InputError::ModelFileUnreadable {
                path: path.to_path_buf(),
                reason: "not a regular file".into(),
            });
        }
        let file = File::open(path).map_err(unreadable)?;
        let actual_len = file.metadata().map_err(unreadable)?.len();
        let mut reader = BufReader::new(file);
        let mut magic = [0u8; 4];
        if reader.read_exact(&mut magic).is_err() || &magic != GGUF_MAGIC {
            return Err(InputError::NotGguf {
                path: path.to_path_buf(),
            });
        }
        reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        let content = Content::read(&mut reader).map_err(|e| InputError::CorruptGguf {
            path: path.to_path_buf(),
            reason: first_line(&e.to_string()),
        })?;
        let expected_len = content
            .tensor_infos
            .values()
            .map(|info| {
                let dtype = info.ggml_dtype;
                let bytes = info.shape.elem_count() / dtype.block_size() * dtype.type_size();
                content.tensor_data_offset + info.offset + bytes as u64
            })
            .max()
            .unwrap_or(content.tensor_data_offset);
        if actual_len < expected_len {
            return Err(InputError::TruncatedGguf {
                path: path.to_path_buf(),
                expected: expected_len,
                actual: actual_len,
            });
        }
        let architecture_name = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        let architecture = match architecture_name.as_str() {
            "llama" => Architecture::Llama,
            "gemma3" => Architecture::Gemma3,
            _ => {
                return Err(InputError::UnsupportedArchitecture {
                    path: path.to_path_buf(),
                    architecture: architecture_name,
                })
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            content,
            reader,
            architecture,
        })
    }

    /// The raw metadata value under `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    /// A required metadata value, as a corrupt-file error when absent.
    pub fn require(&self, key: &str) -> Result<&Value, InputError> {
        self.get(key)
            .ok_or_else(|| self.corrupt(format!("missing metadata key {key}")))
    }

    /// A required unsigned integer.
    pub fn require_u32(&self, key: &str) -> Result<u32, InputError> {
        self.require(key)?
            .to_u32()
            .map_err(|e| self.corrupt(format!("{key}: {e}")))
    }

    /// An optional unsigned integer.
    pub fn optional_u32(&self, key: &str) -> Option<u32> {
        self.get(key).and_then(|v| v.to_u32().ok())
    }

    /// An optional float.
    pub fn optional_f32(&self, key: &str) -> Option<f32> {
        self.get(key).and_then(|v| v.to_f32().ok())
    }

    /// An optional boolean.
    pub fn optional_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(|v| v.to_bool().ok())
    }

    /// An optional string.
    pub fn optional_str(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(|v| v.to_string().ok())
            .map(String::as_str)
    }

    /// `{architecture}.{suffix}`, e.g. `llama.context_length`.
    pub fn arch_key(&self, suffix: &str) -> String {
        let prefix = match self.architecture {
            Architecture::Llama => "llama",
            Architecture::Gemma3 => "gemma3",
        };
        format!("{prefix}.{suffix}")
    }

    /// A corrupt-file error about this file.
    pub fn corrupt(&self, reason: impl Into<String>) -> InputError {
        InputError::CorruptGguf {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }
}

/// The first line of an error message, so every error prints as one line.
pub fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_string()
}
