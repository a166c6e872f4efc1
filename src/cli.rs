//! Command-line flags, as clap parses them. Checks that need more than one
//! flag, or a loaded model, happen in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Watch, live and reproducibly, how a conventional program differs from a
/// language model.
#[derive(Debug, Parser)]
#[command(name = "detprob", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// detprob's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a completion of PROMPT with a seeded, documented sampler.
    Generate(GenerateArgs),
    /// Show how the model splits TEXT into tokens.
    Tokenize(TokenizeArgs),
    /// List, fetch or locate the models detprob knows.
    #[command(subcommand)]
    Model(ModelCommand),
}

/// Which model to load.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Model alias (see `detprob model list`).
    #[arg(long, short = 'm', value_name = "ALIAS")]
    pub model: Option<String>,
    /// Any GGUF file of a supported architecture (llama, gemma3); overrides --model.
    #[arg(long, value_name = "PATH")]
    pub model_file: Option<PathBuf>,
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// JSON (plain data, every field).
    Json,
}

/// Flags of `detprob generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Sampling temperature; 0 means greedy (always the most likely token).
    #[arg(
        long,
        short = 't',
        default_value_t = 0.7,
        allow_negative_numbers = true
    )]
    pub temperature: f64,
    /// Seed of the random stream; the same seed gives the same text. Random if omitted.
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Keep only the K most likely tokens before sampling.
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// Keep the most likely tokens whose probabilities add up to P, in (0, 1].
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub top_p: Option<f64>,
    /// Drop tokens less than P times as likely as the most likely, in [0, 1].
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub min_p: Option<f64>,
    /// At most this many new tokens.
    #[arg(long, short = 'n', default_value_t = 64)]
    pub max_tokens: usize,
    /// Send PROMPT exactly as given, without the model's chat template.
    #[arg(long)]
    pub raw: bool,
    /// Do not stop at end-of-text: always produce --max-tokens tokens.
    #[arg(long)]
    pub ignore_eos: bool,
    /// How many of the most likely tokens to record at each step (JSON).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub alternatives: usize,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// The prompt.
    pub prompt: String,
}

/// Flags of `detprob tokenize`.
#[derive(Debug, Args)]
pub struct TokenizeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Wrap TEXT in the model's chat template first, as `generate` does.
    #[arg(long)]
    pub chat: bool,
    /// The text to split.
    pub text: String,
}

/// `detprob model …`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// List the known models, their licences and whether they are cached.
    List {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Download and verify a model into the cache (all models if none named).
    Fetch {
        /// Model alias.
        alias: Option<String>,
        /// Re-hash a cached file and replace it if it does not match.
        #[arg(long)]
        verify: bool,
    },
    /// Print the path of a model's file, fetching it first if needed.
    Path {
        /// Model alias (default: smollm2-135m).
        alias: Option<String>,
    },
}
