//! `detprob model list|fetch|path`: the model catalogue and cache.

use serde::Serialize;

use crate::cli::ModelCommand;
use crate::render::{Printed, Render};
use crate::store::{self, catalog, ModelSpec, MODELS};

/// One catalogue entry and its cache state.
#[derive(Debug, Serialize)]
pub struct ModelEntry {
    /// Alias for `--model`.
    pub alias: &'static str,
    /// Model name.
    pub name: &'static str,
    /// File name.
    pub file: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the file.
    pub sha256: &'static str,
    /// Licence of the weights.
    pub licence: &'static str,
    /// Whether the file is in detprob's cache.
    pub cached: bool,
    /// Where it is (or will be) cached.
    pub path: String,
}

/// The catalogue.
#[derive(Debug, Serialize)]
pub struct ModelListReport {
    /// Cache directory.
    pub cache_dir: String,
    /// Known models, default first.
    pub models: Vec<ModelEntry>,
}

pub fn run(command: ModelCommand) -> anyhow::Result<Box<dyn Render>> {
    match command {
        ModelCommand::List { .. } => {
            let report = ModelListReport {
                cache_dir: store::cache_dir().display().to_string(),
                models: MODELS
                    .iter()
                    .map(|m| ModelEntry {
                        alias: m.alias,
                        name: m.display_name,
                        file: m.file_name,
                        size: m.size,
                        sha256: m.sha256,
                        licence: m.licence,
                        cached: store::is_cached(m),
                        path: store::cached_path(m).display().to_string(),
                    })
                    .collect(),
            };
            Ok(Box::new(report))
        }
        ModelCommand::Fetch { alias, verify } => {
            let specs: Vec<&ModelSpec> = match alias {
                Some(alias) => vec![catalog::find(&alias)?],
                None => MODELS.iter().collect(),
            };
            let mut out = String::new();
            for spec in specs {
                let path = store::fetch(spec, verify)?;
                out.push_str(&format!("{}\t{}\n", spec.alias, path.display()));
            }
            Ok(Box::new(Printed(out)))
        }
        ModelCommand::Path { alias } => {
            let spec = catalog::find(alias.as_deref().unwrap_or(store::DEFAULT_MODEL))?;
            Ok(Box::new(Printed(format!(
                "{}\n",
                store::ensure_model(spec)?.display()
            ))))
        }
    }
}
