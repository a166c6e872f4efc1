//! `detprob model list|fetch|path`: the model catalogue and cache.

use crate::cli::ModelCommand;
use crate::render::{Printed, Render};
use crate::report::model::{ModelEntry, ModelListReport};
use crate::store::{self, catalog, ModelSpec, MODELS};

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
