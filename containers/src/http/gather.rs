//! Requests gathered into shared engine batches.
//!
//! The engine is fastest on many documents at once: their sentences share
//! rows and every matrix product is bigger. One request a call leaves that
//! on the table when clients send a sentence a request. So requests queue
//! here, and whenever a seat in the engine is free, the documents of every
//! request waiting (and of those arriving within `--gather-ms`, up to
//! `--gather-documents`) run as one engine call (`Engine::extract_each`:
//! documents with equal options share batches). A document that fails
//! fails alone, as in any batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use edgemine::{Engine, Extraction, Options};
use tokio::sync::{mpsc, oneshot};

use super::admission::{Admission, Ticket};
use crate::metrics::Metrics;

/// One request's documents, on their way to the engine.
pub struct Job {
    pub engine: Arc<Engine>,
    pub texts: Vec<String>,
    pub options: Options,
    /// Its place in the queue; held until the engine is done with it.
    pub ticket: Ticket,
    /// Gets the request's results, in the order of its texts.
    pub reply: oneshot::Sender<Vec<edgemine::Result<Extraction>>>,
}

/// How long a free seat waits for more requests, and how many documents it takes.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub wait: Duration,
    pub documents: usize,
}

/// The queue in front of the engine.
pub struct Gatherer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Gatherer {
    /// Starts the gathering task. The queue needs no bound of its own:
    /// only admitted requests (holding a ticket) are sent.
    pub fn start(admission: Arc<Admission>, metrics: Arc<Metrics>, window: Window) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(gather(queue, admission, metrics, window));
        Self { jobs }
    }

    /// Queues a job; false if the gathering task is gone (never while the server runs).
    pub fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }
}

async fn gather(
    mut queue: mpsc::UnboundedReceiver<Job>,
    admission: Arc<Admission>,
    metrics: Arc<Metrics>,
    window: Window,
) {
    while let Some(first) = queue.recv().await {
        let seat = admission.free_seat().await;
        // What queued while waiting for the seat, then what arrives within the window.
        let mut documents = first.texts.len();
        let mut jobs = vec![first];
        let until = tokio::time::Instant::now() + window.wait;
        while documents < window.documents {
            let next = match queue.try_recv() {
                Ok(job) => Some(job),
                Err(_) if window.wait.is_zero() => None,
                Err(_) => tokio::time::timeout_at(until, queue.recv()).await.ok().flatten(),
            };
            let Some(job) = next else { break };
            documents += job.texts.len();
            jobs.push(job);
        }
        metrics.gathered_requests.observe(jobs.len() as f64);
        let (tickets, jobs): (Vec<Ticket>, Vec<Pending>) = jobs.into_iter().map(Pending::split).unzip();
        let seat = seat.take(tickets);
        let (admission, metrics) = (admission.clone(), metrics.clone());
        tokio::task::spawn_blocking(move || {
            // The seat and the tickets stay taken until the engine is done,
            // even for requests that have timed out meanwhile.
            let _seat = seat;
            metrics.in_flight.inc();
            let started = Instant::now();
            let served = jobs.len();
            run(jobs);
            metrics.in_flight.dec();
            admission.served(started.elapsed() / served.max(1) as u32);
        });
    }
}

/// A job without its ticket (which the seat holds).
struct Pending {
    engine: Arc<Engine>,
    texts: Vec<String>,
    options: Options,
    reply: oneshot::Sender<Vec<edgemine::Result<Extraction>>>,
}

impl Pending {
    fn split(job: Job) -> (Ticket, Self) {
        let Job { engine, texts, options, ticket, reply } = job;
        (ticket, Self { engine, texts, options, reply })
    }
}

/// Runs the jobs' documents as one engine call (those with equal options
/// share batches) and answers each job.
fn run(jobs: Vec<Pending>) {
    let Some(engine) = jobs.first().map(|j| j.engine.clone()) else { return };
    let documents: Vec<(&str, &Options)> =
        jobs.iter().flat_map(|j| j.texts.iter().map(|t| (t.as_str(), &j.options))).collect();
    let mut results = engine.extract_each(&documents).into_iter();
    for job in jobs {
        let results = results.by_ref().take(job.texts.len()).collect();
        // A client that left no longer waits for its answer.
        let _ = job.reply.send(results);
    }
}
