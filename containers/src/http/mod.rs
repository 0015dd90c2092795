//! `edgemine-server http`: the extraction API.
//!
//! `POST /v1/extract` takes one document or a batch and answers with the
//! core's schema; `/openapi.json` and `/docs` describe it; the probes and
//! `/metrics` are mounted beside it. Admission control bounds the work
//! (429 beyond it), every request has a deadline (503 past it), and
//! SIGTERM drains: readiness drops, in-flight requests finish, then exit.

mod admission;
mod auth;
mod extract;
mod gather;
pub mod openapi;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use std::future::IntoFuture;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use edgemine::{Engine, Options};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::engine::EngineArgs;
use crate::metrics::Metrics;
use crate::probes::{self, Probes, Readiness};
use admission::Admission;
use gather::{Gatherer, Window};

/// Flags of the HTTP mode, each also read from its `EDGEMINE_*` variable.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "EDGEMINE_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Largest request body, in bytes (413 beyond it).
    #[arg(long, env = "EDGEMINE_MAX_BODY_BYTES", default_value_t = 8 << 20)]
    pub max_body_bytes: usize,
    /// Most documents in one request (413 beyond it).
    #[arg(long, env = "EDGEMINE_MAX_BATCH", default_value_t = 64)]
    pub max_batch: usize,
    /// Engine batches at once, each gathering the requests waiting. The
    /// engine spreads each over its threads, so a few keep a small node busy.
    #[arg(long, env = "EDGEMINE_CONCURRENCY", default_value_t = 2)]
    pub concurrency: usize,
    /// Milliseconds a free engine slot waits for more requests to run
    /// with the first, so that concurrent small requests share one engine
    /// batch (their sentences share rows); 0 takes only what already waits.
    #[arg(long, env = "EDGEMINE_GATHER_MS", default_value_t = 2.0)]
    pub gather_ms: f64,
    /// Most documents gathered into one engine batch (a request is never split).
    #[arg(long, env = "EDGEMINE_GATHER_DOCUMENTS", default_value_t = 64)]
    pub gather_documents: usize,
    /// Requests waiting for the engine beyond those; more get 429 with a
    /// Retry-After at once.
    #[arg(long, env = "EDGEMINE_QUEUE", default_value_t = 16)]
    pub queue: usize,
    /// Seconds from a request's arrival to its answer, waiting included;
    /// past it the answer is 503 TIMEOUT.
    #[arg(long, env = "EDGEMINE_REQUEST_TIMEOUT", default_value_t = 30.0)]
    pub request_timeout: f64,
    /// File holding the bearer token clients must send (a mounted
    /// Secret); without it the API is open. Probes stay open either way.
    #[arg(long, env = "EDGEMINE_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// Seconds to keep serving after SIGTERM with readiness down, so load
    /// balancers stop sending before the listener closes.
    #[arg(long, env = "EDGEMINE_DRAIN_DELAY", default_value_t = 0.0)]
    pub drain_delay: f64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Everything a request handler reads.
pub struct App {
    /// Set once the models are loaded.
    engine: OnceLock<Arc<Engine>>,
    defaults: Options,
    max_batch: usize,
    max_body_bytes: usize,
    timeout: Duration,
    token: Option<auth::Token>,
    admission: Arc<Admission>,
    gatherer: Gatherer,
    metrics: Arc<Metrics>,
    readiness: Arc<Readiness>,
}

/// Runs the HTTP mode until SIGTERM/SIGINT, then drains.
pub async fn run(args: HttpArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    anyhow::ensure!(args.max_batch >= 1, "--max-batch must be at least 1");
    anyhow::ensure!(
        args.request_timeout.is_finite() && args.request_timeout > 0.0,
        "--request-timeout must be a positive number of seconds"
    );
    anyhow::ensure!(
        args.drain_delay.is_finite() && args.drain_delay >= 0.0,
        "--drain-delay must be zero or a positive number of seconds"
    );
    anyhow::ensure!(
        args.gather_ms.is_finite() && args.gather_ms >= 0.0,
        "--gather-ms must be zero or a positive number of milliseconds"
    );
    anyhow::ensure!(args.gather_documents >= 1, "--gather-documents must be at least 1");
    let token = match &args.token_file {
        Some(path) => Some(auth::Token::read(path)?),
        None => None,
    };
    let metrics = Arc::new(Metrics::new());
    let readiness = Arc::new(Readiness::default());
    let admission = Arc::new(Admission::new(args.concurrency, args.queue, metrics.clone()));
    let window = Window { wait: Duration::from_secs_f64(args.gather_ms / 1e3), documents: args.gather_documents };
    let app = Arc::new(App {
        engine: OnceLock::new(),
        defaults: args.engine.defaults(),
        max_batch: args.max_batch,
        max_body_bytes: args.max_body_bytes,
        timeout: Duration::from_secs_f64(args.request_timeout),
        token,
        gatherer: Gatherer::start(admission.clone(), metrics.clone(), window),
        admission,
        metrics: metrics.clone(),
        readiness: readiness.clone(),
    });

    // Listen first, so liveness answers while the models load.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, "listening");
    let loader = {
        let app = app.clone();
        let engine_args = args.engine.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let (engine, seconds) = engine_args.load()?;
            let info = engine.info();
            tracing::info!(model = %info.dir.display(), threads = info.threads, seconds, "models loaded");
            app.metrics.model_load_seconds.set(seconds);
            let _ = app.engine.set(engine);
            app.readiness.set(true);
            Ok(())
        })
    };

    let router = router(app.clone(), Probes { readiness: readiness.clone(), metrics });
    let drain_delay = Duration::from_secs_f64(args.drain_delay);
    let shutdown = {
        let readiness = readiness.clone();
        async move {
            crate::shutdown::signal().await;
            readiness.set(false);
            tokio::time::sleep(drain_delay).await;
            tracing::info!("draining: finishing requests in flight");
        }
    };
    let server = tokio::spawn(axum::serve(listener, router).with_graceful_shutdown(shutdown).into_future());
    // A model that cannot load stops the process: a crash the orchestrator
    // shows, with the core's message saying what to fix.
    loader.await.context("the model loader panicked")??;
    server.await.context("the server panicked")?.context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// The whole API: extraction, its documentation, the probes.
pub fn router(app: Arc<App>, probes: Probes) -> Router {
    let body_limit = app.max_body_bytes;
    Router::new()
        .route("/v1/extract", post(extract::extract))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi::ApiDoc::openapi()))
        .merge(probes::router(probes))
}
