//! Defaults that the README and the bindings' docs write out by hand (a
//! TypeScript declaration or a Python docstring cannot read a Rust
//! constant): each must say what the core's constant is.

use std::path::Path;

/// Asserts that `file` (from the repository root) writes `value` where it
/// says `phrase`: `phrase` followed by `value` as text.
fn documents(file: &str, phrase: &str, value: usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected = format!("{phrase}{value}");
    assert!(
        text.contains(&expected),
        "{file} should say `{expected}` (the core's default); fix the text or the constant"
    );
}

#[test]
fn plans_kept_by_default() {
    let plans = edgemine::DEFAULT_MAX_PLANS;
    documents("README.md", "`--max-plans` (default ", plans);
    documents("node/index.d.ts", "one per batch shape (default ", plans);
    documents("python/src/engine.rs", "per batch shape (default ", plans);
}

#[test]
fn phrase_embeddings_cached_by_default() {
    documents("README.md", "(`--phrase-cache`, default ", edgemine::DEFAULT_PHRASE_CACHE);
}
