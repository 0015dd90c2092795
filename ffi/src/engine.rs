//! The engine and the options of a call: create, set, extract, free.

use std::ffi::{CStr, c_char};
use std::path::PathBuf;

use edgemine::{DocumentOptions, EngineConfig, OffsetUnit, Options, Task};

use crate::result::edgemine_result;
use crate::status::{Failure, edgemine_status, guard};

/// The extraction engine: a loaded model and a thread pool. Create it once
/// with `edgemine_engine_new`, share it between threads, free it with
/// `edgemine_engine_free` after the last call on any thread has returned.
pub struct edgemine_engine {
    engine: edgemine::Engine,
}

/// Options of an extraction call: tasks, offset unit, limits. Created with
/// defaults by `edgemine_options_new`, changed by the `edgemine_options_set_*`
/// functions, freed by `edgemine_options_free`. One thread at a time.
pub struct edgemine_options {
    options: Options,
}

/// Task bit: named entities.
pub const EDGEMINE_TASK_ENTITIES: u32 = 1;
/// Task bit: words with part of speech and dependency parse.
pub const EDGEMINE_TASK_PARSE: u32 = 2;
/// Task bit: key phrases with every occurrence.
pub const EDGEMINE_TASK_KEYPHRASES: u32 = 4;
/// Task bit: subject-relation-object triples.
pub const EDGEMINE_TASK_TRIPLES: u32 = 8;

/// Offsets in UTF-8 bytes: `text + start` points at the span (the C default).
pub const EDGEMINE_OFFSETS_UTF8: u32 = 0;
/// Offsets in Unicode code points.
pub const EDGEMINE_OFFSETS_CHAR: u32 = 1;
/// Offsets in UTF-16 code units.
pub const EDGEMINE_OFFSETS_UTF16: u32 = 2;

const TASK_BITS: [(u32, Task); 4] = [
    (EDGEMINE_TASK_ENTITIES, Task::Entities),
    (EDGEMINE_TASK_PARSE, Task::Parse),
    (EDGEMINE_TASK_KEYPHRASES, Task::Keyphrases),
    (EDGEMINE_TASK_TRIPLES, Task::Triples),
];

/// Where `make install` put the default models, when the library was built by it.
const INSTALLED_MODELS: Option<&str> = option_env!("EDGEMINE_INSTALLED_MODELS");

/// Loads an engine from `model_dir` (a NUL-terminated path), or from the
/// default models when it is NULL: `$EDGEMINE_MODELS`, the folder
/// `make install` put them in, `models/` beside the executable, the source
/// tree. `threads` is the size of its thread pool; 0 uses the CPUs this
/// process may use (or `$EDGEMINE_THREADS`). On success `*out` owns the
/// engine; on failure `*out` is left unchanged.
///
/// # Safety
/// `model_dir` is NULL or a NUL-terminated string; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_engine_new(
    model_dir: *const c_char,
    threads: u32,
    out: *mut *mut edgemine_engine,
) -> edgemine_status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let model_dir = if model_dir.is_null() {
            None
        } else {
            // SAFETY: not NULL, and NUL-terminated by the caller's contract.
            let bytes = unsafe { CStr::from_ptr(model_dir) }.to_bytes();
            Some(PathBuf::from(std::str::from_utf8(bytes).map_err(|e| {
                Failure::new(
                    edgemine_status::InvalidUtf8,
                    format!("`model_dir` is not UTF-8 (first bad byte at {})", e.valid_up_to()),
                )
            })?))
        };
        let config = EngineConfig {
            model_dir,
            // The core's search, with the folder `make install` put the models in.
            model_roots: INSTALLED_MODELS.map(PathBuf::from).into_iter().collect(),
            threads: (threads > 0).then_some(threads as usize),
            ..EngineConfig::default()
        };
        let engine = edgemine::Engine::with_config(config)?;
        // SAFETY: `out` is not NULL (checked above) and valid for a write.
        unsafe { out.write(Box::into_raw(Box::new(edgemine_engine { engine }))) };
        Ok(())
    })
}

/// Frees an engine. NULL is ignored. No call may be using it.
///
/// # Safety
/// `engine` is NULL or came from `edgemine_engine_new` and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_engine_free(engine: *mut edgemine_engine) {
    if !engine.is_null() {
        // SAFETY: it came from Box::into_raw in edgemine_engine_new, once.
        drop(unsafe { Box::from_raw(engine) });
    }
}

/// The worker threads of an engine's pool; 0 for NULL.
///
/// # Safety
/// `engine` is NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_engine_threads(engine: *const edgemine_engine) -> usize {
    // SAFETY: NULL or a live engine, by the caller's contract.
    unsafe { engine.as_ref() }.map_or(0, |e| e.engine.threads())
}

/// New options with the defaults: every task the model can do, UTF-8 byte
/// offsets, 10 key phrases, documents up to 32 MiB. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn edgemine_options_new() -> *mut edgemine_options {
    let options = Options::default().with_offsets(OffsetUnit::Utf8);
    Box::into_raw(Box::new(edgemine_options { options }))
}

/// Frees options. NULL is ignored.
///
/// # Safety
/// `options` is NULL or came from `edgemine_options_new` and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_options_free(options: *mut edgemine_options) {
    if !options.is_null() {
        // SAFETY: it came from Box::into_raw in edgemine_options_new, once.
        drop(unsafe { Box::from_raw(options) });
    }
}

/// Runs `change` on the options behind `options`, checked for NULL.
///
/// # Safety
/// `options` is NULL or live options not used by another thread.
unsafe fn change(
    options: *mut edgemine_options,
    change: impl FnOnce(&mut Options) -> Result<(), Failure>,
) -> edgemine_status {
    guard(|| {
        // SAFETY: NULL or live and unshared, by the caller's contract.
        let options = unsafe { options.as_mut() }.ok_or_else(|| Failure::null("options"))?;
        change(&mut options.options)
    })
}

fn invalid(name: &str, detail: impl std::fmt::Display) -> Failure {
    Failure::new(edgemine_status::InvalidOption, format!("invalid option `{name}`: {detail}"))
}

/// Sets the tasks to run: an OR of `EDGEMINE_TASK_*` bits; 0 runs every
/// task the model can do.
///
/// # Safety
/// `options` is NULL or live options not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_options_set_tasks(options: *mut edgemine_options, tasks: u32) -> edgemine_status {
    let known = TASK_BITS.iter().fold(0, |all, (bit, _)| all | bit);
    // SAFETY: forwarded contract.
    unsafe {
        change(options, |o| {
            if tasks & !known != 0 {
                return Err(invalid(
                    "tasks",
                    format!("unknown task bits {:#x}; use EDGEMINE_TASK_* values", tasks & !known),
                ));
            }
            o.tasks =
                (tasks != 0).then(|| TASK_BITS.iter().filter(|(bit, _)| tasks & bit != 0).map(|(_, t)| *t).collect());
            Ok(())
        })
    }
}

/// Sets the unit of every offset: `EDGEMINE_OFFSETS_UTF8` (default),
/// `EDGEMINE_OFFSETS_CHAR` or `EDGEMINE_OFFSETS_UTF16`.
///
/// # Safety
/// `options` is NULL or live options not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_options_set_offsets(options: *mut edgemine_options, unit: u32) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        change(options, |o| {
            o.offsets = match unit {
                EDGEMINE_OFFSETS_UTF8 => OffsetUnit::Utf8,
                EDGEMINE_OFFSETS_CHAR => OffsetUnit::Char,
                EDGEMINE_OFFSETS_UTF16 => OffsetUnit::Utf16,
                other => return Err(invalid("offsets", format!("unknown unit {other}; use EDGEMINE_OFFSETS_*"))),
            };
            Ok(())
        })
    }
}

/// Sets how many key phrases to return (default 10; at least 1).
///
/// # Safety
/// `options` is NULL or live options not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_options_set_top_k(options: *mut edgemine_options, top_k: usize) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        change(options, |o| {
            // Checked on a copy: a refused value leaves the options as they were.
            let mut keyphrases = o.keyphrases.clone();
            keyphrases.top_k = top_k;
            keyphrases.check()?;
            o.keyphrases = keyphrases;
            Ok(())
        })
    }
}

/// Takes the document as already tokenized: words are the runs of non-whitespace.
///
/// # Safety
/// `options` is NULL or live options not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_options_set_pretokenized(
    options: *mut edgemine_options,
    pretokenized: bool,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        change(options, |o| {
            o.pretokenized = pretokenized;
            Ok(())
        })
    }
}

/// Sets the largest document accepted, in UTF-8 bytes (default 32 MiB; at least 1).
///
/// # Safety
/// `options` is NULL or live options not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_options_set_max_document_bytes(
    options: *mut edgemine_options,
    bytes: usize,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        change(options, |o| {
            if bytes == 0 {
                return Err(invalid("max_document_bytes", "0 refuses every document; use 1 or more"));
            }
            o.max_document_bytes = bytes;
            Ok(())
        })
    }
}

/// Sets the options a JSON object names: the core's document options,
/// spelled as the HTTP API's `options` (`{"top_k": 5, "keyphrase_embedding":
/// "in-context", "of_phrases": false}`: `tasks`, `offsets`, `pretokenized`,
/// `aggregation`, `chunk_wordpieces`, `chunk_overlap`, `pack_sentences`,
/// `top_k`, `mmr_lambda`, `keyphrase_max_words`, `of_phrases`,
/// `section_words`, `shortlist`, `explain_keyphrases`,
/// `keyphrase_embedding`), every option the setters above do not reach
/// among them. Options the object leaves out keep their values. An unknown
/// name, a value of the wrong type or out of range is
/// `EDGEMINE_STATUS_INVALID_OPTION` and changes nothing.
///
/// # Safety
/// `options` is NULL or live options not used by another thread; `json` is
/// NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_options_set_json(
    options: *mut edgemine_options,
    json: *const c_char,
) -> edgemine_status {
    // SAFETY: forwarded contract.
    unsafe {
        change(options, |o| {
            if json.is_null() {
                return Err(Failure::null("json"));
            }
            // SAFETY: not NULL, and NUL-terminated by the caller's contract.
            let text = edgemine::document_from_bytes(CStr::from_ptr(json).to_bytes())?;
            let set: DocumentOptions = serde_json::from_str(text).map_err(|e| invalid("json", e))?;
            // Checked on a copy: a refused value leaves the options as they were.
            let changed = set.apply(o);
            changed.keyphrases.check()?;
            *o = changed;
            Ok(())
        })
    }
}

/// Extracts from `len` bytes of UTF-8 at `text` (no NUL needed) with
/// `options` (NULL: the defaults of `edgemine_options_new`). On success
/// `*out` owns a result to free with `edgemine_result_free`; on failure
/// `*out` is left unchanged. Safe to call from many threads on one engine.
///
/// # Safety
/// `engine` is NULL or a live engine; `text` is NULL or valid for reads of
/// `len` bytes; `options` is NULL or live options not being changed by
/// another thread; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn edgemine_extract(
    engine: *const edgemine_engine,
    text: *const c_char,
    len: usize,
    options: *const edgemine_options,
    out: *mut *mut edgemine_result,
) -> edgemine_status {
    guard(|| {
        // SAFETY: NULL or live, by the caller's contract.
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| Failure::null("engine"))?;
        if text.is_null() {
            return Err(Failure::null("text"));
        }
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: `text` is not NULL and valid for `len` bytes by the caller's contract.
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
        let document = edgemine::document_from_bytes(bytes)?;
        let defaults;
        // SAFETY: NULL or live options not changed meanwhile, by the caller's contract.
        let options = match unsafe { options.as_ref() } {
            Some(o) => &o.options,
            None => {
                defaults = Options::default().with_offsets(OffsetUnit::Utf8);
                &defaults
            }
        };
        let extraction = engine.engine.extract_with(document, options)?;
        // SAFETY: `out` is not NULL (checked above) and valid for a write.
        unsafe { out.write(Box::into_raw(Box::new(edgemine_result::new(extraction)))) };
        Ok(())
    })
}
