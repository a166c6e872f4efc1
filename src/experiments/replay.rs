//! Replaying a manifest: every recorded run again, token by token, reporting
//! the first step where a replay differs.

use super::manifest::Manifest;
use crate::error::{invalid, InputError};
use crate::generation::Prefilled;
use crate::lm::LoadedModel;
use crate::report::experiments::{Difference, ReplayReport};

/// Re-runs every run of `manifest` on `loaded`.
pub fn replay(loaded: &mut LoadedModel, manifest: &Manifest) -> anyhow::Result<ReplayReport> {
    if loaded.tokenizer.fingerprint != manifest.tokenizer_fingerprint {
        return Err(invalid("the model's tokenizer differs from the recorded one").into());
    }
    for (i, prompt) in manifest.prompts.iter().enumerate() {
        if loaded.tokenizer.encode_prompt(&prompt.text) != prompt.ids {
            return Err(invalid(format!(
                "prompt {i} no longer tokenizes to the recorded ids"
            ))
            .into());
        }
    }
    let vocabulary = loaded.tokenizer.vocab_size();
    for (index, run) in manifest.runs.iter().enumerate() {
        if let Some(&token) = run.tokens.iter().find(|&&t| t as usize >= vocabulary) {
            return Err(invalid(format!(
                "run {index} records token {token}, beyond the model's {vocabulary}-token vocabulary"
            ))
            .into());
        }
        crate::generation::check_max_tokens(
            loaded.model.context_length(),
            std::slice::from_ref(&run.settings),
        )
        .map_err(|e| invalid(format!("run {index}: {e}")))?;
    }
    let mut differences = Vec::new();
    let mut tokens = 0;
    let mut prefilled: Option<(usize, Prefilled)> = None;
    for (index, run) in manifest.runs.iter().enumerate() {
        let settings = crate::generation::GenerationSettings {
            sampling: run
                .settings
                .sampling
                .revalidated()
                .map_err(|e| invalid(format!("run {index}: {e}")))?,
            ..run.settings.clone()
        };
        if prefilled.as_ref().is_none_or(|(p, _)| *p != run.prompt) {
            let ids = &manifest.prompts[run.prompt].ids;
            prefilled = Some((run.prompt, Prefilled::new(loaded, ids)?));
        }
        let (_, state) = prefilled.as_ref().expect("set above");
        let completion = state.complete(loaded, &settings)?;
        tokens += run.tokens.len();
        let replayed: Vec<u32> = completion.tokens.clone();
        // The checksum proves the file is as written, not that its text is
        // its tokens' text: a re-signed edit of `text` alone must not replay
        // as identical.
        let spelled = loaded.tokenizer.visible_text(&run.tokens);
        if replayed == run.tokens && spelled != run.text && spelled.trim() != run.text {
            return Err(invalid(format!(
                "run {index}: the recorded text is not what the recorded tokens spell (the manifest was edited after recording?)"
            ))
            .into());
        }
        if replayed != run.tokens {
            let step = replayed
                .iter()
                .zip(&run.tokens)
                .take_while(|(a, b)| a == b)
                .count();
            let piece = |id: u32| loaded.tokenizer.piece(id);
            differences.push(Difference {
                run: index,
                step,
                recorded: run.tokens.get(step).map(|&t| (t, piece(t))),
                recorded_logprob: run.logprobs.get(step).copied(),
                replayed: replayed.get(step).map(|&t| (t, piece(t))),
                replayed_logprob: completion.steps.get(step).map(|s| s.logprob),
                texts: None,
            });
        }
    }
    Ok(ReplayReport {
        command: manifest.command.clone(),
        runs: manifest.runs.len(),
        tokens,
        recorded_threads: manifest.threads,
        replay_threads: rayon::current_num_threads(),
        differences,
        endpoint: None,
    })
}

/// Checks the model file matches the manifest's hash.
/// Sends every recorded request of a server's run to `endpoint` again
/// (`parallel` at once) and compares the texts.
pub fn replay_remote(
    endpoint: &crate::remote::Endpoint,
    recorded: &super::manifest::RecordedEndpoint,
    manifest: &Manifest,
    parallel: usize,
) -> anyhow::Result<ReplayReport> {
    let requests: Vec<crate::remote::RemoteRequest> = manifest
        .runs
        .iter()
        .map(|run| {
            crate::remote::RemoteRequest::for_settings(
                &recorded.model,
                &manifest.prompts[run.prompt].text,
                recorded.chat,
                &run.settings,
            )
        })
        .collect();
    let answers = endpoint.complete_all(&requests, parallel, &|| {});
    let mut differences = Vec::new();
    for (index, (run, answer)) in manifest.runs.iter().zip(answers).enumerate() {
        let answer = answer.map_err(|e| {
            e.failure(format!(
                "{}: run {index} of {} failed: {e}",
                endpoint.base,
                manifest.runs.len()
            ))
        })?;
        if answer.text != run.text {
            let step = run
                .text
                .chars()
                .zip(answer.text.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let around = |text: &str| -> String {
                text.chars()
                    .skip(step.saturating_sub(10))
                    .take(40)
                    .collect()
            };
            differences.push(Difference {
                run: index,
                step,
                recorded: None,
                recorded_logprob: None,
                replayed: None,
                replayed_logprob: None,
                texts: Some((around(&run.text), around(&answer.text))),
            });
        }
    }
    Ok(ReplayReport {
        command: manifest.command.clone(),
        runs: manifest.runs.len(),
        tokens: 0,
        recorded_threads: 0,
        replay_threads: 0,
        differences,
        endpoint: Some(endpoint.base.clone()),
    })
}

pub fn check_model_hash(manifest: &Manifest, actual: &str) -> Result<(), InputError> {
    if actual != manifest.model.sha256 {
        return Err(invalid(format!(
            "the model file has SHA-256 {actual}, but the manifest was recorded with {}",
            manifest.model.sha256
        )));
    }
    Ok(())
}
