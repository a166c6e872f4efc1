//! Where a comparison's model side is sampled: detprob's own engine (a
//! loaded model) or any OpenAI-compatible server. Both hand the comparison
//! the same [`Drawn`] samples; what a server does not report (token ids,
//! logprobs it was not asked for or did not give) is left empty, never
//! invented.

use crate::error::InputError;
use crate::generation::{complete_each, GenerationSettings, StopReason};
use crate::lm::LoadedModel;
use crate::remote::{Endpoint, RemoteRequest};
use crate::tasks::Task;

use super::TaskPrompt;

/// A task's prompt as the model side receives it.
pub struct ShownPrompt {
    /// The template used.
    pub template: String,
    /// The text after the chat template (local), or the chat's user
    /// message (a server applies its own chat template).
    pub formatted: String,
    /// The prompt's token ids (`None`: a server tokenizes it).
    pub ids: Option<Vec<u32>>,
}

/// One sample as drawn, before it is read and scored.
pub struct Drawn {
    /// The generated text.
    pub text: String,
    pub stop_reason: StopReason,
    /// Token ids (empty from a server: it reports text).
    pub tokens: Vec<u32>,
    /// Tokens generated (from a server: as it counts them).
    pub token_count: usize,
    /// The bytes of each generated token (control tokens empty), where known.
    pub pieces: Vec<Vec<u8>>,
    /// Each generated token's natural-log probability (`None`: not reported).
    pub logprobs: Option<Vec<f64>>,
    /// The server's `system_fingerprint` for this answer, where it gave one.
    pub fingerprint: Option<String>,
}

/// What a comparison samples its model side from.
pub trait ModelSource {
    /// The model's name, as reports show it.
    fn label(&self) -> String;
    /// The server's address, for a remote model.
    fn endpoint(&self) -> Option<String> {
        None
    }
    /// `task`'s prompt for `input`.
    fn prompt(&self, task: Task, input: &str) -> Result<ShownPrompt, InputError>;
    /// One sample of `prompt` per settings, in their order.
    fn draw(
        &mut self,
        prompt: &ShownPrompt,
        settings: &[GenerationSettings],
    ) -> anyhow::Result<Vec<Drawn>>;
}

impl ModelSource for LoadedModel {
    fn label(&self) -> String {
        self.info.label()
    }

    fn prompt(&self, task: Task, input: &str) -> Result<ShownPrompt, InputError> {
        let prompt = TaskPrompt::new(self, task, input)?;
        Ok(ShownPrompt {
            template: prompt.template,
            formatted: prompt.formatted,
            ids: Some(prompt.ids),
        })
    }

    fn draw(
        &mut self,
        prompt: &ShownPrompt,
        settings: &[GenerationSettings],
    ) -> anyhow::Result<Vec<Drawn>> {
        let ids = prompt.ids.as_deref().unwrap_or_default();
        let completions = complete_each(self, ids, settings)?;
        Ok(completions
            .into_iter()
            .map(|c| Drawn {
                pieces: c
                    .tokens
                    .iter()
                    .map(|&t| {
                        if self.tokenizer.is_control(t) {
                            Vec::new()
                        } else {
                            self.tokenizer.bytes_of(t).to_vec()
                        }
                    })
                    .collect(),
                logprobs: Some(c.steps.iter().map(|s| s.logprob).collect()),
                token_count: c.tokens.len(),
                fingerprint: None,
                text: c.text,
                stop_reason: c.stop_reason,
                tokens: c.tokens,
            })
            .collect())
    }
}

/// A model on an OpenAI-compatible server: each task goes as a chat's user
/// message, every cell its own request (`parallel` in flight at once).
pub struct RemoteSource<'a> {
    pub endpoint: &'a Endpoint,
    /// The model's name on the server.
    pub model: String,
    pub parallel: usize,
}

impl ModelSource for RemoteSource<'_> {
    fn label(&self) -> String {
        self.model.clone()
    }

    fn endpoint(&self) -> Option<String> {
        Some(self.endpoint.base.clone())
    }

    fn prompt(&self, task: Task, input: &str) -> Result<ShownPrompt, InputError> {
        let (template, formatted) = super::remote_task_prompt(task, input, false)?;
        Ok(ShownPrompt {
            template,
            formatted,
            ids: None,
        })
    }

    fn draw(
        &mut self,
        prompt: &ShownPrompt,
        settings: &[GenerationSettings],
    ) -> anyhow::Result<Vec<Drawn>> {
        let requests: Vec<RemoteRequest> = settings
            .iter()
            .map(|s| RemoteRequest::for_settings(&self.model, &prompt.formatted, true, s))
            .collect();
        self.endpoint
            .complete_all(&requests, self.parallel, &|| {})
            .into_iter()
            .zip(settings)
            .map(|(answer, s)| {
                let c = answer.map_err(|e| {
                    e.failure(format!(
                        "{}: the sample at T={} with seed {} failed: {e}",
                        self.endpoint.base,
                        s.sampling.temperature().value(),
                        s.seed
                    ))
                })?;
                let stop_reason = c.stop_reason();
                Ok(Drawn {
                    token_count: c.generated_tokens(),
                    pieces: c
                        .tokens
                        .iter()
                        .flatten()
                        .map(|t| {
                            t.bytes
                                .clone()
                                .unwrap_or_else(|| t.text.clone().into_bytes())
                        })
                        .collect(),
                    logprobs: c.logprobs(),
                    text: c.text,
                    fingerprint: c.system_fingerprint,
                    stop_reason,
                    tokens: Vec::new(),
                })
            })
            .collect()
    }
}
