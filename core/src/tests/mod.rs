//! Tests of the inner stages (split, words, offsets, chunks) that span
//! several modules: invariants over arbitrary text, and the splitter and
//! word tokenizer scored against UD English-EWT dev. They live inside the
//! crate because the stages are not public; the engine's tests, through
//! the public API, are in `core/tests/`.

mod chunks;
mod spans;
mod ud_sentences;
mod ud_words;

use std::path::PathBuf;

/// The text of `relative` under the project's shared data folder
/// (`../shared/data` beside the clone, or the folder in `EDGEMINE_DATA`);
/// panics with what to set when it is missing.
fn read_shared_data(relative: &str) -> String {
    let dir = std::env::var_os("EDGEMINE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = dir.join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set EDGEMINE_DATA to the shared data folder)", path.display()))
}
