//! Output that streams on a terminal: `generate` run in a pseudo-terminal
//! shows its first tokens well before it ends, and what the terminal finally
//! shows equals what a pipe gets.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A pseudo-terminal pair: (controller, the terminal side a child writes to).
fn open_pty() -> (std::fs::File, OwnedFd) {
    let (mut controller, mut terminal) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the integers given; no
    // name, termios or window size is passed.
    let status = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(status, 0, "openpty failed");
    // SAFETY: both descriptors were just opened and are owned here alone.
    unsafe {
        (
            std::fs::File::from_raw_fd(controller),
            OwnedFd::from_raw_fd(terminal),
        )
    }
}

const ARGS: [&str; 9] = [
    "generate",
    "--max-tokens",
    "64",
    "--ignore-eos",
    "-t",
    "0.8",
    "--seed",
    "3",
    "Tell me a story about a lighthouse.",
];

#[test]
fn generate_streams_its_tokens_on_a_terminal() {
    let (mut controller, terminal) = open_pty();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_detprob"))
        .env("DETPROB_LOG", "off")
        .args(ARGS)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(terminal.try_clone().unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(terminal);
    // Read until the child closes the terminal, noting when text arrived.
    let mut output = Vec::new();
    let mut first_text: Option<Duration> = None;
    let mut buffer = [0u8; 4096];
    loop {
        match controller.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if first_text.is_none() && buffer[..n].iter().any(|b| b.is_ascii_alphabetic()) {
                    first_text = Some(started.elapsed());
                }
                output.extend_from_slice(&buffer[..n]);
            }
        }
    }
    assert!(child.wait().unwrap().success());
    let total = started.elapsed();
    let first = first_text.expect("some text arrived");
    assert!(
        first.as_secs_f64() < 0.6 * total.as_secs_f64(),
        "first text after {first:?} of {total:?}: not streamed"
    );
    // The terminal showed what a pipe gets (the terminal writes \r\n).
    let shown = String::from_utf8_lossy(&output).replace("\r\n", "\n");
    let piped = Command::new(env!("CARGO_BIN_EXE_detprob"))
        .env("DETPROB_LOG", "off")
        .args(ARGS)
        .output()
        .unwrap();
    assert_eq!(shown, String::from_utf8_lossy(&piped.stdout));
    assert!(
        shown.contains("64 tokens, stopped at token limit"),
        "{shown}"
    );
}
