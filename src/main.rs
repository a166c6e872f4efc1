//! The `detprob` binary: parse arguments, run the command, print its output
//! or a one-line error. Exit codes: 0 success, 1 internal failure, 2 bad input.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use detprob::cli::Cli;
use detprob::error::InputError;
use detprob::render::style::terminal_safe;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version are not errors: clap prints them as usual.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("{}", one_line_usage_error(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    match detprob::commands::run(cli) {
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
            let message = format!("{error:#}").replace('\n', " ");
            eprintln!("error: {}", terminal_safe(&message));
            if error.chain().any(|cause| cause.is::<InputError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// clap's usage error folded onto one line: the message and any details,
/// without the usage block and the pointer to `--help`.
fn one_line_usage_error(rendered: &str) -> String {
    rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
