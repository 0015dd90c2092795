//! `edgemine._edgemine`: the Python face of the edgemine engine.
//!
//! Glue only, in the way of Polars and tokenizers: Python values in, the
//! core's [`edgemine::Options`] built from them, the core run with the GIL
//! released, its [`edgemine::Extraction`] wrapped in typed, read-only
//! objects. Every decision about text lives in the core.
//!
//! - [`engine`]: `Engine` and the keyword arguments of its calls;
//! - [`results`]: `Extraction`, `Entity`, `KeyPhrase`, `Triple`, … ;
//! - [`errors`]: the core's errors as Python exceptions.

use pyo3::prelude::*;

mod engine;
mod errors;
mod results;

/// The native module; `edgemine/__init__.py` re-exports its public names.
#[pymodule]
fn _edgemine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ModelError", m.py().get_type::<errors::ModelError>())?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<results::PyExtraction>()?;
    m.add_class::<results::PyEntity>()?;
    m.add_class::<results::PyKeyPhrase>()?;
    m.add_class::<results::PyTriple>()?;
    m.add_class::<results::PyTripleArgument>()?;
    m.add_class::<results::PySpan>()?;
    m.add_class::<results::PyWord>()?;
    Ok(())
}
