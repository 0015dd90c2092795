//! `edgemine-server`: edgemine as a service for Kubernetes.
//!
//! - `edgemine-server http`: the extraction API (`POST /v1/extract`,
//!   `/openapi.json`, `/docs`, `/healthz`, `/readyz`, `/metrics`).
//! - `edgemine-server worker`: a Kafka consumer-group member that reads
//!   documents from a topic and produces their extractions to another.
//!
//! Both are thin: the core does the work, these modules bound it, observe
//! it and move documents in and out.

mod document;
mod engine;
mod http;
mod metrics;
mod probes;
mod shutdown;
mod worker;

use clap::{Parser, Subcommand, ValueEnum};

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

/// edgemine as a service: an HTTP extraction API, or a Kafka worker.
#[derive(Debug, Parser)]
#[command(name = "edgemine-server", version)]
struct Cli {
    /// Log format: one JSON object a line (for log collectors) or text.
    #[arg(long, env = "EDGEMINE_LOG_FORMAT", default_value = "json", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Serve the extraction API over HTTP.
    Http(http::HttpArgs),
    /// Consume documents from Kafka and produce their extractions.
    Worker(worker::WorkerArgs),
    /// Print the OpenAPI document and exit.
    Openapi,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // RUST_LOG filters (default: info).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colors only on a terminal, never into files or log collectors.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match cli.log_format {
        LogFormat::Json => subscriber.json().flatten_event(true).init(),
        LogFormat::Text => subscriber.init(),
    }
    if let Err(e) = edgemine::process::use_small_pages() {
        tracing::debug!("transparent huge pages stay on ({e}): slower batches, more memory, same results");
    }
    edgemine::process::return_free_memory_with(return_free_memory);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.mode {
            Mode::Http(args) => http::run(args).await,
            Mode::Worker(args) => worker::run(args).await,
            Mode::Openapi => {
                use utoipa::OpenApi;
                println!("{}", http::openapi::ApiDoc::openapi().to_pretty_json()?);
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "stopped on an error");
            std::process::ExitCode::FAILURE
        }
    }
}
