//! `/healthz`, `/readyz` and `/metrics`: what Kubernetes and Prometheus
//! read, for both modes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::metrics::Metrics;

/// Whether the process should get work: false until the models are
/// loaded, and again once it drains for shutdown.
#[derive(Default)]
pub struct Readiness(AtomicBool);

impl Readiness {
    /// Sets readiness.
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    /// Reads readiness.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the probes read.
#[derive(Clone)]
pub struct Probes {
    /// Readiness of the process.
    pub readiness: Arc<Readiness>,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
}

/// The probe routes, on their own state so either mode can mount them.
pub fn router(probes: Probes) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(probes)
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "probes", responses((status = 200, description = "The process is alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: models loaded and not draining.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "probes",
    responses(
        (status = 200, description = "Models loaded; accepting work", body = String),
        (status = 503, description = "Loading models, or draining for shutdown", body = String)
    )
)]
pub async fn readyz(State(probes): State<Probes>) -> (StatusCode, &'static str) {
    if probes.readiness.get() { (StatusCode::OK, "ready\n") } else { (StatusCode::SERVICE_UNAVAILABLE, "not ready\n") }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "probes", responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(probes): State<Probes>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], probes.metrics.encode())
}
