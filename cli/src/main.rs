//! `edgemine`: entities and parses with exact offsets, from the command line.
//!
//! Exit codes: 0 all documents done; 1 some documents failed (each failure
//! is reported, the others are written); 2 bad command line; 3 the model
//! could not be loaded; 4 an input or output could not be read or written.

mod input;
mod output;

use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use edgemine::{
    Aggregation, DocumentOptions, Engine, EngineConfig, KeyphraseOptions, OffsetUnit, Options, PhraseEmbedding, Task,
};
use indicatif::{ProgressBar, ProgressStyle};

use input::InputMode;
use output::{Format, Writer};

#[derive(Parser)]
#[command(
    name = "edgemine",
    version,
    about = "Entities, parts of speech and dependency parses with exact offsets, on small CPUs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Extract from text files (or stdin) and write one result per document.
    Extract(ExtractArgs),
    /// Show the loaded model: name, folder, where it was found, tasks, threads.
    Models(ModelArgs),
}

#[derive(clap::Args)]
struct ModelArgs {
    /// Model folder (default: the shipped default models; see EDGEMINE_MODELS).
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Worker threads (default: the CPUs this process may use).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    #[command(flatten)]
    backend: BackendArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// Which library runs the model graph.
#[derive(clap::Args)]
struct BackendArgs {
    /// The library that runs the model: tract (built in) or onnxruntime
    /// (loaded at run time; faster on x86). Default: EDGEMINE_BACKEND, else tract.
    #[arg(long, value_name = "NAME", value_parser = edgemine::Backend::NAMES)]
    backend: Option<String>,
    /// The libonnxruntime shared library for `--backend onnxruntime`
    /// (default: ORT_DYLIB_PATH, else libonnxruntime.so on the loader's path).
    #[arg(long, value_name = "FILE")]
    onnxruntime_library: Option<PathBuf>,
    #[arg(long, value_name = "N", help = edgemine::Backend::SESSIONS_HELP)]
    onnxruntime_sessions: Option<usize>,
    #[arg(long, value_name = "NAME", value_parser = edgemine::Precision::NAMES, help = edgemine::Precision::HELP)]
    precision: Option<String>,
}

impl BackendArgs {
    /// `config` with the backend (ONNX Runtime's settings alone ask for
    /// ONNX Runtime) and the precision asked for; a bad value exits as a
    /// bad command line.
    fn apply(&self, config: EngineConfig) -> Result<EngineConfig, ExitCode> {
        let usage = |e: edgemine::Error| {
            eprintln!("edgemine: {e}");
            ExitCode::from(EXIT_USAGE)
        };
        let backend = edgemine::Backend::from_args(
            self.backend.as_deref(),
            self.onnxruntime_library.clone(),
            self.onnxruntime_sessions,
        )
        .map_err(usage)?;
        // `auto` is "no precision asked for": the environment still counts.
        let precision = self.precision.as_deref().map(edgemine::Precision::from_name).transpose().map_err(usage)?;
        Ok(EngineConfig { backend, precision: precision.flatten(), ..config })
    }
}

#[derive(clap::Args)]
struct ExtractArgs {
    /// Input files; none or `-` reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// How input splits into documents: the whole file, each line, or each line a JSON object {"id", "text"}.
    #[arg(long, value_enum, default_value = "text")]
    input: InputMode,
    /// Output format: pretty JSON, one JSON object per line, CoNLL-U, or CaRB's tabbed triples.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Comma-separated tasks: entities, parse, keyphrases, triples (default: all the model provides).
    #[arg(long, value_delimiter = ',', value_parser = parse_task)]
    tasks: Option<Vec<Task>>,
    /// Unit of every start/end: UTF-8 bytes, code points, or UTF-16 units.
    #[arg(long, value_enum, default_value = "char")]
    offsets: Offsets,
    /// The text is already tokenized: whitespace separates the words.
    #[arg(long)]
    pretokenized: bool,
    /// Worker threads (default: the CPUs this process may use).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Model folder (default: the shipped default models; see EDGEMINE_MODELS).
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Largest document accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Options::default().max_document_bytes)]
    max_bytes: usize,
    /// How wordpiece scores pool into words, for models that score wordpieces.
    #[arg(long, value_enum, default_value = "first")]
    aggregation: AggregationArg,
    /// Most wordpieces per chunk (default: the model's maximum).
    #[arg(long, value_name = "N")]
    chunk_wordpieces: Option<usize>,
    /// Pack consecutive sentences into one chunk: `--pack-sentences` (or
    /// `=true`) packs, `--pack-sentences=false` reads each sentence alone.
    /// Default: as the model was trained (its manifest's `pack_wordpieces`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pack_sentences: Option<bool>,
    /// Wordpieces shared by neighbouring windows of a sentence that is cut.
    #[arg(long, value_name = "N", default_value_t = Options::default().chunk_overlap)]
    chunk_overlap: usize,
    /// Documents handed to the engine at a time.
    #[arg(long, value_name = "N", default_value_t = 256)]
    batch_docs: usize,
    /// Wordpieces per inference batch (rows × padded length).
    #[arg(long, value_name = "N", default_value_t = Options::default().batch_wordpieces)]
    batch_wordpieces: usize,
    /// Key phrases returned per document, best first.
    #[arg(long, value_name = "N", default_value_t = KeyphraseOptions::default().top_k, value_parser = at_least_one)]
    top_k: usize,
    /// Key-phrase diversity (MMR λ in [0, 1]): 1 ranks by relevance alone, lower values prefer phrases unlike those already chosen.
    #[arg(long, value_name = "λ", default_value_t = KeyphraseOptions::default().mmr_lambda, value_parser = unit_interval)]
    mmr_lambda: f32,
    /// Longest key phrase, in words.
    #[arg(long, value_name = "N", default_value_t = KeyphraseOptions::default().max_words, value_parser = at_least_one)]
    keyphrase_max_words: usize,
    /// Key phrases of the form "X of Y" ("quality of service"): `--of-phrases=false` leaves them out.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = KeyphraseOptions::default().of_phrases)]
    of_phrases: bool,
    /// Words per section of a long document, each ranked against its own embedding.
    #[arg(long, value_name = "N", default_value_t = KeyphraseOptions::default().section_words, value_parser = at_least_one)]
    section_words: usize,
    /// Key-phrase candidates embedded and fully ranked per document (the best by text signals; at least --top-k).
    #[arg(long, value_name = "N", default_value_t = KeyphraseOptions::default().shortlist)]
    shortlist: usize,
    /// Add to each key phrase the signals behind its score.
    #[arg(long)]
    explain_keyphrases: bool,
    /// Where key-phrase candidates' embeddings come from: each candidate run through the model alone (a second pass), or pooled from the sentence pass (in-context: faster, ranks a little worse; see the README).
    #[arg(long, value_name = "HOW", default_value = KeyphraseOptions::default().embedding.as_str(), value_parser = phrase_embedding())]
    keyphrase_embedding: PhraseEmbedding,
    /// Optimized plans (one per batch shape; the first ≈ 50 MB, others ≈ 5–40 MB) kept for reuse.
    #[arg(long, value_name = "N", default_value_t = edgemine::DEFAULT_MAX_PLANS)]
    max_plans: usize,
    /// Key-phrase candidate embeddings kept for reuse (≈ 1.6 KB each; 0: none).
    #[arg(long, value_name = "N", default_value_t = edgemine::DEFAULT_PHRASE_CACHE)]
    phrase_cache: usize,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Offsets {
    Utf8,
    Char,
    Utf16,
}

#[derive(Clone, Copy, ValueEnum)]
enum AggregationArg {
    First,
    Average,
    Max,
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}` is not a whole number of at least 1")),
    }
}

/// The core's names for [`PhraseEmbedding`], listed in `--help`.
fn phrase_embedding() -> impl clap::builder::TypedValueParser<Value = PhraseEmbedding> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(PhraseEmbedding::ALL.map(PhraseEmbedding::as_str))
        .try_map(|s| s.parse::<PhraseEmbedding>())
}

fn unit_interval(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("`{s}` is not a number from 0 to 1")),
    }
}

fn parse_task(s: &str) -> Result<Task, String> {
    s.trim().parse().map_err(|e: edgemine::Error| e.to_string())
}

// Each optimized plan allocates and frees tens of MB on the pool's threads;
// glibc keeps such memory in per-thread arenas, mimalloc gives it back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's way to hand the memory it keeps free back to the system at
/// once, for the engine to call after loading and after building a plan
/// (`edgemine::process::return_free_memory_with`).
fn return_free_memory() {
    // SAFETY: mi_collect takes no arguments to misuse and may be called
    // from any thread at any time; it only releases pages mimalloc holds free.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

const EXIT_DOCUMENTS_FAILED: u8 = 1;
/// Bad command line (clap exits with 2 too).
const EXIT_USAGE: u8 = 2;
const EXIT_MODEL: u8 = 3;
const EXIT_IO: u8 = 4;

fn main() -> ExitCode {
    // A kernel that refuses costs speed and memory, not results.
    let _ = edgemine::process::use_small_pages();
    edgemine::process::return_free_memory_with(return_free_memory);
    let cli = Cli::parse();
    match cli.command {
        Command::Models(args) => models(args),
        Command::Extract(args) => extract(args),
    }
}

fn load(config: EngineConfig) -> Result<Engine, ExitCode> {
    Engine::with_config(config).map_err(|e| {
        eprintln!("edgemine: {e}");
        ExitCode::from(EXIT_MODEL)
    })
}

fn models(args: ModelArgs) -> ExitCode {
    let config =
        args.backend.apply(EngineConfig { model_dir: args.model, threads: args.threads, ..EngineConfig::default() });
    let engine = match config.and_then(load) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let info = engine.info();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info).unwrap_or_default());
    } else {
        let tasks: Vec<&str> = info.tasks.iter().map(|t| t.as_str()).collect();
        println!("model     {} {}", info.name, info.version);
        println!("folder    {} (found: {}; manifest: {})", info.dir.display(), info.source, info.manifest);
        println!("tasks     {}", tasks.join(", "));
        println!("entities  {}", info.entity_labels.join(" "));
        println!("max len   {} wordpieces", info.max_wordpieces);
        match info.pack_wordpieces {
            Some(n) => println!("packing   consecutive sentences, up to {n} wordpieces a sequence (as trained)"),
            None => println!("packing   none: one sentence a sequence (as trained)"),
        }
        if info.tasks.contains(&edgemine::Task::Keyphrases) {
            match info.keyphrase_rankers.iter().map(|e| e.as_str()).collect::<Vec<_>>() {
                fitted if fitted.is_empty() => {
                    println!("rankers   none fitted: key phrases by similarity to the document")
                }
                fitted => println!("rankers   key phrases embedded {} (fitted)", fitted.join(", ")),
            }
        }
        println!("threads   {}", info.threads);
        let sessions = match info.onnxruntime_sessions {
            Some(1) => ", 1 session".to_owned(),
            Some(n) => format!(", {n} sessions"),
            None => String::new(),
        };
        println!("backend   {} ({}{sessions})", info.backend, info.precision);
        println!("loaded in {} ms", info.load_ms);
    }
    ExitCode::SUCCESS
}

fn extract(args: ExtractArgs) -> ExitCode {
    let config = args.backend.apply(EngineConfig {
        model_dir: args.model.clone(),
        threads: args.threads,
        max_plans: Some(args.max_plans),
        phrase_cache: Some(args.phrase_cache),
        ..EngineConfig::default()
    });
    let engine = match config.and_then(load) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let Some(options) = extract_options(&args) else {
        eprintln!("edgemine: --format carb writes triples; add triples to --tasks");
        return ExitCode::from(EXIT_USAGE);
    };
    let documents = match input::read_all(&args.files, args.input) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("edgemine: {e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    write_extractions(&engine, &documents, &options, &args)
}

/// The core's options from the flags; `None` where the output format
/// cannot carry the tasks asked for.
fn extract_options(args: &ExtractArgs) -> Option<Options> {
    let tasks = match (&args.tasks, args.format) {
        (None, Format::Carb) => Some(vec![Task::Triples]),
        (Some(t), Format::Carb) if !t.contains(&Task::Triples) => return None,
        _ => args.tasks.clone(),
    };
    let document = DocumentOptions {
        tasks,
        // CoNLL-U and CaRB carry no offsets and slice the text by bytes.
        offsets: Some(match args.offsets {
            _ if matches!(args.format, Format::Conllu | Format::Carb) => OffsetUnit::Utf8,
            Offsets::Utf8 => OffsetUnit::Utf8,
            Offsets::Char => OffsetUnit::Char,
            Offsets::Utf16 => OffsetUnit::Utf16,
        }),
        pretokenized: Some(args.pretokenized),
        aggregation: Some(match args.aggregation {
            AggregationArg::First => Aggregation::First,
            AggregationArg::Average => Aggregation::Average,
            AggregationArg::Max => Aggregation::Max,
        }),
        chunk_wordpieces: args.chunk_wordpieces,
        chunk_overlap: Some(args.chunk_overlap),
        pack_sentences: args.pack_sentences,
        top_k: Some(args.top_k),
        mmr_lambda: Some(args.mmr_lambda),
        keyphrase_max_words: Some(args.keyphrase_max_words),
        of_phrases: Some(args.of_phrases),
        section_words: Some(args.section_words),
        shortlist: Some(args.shortlist),
        explain_keyphrases: Some(args.explain_keyphrases),
        keyphrase_embedding: Some(args.keyphrase_embedding),
    };
    let limits =
        Options { max_document_bytes: args.max_bytes, batch_wordpieces: args.batch_wordpieces, ..Options::default() };
    Some(document.apply(&limits))
}

/// Extracts from `documents`, `--batch-docs` at a time, and writes each
/// extraction (or its error) as it comes, with a progress bar on a terminal.
fn write_extractions(
    engine: &Engine,
    documents: &[input::Document],
    options: &Options,
    args: &ExtractArgs,
) -> ExitCode {
    let progress = (documents.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(documents.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} documents {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let stdout = std::io::stdout().lock();
    let mut writer = Writer::new(BufWriter::new(stdout), args.format, documents.len(), args.input == InputMode::Text);
    let mut failed = 0usize;
    for group in documents.chunks(args.batch_docs.max(1)) {
        let texts: Vec<&str> = group.iter().map(|d| d.text.as_deref().unwrap_or("")).collect();
        let results = engine.extract_batch_with(&texts, options);
        for (doc, result) in group.iter().zip(results) {
            let result = match &doc.text {
                Err(e) => Err(e.clone()),
                Ok(_) => result.map_err(input::Failure::from),
            };
            if let Err(input::Failure { message, .. }) = &result {
                failed += 1;
                let line = format!("edgemine: document {}: {message}", doc.name());
                match &progress {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            if let Err(e) = writer.write(doc, &result) {
                return output_failed(e);
            }
        }
        if let Some(bar) = &progress {
            bar.inc(group.len() as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Err(e) = writer.finish() {
        return output_failed(e);
    }
    if failed > 0 {
        eprintln!("edgemine: {failed} of {} documents failed", documents.len());
        return ExitCode::from(EXIT_DOCUMENTS_FAILED);
    }
    ExitCode::SUCCESS
}

/// A reader that went away (`edgemine extract … | head`) is a normal end.
fn output_failed(e: std::io::Error) -> ExitCode {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("edgemine: cannot write the output: {e}");
    ExitCode::from(EXIT_IO)
}
