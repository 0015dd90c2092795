//! Service throughput and latency on loopback, with the release binary.
//!
//!   cargo bench -p edgemine-server --bench service -- http    # HTTP: docs/s, p50/p99
//!   cargo bench -p edgemine-server --bench service -- worker  # Kafka: docs/s, 1 and 2 consumers
//!
//! `worker` needs the test broker (containers/kafka/broker.sh start, or
//! EDGEMINE_KAFKA_BROKERS). Documents are `support::document(i)`: a header
//! and one to four report sentences (≈ 10–45 words).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;
use support::kafka::{create_topics, produce, read_until, start_worker};
use support::{Server, document, post, quantile};

fn words(i: usize) -> usize {
    document(i).split_whitespace().count()
}

/// A closed loop: `clients` threads, each sending one document a request
/// for `seconds`.
fn http(clients: usize, seconds: f64) {
    let server = Server::start("http", &[]);
    let url = server.url("/v1/extract");
    // Warm the plan cache with every batch shape first.
    for i in 0..8 {
        post(&url, &json!({"text": document(i)}).to_string(), None);
    }
    let started = Instant::now();
    let results: Vec<(u16, f64, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let url = &url;
                scope.spawn(move || {
                    let mut done = Vec::new();
                    let mut i = client;
                    while started.elapsed().as_secs_f64() < seconds {
                        let sent = Instant::now();
                        let answer = post(url, &json!({"text": document(i)}).to_string(), None);
                        done.push((answer.status, sent.elapsed().as_secs_f64(), words(i)));
                        i += clients;
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = results.iter().map(|r| r.1).collect();
    latencies.sort_by(f64::total_cmp);
    let statuses: BTreeSet<u16> = results.iter().map(|r| r.0).collect();
    let word_count: usize = results.iter().map(|r| r.2).sum();
    println!(
        "http, {clients} clients, one document a request, {:.0} s: {} requests, {:.1} docs/s, {:.0} words/s, \
         p50 {:.0} ms, p99 {:.0} ms, statuses {statuses:?}",
        wall,
        results.len(),
        results.len() as f64 / wall,
        word_count as f64 / wall,
        quantile(&latencies, 0.5) * 1e3,
        quantile(&latencies, 0.99) * 1e3,
    );
}

/// `documents` through `consumers` workers sharing 4 partitions, from the
/// first worker's start to the last extraction read back.
fn worker(consumers: usize, documents: usize) {
    let topics = create_topics(&format!("bench{consumers}"), 4);
    let inputs: Vec<_> = (0..documents)
        .map(|i| (Some(format!("d{i}")), json!({"id": format!("d{i}"), "text": document(i)}).to_string().into_bytes()))
        .collect();
    produce(&topics.input, &inputs);
    let threads = (2 / consumers).max(1).to_string();
    let started = Instant::now();
    let group = format!("g-{}", topics.input);
    let servers: Vec<Server> =
        (0..consumers).map(|_| start_worker(&topics, &group, &["--threads", &threads])).collect();
    let read = read_until(&topics.output, Duration::from_secs(600), |read| {
        read.iter().filter_map(|r| r.key.as_deref()).collect::<BTreeSet<_>>().len() >= documents
    });
    let wall = started.elapsed().as_secs_f64();
    let word_count: usize = (0..documents).map(words).sum();
    println!(
        "worker, {consumers} consumer(s) x {threads} thread(s), {documents} documents: {:.1} s, {:.1} docs/s, {:.0} words/s \
         (from start, model loading included), {} records out",
        wall,
        documents as f64 / wall,
        word_count as f64 / wall,
        read.len()
    );
    drop(servers);
}

fn main() {
    let which: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let all = which.is_empty();
    if all || which.iter().any(|w| w == "http") {
        http(1, 20.0);
        http(4, 20.0);
    }
    if all || which.iter().any(|w| w == "worker") {
        worker(1, 800);
        worker(2, 800);
    }
}
