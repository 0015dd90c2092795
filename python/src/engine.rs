//! `edgemine.Engine`: the core's engine with Python's calling conventions.
//! Each call copies its text into Rust, releases the GIL while the core
//! works on its own thread pool, and wraps the result.

use std::borrow::Cow;
use std::path::PathBuf;

use edgemine::{DocumentOptions, EngineConfig, OffsetUnit, Options, Task};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde::Deserialize;

use crate::errors::{in_document, invalid_argument, invalid_option, io_error, to_python};
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
}

/// The arguments every extraction call takes besides its text.
struct CallArgs<'a, 'py> {
    tasks: Option<&'a Bound<'py, PyAny>>,
    offsets: &'a str,
    max_document_bytes: Option<i64>,
    /// The other keyword arguments: the core's [`DocumentOptions`] by name.
    options: Option<&'a Bound<'py, PyDict>>,
}

impl CallArgs<'_, '_> {
    /// The core's options; every bad value is a `ValueError` naming it,
    /// an unknown keyword a `TypeError`.
    fn options(&self) -> PyResult<Options> {
        let mut set = match self.options {
            Some(options) => document_options(options)?,
            None => DocumentOptions::default(),
        };
        set.tasks = self.tasks.map(tasks).transpose()?;
        set.offsets = Some(self.offsets.parse::<OffsetUnit>().map_err(|e| invalid_option("offsets", e))?);
        let mut limits = Options::default();
        if let Some(bytes) = self.max_document_bytes {
            limits.max_document_bytes = count("max_document_bytes", bytes)?;
        }
        Ok(set.apply(&limits))
    }
}

/// The core's [`DocumentOptions`] from keyword arguments of the same
/// names, each value read as the JSON `json.dumps` makes of it (so `None`
/// leaves an option at its default), each checked on its own so that an
/// error names its option.
fn document_options(kwargs: &Bound<'_, PyDict>) -> PyResult<DocumentOptions> {
    let dumps = kwargs.py().import("json")?.getattr("dumps")?;
    let mut set = serde_json::Map::new();
    for (name, value) in kwargs.iter() {
        let name: String = name.extract()?;
        if !DocumentOptions::NAMES.contains(&name.as_str()) {
            return Err(invalid_argument(format!(
                "unexpected keyword argument '{name}'; the options are {}, max_document_bytes",
                DocumentOptions::NAMES.join(", ")
            )));
        }
        let json: String = dumps
            .call1((&value,))
            .map_err(|_| invalid_argument(format!("{name} cannot be a {}", value.get_type())))?
            .extract()?;
        let value: serde_json::Value = serde_json::from_str(&json).map_err(|e| invalid_option(&name, e))?;
        let one = serde_json::Value::Object(serde_json::Map::from_iter([(name.clone(), value.clone())]));
        DocumentOptions::deserialize(one).map_err(|e| invalid_option(&name, e))?;
        set.insert(name, value);
    }
    DocumentOptions::deserialize(serde_json::Value::Object(set)).map_err(|e| invalid_option("options", e))
}

/// `tasks=`: one name, or any iterable of names.
fn tasks(value: &Bound<'_, PyAny>) -> PyResult<Vec<Task>> {
    let task = |name: &Bound<'_, PyAny>| -> PyResult<Task> {
        let name = name.cast::<PyString>().map_err(|_| {
            invalid_argument(format!(
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

/// The folder of the models inside the installed package: the core looks
/// there after `$EDGEMINE_MODELS` (a package built without them has none).
fn package_models(py: Python<'_>) -> PyResult<Option<PathBuf>> {
    let module: PathBuf = py.import("edgemine._edgemine")?.getattr("__file__")?.extract()?;
    Ok(module.parent().map(|p| p.join("models")))
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
        let config = EngineConfig {
            model_dir,
            model_roots: package_models(py)?.into_iter().collect(),
            threads: threads.map(|n| count("threads", n)).transpose()?,
            max_plans: max_plans.map(|n| count("max_plans", n)).transpose()?,
            ..EngineConfig::default()
        };
        let engine = py.detach(|| edgemine::Engine::with_config(config)).map_err(to_python)?;
        Ok(Self { engine })
    }

    /// Extracts from one document.
    ///
    /// `tasks` is a name or a list of names among `"entities"`, `"parse"`,
    /// `"keyphrases"` and `"triples"`; `None` runs every task the model
    /// can do. `offsets` is the unit of every offset: `"char"` (Python
    /// string indices, the default), `"utf8"` (bytes) or `"utf16"`.
    /// Documents over `max_document_bytes` (32 MiB of UTF-8) are refused.
    /// Every other option of the core is a keyword argument of the same
    /// name (the names of the HTTP API's `options` and of the CLI's
    /// flags): `pretokenized=True` takes the runs of non-whitespace as the
    /// words; `top_k` (10), `mmr_lambda` (0.9), `keyphrase_max_words` (5),
    /// `of_phrases`, `section_words`, `shortlist`, `explain_keyphrases` and
    /// `keyphrase_embedding` (`"alone"` or `"in-context"`) shape the key
    /// phrases; `aggregation`, `chunk_wordpieces`, `chunk_overlap` and
    /// `pack_sentences` how the text is read. `None` keeps a default.
    ///
    /// Raises `ValueError` for an empty or oversized text, an unknown task
    /// or offset unit, or an option out of range; `TypeError` when `text`
    /// is not a `str` or a keyword is not an option.
    #[pyo3(signature = (text, tasks=None, offsets="char", *, max_document_bytes=None, **options))]
    fn extract(
        &self,
        py: Python<'_>,
        text: Bound<'_, PyString>,
        tasks: Option<&Bound<'_, PyAny>>,
        offsets: &str,
        max_document_bytes: Option<i64>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyExtraction> {
        self.run(py, text, &CallArgs { tasks, offsets, max_document_bytes, options })
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
    #[pyo3(signature = (texts, tasks=None, offsets="char", *, max_document_bytes=None, return_exceptions=false,
                        **options))]
    #[allow(clippy::too_many_arguments)]
    fn extract_batch(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        tasks: Option<&Bound<'_, PyAny>>,
        offsets: &str,
        max_document_bytes: Option<i64>,
        return_exceptions: bool,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let options = CallArgs { tasks, offsets, max_document_bytes, options }.options()?;
        let texts: Vec<Bound<'_, PyString>> = texts
            .try_iter()?
            .enumerate()
            .map(|(i, t)| {
                let t = t?;
                t.cast_into::<PyString>()
                    .map_err(|e| invalid_argument(format!("texts[{i}] is a {}, not a str", e.into_inner().get_type())))
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
    #[pyo3(signature = (path, tasks=None, offsets="char", *, max_document_bytes=None, **options))]
    fn extract_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        tasks: Option<&Bound<'_, PyAny>>,
        offsets: &str,
        max_document_bytes: Option<i64>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyExtraction> {
        let args = CallArgs { tasks, offsets, max_document_bytes, options };
        let bytes = py.detach(|| std::fs::read(&path)).map_err(|e| io_error(&e, &path))?;
        let text = edgemine::document_from_bytes(&bytes).map_err(to_python)?;
        self.run(py, PyString::new(py, text), &args)
    }

    /// What is loaded, from where: name, version, dir, source, tasks,
    /// entity labels, maximum wordpieces, threads, load time (a dict, as
    /// `edgemine models` prints it; `source` is `"package"` for the models
    /// inside this package).
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.engine.info())
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
