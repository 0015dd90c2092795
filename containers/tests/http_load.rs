//! The HTTP mode under load: the real binary on loopback, driven by
//! bounded client loops. A test binary of its own, and one test at a time
//! (LOAD), so no other server shares the cores while latency is measured.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Server, document, post, quantile};

static LOAD: Mutex<()> = Mutex::new(());

/// Excess load is refused at once with 429 and a Retry-After; what is
/// admitted is answered; nothing gets a 5xx.
#[test]
fn overload_gets_429_not_timeouts() {
    let _alone = LOAD.lock().unwrap_or_else(|p| p.into_inner());
    let server = Server::start("http", &["--concurrency", "1", "--queue", "2"]);
    let url = server.url("/v1/extract");
    let body = json!({"documents": (0..6).map(|i| json!({"text": document(i)})).collect::<Vec<_>>()}).to_string();
    let answers: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12).map(|_| scope.spawn(|| post(&url, &body, None))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(
        ok + refused.len(),
        answers.len(),
        "only 200 and 429: {:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(ok >= 3, "the engine seat and the queue of 2 are served: {ok}");
    assert!(!refused.is_empty(), "12 at once over room for 3 must refuse some");
    for answer in refused {
        assert_eq!(answer.body["error"]["code"], "OVERLOADED");
        let seconds: u64 = answer.retry_after.as_deref().expect("Retry-After").parse().unwrap();
        assert!(seconds >= 1);
    }
}

/// A bounded closed loop (4 clients, 2 in the engine): every request
/// answered 200, p99 latency under the stated bound.
#[test]
fn sustained_load_holds_p99_under_bound() {
    let _alone = LOAD.lock().unwrap_or_else(|p| p.into_inner());
    const P99_BOUND: Duration = Duration::from_secs(3);
    let server = Server::start("http", &["--concurrency", "2", "--queue", "16"]);
    let url = server.url("/v1/extract");
    let started = Instant::now();
    let mut latencies: Vec<(u16, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|client| {
                let url = &url;
                scope.spawn(move || {
                    (0..10)
                        .map(|k| {
                            let body = json!({"text": document(client * 10 + k)}).to_string();
                            let sent = Instant::now();
                            let answer = post(url, &body, None);
                            (answer.status, sent.elapsed().as_secs_f64())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let wall = started.elapsed().as_secs_f64();
    assert!(latencies.iter().all(|(status, _)| *status == 200), "{latencies:?}");
    latencies.sort_by(|a, b| a.1.total_cmp(&b.1));
    let seconds: Vec<f64> = latencies.iter().map(|(_, s)| *s).collect();
    let (p50, p99) = (quantile(&seconds, 0.5), quantile(&seconds, 0.99));
    eprintln!("40 requests, 4 clients: {:.1} docs/s, p50 {:.0} ms, p99 {:.0} ms", 40.0 / wall, p50 * 1e3, p99 * 1e3);
    assert!(p99 < P99_BOUND.as_secs_f64(), "p99 {p99:.3} s over the bound of {P99_BOUND:?}");
}
