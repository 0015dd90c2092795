//! Prometheus metrics, one registry per process, served at `/metrics` in
//! the text exposition format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use std::sync::atomic::AtomicU64;

/// Label of a request counter: the HTTP status sent.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    /// `200`, `429`…
    pub status: u16,
}

/// Label of a document counter: how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `ok`, or the error code (`EMPTY_DOCUMENT`…).
    pub outcome: String,
}

/// Label of an error counter: the error's code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// `OVERLOADED`, `EMPTY_DOCUMENT`, `INVALID_MESSAGE`…
    pub code: String,
}

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests answered, by status.
    pub requests: Family<StatusLabel, Counter>,
    /// Seconds from a request's arrival to its answer.
    pub request_seconds: Histogram,
    /// Documents finished, by outcome.
    pub documents: Family<OutcomeLabel, Counter>,
    /// Words (runs of non-whitespace) of the documents extracted.
    pub words: Counter,
    /// Errors answered (a refused request, a failed document, a dead
    /// letter), by code.
    pub errors: Family<CodeLabel, Counter>,
    /// Requests admitted and waiting for the engine.
    pub queue_depth: Gauge,
    /// Engine batches (HTTP: gathered requests; worker: batches) in the engine now.
    pub in_flight: Gauge,
    /// Requests gathered into each HTTP engine batch.
    pub gathered_requests: Histogram,
    /// Seconds it took to load the models.
    pub model_load_seconds: Gauge<f64, AtomicU64>,
    /// Seconds a worker batch took, from its first message to its commit.
    pub batch_seconds: Histogram,
    /// Kafka records produced to the dead-letter topic.
    pub dead_letters: Counter,
}

impl Metrics {
    /// A registry holding every metric, all at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("edgemine");
        Self {
            requests: registered(
                &mut registry,
                "http_requests",
                "HTTP requests answered, by status",
                Family::default(),
            ),
            // 5 ms to ~82 s.
            request_seconds: registered(
                &mut registry,
                "http_request_duration_seconds",
                "Seconds from a request's arrival to its answer",
                Histogram::new(exponential_buckets(0.005, 2.0, 15)),
            ),
            documents: registered(
                &mut registry,
                "documents",
                "Documents finished, by outcome (ok or an error code)",
                Family::default(),
            ),
            words: registered(
                &mut registry,
                "words",
                "Words (runs of non-whitespace) of the documents extracted",
                Counter::default(),
            ),
            errors: registered(
                &mut registry,
                "errors",
                "Errors answered (refused requests, failed documents, dead letters), by code",
                Family::default(),
            ),
            queue_depth: registered(
                &mut registry,
                "queue_depth",
                "Requests admitted and waiting for the engine",
                Gauge::default(),
            ),
            in_flight: registered(
                &mut registry,
                "in_flight",
                "Engine batches in the engine now (http: each gathers concurrent requests; worker: batches)",
                Gauge::default(),
            ),
            // 1 to 512.
            gathered_requests: registered(
                &mut registry,
                "http_gathered_requests",
                "Requests gathered into each engine batch (--gather-ms, --gather-documents)",
                Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            ),
            model_load_seconds: registered(
                &mut registry,
                "model_load_seconds",
                "Seconds it took to load the models",
                Gauge::default(),
            ),
            batch_seconds: registered(
                &mut registry,
                "worker_batch_duration_seconds",
                "Seconds a worker batch took, from its first message to its commit",
                Histogram::new(exponential_buckets(0.01, 2.0, 15)),
            ),
            dead_letters: registered(
                &mut registry,
                "dead_letters",
                "Records produced to the dead-letter topic",
                Counter::default(),
            ),
            registry,
        }
    }

    /// Counts one finished document: `ok` with its words, or its error code.
    pub fn document(&self, outcome: &str, words: usize) {
        self.documents.get_or_create(&OutcomeLabel { outcome: outcome.to_string() }).inc();
        if outcome == "ok" {
            self.words.inc_by(words as u64);
        }
    }

    /// Counts one error answered.
    pub fn error(&self, code: &str) {
        self.errors.get_or_create(&CodeLabel { code: code.to_string() }).inc();
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Registers `metric` (a handle: clones share its value) and returns it.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
