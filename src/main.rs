//! The `detprob` binary: parse arguments, run the command, print its output
//! or a one-line error. Exit codes: 0 success, 1 internal failure, 2 bad input.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use detprob::cli::Cli;
use detprob::error::InputError;
use detprob::render::style::terminal_safe;

/// mimalloc: building the tokenizer allocates and frees tens of thousands
/// of small strings and map entries, and a prefill many short-lived
/// buffers; mimalloc serves both faster than the system allocator. Built
/// without asking for transparent huge pages (`no_thp`): a step's fresh
/// buffers then fault in 4 KiB pages, not 2 MiB ones zeroed whole (and
/// compacted for on a busy machine), which made SmolLM2's 32 × 48 grid
/// about 9 % faster and `emergence metric` on Gemma 3 about 7 %, for about
/// 30 ms more to load a Qwen tokenizer.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version are not errors: clap prints them as usual.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("{}", terminal_safe(&one_line_usage_error(&e.to_string())));
            return ExitCode::from(2);
        }
    };
    match run_on_the_pool(cli) {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            let output = if stdout.is_terminal() {
                terminal_safe(&output)
            } else {
                output.as_str().into()
            };
            match stdout
                .write_all(output.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write output: {e}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(error) => {
            // One line: each cause's first line, joined as `{:#}` joins
            // them (a cause's further lines are a backtrace that candle
            // writes into its errors' text when RUST_BACKTRACE is set).
            let message = error
                .chain()
                .map(|cause| detprob::gguf::first_line(&cause.to_string()))
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("error: {}", terminal_safe(&message));
            if error.chain().any(|cause| cause.is::<InputError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Runs the command on a worker of the thread pool that its parallel work
/// uses, so that each parallel step is shared with the thread that started
/// it instead of handed over to the pool and waited for (the pool has
/// `RAYON_NUM_THREADS` threads, by default one per core).
fn run_on_the_pool(cli: detprob::cli::Cli) -> anyhow::Result<String> {
    match rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .build()
    {
        Ok(pool) => pool.install(|| detprob::commands::run(cli)),
        // No pool (threads could not start): run here, on the global pool.
        Err(_) => detprob::commands::run(cli),
    }
}

/// Stack of each pool thread: the main thread's usual size.
const STACK_SIZE: usize = 8 << 20;

/// clap's usage error folded onto one line: the message and any details,
/// without the usage block and the pointer to `--help`.
fn one_line_usage_error(rendered: &str) -> String {
    let line = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // clap quotes the whole rejected value: keep its start (a 10,000-seed
    // list made a 49,000-character line).
    const VALUE: &str = "invalid value '";
    match line.find(VALUE).map(|start| start + VALUE.len()) {
        Some(start) => match line[start..].find("' for '") {
            Some(len) if len > 80 => format!(
                "{}{}{}",
                &line[..start],
                detprob::comparison::shorten(&line[start..start + len], 80),
                &line[start + len..]
            ),
            _ => line,
        },
        None => line,
    }
}
