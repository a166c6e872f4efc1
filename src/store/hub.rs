//! The Hugging Face hub as a model source, through `hf-hub`: honours
//! `HF_HOME` (its cache) and `HF_HUB_OFFLINE` (cache only, no network).

use std::fs::File;
use std::path::Path;

use hf_hub::{api::sync::ApiBuilder, Cache, Repo, RepoType};

use super::install::{StagedFile, StagingWriter};
use super::ModelSpec;
use crate::gguf::first_line;

/// Copies `spec`'s file from the hub (or the hub's local cache) into a staged
/// file in `dir`.
pub fn fetch(spec: &'static ModelSpec, dir: &Path) -> Result<StagedFile, String> {
    let repo = Repo::with_revision(
        spec.hub_repo.to_string(),
        RepoType::Model,
        spec.hub_revision.to_string(),
    );
    let cached = Cache::from_env().repo(repo.clone()).get(spec.file_name);
    let source = match cached {
        Some(path) => path,
        None if offline() => {
            return Err("HF_HUB_OFFLINE is set and the file is not in the hub cache".into())
        }
        None => {
            let api = ApiBuilder::from_env()
                .with_progress(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_retries(1)
                .build()
                .map_err(|e| first_line(&e.to_string()))?;
            api.repo(repo)
                .get(spec.file_name)
                .map_err(|e| first_line(&e.to_string()))?
        }
    };
    let mut reader = File::open(&source).map_err(|e| e.to_string())?;
    let mut writer = StagingWriter::new(dir, spec, "copying").map_err(|e| e.to_string())?;
    writer.append(&mut reader).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "" | "0" | "false" | "no"
            )
        })
        .unwrap_or(false)
}
