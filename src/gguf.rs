//! Opening a GGUF model file: checks that it is a complete GGUF of a supported
//! architecture before any weights are read, and typed access to its metadata.
//!
//! A missing, foreign, corrupt or truncated file is reported as an
//! [`InputError`] here, so model code never sees a half-valid file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, Value};

use crate::error::InputError;

/// A buffered file reader that knows its position without asking the
/// system: candle's header parser asks for it before every string, and
/// Gemma's vocabulary alone has 262,144 of them (a `BufReader`'s answer is
/// an `lseek` call each time).
pub struct FileReader {
    inner: BufReader<File>,
    position: u64,
}

impl FileReader {
    /// Big enough that the header of a GGUF takes few reads.
    const BUFFER_BYTES: usize = 1 << 16;

    fn new(file: File) -> Self {
        Self {
            inner: BufReader::with_capacity(Self::BUFFER_BYTES, file),
            position: 0,
        }
    }

    /// After a failed read the position is whatever the file says.
    fn resync(&mut self) {
        if let Ok(position) = self.inner.stream_position() {
            self.position = position;
        }
    }
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.position += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.resync();
                Err(e)
            }
        }
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.position += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.resync();
                Err(e)
            }
        }
    }
}

impl Seek for FileReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let result = self.inner.seek(to);
        match result {
            Ok(position) => self.position = position,
            Err(_) => self.resync(),
        }
        result
    }

    fn stream_position(&mut self) -> std::io::Result<u64> {
        Ok(self.position)
    }
}

/// The model architectures detprob can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Llama-style decoder (SmolLM2).
    Llama,
    /// Gemma 3 text decoder.
    Gemma3,
    /// Qwen2 decoder (Qwen2.5 and Qwen2.5-Coder).
    Qwen2,
}

impl Architecture {
    /// Every architecture detprob runs.
    pub const ALL: [Architecture; 3] = [Self::Llama, Self::Gemma3, Self::Qwen2];

    /// The name a GGUF file gives it in `general.architecture`, which also
    /// prefixes its other metadata keys.
    pub fn gguf_name(self) -> &'static str {
        match self {
            Self::Llama => "llama",
            Self::Gemma3 => "gemma3",
            Self::Qwen2 => "qwen2",
        }
    }

    /// The architecture a file names, if detprob runs it.
    pub fn from_gguf_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.gguf_name() == name)
    }

    /// The supported names, comma-separated, for error messages.
    pub fn supported_names() -> String {
        Self::ALL.map(Self::gguf_name).join(", ")
    }
}

/// A GGUF file whose header has been read and checked.
pub struct GgufFile {
    /// Where the file is.
    pub path: PathBuf,
    /// The parsed header: metadata and tensor directory.
    pub content: Content,
    /// A reader positioned anywhere; model loaders seek as they need.
    pub reader: FileReader,
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
        let mut reader = FileReader::new(file);
        let mut magic = [0u8; 4];
        if reader.read_exact(&mut magic).is_err() || &magic != GGUF_MAGIC {
            return Err(InputError::NotGguf {
                path: path.to_path_buf(),
            });
        }
        reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        let corrupt = |reason: String| InputError::CorruptGguf {
            path: path.to_path_buf(),
            reason: reason_line(&reason),
        };
        let content = read_header(&mut reader).map_err(corrupt)?;
        // Every tensor's size and place, checked before any is read: a
        // crafted header must not overflow a product or point past the file.
        let mut expected_len = content.tensor_data_offset;
        for (name, info) in &content.tensor_infos {
            let dtype = info.ggml_dtype;
            let elements = info
                .shape
                .dims()
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .ok_or_else(|| corrupt(format!("tensor {name}: its dimensions overflow")))?;
            if elements == 0 || !elements.is_multiple_of(dtype.block_size()) {
                return Err(corrupt(format!(
                    "tensor {name}: {elements} values do not fill whole {dtype:?} blocks"
                )));
            }
            let end = (elements / dtype.block_size())
                .checked_mul(dtype.type_size())
                .and_then(|bytes| u64::try_from(bytes).ok())
                .and_then(|bytes| bytes.checked_add(info.offset))
                .and_then(|end| end.checked_add(content.tensor_data_offset))
                .ok_or_else(|| corrupt(format!("tensor {name}: its size overflows")))?;
            expected_len = expected_len.max(end);
        }
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
        let Some(architecture) = Architecture::from_gguf_name(&architecture_name) else {
            return Err(InputError::UnsupportedArchitecture {
                path: path.to_path_buf(),
                // An untrusted string: shown short, on one line.
                architecture: crate::comparison::shorten(&architecture_name, 40)
                    .escape_debug()
                    .to_string(),
                supported: Architecture::supported_names(),
            });
        };
        Ok(Self {
            path: path.to_path_buf(),
            content,
            reader,
            architecture,
        })
    }

    /// Moves the metadata keys starting with `prefix` out of this file's
    /// header (e.g. `tokenizer.`, which no weights loader reads), so they can
    /// be used on another thread while this file's weights are read.
    pub fn split_off(&mut self, prefix: &str) -> MetadataPart {
        let values = self
            .content
            .metadata
            .extract_if(|key, _| key.starts_with(prefix))
            .collect();
        MetadataPart {
            path: self.path.clone(),
            values,
        }
    }

    /// `{architecture}.{suffix}`, e.g. `llama.context_length`.
    pub fn arch_key(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.architecture.gguf_name())
    }
}

impl Metadata for GgufFile {
    fn get(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// Metadata keys split off a [`GgufFile`]'s header (see
/// [`GgufFile::split_off`]).
pub struct MetadataPart {
    path: PathBuf,
    values: HashMap<String, Value>,
}

impl Metadata for MetadataPart {
    fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// Typed access to a GGUF file's metadata; absent or mistyped values are
/// corrupt-file errors naming the file.
pub trait Metadata {
    /// The raw metadata value under `key`, if present.
    fn get(&self, key: &str) -> Option<&Value>;

    /// The file the metadata came from.
    fn path(&self) -> &Path;

    /// A required metadata value, as a corrupt-file error when absent.
    fn require(&self, key: &str) -> Result<&Value, InputError> {
        self.get(key)
            .ok_or_else(|| self.corrupt(format!("missing metadata key {key}")))
    }

    /// A required unsigned integer.
    fn require_u32(&self, key: &str) -> Result<u32, InputError> {
        self.require(key)?
            .to_u32()
            .map_err(|e| self.corrupt(format!("{key}: {e}")))
    }

    /// An optional unsigned integer.
    fn optional_u32(&self, key: &str) -> Option<u32> {
        self.get(key).and_then(|v| v.to_u32().ok())
    }

    /// An optional float.
    fn optional_f32(&self, key: &str) -> Option<f32> {
        self.get(key).and_then(|v| v.to_f32().ok())
    }

    /// An optional boolean.
    fn optional_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(|v| v.to_bool().ok())
    }

    /// An optional string.
    fn optional_str(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(|v| v.to_string().ok())
            .map(String::as_str)
    }

    /// A corrupt-file error about this file, giving `reason` as one short line (see
    /// [`reason_line`]).
    fn corrupt(&self, reason: impl Into<String>) -> InputError {
        InputError::CorruptGguf {
            path: self.path().to_path_buf(),
            reason: reason_line(&reason.into()),
        }
    }
}

/// The GGUF header (candle's reader), with a header that makes the reader
/// itself panic (a tensor-data alignment of 0 divides by zero) turned into
/// an error: a model file is untrusted input.
fn read_header(reader: &mut FileReader) -> Result<Content, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Content::read(reader)));
    std::panic::set_hook(previous);
    match read {
        Ok(content) => content.map_err(|e| e.to_string()),
        Err(_) => Err("its header cannot be read (the GGUF reader gave up on it)".to_string()),
    }
}

/// The first line of an error message, so every error prints as one line.
pub fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_string()
}

/// Why a file is corrupt, as one short line: the first line only (a candle
/// error carries a backtrace in its text when `RUST_BACKTRACE` is set; the
/// fuzz target found "not a u32 U8(0)" followed by 21 frames), control
/// characters shown, not sent, and cut to 200 characters (the reader quotes
/// the file's own strings, such as a tensor's name, whole).
fn reason_line(message: &str) -> String {
    let line = first_line(message);
    crate::comparison::shorten(&crate::render::style::terminal_safe(&line), 200)
}

/// What a model load reads before the weights: the header, the
/// configuration, the chat template and, with `tokenizer`, the tokenizer
/// (the slow part: building a 49k- or 262k-token BPE). The mutation test
/// below and the fuzz target (`fuzz/`) read untrusted files through it.
pub fn read_like_a_load(path: &Path, tokenizer: bool) -> Result<(), String> {
    let gguf = GgufFile::open(path).map_err(|e| e.to_string())?;
    crate::lm::ModelConfig::from_gguf(&gguf).map_err(|e| e.to_string())?;
    crate::prompt::PromptFormat::from_gguf(&gguf);
    if tokenizer {
        crate::tokenizer::TextTokenizer::from_gguf(&gguf).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Mutated headers of the real models: every one is read as a model file
/// would be (header, configuration, tokenizer, chat template) and gives a
/// value or an error, never a panic.
#[cfg(test)]
mod mutation_tests {
    use std::io::{Read, Seek, SeekFrom, Write};

    use super::GgufFile;
    use crate::store::ModelChoice;

    /// One mutation in this many also builds the tokenizer.
    const TOKENIZER_EVERY: usize = 40;

    /// A small xorshift generator: the same mutations on every run.
    struct Mutations(u64);

    impl Mutations {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    use super::read_like_a_load;

    /// `mutations` mutated headers of `alias`'s file: a copy with the
    /// real header and the weights left as a sparse hole of the same size.
    fn mutate(alias: &str, mutations: usize, seed: u64) -> (usize, usize) {
        let source = ModelChoice::resolve(Some(alias), None, None)
            .unwrap()
            .local_path()
            .unwrap();
        let header_len = GgufFile::open(&source).unwrap().content.tensor_data_offset as usize;
        let mut header = vec![0u8; header_len];
        std::fs::File::open(&source)
            .unwrap()
            .read_exact(&mut header)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("mutated.gguf");
        let mut file = std::fs::File::create(&copy).unwrap();
        file.write_all(&header).unwrap();
        file.set_len(std::fs::metadata(&source).unwrap().len())
            .unwrap();
        assert!(
            read_like_a_load(&copy, true).is_ok(),
            "the unmutated copy loads"
        );
        let mut rng = Mutations(seed);
        let (mut loaded, mut refused) = (0, 0);
        for i in 0..mutations {
            // Mostly where the structure is (counts, lengths, types, the
            // tensor directory at the end), sometimes anywhere.
            let at = match rng.below(4) {
                0 => rng.below(header_len.min(64)),
                1 => header_len - 1 - rng.below(header_len.min(4096)),
                _ => rng.below(header_len),
            };
            let width = 1 + rng.below(8).min(header_len - at - 1);
            let original = header[at..at + width].to_vec();
            let mut mutated = original.clone();
            for byte in &mut mutated {
                *byte = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    _ => rng.next() as u8,
                };
            }
            let write = |file: &mut std::fs::File, bytes: &[u8]| {
                file.seek(SeekFrom::Start(at as u64)).unwrap();
                file.write_all(bytes).unwrap();
                file.flush().unwrap();
            };
            write(&mut file, &mutated);
            // Every mutation through the header and configuration; one in
            // TOKENIZER_EVERY through the tokenizer too.
            let outcome =
                std::panic::catch_unwind(|| read_like_a_load(&copy, i % TOKENIZER_EVERY == 0));
            write(&mut file, &original);
            match outcome {
                Ok(Ok(())) => loaded += 1,
                Ok(Err(message)) => {
                    // (The command line folds what lines remain onto one.)
                    assert!(
                        message.lines().count() == 1 && message.chars().count() <= 400,
                        "{alias}: bytes {at}..{} set to {mutated:02x?}: {}",
                        at + width,
                        crate::comparison::shorten(&message, 300)
                    );
                    refused += 1;
                }
                Err(_) => panic!(
                    "{alias}: bytes {at}..{} set to {mutated:02x?} panicked",
                    at + width
                ),
            }
        }
        (loaded, refused)
    }

    /// Mutations per model: `DETPROB_GGUF_MUTATIONS` (by hand: 5000 each
    /// took 222 s here), else what fits the suite's time (a parse of
    /// Gemma's 262k-token header takes ~35 ms, SmolLM2's ~8 ms).
    fn mutations(default: usize) -> usize {
        std::env::var("DETPROB_GGUF_MUTATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    #[test]
    fn mutated_headers_of_both_models_are_errors_never_panics() {
        let started = std::time::Instant::now();
        let (smol_ok, smol_refused) = mutate("smollm2-135m", mutations(1_500), 0x5eed_0001);
        let (gemma_ok, gemma_refused) = mutate("gemma3-270m", mutations(400), 0x5eed_0002);
        // Both kinds of outcome happen: the mutations reach the structure.
        assert!(smol_refused > 50 && gemma_refused > 50);
        assert!(smol_ok > 50 && gemma_ok > 50);
        eprintln!(
            "mutations: smollm2 {smol_ok} loaded, {smol_refused} refused; gemma3 {gemma_ok} loaded, {gemma_refused} refused; {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
}
