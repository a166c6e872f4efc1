//! `detprob generate`: one completion with full sampling records — from the
//! local model, or with `--endpoint` from any OpenAI-compatible server.

use std::io::Write;

use super::model_choice;
use crate::cli::GenerateArgs;
use crate::error::InputError;
use crate::experiments::manifest::Manifest;
use crate::generation::{complete, complete_streaming, GenerationSettings};
use crate::lm;
use crate::render::{self, Printed, Render, View};
use crate::report::model::{GenerateReport, RemoteGenerateReport};
use crate::sampler::SAMPLER_ORDER;

pub fn run(args: GenerateArgs, view: &View) -> anyhow::Result<Box<dyn Render>> {
    let sampling = args.filters.sampling(args.temperature)?;
    if args.prompt.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    if let Some(endpoint) = super::remote_endpoint(&args.remote, &args.model)? {
        return remote(&args, sampling, endpoint).map(|r| Box::new(r) as Box<dyn Render>);
    }
    let record = super::record_target(&args.record)?;
    let choice = model_choice(&args.model)?;
    let mut loaded = lm::load(&choice, args.model.engine)?;
    let formatted_prompt = loaded.prompt_format.prepare(&args.prompt, args.raw);
    let prompt_ids = loaded.tokenizer.encode_prompt(&formatted_prompt);
    let settings = GenerationSettings {
        sampling,
        seed: args.seed.unwrap_or_else(crate::sampler::fresh_seed),
        max_tokens: args.max_tokens,
        ignore_eos: args.ignore_eos,
        alternatives: args.alternatives,
        stop_at_newline: false,
    };
    // On a terminal the text streams as it comes; the report then adds only
    // its closing line. Piped or JSON output is the whole report at the end.
    let stream = view.live();
    let completion = if stream {
        let mut out = std::io::stdout().lock();
        complete_streaming(&mut loaded, &prompt_ids, &settings, &mut |piece| {
            let _ = out.write_all(render::style::terminal_safe(piece).as_bytes());
            let _ = out.flush();
        })?
    } else {
        complete(&mut loaded, &prompt_ids, &settings)?
    };
    if super::wants_manifest(record) {
        let mut manifest = Manifest::new("generate", &loaded, &choice)?;
        let prompt = manifest.prompt(None, &formatted_prompt, &prompt_ids);
        manifest.run(prompt, &settings, &completion);
        super::keep_manifest(&manifest, record)?;
    }
    let report = GenerateReport {
        model: loaded.info,
        prompt: args.prompt,
        formatted_prompt,
        prompt_ids,
        settings,
        sampler_order: SAMPLER_ORDER,
        completion,
    };
    if stream {
        // The text is on the screen already: only the closing line is left.
        let text = render::render(&report, view);
        let rest = text
            .strip_prefix(report.completion.text.as_str())
            .map(str::to_string)
            .unwrap_or(text);
        return Ok(Box::new(Printed(rest)));
    }
    Ok(Box::new(report))
}

/// `generate --endpoint`: one request, the text and what the server
/// reported of its tokens.
fn remote(
    args: &GenerateArgs,
    sampling: crate::sampler::Sampling,
    endpoint: crate::remote::Endpoint,
) -> anyhow::Result<RemoteGenerateReport> {
    super::refuse_local_only(args.ignore_eos)?;
    let record = super::record_target(&args.record)?;
    let model = endpoint.model_or_first(args.remote.remote_model.clone(), "--remote-model")?;
    let settings = GenerationSettings {
        sampling,
        seed: args.seed.unwrap_or_else(crate::sampler::fresh_seed),
        max_tokens: args.max_tokens,
        ignore_eos: false,
        alternatives: args.alternatives,
        stop_at_newline: false,
    };
    let chat = !args.raw;
    let request = crate::remote::RemoteRequest::for_settings(&model, &args.prompt, chat, &settings);
    let completion = endpoint
        .complete(&request)
        .map_err(|e| e.failure(format!("{}: {e}", endpoint.base)))?;
    if super::wants_manifest(record) {
        let mut manifest = Manifest::remote("generate", &endpoint.base, &model, chat);
        let prompt = manifest.prompt(None, &args.prompt, &[]);
        manifest.remote_run(prompt, &settings, &completion);
        super::keep_manifest(&manifest, record)?;
    }
    Ok(RemoteGenerateReport {
        endpoint: endpoint.base.clone(),
        model,
        stop_reason: crate::experiments::sweep::remote_stop_reason(&completion).to_string(),
        system_fingerprint: completion.system_fingerprint,
        prompt: args.prompt.clone(),
        chat,
        settings,
        text: completion.text,
        tokens: completion.tokens,
        completion_tokens: completion.completion_tokens,
    })
}
