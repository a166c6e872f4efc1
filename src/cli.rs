//! Command-line flags, as clap parses them. Checks that need more than one
//! flag, or a loaded model, happen in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::lm::Engine;
use crate::options::{Lengths, Seeds, Temperatures};
use crate::render::Format;
use crate::words::Lang;

/// Formats of a report that reads as a document: text, Markdown, JSON.
const DOCUMENT: &[Format] = &[Format::Terminal, Format::Markdown, Format::Json];
/// Formats of a report made of rows: a document's, plus CSV.
const ROWS: &[Format] = &[
    Format::Terminal,
    Format::Markdown,
    Format::Json,
    Format::Csv,
];
/// Formats of a classroom run: a document's, plus a self-contained HTML handout.
const CLASSROOM: &[Format] = &[
    Format::Terminal,
    Format::Markdown,
    Format::Html,
    Format::Json,
];

/// The format names on the command line; `text` is an alias of `terminal`.
impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Self::Terminal,
            Self::Markdown,
            Self::Json,
            Self::Csv,
            Self::Html,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            Self::Terminal => PossibleValue::new("terminal")
                .alias("text")
                .help("Text for a terminal or a projector (`text` is an alias)"),
            Self::Markdown => {
                PossibleValue::new("markdown").help("Markdown, for slides and handouts")
            }
            Self::Json => PossibleValue::new("json").help("JSON: every field, plain data"),
            Self::Csv => PossibleValue::new("csv").help("CSV: one row per table row"),
            Self::Html => PossibleValue::new("html")
                .help("A self-contained HTML handout (styles and charts inline)"),
        })
    }
}

/// A `--format` parser that accepts the formats in `allowed` (and their
/// aliases, such as `text` for `terminal`), so that every command spells
/// the same format the same way and lists only what it can write.
fn formats(allowed: &'static [Format]) -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(allowed.iter().filter_map(|f| f.to_possible_value()))
        .map(|name| Format::from_str(&name, true).expect("a listed format parses"))
}

/// Declares a `--format` flag group accepting the formats in `$allowed`,
/// with `$help` as the flag's help, usable as the [`Format`] it holds.
macro_rules! format_flag {
    ($(#[$doc:meta])* $name:ident, $allowed:expr, $help:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Args)]
        pub struct $name {
            #[doc = $help]
            #[arg(long, short = 'f', default_value = "terminal", value_parser = formats($allowed))]
            pub format: Format,
        }

        impl std::ops::Deref for $name {
            type Target = Format;

            fn deref(&self) -> &Format {
                &self.format
            }
        }
    };
}

format_flag!(
    /// `--format` of a report that reads as a document (text, Markdown, JSON).
    DocumentFormat,
    DOCUMENT,
    "Output format."
);
format_flag!(
    /// `--format` of a report made of rows (a document's formats, plus CSV).
    RowsFormat,
    ROWS,
    "Output format."
);
format_flag!(
    /// `--format` of a classroom run (a document's formats, plus HTML).
    ClassroomFormat,
    CLASSROOM,
    "Output format (markdown or html writes a handout)."
);

/// Watch, live and reproducibly, how a conventional program differs from a
/// language model.
#[derive(Debug, Parser)]
#[command(name = "detprob", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: the showcase).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Language of everything detprob writes for a person (default: from
    /// the locale). JSON and CSV are the same in every language.
    #[arg(long, value_enum, global = true)]
    pub lang: Option<Lang>,
    /// Do not record this run in the run log (also: DETPROB_LOG=off).
    #[arg(long, global = true)]
    pub no_log: bool,
}

/// detprob's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Give the same input to a rule-based function and to the model, side by side.
    Compare(CompareArgs),
    /// Run the built-in showcase: a few inputs that show all three verdicts.
    Showcase(ShowcaseArgs),
    /// Generate a completion of PROMPT with a seeded, documented sampler.
    Generate(GenerateArgs),
    /// Show the next-token distribution after PROMPT, per temperature and filter.
    Probs(ProbsArgs),
    /// Show generation step by step, or where several seeds branch apart.
    Trace(TraceArgs),
    /// Run a classroom scenario (`--list` shows them; `--file` runs your own).
    Demo(DemoArgs),
    /// Walk through every scenario: each row of the table, then the summary points.
    Tour(TourArgs),
    /// Sample inputs × temperatures × seeds; rows appended to a CSV or JSONL file.
    Sweep(SweepArgs),
    /// Re-run a recorded manifest and report identical or the first differing step.
    Replay(ReplayArgs),
    /// Run the rule and the model N times on INPUT and count distinct outputs.
    Repeat(RepeatArgs),
    /// How likely the model finds a stated ANSWER to PROMPT, token by token.
    Score(ScoreArgs),
    /// Show how the model splits TEXT into tokens.
    Tokenize(TokenizeArgs),
    /// Part 0 of the note: why abilities seem to emerge suddenly, measured.
    #[command(subcommand)]
    Emergence(EmergenceCommand),
    /// The classroom screen: type a question, watch the rule and the model live.
    Live(LiveArgs),
    /// Serve the class: a projector page, a page each student samples from, an OpenAI-style API.
    Serve(ServeArgs),
    /// Does an OpenAI-style server give the same output for the same request, alone and under load?
    Audit(AuditArgs),
    /// List, fetch or locate the models detprob knows.
    #[command(subcommand)]
    Model(ModelCommand),
    /// The run log: every generate, compare, sweep and served request, replayable.
    #[command(subcommand)]
    Log(LogCommand),
}

impl Command {
    /// The output format the command's flags ask for (terminal where a
    /// command has no --format).
    pub fn format(&self) -> Format {
        match self {
            Command::Compare(a) => *a.grid.format,
            Command::Showcase(a) => *a.grid.format,
            Command::Generate(a) => *a.format,
            Command::Probs(a) => *a.format,
            Command::Trace(a) => *a.format,
            Command::Demo(a) => *a.classroom.format,
            Command::Tour(a) => *a.classroom.format,
            Command::Sweep(a) => *a.format,
            Command::Replay(a) => *a.format,
            Command::Repeat(a) => *a.format,
            Command::Score(a) => *a.format,
            Command::Tokenize(a) => *a.format,
            Command::Emergence(command) => match command {
                EmergenceCommand::Metric(a) => *a.output.format,
                EmergenceCommand::Ladder(a) => *a.output.format,
                EmergenceCommand::Subtasks(a) => *a.output.format,
                EmergenceCommand::Grok(a) => *a.output.format,
                EmergenceCommand::Scale(a) => *a.output.format,
            },
            Command::Model(ModelCommand::List { format }) => **format,
            Command::Audit(a) => *a.format,
            Command::Log(LogCommand::List(a)) => *a.format,
            Command::Log(LogCommand::Show { format, .. }) => **format,
            Command::Log(LogCommand::Replay { format, .. }) => **format,
            Command::Live(_) | Command::Serve(_) | Command::Model(_) | Command::Log(_) => {
                Format::Terminal
            }
        }
    }
}

/// `detprob log …`: the run log.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Recorded runs, newest first.
    List(LogListArgs),
    /// One entry: its model, prompts, settings, seeds and texts.
    Show {
        /// The entry's number (from `log list`).
        id: i64,
        #[command(flatten)]
        format: DocumentFormat,
    },
    /// Re-run an entry: identical, or the first differing step.
    Replay {
        /// The entry's number (from `log list`).
        id: i64,
        #[command(flatten)]
        format: DocumentFormat,
    },
    /// Every completion of the entries found, one row each, on stdout.
    Export {
        /// jsonl (one JSON object per line) or csv.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        #[command(flatten)]
        filter: LogFilter,
    },
}

/// How `log export` writes rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// Which entries `log list` and `log export` read.
#[derive(Debug, Args)]
pub struct LogFilter {
    /// Only entries recorded since: a date (2026-12-06), a UTC time
    /// (2026-12-06T13:00:00) or an age (30m, 2h, 7d).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only entries whose prompt or first text contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// At most this many entries, newest first.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
}

/// Flags of `detprob log list`.
#[derive(Debug, Args)]
pub struct LogListArgs {
    #[command(flatten)]
    pub filter: LogFilter,
    #[command(flatten)]
    pub format: DocumentFormat,
}

/// Flags of `detprob audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The server: http(s)://host:port, with or without /v1.
    #[arg(long, value_name = "URL", required_unless_present = "local")]
    pub endpoint: Option<String>,
    /// Audit detprob's own engine: start `detprob serve` on a free loopback
    /// port for the audit, and stop it after.
    #[arg(long, conflicts_with_all = ["endpoint", "api_key_env"])]
    pub local: bool,
    /// The model's name on the server [default: the first one it lists];
    /// with --local, the model to serve (an alias).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The environment variable that holds the API key, if the server wants one.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Prompts, one per line [default: four short built-in prompts].
    #[arg(long, value_name = "FILE")]
    pub prompts: Option<PathBuf>,
    /// Identical requests per prompt, mode and concurrency.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Requests in flight at once, one round each (1: one after another).
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_values_t = [1, 8])]
    pub concurrency: Vec<usize>,
    /// Tokens per answer at most.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_tokens: usize,
    /// Send each prompt as a chat's user message (/v1/chat/completions).
    #[arg(long)]
    pub chat: bool,
    /// The seeded rounds' temperature.
    #[arg(long, default_value_t = 0.8, allow_negative_numbers = true)]
    pub temperature: f64,
    /// The seeded rounds' seed (another seed is tried once, to see whether it matters).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Seconds to wait for one answer (a request is tried up to four times).
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub timeout: u64,
    #[command(flatten)]
    pub format: DocumentFormat,
}

/// Flags of `detprob serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; beyond loopback (e.g. 0.0.0.0) students and
    /// scripts need the class code printed at start.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDRESS")]
    pub host: std::net::IpAddr,
    /// Port to listen on (0: any free port; the first line printed is the URL).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Models to serve, comma-separated; the first is the class's
    /// [default: smollm2-135m, or the Chinese class's model with --lang zh].
    #[arg(
        long = "model",
        short = 'm',
        value_name = "ALIAS,…",
        value_delimiter = ','
    )]
    pub models: Vec<String>,
    /// Code that runs the models.
    #[arg(long, value_enum, default_value_t = Engine::Detprob, env = "DETPROB_ENGINE")]
    pub engine: Engine,
    /// The class's first question [default: a multiplication].
    #[arg(long, value_name = "TEXT")]
    pub question: Option<String>,
    /// Let students send their own questions (not counted in the class's answers).
    #[arg(long)]
    pub own_questions: bool,
    /// A key scripts may send (`Authorization: Bearer KEY`) in place of the
    /// class code; when given, it is required on loopback too.
    #[arg(
        long,
        value_name = "KEY",
        env = "DETPROB_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// Filled in from the global --lang.
    #[arg(skip)]
    pub lang: Option<Lang>,
}

/// Flags of `detprob live`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `detprob emergence …`: the note's causes of "emergence", made visible.
#[derive(Debug, Subcommand)]
pub enum EmergenceCommand {
    /// Strict and smooth metrics on problems of growing length, on the real models.
    Metric(EmergenceMetricArgs),
    /// The same problems asked of real models of growing size: each metric against parameter count.
    Ladder(EmergenceLadderArgs),
    /// The composition law p^k: smooth sub-tasks, a whole task that seems to jump.
    Subtasks(EmergenceSubtasksArgs),
    /// Grokking, trained live: memorize (a + b) mod p first, generalize much later.
    Grok(EmergenceGrokArgs),
    /// Tiny models of growing size trained on 3-digit addition: smooth digits, a steep exact match.
    Scale(EmergenceScaleArgs),
}

/// Flags of `detprob emergence scale`.
#[derive(Debug, Args)]
pub struct EmergenceScaleArgs {
    /// Hidden widths, one model each, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_values_t = [4, 8, 16, 32, 64, 128, 256])]
    pub widths: Vec<usize>,
    /// Optimizer steps per model (the same budget for every size).
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 3e-3, allow_negative_numbers = true)]
    pub lr: f64,
    #[command(flatten)]
    pub seeds: SeedArgs,
    #[command(flatten)]
    pub output: EmergenceOutputArgs,
}

/// Flags of `detprob emergence grok`.
#[derive(Debug, Args)]
pub struct EmergenceGrokArgs {
    /// The modulus p (a prime from 3 to 257).
    #[arg(long, default_value_t = 97)]
    pub modulus: usize,
    /// Share of the p² pairs (a, b) used for training; the rest are the test.
    #[arg(long, value_name = "F", default_value_t = 0.2)]
    pub train_fraction: f64,
    /// One model per fraction (e.g. 0.2,0.3,0.4,0.5,0.6): steps to grok against the amount of data.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        conflicts_with = "train_fraction"
    )]
    pub train_fractions: Vec<f64>,
    /// Hidden width.
    #[arg(long, default_value_t = 256)]
    pub width: usize,
    /// AdamW learning rate.
    #[arg(long, default_value_t = 1e-2, allow_negative_numbers = true)]
    pub lr: f64,
    /// AdamW weight decay (0 is the control that should not grok in the same budget).
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    pub weight_decay: f64,
    /// Most optimizer steps.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Seed of the initialization and the train/test split.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Amplify the slow part of the gradient (Grokfast's EMA filter).
    #[arg(long)]
    pub grokfast: bool,
    /// Evaluate every this many steps.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub log_every: usize,
    /// Train to the full --steps even after the test accuracy reaches 99 %.
    #[arg(long)]
    pub no_stop: bool,
    /// Code that trains the network: detprob's fused step, or candle's
    /// autograd (the reference; same curve up to float rounding).
    #[arg(long, value_enum, default_value_t = Engine::Detprob, env = "DETPROB_ENGINE")]
    pub engine: Engine,
    /// Draw the step axis linearly (it is on a log scale by default, as
    /// grokking curves are drawn, so the early steps are not squeezed).
    #[arg(long)]
    pub linear_steps: bool,
    /// The step axis on a log scale: the default now, kept for old scripts.
    #[arg(long, hide = true, conflicts_with = "linear_steps")]
    pub log_steps: bool,
    /// A phase diagram: one model per train fraction × weight decay (×
    /// Grokfast off/on with --grokfast-both), each cell the step where test
    /// accuracy reached 95%, or never.
    #[arg(long)]
    pub phase: bool,
    /// Weight decays of the phase diagram (default 0,0.1,0.3,1).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "phase",
        allow_negative_numbers = true
    )]
    pub weight_decays: Vec<f64>,
    /// In the phase diagram, train every cell with and without Grokfast.
    #[arg(long, requires = "phase")]
    pub grokfast_both: bool,
    #[command(flatten)]
    pub output: EmergenceOutputArgs,
}

/// `--plot FILE.svg [--force]`: a chart for slides.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Also draw the chart as an SVG file (an existing file is kept unless
    /// --force is given).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Replace an existing --plot file (only ever a regular file).
    #[arg(long, requires = "plot")]
    pub force: bool,
}

/// A part of the source note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Part 0: emergent abilities.
    #[value(name = "0")]
    Emergence,
    /// Part 1: LLM vs ordinary program.
    #[value(name = "1")]
    Comparison,
    /// Both parts.
    All,
}

impl Part {
    /// Whether a scenario of note part `part` belongs to this selection.
    pub fn includes(self, part: u8) -> bool {
        match self {
            Part::Emergence => part == 0,
            Part::Comparison => part == 1,
            Part::All => true,
        }
    }
}

/// How every `detprob emergence` command writes its report: the chart for
/// slides, the format (csv gives one row per table row), the language.
#[derive(Debug, Args)]
pub struct EmergenceOutputArgs {
    #[command(flatten)]
    pub plot: PlotArgs,
    #[command(flatten)]
    pub format: RowsFormat,
}

/// Flags of `detprob emergence metric`.
#[derive(Debug, Args)]
pub struct EmergenceMetricArgs {
    /// Models to ask, comma-separated (default: smollm2-135m,gemma3-270m).
    #[arg(long, short = 'm', value_name = "ALIAS", value_delimiter = ',')]
    pub model: Vec<String>,
    /// Any GGUF file of a supported architecture instead of --model.
    #[arg(long, value_name = "PATH", conflicts_with = "model")]
    pub model_file: Option<PathBuf>,
    /// Check the --model-file against this SHA-256 before using it.
    #[arg(long, value_name = "HEX", requires = "model_file")]
    pub sha256: Option<String>,
    /// Code that runs the model.
    #[arg(long, value_enum, default_value_t = Engine::Detprob, env = "DETPROB_ENGINE")]
    pub engine: Engine,
    /// The task family: add two k-digit numbers, or reverse k letters.
    #[arg(long, value_enum, default_value_t = crate::emergence::problems::Family::Addition)]
    pub family: crate::emergence::problems::Family,
    /// Lengths k to ask (digits per number, or letters): a range `1..6` or a list `1,2,4`.
    #[arg(long, alias = "lengths", value_name = "K", default_value = "1..6")]
    pub digits: Lengths,
    /// Problems per length, per seed.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub problems: usize,
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Draw the charts' shares on a log scale (0.1% to 100%), on the terminal
    /// and in --plot: the view in which Schaeffer et al. (2023) found exact
    /// match rising smoothly.
    #[arg(long)]
    pub log_y: bool,
    #[command(flatten)]
    pub output: EmergenceOutputArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// With --endpoint: ask with few-shot lines on /v1/completions (a base
    /// model) instead of a chat whose earlier turns are the worked examples.
    #[arg(long, requires = "endpoint")]
    pub raw: bool,
}

/// `--seeds` of the part-0 commands that repeat a run per seed.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seeds, comma-separated: the run is repeated once per seed (the
    /// problems drawn, or the data and starting weights) and the runs are
    /// pooled; the same seeds give the same runs on every machine.
    #[arg(
        long = "seeds",
        alias = "seed",
        value_name = "SEED",
        value_delimiter = ',',
        default_value = "1"
    )]
    pub seeds: Vec<u64>,
}

/// Flags of `detprob emergence ladder`.
#[derive(Debug, Args)]
pub struct EmergenceLadderArgs {
    /// Models to ask, comma-separated, in any order (default: every model of the catalogue).
    #[arg(
        long = "models",
        alias = "model",
        short = 'm',
        value_name = "ALIAS",
        value_delimiter = ','
    )]
    pub models: Vec<String>,
    /// Code that runs the models.
    #[arg(long, value_enum, default_value_t = Engine::Detprob, env = "DETPROB_ENGINE")]
    pub engine: Engine,
    /// The task family.
    #[arg(long, value_enum, default_value_t = crate::emergence::problems::Family::Multiplication)]
    pub family: crate::emergence::problems::Family,
    /// Lengths k to ask: a range `1..3` or a list `1,2`.
    #[arg(long, alias = "lengths", value_name = "K", default_value = "1..2")]
    pub digits: Lengths,
    /// Problems per length, per seed.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub problems: usize,
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Print each model's prompt for the first problem.
    #[arg(long)]
    pub show_prompts: bool,
    /// Draw the charts' shares on a log scale (0.1% to 100%), on the terminal
    /// and in --plot: the view in which Schaeffer et al. (2023) found exact
    /// match rising smoothly.
    #[arg(long)]
    pub log_y: bool,
    #[command(flatten)]
    pub output: EmergenceOutputArgs,
}

/// Flags of `detprob emergence subtasks`.
#[derive(Debug, Args)]
pub struct EmergenceSubtasksArgs {
    /// Lay the points of a saved `emergence metric --format json` report on the curves.
    #[arg(long, value_name = "FILE.json")]
    pub from: Option<PathBuf>,
    /// Sub-task counts k to draw, comma-separated.
    #[arg(long, value_name = "K", value_delimiter = ',', default_values_t = crate::emergence::subtasks::COUNTS)]
    pub counts: Vec<usize>,
    #[command(flatten)]
    pub output: EmergenceOutputArgs,
}

/// Which model to load.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Model alias (see `detprob model list`).
    #[arg(long, short = 'm', value_name = "ALIAS")]
    pub model: Option<String>,
    /// Any GGUF file of a supported architecture (llama, gemma3, qwen2); overrides --model.
    #[arg(long, value_name = "PATH")]
    pub model_file: Option<PathBuf>,
    /// Check the --model-file against this SHA-256 before using it (it is
    /// otherwise used as is).
    #[arg(long, value_name = "HEX", requires = "model_file")]
    pub sha256: Option<String>,
    /// Code that runs the model: detprob's SIMD kernels, or candle's ops (slower reference).
    #[arg(long, value_enum, default_value_t = Engine::Detprob, env = "DETPROB_ENGINE")]
    pub engine: Engine,
}

/// A server to sample from instead of a local model.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// Sample from this OpenAI-compatible server (vLLM, SGLang, llama.cpp,
    /// Ollama, `detprob serve`; http(s)://host:port, with or without /v1)
    /// instead of a local model.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The model's name on the server [default: the first one it lists].
    #[arg(long, value_name = "NAME", requires = "endpoint")]
    pub remote_model: Option<String>,
    /// The environment variable that holds the server's API key.
    #[arg(long, value_name = "VAR", requires = "endpoint")]
    pub api_key_env: Option<String>,
    /// Requests in flight at once (rows are still written in order).
    #[arg(long, value_name = "N", default_value_t = 4, requires = "endpoint")]
    pub parallel: usize,
    /// Seconds to wait for one answer (a request is tried up to four times,
    /// with backoff, on 429, 5xx and dropped connections).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 120,
        requires = "endpoint"
    )]
    pub timeout: u64,
}

/// The sampler's filters, applied in this order before the temperature.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Keep only the K most likely tokens.
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// Keep the most likely tokens whose probabilities add up to P, in (0, 1].
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub top_p: Option<f64>,
    /// Drop tokens less than P times as likely as the most likely, in [0, 1].
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub min_p: Option<f64>,
}

impl FilterArgs {
    /// The filters as the sampler takes them.
    pub fn filters(&self) -> crate::sampler::Filters {
        crate::sampler::Filters {
            top_k: self.top_k,
            top_p: self.top_p,
            min_p: self.min_p,
        }
    }

    /// The validated sampling mode at `temperature` with these filters.
    pub fn sampling(
        &self,
        temperature: f64,
    ) -> Result<crate::sampler::Sampling, crate::error::InputError> {
        crate::sampler::Sampling::from_settings(temperature, self.top_k, self.top_p, self.min_p)
    }
}

/// `--record FILE [--force]`: a manifest that `detprob replay` can re-run.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Also write a manifest that `detprob replay` can re-run (an existing
    /// file is kept unless --force is given).
    #[arg(long = "record", id = "record", value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// Replace an existing --record file (only ever a regular file).
    #[arg(long, requires = "record")]
    pub force: bool,
}

impl GridArgs {
    /// The sample grid these flags ask for, with `default_seeds` when
    /// --seeds was not given.
    pub fn grid(
        &self,
        default_seeds: std::ops::RangeInclusive<u64>,
    ) -> Result<crate::report::compare::SampleGrid, crate::error::InputError> {
        crate::report::compare::SampleGrid::new(
            self.temperatures.0.clone(),
            self.seeds
                .as_ref()
                .map_or_else(|| default_seeds.collect(), |s| s.0.clone()),
            self.max_tokens,
        )
    }
}

/// The sample grid and model flags shared by `compare` and `showcase`.
#[derive(Debug, Args)]
pub struct GridArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Comma-separated sampling temperatures (0 = greedy).
    #[arg(
        long,
        default_value = "0,0.7,1.2",
        value_name = "LIST",
        allow_hyphen_values = true
    )]
    pub temperatures: Temperatures,
    /// Seeds: an inclusive range like 1..5, or a list like 1,2,9 [default: 1..5].
    #[arg(long, value_name = "SEEDS")]
    pub seeds: Option<Seeds>,
    /// At most this many tokens per model answer (answers also stop at a newline).
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_tokens: usize,
    #[command(flatten)]
    pub format: RowsFormat,
}

/// Flags of `detprob compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Use this rule instead of the one whose domain fits the input best.
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// The correct answer, to score both sides against.
    #[arg(long, value_name = "ANSWER")]
    pub truth: Option<String>,
    /// A file with one input per line (optionally `INPUT<TAB>TRUTH`): prints a summary table.
    #[arg(
        long,
        visible_alias = "inputs-file",
        value_name = "FILE",
        conflicts_with_all = ["input", "truth"]
    )]
    pub inputs: Option<PathBuf>,
    #[command(flatten)]
    pub record: RecordArgs,
    /// The input.
    #[arg(required_unless_present = "inputs")]
    pub input: Option<String>,
}

/// Flags of `detprob showcase`.
#[derive(Debug, Args)]
pub struct ShowcaseArgs {
    #[command(flatten)]
    pub grid: GridArgs,
}

/// The showcase's flags at their defaults: what `detprob` with no
/// subcommand runs.
#[derive(Debug, Parser)]
pub struct ShowcaseDefaults {
    #[command(flatten)]
    pub grid: GridArgs,
}

/// Flags of `detprob probs`.
#[derive(Debug, Args)]
pub struct ProbsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Comma-separated temperatures, one column each (0 = the argmax at probability 1).
    #[arg(
        long,
        default_value = "0,0.5,1.0,1.5",
        value_name = "LIST",
        allow_hyphen_values = true
    )]
    pub temperatures: Temperatures,
    /// How many of the most likely tokens to show per column.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Send PROMPT exactly as given, without the model's chat template.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub format: DocumentFormat,
    /// The prompt.
    pub prompt: String,
}

/// Flags of `detprob trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Sampling temperature; 0 means greedy.
    #[arg(
        long,
        short = 't',
        default_value_t = 0.8,
        allow_negative_numbers = true
    )]
    pub temperature: f64,
    /// Seed, or several (1..4 or 1,2,9) to see where samples branch.
    #[arg(long, short = 's', default_value = "1", value_name = "SEEDS")]
    pub seeds: Seeds,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// At most this many new tokens.
    #[arg(long, short = 'n', default_value_t = 24)]
    pub max_tokens: usize,
    /// Alternatives shown per step.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub alternatives: usize,
    /// Highlight steps whose chosen token had probability below this.
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "P",
        allow_negative_numbers = true
    )]
    pub low: f64,
    /// Send PROMPT exactly as given, without the chat template.
    #[arg(long)]
    pub raw: bool,
    /// Also show this rule's explicit steps on PROMPT, and ask the model
    /// through the rule's task template.
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    #[command(flatten)]
    pub format: DocumentFormat,
    /// The prompt (or, with --rule, the input).
    pub prompt: String,
}

/// Flags of `detprob generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
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
    #[command(flatten)]
    pub filters: FilterArgs,
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
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub format: DocumentFormat,
    /// The prompt.
    pub prompt: String,
}

/// Flags shared by `demo` and `tour`.
#[derive(Debug, Args)]
pub struct ClassroomArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub format: ClassroomFormat,
    /// Override every scenario's seeds (e.g. 1..2 for a quick rehearsal).
    #[arg(long, value_name = "SEEDS")]
    pub seeds: Option<Seeds>,
    /// Override every repeat scenario's run count.
    #[arg(long, value_name = "N")]
    pub runs: Option<usize>,
}

/// Flags of `detprob demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub classroom: ClassroomArgs,
    /// List the shipped scenarios.
    #[arg(long, conflicts_with_all = ["name", "file"])]
    pub list: bool,
    /// Run a scenario file of your own.
    #[arg(long, value_name = "FILE", conflicts_with = "name")]
    pub file: Option<PathBuf>,
    /// A shipped scenario's name (e.g. 05-output, just output, or its step number 5).
    pub name: Option<String>,
}

/// Flags of `detprob tour`.
#[derive(Debug, Args)]
pub struct TourArgs {
    #[command(flatten)]
    pub classroom: ClassroomArgs,
    /// Do not wait for Enter between steps (automatic when stdin is not a terminal).
    #[arg(long)]
    pub no_pause: bool,
    /// Run only these steps (e.g. 2,5,7 or 4..6).
    #[arg(long, value_name = "STEPS", conflicts_with = "from")]
    pub only: Option<String>,
    /// Start at this step.
    #[arg(long, value_name = "STEP")]
    pub from: Option<usize>,
    /// The note's part to walk through: 0 (emergent abilities), 1 (LLM vs
    /// ordinary program) or all (part 1's steps, then part 0's).
    #[arg(long, value_enum, default_value_t = Part::All)]
    pub part: Part,
    /// Before each live run, pause and ask the class to predict what the
    /// model will say (on a terminal only).
    #[arg(long)]
    pub predict: bool,
}

/// Flags of `detprob sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Inputs for a rule's task (the rule picked by domain, or --rule); scored when the truth is known.
    pub inputs: Vec<String>,
    /// A file with one input per line (optionally `INPUT<TAB>TRUTH`).
    #[arg(long, value_name = "FILE")]
    pub inputs_file: Option<PathBuf>,
    /// A free prompt, sent as is to the model (no rule, no scoring); repeatable.
    #[arg(long, value_name = "TEXT")]
    pub prompt: Vec<String>,
    /// Use this rule's task for every input.
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// Send --prompt texts without the model's chat template.
    #[arg(long)]
    pub raw: bool,
    /// Comma-separated temperatures (0 = greedy).
    #[arg(
        long,
        default_value = "0,0.5,1.0,1.5",
        value_name = "LIST",
        allow_hyphen_values = true
    )]
    pub temperatures: Temperatures,
    /// Seeds: an inclusive range like 1..10, or a list like 1,2,9.
    #[arg(long, default_value = "1..10", value_name = "SEEDS")]
    pub seeds: Seeds,
    /// Comma-separated top-k values to sweep as well.
    #[arg(long, value_name = "LIST")]
    pub top_k: Option<String>,
    /// Comma-separated top-p values to sweep as well.
    #[arg(long, value_name = "LIST")]
    pub top_p: Option<String>,
    /// At most this many tokens per sample (answers to a rule's task also stop at a newline).
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_tokens: usize,
    /// Never stop at end-of-text (or a newline): always produce --max-tokens tokens.
    #[arg(long)]
    pub ignore_eos: bool,
    /// Where rows go, appended as they are produced (.csv or .jsonl).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Row format [default: from the file name: .jsonl → jsonl, else csv].
    #[arg(long, value_enum)]
    pub row_format: Option<crate::experiments::sweep::RowFormat>,
    /// Continue an interrupted sweep: keep the rows in --output, run the rest.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub record: RecordArgs,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub format: DocumentFormat,
}

/// Flags of `detprob replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The manifest written by --record.
    pub manifest: PathBuf,
    /// The model file, for manifests recorded with --model-file.
    #[arg(long, value_name = "PATH")]
    pub model_file: Option<PathBuf>,
    #[command(flatten)]
    pub format: DocumentFormat,
}

/// Flags of `detprob repeat`.
#[derive(Debug, Args)]
pub struct RepeatArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// How many times each side runs.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub runs: usize,
    /// Comma-separated temperatures for the model (0 = greedy).
    #[arg(
        long,
        default_value = "0,0.7,1.2",
        value_name = "LIST",
        allow_hyphen_values = true
    )]
    pub temperatures: Temperatures,
    /// The fixed seed.
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    /// Use this rule instead of the one whose domain fits the input best.
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// At most this many tokens per answer.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_tokens: usize,
    #[command(flatten)]
    pub format: DocumentFormat,
    /// The input.
    pub input: String,
}

/// Flags of `detprob score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Ask PROMPT through this rule's task template (as `compare` does).
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// Send PROMPT exactly as given, without the chat template.
    #[arg(long, conflicts_with = "rule")]
    pub raw: bool,
    #[command(flatten)]
    pub format: DocumentFormat,
    /// The prompt (or, with --rule, the input).
    pub prompt: String,
    /// The answer to score.
    pub answer: String,
}

/// Flags of `detprob tokenize`.
#[derive(Debug, Args)]
pub struct TokenizeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub format: DocumentFormat,
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
        #[command(flatten)]
        format: DocumentFormat,
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
