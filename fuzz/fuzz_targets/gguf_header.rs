//! Fuzz target: any bytes, read as a model file the way a load reads one
//! (header, configuration, chat template, tokenizer), give a value or a
//! one-line error, never a panic, an abort or a hang. The file is padded
//! with a sparse hole so the tensors a small header describes seem present
//! and the configuration and tokenizer are reached.

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

/// Room the hole leaves for the tensors a header describes: enough for the
/// seeds' tensors (`seeds.py`), small enough that a mutated length reads at
/// most a mebibyte of the hole (with 4 GiB, one input read 587 MB of zeros
/// in 12 s).
const HOLE: u64 = 1 << 20;

fuzz_target!(|bytes: &[u8]| {
    let path = std::env::temp_dir().join(format!("detprob-fuzz-{}.gguf", std::process::id()));
    let mut file = std::fs::File::create(&path).expect("a temporary file");
    file.write_all(bytes).expect("writing the input");
    file.set_len(bytes.len() as u64 + HOLE).expect("a sparse hole");
    drop(file);
    if let Err(message) = detprob::gguf::read_like_a_load(&path, true) {
        assert!(
            message.lines().count() == 1 && message.chars().count() <= 400,
            "not a one-line error: {message:?}"
        );
    }
});
