//! Record and replay: a manifest holds everything needed to re-run a
//! generate, compare or sweep run and check it gives the same tokens — or,
//! for a run on a server (`--endpoint`), to send the same requests again
//! and check they give the same text.
//!
//! On disk a manifest is JSON: `{"checksum": "<sha256>", "body": {…}}`, where
//! the checksum is the SHA-256 of the body exactly as written. An edited,
//! truncated or missing manifest is an input error (exit 2).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::error::{invalid, InputError};
use crate::files::Overwrite;
use crate::generation::{Completion, GenerationSettings};
use crate::lm::{Engine, LoadedModel};
use crate::store::ModelChoice;

/// Manifest layout version; bumped when fields change meaning.
pub const MANIFEST_VERSION: u32 = 1;

/// Which model a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedModel {
    /// Catalogue alias, or `None` for a `--model-file` (a server's run: the
    /// model's name on the server).
    pub alias: Option<String>,
    /// The file (for `--model-file` runs; informative otherwise; empty for
    /// a server's run).
    pub path: PathBuf,
    /// SHA-256 of the GGUF file (empty for a server's run: its weights are
    /// not known here).
    pub sha256: String,
    /// The code that ran the forward pass (`null`: a server's, unknown).
    pub engine: Option<Engine>,
}

/// The server a run was sampled on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEndpoint {
    /// Its base URL.
    pub url: String,
    /// The model's name there.
    pub model: String,
    /// Whether prompts went as a chat's user message (else `/v1/completions`).
    pub chat: bool,
    /// Every distinct `system_fingerprint` its answers carried (the
    /// server's build and configuration, where it says).
    pub system_fingerprints: Vec<String>,
}

/// One prompt as the model saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedPrompt {
    /// The task template the input was put into, if any.
    pub template: Option<String>,
    /// The text that was tokenized (after the chat template).
    pub text: String,
    /// Its token ids.
    pub ids: Vec<u32>,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRun {
    /// Index into [`Manifest::prompts`].
    pub prompt: usize,
    /// Sampler settings, seed and limits.
    pub settings: GenerationSettings,
    /// The sampled token ids.
    pub tokens: Vec<u32>,
    /// Natural-log probability (temperature 1) of each sampled token.
    pub logprobs: Vec<f64>,
    /// The text they spell.
    pub text: String,
}

/// Everything a replay needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub manifest_version: u32,
    /// detprob's version that recorded it.
    pub detprob_version: String,
    /// `generate`, `compare` or `sweep`.
    pub command: String,
    /// The model.
    pub model: RecordedModel,
    /// Fingerprint of the tokenizer's vocabulary.
    pub tokenizer_fingerprint: String,
    /// Kernels the matrices ran on (`avx-vnni`, `avx2`, `portable`).
    pub kernel: String,
    /// Worker threads during the run.
    pub threads: usize,
    /// The order the sampler applies its settings.
    pub sampler_order: String,
    /// Prompts, referenced by runs.
    pub prompts: Vec<RecordedPrompt>,
    /// Completions in the order they were produced.
    pub runs: Vec<RecordedRun>,
    /// The server, for a run sampled on one (`--endpoint`): then prompts
    /// have no ids, runs no tokens, and the kernel and threads are unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<RecordedEndpoint>,
}

#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    checksum: String,
    #[serde(borrow)]
    body: &'a RawValue,
}

impl Manifest {
    /// A manifest for runs of `loaded` (chosen with `choice`).
    pub fn new(
        command: &str,
        loaded: &LoadedModel,
        choice: &ModelChoice,
    ) -> Result<Self, InputError> {
        let sha256 = match choice.spec() {
            Some(spec) => spec.sha256.to_string(),
            None => file_sha256(&loaded.info.path)?,
        };
        Ok(Self {
            manifest_version: MANIFEST_VERSION,
            detprob_version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
            model: RecordedModel {
                alias: loaded.info.alias.clone(),
                path: loaded.info.path.clone(),
                sha256,
                engine: Some(loaded.info.engine),
            },
            tokenizer_fingerprint: loaded.tokenizer.fingerprint.clone(),
            kernel: crate::lm::quant::Kernel::detect().name().to_string(),
            threads: rayon::current_num_threads(),
            sampler_order: crate::sampler::SAMPLER_ORDER.to_string(),
            prompts: Vec::new(),
            runs: Vec::new(),
            endpoint: None,
        })
    }

    /// A manifest for runs of `model` on the server at `url` (`chat`: its
    /// prompts go as a chat's user message).
    pub fn remote(command: &str, url: &str, model: &str, chat: bool) -> Self {
        Self {
            manifest_version: MANIFEST_VERSION,
            detprob_version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
            model: RecordedModel {
                alias: Some(model.to_string()),
                path: PathBuf::new(),
                sha256: String::new(),
                engine: None,
            },
            tokenizer_fingerprint: String::new(),
            kernel: String::new(),
            threads: 0,
            sampler_order: String::new(),
            prompts: Vec::new(),
            runs: Vec::new(),
            endpoint: Some(RecordedEndpoint {
                url: url.to_string(),
                model: model.to_string(),
                chat,
                system_fingerprints: Vec::new(),
            }),
        }
    }

    /// Adds a server's completion of prompt `prompt`: its text, the
    /// logprobs it reported, its `system_fingerprint`.
    pub fn remote_run(
        &mut self,
        prompt: usize,
        settings: &GenerationSettings,
        completion: &crate::remote::RemoteCompletion,
    ) {
        if let (Some(endpoint), Some(fingerprint)) =
            (self.endpoint.as_mut(), &completion.system_fingerprint)
        {
            crate::remote::note_fingerprint(&mut endpoint.system_fingerprints, fingerprint);
        }
        self.runs.push(RecordedRun {
            prompt,
            settings: settings.clone(),
            tokens: Vec::new(),
            logprobs: completion.logprobs().unwrap_or_default(),
            text: completion.text.clone(),
        });
    }

    /// Adds a prompt (or finds the identical one) and returns its index.
    pub fn prompt(&mut self, template: Option<&str>, text: &str, ids: &[u32]) -> usize {
        let prompt = RecordedPrompt {
            template: template.map(str::to_string),
            text: text.to_string(),
            ids: ids.to_vec(),
        };
        match self.prompts.iter().position(|p| *p == prompt) {
            Some(i) => i,
            None => {
                self.prompts.push(prompt);
                self.prompts.len() - 1
            }
        }
    }

    /// Adds a completion of prompt `prompt`.
    pub fn run(&mut self, prompt: usize, settings: &GenerationSettings, completion: &Completion) {
        self.runs.push(RecordedRun {
            prompt,
            settings: settings.clone(),
            tokens: completion.tokens.clone(),
            logprobs: completion.steps.iter().map(|s| s.logprob).collect(),
            text: completion.text.clone(),
        });
    }

    /// Adds every sample of a comparison whose prompt has token ids
    /// `prompt_ids` (none from a server), and the system fingerprints of a
    /// server's answers.
    pub fn comparison(
        &mut self,
        report: &crate::report::compare::CompareReport,
        prompt_ids: &[u32],
        max_tokens: usize,
    ) {
        let model = &report.model;
        if let Some(endpoint) = self.endpoint.as_mut() {
            for fingerprint in &model.system_fingerprints {
                crate::remote::note_fingerprint(&mut endpoint.system_fingerprints, fingerprint);
            }
        }
        let prompt = self.prompt(
            Some(&model.prompt_template),
            &model.formatted_prompt,
            prompt_ids,
        );
        for sample in &model.samples {
            self.runs.push(RecordedRun {
                prompt,
                settings: crate::comparison::sample_settings(
                    sample.temperature,
                    sample.seed,
                    max_tokens,
                ),
                tokens: sample.tokens.clone(),
                logprobs: sample.logprobs.clone(),
                text: sample.text.clone(),
            });
        }
    }

    /// Writes the manifest to `path` whole or not at all (see
    /// [`crate::files::write_whole`]): an existing file is replaced only with
    /// `Overwrite::Replace`, and never anything but a regular file.
    pub fn save(&self, path: &Path, overwrite: Overwrite) -> anyhow::Result<()> {
        let body = serde_json::to_string_pretty(self).expect("a manifest serializes");
        let checksum = hex_sha256(body.as_bytes());
        let text = format!("{{\n\"checksum\": \"{checksum}\",\n\"body\": {body}\n}}\n");
        crate::files::write_whole(path, "--record", overwrite, text.as_bytes())
    }

    /// Reads and verifies a manifest.
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let name = path.display();
        let text = crate::files::read_text(path, "manifest", crate::files::DATA_LIMIT)?;
        let envelope: Envelope = serde_json::from_str(&text).map_err(|e| {
            invalid(format!(
                "manifest {name} is not a detprob manifest (truncated or not JSON?): {e}"
            ))
        })?;
        let actual = hex_sha256(envelope.body.get().as_bytes());
        if actual != envelope.checksum {
            return Err(invalid(format!(
                "manifest {name} was modified after it was recorded (checksum {} expected, body hashes to {actual})",
                envelope.checksum
            )));
        }
        let manifest: Manifest = serde_json::from_str(envelope.body.get())
            .map_err(|e| invalid(format!("manifest {name} has an unreadable body: {e}")))?;
        if manifest.manifest_version != MANIFEST_VERSION {
            return Err(invalid(format!(
                "manifest {name} has layout version {} (this detprob reads {MANIFEST_VERSION})",
                manifest.manifest_version
            )));
        }
        if let Some(run) = manifest
            .runs
            .iter()
            .find(|r| r.prompt >= manifest.prompts.len())
        {
            return Err(invalid(format!(
                "manifest {name}: a run refers to prompt {} of {}",
                run.prompt,
                manifest.prompts.len()
            )));
        }
        // What no recording writes, even when re-signed: refused as bad
        // input before any model is loaded.
        for (i, run) in manifest.runs.iter().enumerate() {
            if run.settings.max_tokens == 0 {
                return Err(invalid(format!(
                    "manifest {name}: run {i} has max_tokens 0 (at least 1)"
                )));
            }
            let local = manifest.endpoint.is_none();
            if local && run.logprobs.len() != run.tokens.len() {
                return Err(invalid(format!(
                    "manifest {name}: run {i} has {} logprobs for {} tokens",
                    run.logprobs.len(),
                    run.tokens.len()
                )));
            }
        }
        Ok(manifest)
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    crate::store::hex(&Sha256::digest(bytes))
}

/// SHA-256 of a model file, as manifests record it.
pub fn file_sha256(path: &Path) -> Result<String, InputError> {
    crate::store::file_sha256(path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sampler::Sampling;

    /// A small manifest for tests of what stores manifests.
    pub(crate) fn manifest_fixture() -> Manifest {
        sample()
    }

    fn sample() -> Manifest {
        Manifest {
            manifest_version: MANIFEST_VERSION,
            detprob_version: "0.0.0".into(),
            command: "generate".into(),
            model: RecordedModel {
                alias: Some("smollm2-135m".into()),
                path: "m.gguf".into(),
                sha256: "ab".into(),
                engine: Some(Engine::Detprob),
            },
            tokenizer_fingerprint: "f".into(),
            kernel: "portable".into(),
            threads: 2,
            sampler_order: "order".into(),
            prompts: vec![RecordedPrompt {
                template: None,
                text: "hi".into(),
                ids: vec![1, 2],
            }],
            runs: vec![RecordedRun {
                prompt: 0,
                settings: GenerationSettings {
                    sampling: Sampling::from_settings(0.7, Some(40), None, None).unwrap(),
                    seed: 3,
                    max_tokens: 4,
                    ignore_eos: false,
                    alternatives: 0,
                    stop_at_newline: false,
                },
                tokens: vec![5, 6],
                logprobs: vec![-0.1, -2.5],
                text: "ok".into(),
            }],
            endpoint: None,
        }
    }

    #[test]
    fn a_saved_manifest_loads_back_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        sample().save(&path, Overwrite::Refuse).unwrap();
        assert_eq!(Manifest::load(&path).unwrap(), sample());
    }

    #[test]
    fn an_edited_or_truncated_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        sample().save(&path, Overwrite::Refuse).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"seed\": 3", "\"seed\": 4")).unwrap();
        let error = Manifest::load(&path).unwrap_err().to_string();
        assert!(error.contains("modified"), "{error}");
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        let error = Manifest::load(&path).unwrap_err().to_string();
        assert!(error.contains("truncated"), "{error}");
        let error = Manifest::load(&dir.path().join("none.json"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot read manifest"), "{error}");
    }
}
