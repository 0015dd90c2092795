//! Where the default models are: the one lookup every interface uses.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Name of the default model folder, under the models directory.
pub const DEFAULT_MODEL: &str = "minilm-tagger";

/// Where the loaded model folder was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    /// Given by the caller.
    Given,
    /// From the `EDGEMINE_MODELS` environment variable.
    Environment,
    /// From a folder the interface adds to the search
    /// ([`EngineConfig::model_roots`](crate::EngineConfig::model_roots)):
    /// the models inside the Python or Node package, or the C library's
    /// install prefix.
    Package,
    /// Next to the running executable (`models/` or `../share/edgemine/models/`).
    BesideExecutable,
    /// The `models/` folder of the source tree this crate was built from.
    SourceTree,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelSource::Given => "given",
            ModelSource::Environment => "EDGEMINE_MODELS",
            ModelSource::Package => "package",
            ModelSource::BesideExecutable => "beside the executable",
            ModelSource::SourceTree => "source tree",
        })
    }
}

/// The default model folder, looked up in this order:
/// 1. `$EDGEMINE_MODELS` (a model folder, or a folder holding `minilm-tagger/`);
/// 2. `minilm-tagger/` in each of `roots`, the folders the interface adds
///    (its package's models, its install prefix);
/// 3. beside the executable: `models/minilm-tagger` or `../share/edgemine/models/minilm-tagger`;
/// 4. the `models/minilm-tagger` folder of the source tree the crate was built in.
pub(crate) fn default_model_dir(roots: &[PathBuf]) -> Result<(PathBuf, ModelSource)> {
    if let Some(dir) = std::env::var_os("EDGEMINE_MODELS").map(PathBuf::from) {
        let nested = dir.join(DEFAULT_MODEL);
        return Ok((if nested.is_dir() { nested } else { dir }, ModelSource::Environment));
    }
    if let Some(dir) = roots.iter().map(|root| root.join(DEFAULT_MODEL)).find(|d| d.join("edgemine.json").is_file()) {
        return Ok((dir, ModelSource::Package));
    }
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        for candidate in [exe_dir.join("models"), exe_dir.join("../share/edgemine/models")] {
            if candidate.join(DEFAULT_MODEL).join("edgemine.json").is_file() {
                return Ok((candidate.join(DEFAULT_MODEL), ModelSource::BesideExecutable));
            }
        }
    }
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("models").join(DEFAULT_MODEL);
    if source_tree.join("edgemine.json").is_file() {
        return Ok((source_tree, ModelSource::SourceTree));
    }
    Err(Error::ModelNotFound {
        path: source_tree,
        detail: format!(
            "the default models are in none of the places searched ($EDGEMINE_MODELS{}, models/ beside the \
             executable, the source tree's models/)",
            roots.iter().map(|r| format!(", {}", r.display())).collect::<String>()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_with_the_default_model_is_searched_before_the_executables_folder() {
        if std::env::var_os("EDGEMINE_MODELS").is_some() {
            return; // the variable comes first, whatever the roots
        }
        let root = std::env::temp_dir().join(format!("edgemine-locate-{}", std::process::id()));
        let empty = root.join("empty");
        std::fs::create_dir_all(root.join(DEFAULT_MODEL)).unwrap();
        std::fs::create_dir_all(&empty).unwrap();
        std::fs::write(root.join(DEFAULT_MODEL).join("edgemine.json"), "{}").unwrap();
        let found = default_model_dir(&[empty.clone(), root.clone()]).unwrap();
        assert_eq!(found, (root.join(DEFAULT_MODEL), ModelSource::Package));
        assert_eq!(found.1.to_string(), "package");
        // Without it, the search goes on (here: to the source tree's models).
        let (_, source) = default_model_dir(&[empty]).unwrap();
        assert_ne!(source, ModelSource::Package);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
