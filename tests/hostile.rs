//! Hostile model files, crafted by the test (nothing binary is committed):
//! headers that made the GGUF reader panic or a size computation overflow
//! are one-line errors with exit code 2 in every model command, on both
//! engines — never a panic.

mod common;

use std::path::Path;

/// A GGUF v3 file: `metadata` (key, type id, value bytes), then one tensor
/// per `(name, dims, type id, offset)`, then `data` at the default
/// alignment.
fn gguf(
    metadata: &[(&str, u32, Vec<u8>)],
    tensors: &[(&str, &[u64], u32, u64)],
    data: usize,
) -> Vec<u8> {
    let string = |s: &str| {
        [
            (s.len() as u64).to_le_bytes().to_vec(),
            s.as_bytes().to_vec(),
        ]
        .concat()
    };
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((metadata.len() as u64).to_le_bytes());
    for (key, kind, value) in metadata {
        out.extend(string(key));
        out.extend(kind.to_le_bytes());
        out.extend(value);
    }
    for (name, dims, kind, offset) in tensors {
        out.extend(string(name));
        out.extend((dims.len() as u32).to_le_bytes());
        for d in *dims {
            out.extend(d.to_le_bytes());
        }
        out.extend(kind.to_le_bytes());
        out.extend(offset.to_le_bytes());
    }
    out.resize(out.len().next_multiple_of(32) + data, 0);
    out
}

/// GGUF value types.
const U32: u32 = 4;
const STRING: u32 = 8;
/// GGML tensor types.
const F32: u32 = 0;

fn llama() -> (&'static str, u32, Vec<u8>) {
    let value = [5u64.to_le_bytes().to_vec(), b"llama".to_vec()].concat();
    ("general.architecture", STRING, value)
}

fn every_model_command_refuses(file: &Path, needle: &str) {
    let path = file.to_str().unwrap();
    for engine in ["detprob", "candle"] {
        for command in [
            &["generate", "hi", "-n", "2"][..],
            &["tokenize", "hi"][..],
            &["probs", "hi"][..],
            &["compare", "2+2", "--seeds", "1"][..],
        ] {
            let args = [command, &["--model-file", path, "--engine", engine][..]].concat();
            common::assert_input_error(&args, needle);
        }
    }
}

#[test]
fn a_tensor_data_alignment_of_zero_is_a_corrupt_file_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alignment-0.gguf");
    let alignment = ("general.alignment", U32, 0u32.to_le_bytes().to_vec());
    let bytes = gguf(
        &[llama(), alignment],
        &[("token_embd.weight", &[4, 8], F32, 0)],
        128,
    );
    std::fs::write(&file, bytes).unwrap();
    every_model_command_refuses(&file, "is a corrupt GGUF file: its header cannot be read");
}

#[test]
fn dimensions_whose_product_overflows_are_refused_before_any_read() {
    let dir = tempfile::tempdir().unwrap();
    for (name, dims, needle) in [
        (
            "overflow.gguf",
            &[1u64 << 40, 1 << 40][..],
            "its dimensions overflow",
        ),
        ("empty.gguf", &[0, 8][..], "do not fill whole"),
    ] {
        let file = dir.path().join(name);
        let bytes = gguf(&[llama()], &[("token_embd.weight", dims, F32, 0)], 128);
        std::fs::write(&file, bytes).unwrap();
        every_model_command_refuses(&file, needle);
    }
}

#[test]
fn a_special_token_id_beyond_the_vocabulary_is_a_corrupt_file() {
    // The real SmolLM2 file with its BOS id moved past its 49,152 tokens.
    let mut bytes = std::fs::read(common::cached_model_path("smollm2-135m")).unwrap();
    let key = b"tokenizer.ggml.bos_token_id";
    let at = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("the key is in the header")
        + key.len();
    assert_eq!(&bytes[at..at + 4], &4u32.to_le_bytes(), "a u32 value");
    bytes[at + 4..at + 8].copy_from_slice(&1_000_000u32.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bos.gguf");
    std::fs::write(&file, bytes).unwrap();
    let path = file.to_str().unwrap();
    for engine in ["detprob", "candle"] {
        for command in [&["tokenize", "hi"][..], &["generate", "hi", "-n", "2"][..]] {
            common::assert_input_error(
                &[command, &["--model-file", path, "--engine", engine][..]].concat(),
                "its bos token id 1000000 is beyond its 49152 tokens",
            );
        }
    }
}

#[test]
fn a_transposed_embedding_is_a_corrupt_file_on_both_engines() {
    // The real SmolLM2 file with its embedding's two dimensions swapped in
    // the header (49,152 × 576 becomes 576 × 49,152).
    let mut bytes = std::fs::read(common::cached_model_path("smollm2-135m")).unwrap();
    let name = b"token_embd.weight";
    let at = bytes
        .windows(name.len())
        .position(|w| w == name)
        .expect("the tensor is in the header")
        + name.len();
    assert_eq!(&bytes[at..at + 4], &2u32.to_le_bytes(), "two dimensions");
    let (first, second) = (at + 4, at + 12);
    let a: [u8; 8] = bytes[first..first + 8].try_into().unwrap();
    let b: [u8; 8] = bytes[second..second + 8].try_into().unwrap();
    assert_ne!(a, b);
    bytes[first..first + 8].copy_from_slice(&b);
    bytes[second..second + 8].copy_from_slice(&a);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transposed.gguf");
    std::fs::write(&file, bytes).unwrap();
    let path = file.to_str().unwrap();
    for engine in ["detprob", "candle"] {
        common::assert_input_error(
            &[
                "generate",
                "hi",
                "-n",
                "2",
                "--model-file",
                path,
                "--engine",
                engine,
            ],
            "token_embd.weight is [576, 49152], not vocabulary × 576",
        );
    }
}

#[test]
fn a_scenario_with_a_huge_input_is_refused_before_the_model_loads() {
    // 10,000 nested parentheses: before, minutes of prefill per sample.
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demos/01-definition.toml"),
    )
    .unwrap();
    let nested = "(".repeat(10_000) + "1" + &")".repeat(10_000);
    let edited = shipped.replace(
        "inputs = [{ text = \"What is 123456789 × 987654321?\", zh = \"123456789 × 987654321 等于多少？\" }]",
        &format!("inputs = [{{ text = \"{nested}\" }}]"),
    );
    assert_ne!(
        edited, shipped,
        "the shipped scenario's inputs line changed"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.toml");
    std::fs::write(&file, edited).unwrap();
    common::assert_input_error(
        &["demo", "--file", file.to_str().unwrap()],
        "field `inputs`: an input to compare is at most 1000 characters",
    );
}

/// The stderr of `command`, asserted to be one bad-input line (exit 2) of
/// fewer than `at_most` characters.
fn short_input_error(command: &mut assert_cmd::Command, at_most: usize) -> String {
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.lines().count() == 1 && stderr.chars().count() < at_most,
        "{} characters: {stderr:?}",
        stderr.chars().count()
    );
    stderr
}

/// A scenario's own text in an error (a key, what the parser quotes) is
/// quoted short: a 200,000-character key made a 400,000-character error.
#[test]
fn a_scenario_with_a_huge_key_is_a_short_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("long.toml", format!("{} = 1\n", "a".repeat(200_000))),
        (
            "dotted.toml",
            format!("{} = 1\n", vec!["a"; 50_000].join(".")),
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let stderr = short_input_error(common::detprob().args(["demo", "--file"]).arg(&file), 400);
        assert!(stderr.contains(name), "{stderr}");
    }
}

/// A metadata value of the wrong type is one short line even when
/// `RUST_BACKTRACE` is set: candle's error text then carries a backtrace,
/// which made a 9,512-character error of machine paths (found by the fuzz
/// target in `fuzz/`).
#[test]
fn a_wrongly_typed_value_is_one_short_line_with_backtraces_on() {
    const U8: u32 = 0;
    let file = gguf(
        &[llama(), ("llama.attention.head_count", U8, vec![0])],
        &[("token_embd.weight", &[8, 4], F32, 0)],
        128,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.gguf");
    std::fs::write(&path, file).unwrap();
    for engine in ["detprob", "candle"] {
        let stderr = short_input_error(
            common::detprob()
                .args(["generate", "hi", "-n", "2", "--engine", engine])
                .arg("--model-file")
                .arg(&path)
                .env("RUST_BACKTRACE", "1"),
            300,
        );
        assert!(stderr.contains("head_count"), "{engine}: {stderr}");
    }
}

/// The reader quotes a tensor's name whole; a name of 1,000 control
/// characters with too many dimensions made an error over 1,000 characters
/// long (found by the fuzz target). The reason is one short line, control
/// characters shown, not sent.
#[test]
fn a_tensor_with_a_huge_name_is_a_short_error() {
    let name = "\u{1}".repeat(1000) + "x";
    let dir = tempfile::tempdir().unwrap();
    // Too many dimensions (the reader's check), and dimensions whose
    // product overflows (detprob's own).
    let too_many: &[u64] = &[1, 1, 1, 1, 1, 1];
    let overflowing: &[u64] = &[u64::MAX / 2, 4];
    for (i, dims) in [too_many, overflowing].into_iter().enumerate() {
        let path = dir.path().join(format!("named{i}.gguf"));
        std::fs::write(&path, gguf(&[llama()], &[(&name, dims, F32, 0)], 32)).unwrap();
        let stderr = short_input_error(
            common::detprob()
                .args(["tokenize", "hi", "--model-file"])
                .arg(&path),
            400,
        );
        assert!(stderr.contains("corrupt GGUF file: "), "{stderr}");
        assert!(
            stderr.contains("\\x01\\x01") && !stderr.contains('\u{1}'),
            "{stderr:?}"
        );
    }
}
