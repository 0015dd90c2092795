//! Reading the project's shared data (`../shared/data` beside the clone, or
//! the folder in `EDGEMINE_DATA`) for the tests that score against it.

use std::path::PathBuf;

/// The text of `relative` under the shared data folder; panics with what to
/// set when it is missing.
pub fn read(relative: &str) -> String {
    let dir = std::env::var_os("EDGEMINE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = dir.join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set EDGEMINE_DATA to the shared data folder)", path.display()))
}
