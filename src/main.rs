//! The `detprob` binary: parse arguments, run the command, print its output
//! or a one-line error. Exit codes: 0 success, 1 internal failure, 2 bad input.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use detprob::cli::Cli;
use detprob::error::InputError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match detprob::commands::run(cli) {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
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
            eprintln!("error: {message}");
            if error.chain().any(|cause| cause.is::<InputError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
