//! `edgemine.Engine`: the core's engine with Python's calling conventions.
//! Each call copies its text into Rust, releases the GIL while the core
//! works on its own thread pool, and wraps the result.

use std::borrow::Cow;
use std::path::PathBuf;

use edgemine::{EngineConfig, OffsetUnit, Options, Task};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::{in_document, invalid_option, io_error, to_python};
use crate::results::{PyExtraction, to_dict};

/// The extraction engine: load once (a fraction of a second), then call from any
/// number of threads. Calls release the GIL, so Python threads that call
/// the same engine run in parallel on its thread pool.
///
/// `model_dir` is a model folder (edgemine's own, or a Hugging Face token
/// classifier exported with optimum); by default the models inside the
/// package, or the folder named by `$EDGEMINE_MODELS` when it is set.
/// `threads` defaults to the CPUs this process may use (or
/// `$EDGEMINE_THREADS`); `max_plans` bounds the optimized plans kept, one
/// per batch shape (default 16).
#[pyclass(frozen, name = "Engine", module = "edgemine")]
pub struct PyEngine {
    engine: edgemine::Engine,
    /// Loaded from the models inside the package.
    packaged: bool,
}

/// The keyword arguments every extraction call takes.
struct CallArgs<'a, 'py> {
    tasks: Option<&'a Bound<'py, PyAny>>,
    offsets: &'a str,
    pretokenized: bool,
    top_k: Option<i64>,
    mmr_lambda: Option<f32>,
    explain_keyphrases: bool,
    max_document_bytes: Option<i64>,
}

impl CallArgs<'_, '_> {
    /// The core's options; every bad value is a `ValueError` naming it.
    fn options(&self) -> PyResult<Options> {
        let defaults = Options::default();
        let mut keyphrases = defaults.keyphrases.clone();
        if let Some(top_k) = self.top_k {
            keyphrases.top_k = count("top_k", top_k)?;
        }
        if let Some(lambda) = self.mmr_lambda {
            keyphrases.mmr_lambda = lambda;
        }
        keyphrases.explain = self.explain_keyphrases;
        Ok(Options {
            tasks: self.tasks.map(tasks).transpose()?,
            offsets: self.offsets.parse::<OffsetUnit>().map_err(|e| invalid_option("offsets", e))?,
            pretokenized: self.pretokenized,
            max_document_bytes: match self.max_document_bytes {
                Some(bytes) => count("max_document_bytes", bytes)?,
                None => defaults.max_document_bytes,
            },
            keyphrases,
            ..defaults
        })
    }
}

/// `tasks=`: one name, or any iterable of names.
fn tasks(value: &Bound<'_, PyAny>) -> PyResult<Vec<Task>> {
    let task = |name: &Bound<'_, PyAny>| -> PyResult<Task> {
        let name = name.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "tasks must be strings (entities, parse, keyphrases, triples), not {}",
                name.get_type().name().map_or_else(|_| "?".into(), |n| n.to_string())
            ))
        })?;
        name.to_cow()?.parse::<Task>().map_err(to_python)
    };
    if value.is_instance_of::<PyString>() {
        return Ok(vec![task(value)?]);
    }
    value.try_iter()?.map(|name| task(&name?)).collect()
}

/// A count from Python's unbounded int: negatives are a `ValueError` that names the option.
fn count(name: &str, value: i64) -> PyResult<usize> {
    usize::try_from(value).map_err(|_| invalid_option(name, format!("{value} is negative; use 0 or more")))
}

/// The models inside the installed package, unless `$EDGEMINE_MODELS`
/// names others (the core reads it) or the package was built without them
/// (the core then looks beside the interpreter and in its source tree).
fn packaged_models(py: Python<'_>) -> PyResult<Option<PathBuf>> {
    if std::env::var_os("EDGEMINE_MODELS").is_some() {
        return Ok(None);
    }
    let module: PathBuf = py.import("edgemine._edgemine")?.getattr("__file__")?.extract()?;
    let dir = module.parent().map(|p| p.join("models").join(edgemine::DEFAULT_MODEL));
    Ok(dir.filter(|d| d.join("edgemine.json").is_file()))
}

impl PyEngine {
    /// Runs one document with the GIL released.
    fn run(&self, py: Python<'_>, text: Bound<'_, PyString>, args: &CallArgs) -> PyResult<PyExtraction> {
        let options = args.options()?;
        let owned = text.to_cow()?.into_owned();
        let extraction = py.detach(|| self.engine.extract_with(&owned, &options)).map_err(to_python)?;
        PyExtraction::new(py, text.unbind(), extraction)
    }
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (model_dir=None, threads=None, *, max_plans=None))]
    fn new(py: Python<'_>, model_dir: Option<PathBuf>, threads: Option<i64>, max_plans: Option<i64>) -> PyResult<Self> {
        let packaged = if model_dir.is_none() { packaged_models(py)? } else { None };
        let config = EngineConfig {
            model_dir: model_dir.or_else(|| packaged.clone()),
            threads: threads.map(|n| count("threads", n)).transpose()?,
            max_plans: max_plans.map(|n| count("max_plans", n)).transpose()?,
            ..EngineConfig::default()
        };
        let engine = py.detach(|| edgemine::Engine::with_config(config)).map_err(to_python)?;
        Ok(Self { engine, packaged: packaged.is_some() })
    }

    /// Extracts from one document.
    ///
    /// `tasks` is a name or a list of names among `"entities"`, `"parse"`,
    /// `"keyphrases"` and `"triples"`; `None` runs every task the model
    /// can do. `offsets` is the unit of every offset: `"char"` (Python
    /// string indices, the default), `"utf8"` (bytes) or `"utf16"`.
    /// `pretokenized=True` takes the runs of non-whitespace as the words.
    /// `top_k` (10), `mmr_lambda` (0.9) and `explain_keyphrases` shape the
    /// key phrases; documents over `max_document_bytes` (32 MiB of UTF-8)
    /// are refused.
    ///
    /// Raises `ValueError` for an empty or oversized text, an unknown task
    /// or offset unit, or an option out of range; `TypeError` when `text`
    /// is not a `str`.
    #[pyo3(signature = (text, tasks=None, offsets="char", *, pretokenized=false, top_k=None, mmr_lambda=None,
                        explain_keyphrases=false, max_document_bytes=None))]
    #[allow(clippy::too_many_arguments)]
    fn extract(
        &self,
        py: Python<'_>,
        text: Bound<'_, PyString>,
        tasks: Option<&Bound<'_, PyAny>>,
        offsets: &str,
        pretokenized: bool,
        top_k: Option<i64>,
        mmr_lambda: Option<f32>,
        explain_keyphrases: bool,
        max_document_bytes: Option<i64>,
    ) -> PyResult<PyExtraction> {
        let args = CallArgs { tasks, offsets, pretokenized, top_k, mmr_lambda, explain_keyphrases, max_document_bytes };
        self.run(py, text, &args)
    }

    /// Extracts from many documents at once, in parallel on the engine's
    /// threads (short documents share batches), with the GIL released.
    /// Takes the keyword arguments of `extract`; returns one `Extraction`
    /// per text, in order.
    ///
    /// A bad document fails alone: with `return_exceptions=True` its place
    /// in the list holds its exception (as `asyncio.gather` does) and the
    /// others are returned; by default the first failure is raised, its
    /// message starting `document <index>:`.
    #[pyo3(signature = (texts, tasks=None, offsets="char", *, pretokenized=false, top_k=None, mmr_lambda=None,
                        explain_keyphrases=false, max_document_bytes=None, return_exceptions=false))]
    #[allow(clippy::too_many_arguments)]
    fn extract_batch(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        tasks: Option<&Bound<'_, PyAny>>,
        offsets: &str,
        pretokenized: bool,
        top_k: Option<i64>,
        mmr_lambda: Option<f32>,
        explain_keyphrases: bool,
        max_document_bytes: Option<i64>,
        return_exceptions: bool,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let args = CallArgs { tasks, offsets, pretokenized, top_k, mmr_lambda, explain_keyphrases, max_document_bytes };
        let options = args.options()?;
        let texts: Vec<Bound<'_, PyString>> = texts
            .try_iter()?
            .enumerate()
            .map(|(i, t)| {
                let t = t?;
                t.cast_into::<PyString>().map_err(|e| {
                    PyTypeError::new_err(format!("texts[{i}] is a {}, not a str", e.into_inner().get_type()))
                })
            })
            .collect::<PyResult<_>>()?;
        // A str that cannot be UTF-8 (a lone surrogate) fails alone, like any bad document.
        let owned: Vec<PyResult<Cow<'_, str>>> = texts.iter().map(|t| t.to_cow()).collect();
        let good: Vec<&str> = owned.iter().filter_map(|t| t.as_deref().ok()).collect();
        let mut results = py.detach(|| self.engine.extract_batch_with(&good, &options)).into_iter();
        let mut out = Vec::with_capacity(texts.len());
        for (index, (text, owned)) in texts.iter().zip(&owned).enumerate() {
            let result = match owned {
                Err(e) => Err(e.clone_ref(py)),
                Ok(_) => match results.next() {
                    Some(Ok(extraction)) => Ok(extraction),
                    Some(Err(e)) => Err(in_document(index, &e)),
                    None => Err(to_python(edgemine::Error::Inference("the engine returned too few results".into()))),
                },
            };
            match result {
                Ok(extraction) => {
                    out.push(Py::new(py, PyExtraction::new(py, text.clone().unbind(), extraction)?)?.into_any())
                }
                Err(e) if return_exceptions => out.push(e.into_value(py).into_any()),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Extracts from a UTF-8 text file, read as it is (no newline
    /// translation: offsets index `Extraction.text`, which equals
    /// `open(path, encoding="utf-8", newline="").read()`). Takes the
    /// keyword arguments of `extract`.
    ///
    /// Raises `FileNotFoundError` (or another `OSError`) when the file
    /// cannot be read, `ValueError` when it is not UTF-8, and what
    /// `extract` raises.
    #[pyo3(signature = (path, tasks=None, offsets="char", *, pretokenized=false, top_k=None, mmr_lambda=None,
                        explain_keyphrases=false, max_document_bytes=None))]
    #[allow(clippy::too_many_arguments)]
    fn extract_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        tasks: Option<&Bound<'_, PyAny>>,
        offsets: &str,
        pretokenized: bool,
        top_k: Option<i64>,
        mmr_lambda: Option<f32>,
        explain_keyphrases: bool,
        max_document_bytes: Option<i64>,
    ) -> PyResult<PyExtraction> {
        let args = CallArgs { tasks, offsets, pretokenized, top_k, mmr_lambda, explain_keyphrases, max_document_bytes };
        let bytes = py.detach(|| std::fs::read(&path)).map_err(|e| io_error(&e, &path))?;
        let text = edgemine::document_from_bytes(&bytes).map_err(to_python)?;
        self.run(py, PyString::new(py, text), &args)
    }

    /// What is loaded, from where: name, version, dir, source, tasks,
    /// entity labels, maximum wordpieces, threads, load time (a dict, as
    /// `edgemine models` prints it; `source` is `"package"` for the models
    /// inside this package).
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut info = self.engine.info();
        if self.packaged {
            info.source = "package".into();
        }
        to_dict(py, &info)
    }

    /// The tasks the loaded model can do, in schema order.
    #[getter]
    fn tasks(&self) -> Vec<&'static str> {
        self.engine.info().tasks.into_iter().map(Task::as_str).collect()
    }

    /// Worker threads of the engine's pool.
    #[getter]
    fn threads(&self) -> usize {
        self.engine.threads()
    }

    /// The model folder loaded.
    #[getter]
    fn model_dir(&self) -> PathBuf {
        self.engine.info().dir
    }

    fn __repr__(&self) -> String {
        let info = self.engine.info();
        format!(
            "Engine(model='{} {}', model_dir='{}', threads={})",
            info.name,
            info.version,
            info.dir.display(),
            info.threads
        )
    }
}
