//! `detprob sweep`: validate the grid and inputs, load the model (or reach
//! the server given by `--endpoint`), run every cell not already in the
//! output file, appending rows as they come, in cell order.

use std::time::Instant;

use indicatif::ProgressBar;

use super::model_choice;
use crate::cli::SweepArgs;
use crate::comparison::{find_truth, CompareInput, TaskPrompt};
use crate::comparison::{plan, read_inputs};
use crate::error::{invalid, InputError};
use crate::experiments::manifest::Manifest;
use crate::experiments::sweep::{
    lock_output, output_exists, read_rows, summarize, CellKey, RowFormat, RowWriter, SweepRow,
};
use crate::files::Overwrite;
use crate::generation::{GenerationSettings, Prefilled};
use crate::lm;
use crate::progress;
use crate::remote::RemoteRequest;
use crate::report::experiments::SweepSummary;
use crate::rules::{self, Rule};
use crate::sampler::Sampling;
use crate::tasks::Task;
use crate::words::Lang;

/// One input as planned before the model loads.
enum Planned {
    /// A rule's task: scored when the truth is known.
    Task {
        input: CompareInput,
        rule: &'static dyn Rule,
    },
    /// A free prompt.
    Free(String),
}

/// Parses a comma-separated list of filter values (`None` if the flag is absent).
fn filter_list<T: std::str::FromStr>(
    flag: &str,
    text: Option<&str>,
) -> Result<Vec<Option<T>>, InputError> {
    let Some(text) = text else {
        return Ok(vec![None]);
    };
    let values = crate::options::list(&format!("--{flag}"), text)?
        .into_iter()
        .map(|s| {
            s.parse()
                .map(Some)
                .map_err(|_| invalid(format!("--{flag}: '{s}' is not a valid value")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if values.is_empty() {
        return Err(invalid(format!("--{flag} needs at least one value")));
    }
    Ok(values)
}

/// The most samples one sweep may take.
const MAX_SWEEP_SAMPLES: usize = 1_000_000;

/// Samples decoded together in one batch (rows are written after each batch).
const SWEEP_BATCH: usize = 32;

/// Everything the flags ask for, checked before the model loads.
struct SweepPlan {
    inputs: Vec<Planned>,
    samplings: Vec<Sampling>,
    seeds: Vec<u64>,
    format: RowFormat,
}

/// A prompt ready to sample, with its truth when a rule's task is known.
struct Prepared {
    label: String,
    task: Option<Task>,
    truth: Option<String>,
    template: Option<String>,
    formatted: String,
    ids: Vec<u32>,
}

/// One cell of the sweep: its prompt, its settings and its key in the file.
type Cell = (usize, GenerationSettings, CellKey);

pub fn run(args: SweepArgs, lang: Lang) -> anyhow::Result<SweepSummary> {
    let started = Instant::now();
    let plan = plan_sweep(&args)?;
    if let Some(endpoint) = super::remote_endpoint(&args.remote, &args.model)? {
        return run_remote(&args, &plan, endpoint, lang, started);
    }
    let record = super::record_target(&args.record)?;
    let choice = model_choice(&args.model)?;
    let mut loaded = lm::load(&choice, args.model.engine)?;
    let model_label = loaded.info.label();
    let prepared = plan
        .inputs
        .iter()
        .map(|item| prepare(&loaded, item, args.raw))
        .collect::<Result<Vec<_>, _>>()?;
    // Every prompt fits before the rows file is made.
    for input in &prepared {
        crate::generation::check_prompt(&loaded, &input.ids)?;
    }
    let cells = cells(&prepared, &plan, &args, &model_label);
    let (mut rows, mut writer) = open_rows(&args, plan.format, &cells)?;
    let resumed_rows = rows.len();
    let mut manifest = if super::wants_manifest(record) {
        Some(Manifest::new("sweep", &loaded, &choice)?)
    } else {
        None
    };

    let samples = (cells.len() - resumed_rows) as u64;
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        progress::bar(lang.text("sweep.progress"), samples)
    };
    for group in cells[resumed_rows..].chunk_by(|a, b| a.0 == b.0) {
        let input = &prepared[group[0].0];
        let prefilled = Prefilled::new(&mut loaded, &input.ids)?;
        for chunk in group.chunks(SWEEP_BATCH) {
            let settings: Vec<GenerationSettings> = chunk.iter().map(|c| c.1.clone()).collect();
            let completions = prefilled.complete_many(&loaded, &settings)?;
            for (settings, completion) in settings.iter().zip(completions) {
                let row = score_row(input, &model_label, settings, &completion);
                writer.write(&row)?;
                if let Some(manifest) = manifest.as_mut() {
                    let prompt =
                        manifest.prompt(input.template.as_deref(), &input.formatted, &input.ids);
                    manifest.run(prompt, settings, &completion);
                }
                rows.push(row);
                progress.inc(1);
            }
        }
    }
    progress.finish_and_clear();
    if let Some(manifest) = &manifest {
        super::keep_manifest(manifest, record)?;
    }
    Ok(SweepSummary {
        model: model_label,
        output: args.output.clone(),
        rows: rows.len(),
        resumed_rows,
        groups: summarize(&rows),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Checks every flag and input, and the output file, before the model loads.
fn plan_sweep(args: &SweepArgs) -> anyhow::Result<SweepPlan> {
    let top_ks: Vec<Option<usize>> = filter_list("top-k", args.top_k.as_deref())?;
    let top_ps: Vec<Option<f64>> = filter_list("top-p", args.top_p.as_deref())?;
    let mut samplings = Vec::new();
    for &t in &args.temperatures.0 {
        for &k in &top_ks {
            for &p in &top_ps {
                samplings.push(Sampling::from_settings(t.value(), k, p, None)?);
            }
        }
    }
    if args.max_tokens == 0 {
        return Err(invalid("--max-tokens must be at least 1").into());
    }
    if args.resume && args.record.path.is_some() {
        return Err(invalid(
            "--record cannot be combined with --resume: a manifest must cover the whole sweep",
        )
        .into());
    }
    let forced = args.rule.as_deref().map(rules::by_name).transpose()?;
    let task = |text: &str, truth| {
        plan(text, truth, forced).map(|p| Planned::Task {
            input: p.input,
            rule: p.rule,
        })
    };
    let mut inputs = Vec::new();
    for text in &args.inputs {
        inputs.push(task(text, None)?);
    }
    if let Some(path) = &args.inputs_file {
        for (text, truth) in read_inputs(path)? {
            inputs.push(task(&text, truth)?);
        }
    }
    for prompt in &args.prompt {
        if prompt.trim().is_empty() {
            return Err(InputError::EmptyPrompt.into());
        }
        inputs.push(Planned::Free(prompt.clone()));
    }
    if inputs.is_empty() {
        return Err(invalid("give inputs, --inputs-file FILE or --prompt TEXT").into());
    }
    let seeds = args.seeds.0.clone();
    let count = inputs.len() as u128 * samplings.len() as u128 * seeds.len() as u128;
    if count > MAX_SWEEP_SAMPLES as u128 {
        return Err(invalid(format!(
            "this sweep would take {count} samples; at most {MAX_SWEEP_SAMPLES} in one run"
        ))
        .into());
    }
    if args.resume && args.output.exists() {
        // Resuming appends to the file: it must be a regular one.
        crate::files::check_output(&args.output, "--output", Overwrite::Replace)?;
    } else if std::fs::symlink_metadata(&args.output).is_ok() {
        // Something is there (a dangling link too): say what, and refuse.
        crate::files::check_output(&args.output, "--output", Overwrite::Replace)?;
        return Err(output_exists(&args.output).into());
    } else {
        crate::files::check_output_target(&args.output, "--output", Overwrite::Refuse)?;
    }
    Ok(SweepPlan {
        inputs,
        samplings,
        seeds,
        format: args
            .row_format
            .unwrap_or_else(|| RowFormat::for_path(&args.output)),
    })
}

/// The prompt of one planned input, in the model's template.
fn prepare(loaded: &lm::LoadedModel, item: &Planned, raw: bool) -> Result<Prepared, InputError> {
    Ok(match item {
        Planned::Task { input, rule } => {
            let outcome = rule.apply(&input.text).outcome;
            let prompt = TaskPrompt::new(loaded, rule.task(), &input.text)?;
            Prepared {
                label: input.text.clone(),
                task: Some(rule.task()),
                truth: find_truth(*rule, &outcome, input).map(|t| t.answer),
                template: Some(prompt.template),
                formatted: prompt.formatted,
                ids: prompt.ids,
            }
        }
        Planned::Free(text) => {
            let formatted = loaded.prompt_format.prepare(text, raw);
            Prepared {
                label: text.clone(),
                task: None,
                truth: None,
                template: None,
                ids: loaded.tokenizer.encode_prompt(&formatted),
                formatted,
            }
        }
    })
}

/// Every cell, in the order rows are written: input, then sampling, then seed.
fn cells(prepared: &[Prepared], plan: &SweepPlan, args: &SweepArgs, model: &str) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (index, input) in prepared.iter().enumerate() {
        for sampling in &plan.samplings {
            for &seed in &plan.seeds {
                let settings = GenerationSettings {
                    sampling: sampling.clone(),
                    seed,
                    max_tokens: args.max_tokens,
                    ignore_eos: args.ignore_eos,
                    alternatives: 0,
                    stop_at_newline: input.task.is_some() && !args.ignore_eos,
                };
                let key = CellKey::of(&input.label, model, &settings);
                cells.push((index, settings, key));
            }
        }
    }
    cells
}

/// The output file: created, or with `--resume` the rows already written,
/// which must be this sweep's first cells.
fn open_rows(
    args: &SweepArgs,
    format: RowFormat,
    cells: &[Cell],
) -> anyhow::Result<(Vec<SweepRow>, RowWriter)> {
    if !(args.resume && args.output.exists()) {
        return Ok((Vec::new(), RowWriter::create(&args.output, format)?));
    }
    let lock = lock_output(&args.output)?;
    let (rows, keep) = read_rows(&args.output, format)?;
    if rows.len() > cells.len() {
        return Err(invalid(format!(
            "{} has {} rows but this sweep has only {} cells",
            args.output.display(),
            rows.len(),
            cells.len()
        ))
        .into());
    }
    if let Some(i) = rows.iter().zip(cells).position(|(r, c)| r.key() != c.2) {
        return Err(invalid(format!(
            "row {} of {} is not cell {} of this sweep (other inputs, settings or model?); cannot resume",
            i + 1,
            args.output.display(),
            i + 1
        ))
        .into());
    }
    let writer = RowWriter::append(&args.output, format, keep, lock)?;
    Ok((rows, writer))
}

/// The answer read from `text` (cut off by the token limit: none) and
/// whether it is right, when the task and its truth are known; a free
/// prompt's answer is its whole text.
fn score(
    input: &Prepared,
    text: &str,
    stop_reason: crate::generation::StopReason,
) -> (Option<String>, Option<bool>) {
    let text = text.trim();
    match input.task {
        Some(task) => {
            let (answer, _) = task.read(&input.label, text, stop_reason);
            let correct = input
                .truth
                .as_ref()
                .map(|t| answer.as_deref().is_some_and(|a| task.matches(a, t)));
            (answer, correct)
        }
        None => (Some(text.to_string()), None),
    }
}

/// One sample as a row: its answer read and scored when the task is known.
fn score_row(
    input: &Prepared,
    model: &str,
    settings: &GenerationSettings,
    completion: &crate::generation::Completion,
) -> SweepRow {
    let (answer, correct) = score(input, &completion.text, completion.stop_reason);
    SweepRow::new(
        &input.label,
        model,
        settings,
        completion,
        answer,
        input.truth.as_deref(),
        correct,
    )
}

/// Cells sent to the server per window: its results are written in cell
/// order before the next window starts.
const REMOTE_WINDOW_PER_REQUEST: usize = 4;

/// The prompt of one planned input as sent to a server (see
/// [`crate::comparison::remote_task_prompt`]); a free prompt as given.
fn prepare_remote(item: &Planned, raw: bool) -> Result<Prepared, InputError> {
    Ok(match item {
        Planned::Task { input, rule } => {
            let outcome = rule.apply(&input.text).outcome;
            let (template, formatted) =
                crate::comparison::remote_task_prompt(rule.task(), &input.text, raw)?;
            Prepared {
                label: input.text.clone(),
                task: Some(rule.task()),
                truth: find_truth(*rule, &outcome, input).map(|t| t.answer),
                formatted,
                template: Some(template),
                ids: Vec::new(),
            }
        }
        Planned::Free(text) => Prepared {
            label: text.clone(),
            task: None,
            truth: None,
            template: None,
            formatted: text.clone(),
            ids: Vec::new(),
        },
    })
}

/// `sweep --endpoint`: the same cells, rows and resume, each sample one
/// request to the server, `--parallel` in flight at once. A request that
/// still fails after its retries ends the sweep with the rows before it
/// written, so `--resume` continues from exactly that cell.
fn run_remote(
    args: &SweepArgs,
    plan: &SweepPlan,
    endpoint: crate::remote::Endpoint,
    lang: Lang,
    started: Instant,
) -> anyhow::Result<SweepSummary> {
    let remote = &args.remote;
    super::refuse_local_only(args.ignore_eos)?;
    let record = super::record_target(&args.record)?;
    let prepared = plan
        .inputs
        .iter()
        .map(|item| prepare_remote(item, args.raw))
        .collect::<Result<Vec<_>, _>>()?;
    let model = endpoint.model_or_first(remote.remote_model.clone(), "--remote-model")?;
    let cells = cells(&prepared, plan, args, &model);
    let created = !(args.resume && args.output.exists());
    let (mut rows, mut writer) = open_rows(args, plan.format, &cells)?;
    let resumed_rows = rows.len();
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        progress::bar(
            lang.text("sweep.progress"),
            (cells.len() - resumed_rows) as u64,
        )
    };
    let chat = !args.raw;
    let mut manifest = super::wants_manifest(record)
        .then(|| Manifest::remote("sweep", &endpoint.base, &model, chat));
    let window = remote.parallel * REMOTE_WINDOW_PER_REQUEST;
    for (w, batch) in cells[resumed_rows..].chunks(window).enumerate() {
        let requests: Vec<RemoteRequest> = batch
            .iter()
            .map(|(index, settings, _)| {
                RemoteRequest::for_settings(&model, &prepared[*index].formatted, chat, settings)
            })
            .collect();
        let answers = endpoint.complete_all(&requests, remote.parallel, &|| {});
        for (i, ((index, settings, _), answer)) in batch.iter().zip(answers).enumerate() {
            let completion = match answer {
                Ok(completion) => completion,
                Err(error) => {
                    progress.finish_and_clear();
                    let cell = resumed_rows + w * window + i + 1;
                    let kept = if created && rows.is_empty() {
                        // Nothing to resume from: leave no file behind.
                        drop(writer);
                        let _ = std::fs::remove_file(&args.output);
                        "no rows were written".to_string()
                    } else {
                        format!(
                            "the {} rows before it are in {}, and --resume continues from it",
                            rows.len(),
                            args.output.display()
                        )
                    };
                    let message = format!(
                        "{}: cell {cell} of {} failed: {error}; {kept}",
                        endpoint.base,
                        cells.len(),
                    );
                    return Err(error.failure(message));
                }
            };
            let input = &prepared[*index];
            let (answer, correct) = score(input, &completion.text, completion.stop_reason());
            let row = SweepRow::from_remote(
                &input.label,
                &model,
                settings,
                &completion,
                answer,
                input.truth.as_deref(),
                correct,
            );
            writer.write(&row)?;
            if let Some(manifest) = manifest.as_mut() {
                let prompt = manifest.prompt(input.template.as_deref(), &input.formatted, &[]);
                manifest.remote_run(prompt, settings, &completion);
            }
            rows.push(row);
            progress.inc(1);
        }
    }
    progress.finish_and_clear();
    if let Some(manifest) = &manifest {
        super::keep_manifest(manifest, record)?;
    }
    Ok(SweepSummary {
        model,
        output: args.output.clone(),
        rows: rows.len(),
        resumed_rows,
        groups: summarize(&rows),
        seconds: started.elapsed().as_secs_f64(),
    })
}
