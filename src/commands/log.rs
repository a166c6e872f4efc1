//! `detprob log`: list, show, replay and export the run log's entries.

use std::io::Write;

use crate::cli::{ExportFormat, LogCommand, LogFilter};
use crate::error::invalid;
use crate::render::{Printed, Render, View};
use crate::report::log::{ExportRow, LogList};
use crate::runlog::{self, RunLog};

pub fn run(command: LogCommand, view: &View) -> anyhow::Result<Box<dyn Render>> {
    let path = runlog::location(false)
        .ok_or_else(|| invalid(format!("the run log is off ({}=off)", runlog::LOG_ENV)))?;
    let log = RunLog::open_existing(&path)?;
    match command {
        LogCommand::List(args) => {
            let entries = list(&log, &args.filter)?;
            Ok(Box::new(LogList { log: path, entries }))
        }
        LogCommand::Show { id, .. } => Ok(Box::new(log.get(id)?)),
        LogCommand::Replay { id, .. } => {
            let entry = log.get(id)?;
            super::replay::replay_manifest(&entry.manifest, None, view)
        }
        LogCommand::Export { format, filter } => {
            let mut rows = Vec::new();
            for summary in list(&log, &filter)?.into_iter().rev() {
                rows.extend(export_rows(&log.get(summary.id)?));
            }
            let mut out = Vec::new();
            match format {
                ExportFormat::Jsonl => {
                    for row in &rows {
                        serde_json::to_writer(&mut out, row)?;
                        out.push(b'\n');
                    }
                }
                ExportFormat::Csv => {
                    let mut writer = csv::Writer::from_writer(&mut out);
                    for row in &rows {
                        writer.serialize(row)?;
                    }
                    writer.flush()?;
                }
            }
            let _ = std::io::stdout().flush();
            Ok(Box::new(Printed(String::from_utf8(out)?)))
        }
    }
}

fn list(log: &RunLog, filter: &LogFilter) -> anyhow::Result<Vec<crate::report::log::EntrySummary>> {
    let since = filter
        .since
        .as_deref()
        .map(runlog::parse_since)
        .transpose()?;
    if filter.limit == 0 {
        return Err(invalid("--limit must be at least 1").into());
    }
    Ok(log.list(since, filter.grep.as_deref(), filter.limit)?)
}

/// One row per completion of `entry`.
fn export_rows(entry: &crate::report::log::LogEntry) -> Vec<ExportRow> {
    let m = &entry.manifest;
    m.runs
        .iter()
        .map(|run| {
            let filters = run.settings.sampling.filters();
            ExportRow {
                entry: entry.summary.id,
                recorded: entry.summary.recorded.clone(),
                command: m.command.clone(),
                model: entry.summary.model.clone(),
                model_sha256: m.model.sha256.clone(),
                engine: m.model.engine.map_or_else(
                    || {
                        m.endpoint
                            .as_ref()
                            .map_or_else(String::new, |e| e.url.clone())
                    },
                    |e| format!("{e:?}").to_lowercase(),
                ),
                prompt: m
                    .prompts
                    .get(run.prompt)
                    .map_or_else(String::new, |p| p.text.clone()),
                seed: run.settings.seed,
                temperature: run.settings.sampling.temperature().value(),
                top_k: filters.top_k,
                top_p: filters.top_p,
                min_p: filters.min_p,
                max_tokens: run.settings.max_tokens,
                tokens: run
                    .tokens
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                text: run.text.clone(),
            }
        })
        .collect()
}
