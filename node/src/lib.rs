//! `edgemine.node`: the Node.js face of the edgemine engine (napi-rs).
//!
//! Glue only, in the way of the Python package: JavaScript values in, the
//! core's [`edgemine::Options`] and text made from them, the core run
//! (synchronously, or on a libuv worker behind a Promise), each extraction
//! handed back as the schema's JSON. `index.js` wraps this addon in the
//! public `Engine` class, checks argument types and parses the JSON.
//!
//! - [`engine`]: `NativeEngine`, its call options and its async tasks;
//! - [`errors`]: the core's errors as JavaScript `Error`s with a stable `code`.

use napi_derive::napi;

mod engine;
mod errors;

/// The crate version, which is the package version.
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Every `code` an edgemine `Error` can carry.
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    errors::Code::ALL.iter().map(AsRef::as_ref).collect()
}

/// The names of the core's document options (snake_case): each is an
/// option of every extraction call in camelCase (the tests check).
#[napi]
pub fn document_option_names() -> Vec<&'static str> {
    edgemine::DocumentOptions::NAMES.to_vec()
}
