//! `NativeEngine`: the core's engine as `index.js` calls it.
//!
//! Every call turns JavaScript's values into the core's [`Options`] and
//! text, runs the core (on the calling thread for the synchronous calls, on
//! a libuv worker for the Promise ones; either way the work itself spreads
//! over the engine's own thread pool), and hands back each extraction as
//! the JSON the CLI writes, which `index.js` parses. JSON is both the
//! schema's own form and the fastest way into V8: one `JSON.parse` beats
//! building every object through N-API, and equality with the CLI holds by
//! construction.

use std::sync::Arc;

use edgemine::{DocumentOptions, EngineConfig, OffsetUnit, Options, Task as CoreTask};
use napi::bindgen_prelude::{AsyncTask, Env, Result as NapiResult, ToNapiValue, TypeName, Utf16String, ValueType};
use napi::{Error, JsError, Task, sys};
use napi_derive::napi;

use crate::errors::{Code, Failure, guard};

/// The options of every extraction call, as `index.js` passes them on
/// (it has checked their types; values are checked here and by the core):
/// the core's [`DocumentOptions`] with names in camelCase (`topK`,
/// `keyphraseEmbedding`, …), and `maxDocumentBytes`.
#[napi(object)]
#[derive(Default)]
pub struct CallOptions {
    pub tasks: Option<Vec<String>>,
    pub offsets: Option<String>,
    pub pretokenized: Option<bool>,
    pub aggregation: Option<String>,
    pub chunk_wordpieces: Option<f64>,
    pub chunk_overlap: Option<f64>,
    pub pack_sentences: Option<bool>,
    pub top_k: Option<f64>,
    pub mmr_lambda: Option<f64>,
    pub keyphrase_max_words: Option<f64>,
    pub of_phrases: Option<bool>,
    pub section_words: Option<f64>,
    pub shortlist: Option<f64>,
    pub explain_keyphrases: Option<bool>,
    pub keyphrase_embedding: Option<String>,
    pub max_document_bytes: Option<f64>,
}

impl CallOptions {
    /// The core's options. Offsets default to UTF-16 code units, JavaScript's
    /// string indices, so `text.slice(start, end)` is each span's text.
    fn to_core(&self) -> Result<Options, Failure> {
        let counted = |name: &str, value: Option<f64>| value.map(|v| count(name, v)).transpose();
        // The core's own parsers, whose errors name the option.
        fn parsed<T: std::str::FromStr<Err = edgemine::Error>>(value: &Option<String>) -> Result<Option<T>, Failure> {
            Ok(value.as_deref().map(str::parse).transpose()?)
        }
        let offsets = match &self.offsets {
            Some(unit) => unit.parse::<OffsetUnit>().map_err(|e| Failure::option("offsets", e))?,
            None => OffsetUnit::Utf16,
        };
        let tasks = self
            .tasks
            .as_ref()
            .map(|names| names.iter().map(|name| name.parse::<CoreTask>()).collect::<Result<Vec<_>, _>>())
            .transpose()?;
        let set = DocumentOptions {
            tasks,
            offsets: Some(offsets),
            pretokenized: self.pretokenized,
            aggregation: parsed(&self.aggregation)?,
            chunk_wordpieces: counted("chunkWordpieces", self.chunk_wordpieces)?,
            chunk_overlap: counted("chunkOverlap", self.chunk_overlap)?,
            pack_sentences: self.pack_sentences,
            top_k: counted("topK", self.top_k)?,
            mmr_lambda: self.mmr_lambda.map(|l| l as f32),
            keyphrase_max_words: counted("keyphraseMaxWords", self.keyphrase_max_words)?,
            of_phrases: self.of_phrases,
            section_words: counted("sectionWords", self.section_words)?,
            shortlist: counted("shortlist", self.shortlist)?,
            explain_keyphrases: self.explain_keyphrases,
            keyphrase_embedding: parsed(&self.keyphrase_embedding)?,
        };
        let mut limits = Options::default();
        if let Some(bytes) = counted("maxDocumentBytes", self.max_document_bytes)? {
            limits.max_document_bytes = bytes;
        }
        Ok(set.apply(&limits))
    }
}

/// A count from a JavaScript number: a whole number from 0 up, or an error naming the option.
fn count(name: &str, value: f64) -> Result<usize, Failure> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if value.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&value) {
        Ok(value as usize)
    } else {
        Err(Failure::option(name, format!("{value} is not a whole number of 0 or more")))
    }
}

/// A JavaScript string as Rust text. JavaScript strings may hold lone
/// surrogates, which no UTF-8 text can; rather than replace them (and
/// shift what the spans say), the document is refused, pointing at the fix.
fn text(units: &[u16]) -> Result<String, Failure> {
    let mut text = String::with_capacity(units.len());
    let mut index = 0;
    for c in char::decode_utf16(units.iter().copied()) {
        match c {
            Ok(c) => {
                text.push(c);
                index += c.len_utf16();
            }
            Err(e) => {
                return Err(Failure::new(
                    Code::InvalidText,
                    format!(
                        "text is not well-formed UTF-16: a lone surrogate 0x{:04X} at index {index}. Use \
                         text.toWellFormed() to replace lone surrogates with U+FFFD",
                        e.unpaired_surrogate()
                    ),
                ));
            }
        }
    }
    Ok(text)
}

/// A document's text, or why a JavaScript string cannot be one.
type Text = Result<String, Failure>;

/// What one document gave: the extraction as the CLI's JSON, or its failure.
type Outcome = Result<String, Failure>;

/// One document through the core.
fn extract_json(engine: &edgemine::Engine, text: &str, options: &Options) -> Outcome {
    guard(|| {
        let extraction = engine.extract_with(text, options)?;
        serialize(&extraction)
    })
}

fn serialize(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::new(Code::Panic, format!("cannot serialize a result: {e}")))
}

/// Many documents through one core batch call. A string that is not
/// well-formed fails alone, in its place, as any other bad document does.
fn extract_batch_json(
    engine: &edgemine::Engine,
    units: &[Utf16String],
    options: &Options,
) -> Result<Vec<Outcome>, Failure> {
    let texts: Vec<Text> = units.iter().map(|t| text(t)).collect();
    let good: Vec<&str> = texts.iter().filter_map(|t| t.as_deref().ok()).collect();
    let mut results = guard(|| Ok(engine.extract_batch_with(&good, options)))?.into_iter();
    Ok(texts
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            let result = match text {
                Err(e) => Err(e),
                Ok(_) => match results.next() {
                    Some(Ok(extraction)) => serialize(&extraction),
                    Some(Err(e)) => Err(Failure::from(e)),
                    None => Err(Failure::new(Code::InferenceFailed, "the engine returned too few results")),
                },
            };
            result.map_err(|e| e.in_document(index))
        })
        .collect())
}

/// One place of a batch's result array: the extraction's JSON, or the
/// `Error` (with its `code`) of the document that failed there.
pub enum BatchItem {
    Extraction(String),
    Failure(Failure),
}

impl TypeName for BatchItem {
    fn type_name() -> &'static str {
        "string | Error"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for BatchItem {
    /// # Safety
    /// `env` is the live environment napi passes to every conversion; both
    /// arms hand it on to napi's own conversions unchanged.
    unsafe fn to_napi_value(env: sys::napi_env, item: Self) -> NapiResult<sys::napi_value> {
        match item {
            BatchItem::Extraction(json) => unsafe { String::to_napi_value(env, json) },
            BatchItem::Failure(failure) => Ok(unsafe { JsError::from(failure.into_napi()).into_value(env) }),
        }
    }
}

fn batch_items(results: Vec<Outcome>) -> Vec<BatchItem> {
    results
        .into_iter()
        .map(|r| match r {
            Ok(json) => BatchItem::Extraction(json),
            Err(failure) => BatchItem::Failure(failure),
        })
        .collect()
}

/// The addon's engine; `index.js` wraps it as `Engine`.
#[napi]
pub struct NativeEngine {
    engine: Arc<edgemine::Engine>,
}

#[napi]
impl NativeEngine {
    /// Loads a model folder (`None`: the core's default search, which
    /// reads `$EDGEMINE_MODELS`, then looks in `models_root`, the
    /// package's own models).
    #[napi(constructor)]
    pub fn new(
        model_dir: Option<String>,
        models_root: Option<String>,
        threads: Option<f64>,
        max_plans: Option<f64>,
    ) -> Result<Self, Error<Code>> {
        let load = || {
            let config = EngineConfig {
                model_dir: model_dir.map(Into::into),
                model_roots: models_root.map(Into::into).into_iter().collect(),
                threads: threads.map(|n| count("threads", n)).transpose()?,
                max_plans: max_plans.map(|n| count("maxPlans", n)).transpose()?,
                ..EngineConfig::default()
            };
            Ok(edgemine::Engine::with_config(config)?)
        };
        guard(load).map(|engine| Self { engine: Arc::new(engine) }).map_err(Failure::into_napi)
    }

    /// One document, on this thread; the extraction's JSON.
    #[napi]
    pub fn extract(&self, text: Utf16String, options: Option<CallOptions>) -> Result<String, Error<Code>> {
        let options = options.unwrap_or_default().to_core().map_err(Failure::into_napi)?;
        let text = self::text(&text).map_err(Failure::into_napi)?;
        extract_json(&self.engine, &text, &options).map_err(Failure::into_napi)
    }

    /// One document, on a libuv worker; a Promise of the extraction's JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn extract_async(&self, text: Utf16String, options: Option<CallOptions>) -> AsyncTask<ExtractTask> {
        let work = options.unwrap_or_default().to_core().map(|options| (text, options));
        AsyncTask::new(ExtractTask { engine: Arc::clone(&self.engine), work: Some(work) })
    }

    /// Many documents in one core batch, on this thread: in order, each
    /// the extraction's JSON or the `Error` of that document.
    #[napi]
    pub fn extract_batch(
        &self,
        texts: Vec<Utf16String>,
        options: Option<CallOptions>,
    ) -> Result<Vec<BatchItem>, Error<Code>> {
        let options = options.unwrap_or_default().to_core().map_err(Failure::into_napi)?;
        let results = extract_batch_json(&self.engine, &texts, &options).map_err(Failure::into_napi)?;
        Ok(batch_items(results))
    }

    /// [`Self::extract_batch`] on a libuv worker, as a Promise.
    #[napi(ts_return_type = "Promise<Array<string | Error>>")]
    pub fn extract_batch_async(&self, texts: Vec<Utf16String>, options: Option<CallOptions>) -> AsyncTask<BatchTask> {
        let work = options.unwrap_or_default().to_core().map(|options| (texts, options));
        AsyncTask::new(BatchTask { engine: Arc::clone(&self.engine), work: Some(work) })
    }

    /// What is loaded, from where, as the JSON `edgemine models` prints.
    #[napi]
    pub fn info(&self) -> Result<String, Error<Code>> {
        serialize(&self.engine.info()).map_err(Failure::into_napi)
    }

    /// Worker threads of the engine's pool.
    #[napi(getter)]
    pub fn threads(&self) -> u32 {
        u32::try_from(self.engine.threads()).unwrap_or(u32::MAX)
    }
}

/// `extractAsync`'s work: the text as JavaScript's UTF-16 (made Rust text
/// on the worker, not on the main thread) and the options, or the bad
/// option found while the call was made, which rejects the Promise as any
/// failure does.
pub struct ExtractTask {
    engine: Arc<edgemine::Engine>,
    work: Option<Result<(Utf16String, Options), Failure>>,
}

impl Task for ExtractTask {
    type Output = Outcome;
    type JsValue = String;

    fn compute(&mut self) -> NapiResult<Self::Output> {
        Ok(match self.work.take() {
            Some(Ok((units, options))) => text(&units).and_then(|text| extract_json(&self.engine, &text, &options)),
            Some(Err(failure)) => Err(failure),
            None => Err(Failure::new(Code::Panic, "the task ran twice")),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> NapiResult<String> {
        // napi's task rejects with its own status codes only: build the
        // Error with ours and reject with that very object.
        output.map_err(|failure| napi::Error::from(failure.into_js(&env)))
    }
}

/// `extractBatchAsync`'s work, as [`ExtractTask`]'s.
pub struct BatchTask {
    engine: Arc<edgemine::Engine>,
    work: Option<Result<(Vec<Utf16String>, Options), Failure>>,
}

impl Task for BatchTask {
    type Output = Result<Vec<Outcome>, Failure>;
    type JsValue = Vec<BatchItem>;

    fn compute(&mut self) -> NapiResult<Self::Output> {
        Ok(match self.work.take() {
            Some(Ok((units, options))) => extract_batch_json(&self.engine, &units, &options),
            Some(Err(failure)) => Err(failure),
            None => Err(Failure::new(Code::Panic, "the task ran twice")),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> NapiResult<Vec<BatchItem>> {
        output.map(batch_items).map_err(|failure| napi::Error::from(failure.into_js(&env)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn well_formed_text_round_trips() {
        let s = "Anna Keller 👩🏽‍🔬 visited 東京.";
        assert_eq!(text(&utf16(s)).unwrap(), s);
    }

    #[test]
    fn a_lone_surrogate_is_refused_with_its_index() {
        let mut units = utf16("ab😀");
        units.push(0xD800);
        let failure = text(&units).unwrap_err();
        assert_eq!(failure.code, Code::InvalidText);
        assert!(failure.message.contains("0xD800 at index 4"), "{}", failure.message);
        assert!(failure.message.contains("toWellFormed"), "{}", failure.message);
    }

    #[test]
    fn counts_are_whole_non_negative_numbers() {
        assert_eq!(count("topK", 3.0).unwrap(), 3);
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 1e300] {
            let failure = count("topK", bad).unwrap_err();
            assert_eq!(failure.code, Code::InvalidOption);
            assert!(failure.message.contains("`topK`"), "{}", failure.message);
        }
    }

    #[test]
    fn offsets_default_to_utf16_and_unknown_values_are_named() {
        assert_eq!(CallOptions::default().to_core().unwrap().offsets, OffsetUnit::Utf16);
        let bad = CallOptions { offsets: Some("lines".into()), ..Default::default() };
        let failure = bad.to_core().unwrap_err();
        assert_eq!(failure.code, Code::InvalidOption);
        assert!(failure.message.contains("offsets"), "{}", failure.message);
        let bad = CallOptions { tasks: Some(vec!["summaries".into()]), ..Default::default() };
        assert_eq!(bad.to_core().unwrap_err().code, Code::InvalidOption);
    }
}
