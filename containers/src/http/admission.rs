//! Admission control: at most `concurrency` engine batches at once (each
//! gathers the requests waiting, see `gather`), at most `concurrency +
//! queue` requests admitted; anything beyond is refused at once (429), so
//! overload shows as fast refusals with a Retry-After, never as timeouts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::metrics::Metrics;

/// The two bounds and what the Retry-After estimate reads.
pub struct Admission {
    /// Tickets: running plus waiting requests.
    tickets: Arc<Semaphore>,
    /// Seats in the engine.
    seats: Arc<Semaphore>,
    total_tickets: usize,
    concurrency: usize,
    /// Mean seconds a request spends in the engine (exponentially
    /// weighted), as f64 bits.
    mean_service_bits: AtomicU64,
    metrics: Arc<Metrics>,
}

/// A request admitted: it holds a ticket until it is dropped, and counts
/// in the queue depth until it gets a seat.
pub struct Ticket {
    _ticket: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
    queued: bool,
}

/// A free place in the engine, before the requests it will serve are chosen.
pub struct FreeSeat(OwnedSemaphorePermit);

/// A batch in the engine: its requests' tickets and its seat, all released
/// when the work really ends (moved into the blocking task, so a request
/// that times out or whose client leaves keeps its place until the engine
/// is done).
pub struct Seat {
    _tickets: Vec<Ticket>,
    _seat: OwnedSemaphorePermit,
}

impl Admission {
    /// Room for `concurrency` requests in the engine and `queue` waiting.
    pub fn new(concurrency: usize, queue: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            tickets: Arc::new(Semaphore::new(concurrency + queue)),
            seats: Arc::new(Semaphore::new(concurrency)),
            total_tickets: concurrency + queue,
            concurrency,
            mean_service_bits: AtomicU64::new(0.5f64.to_bits()),
            metrics,
        }
    }

    /// A ticket, or `None` when the queue is full (answer 429).
    pub fn admit(&self) -> Option<Ticket> {
        match self.tickets.clone().try_acquire_owned() {
            Ok(permit) => {
                self.metrics.queue_depth.inc();
                Some(Ticket { _ticket: permit, metrics: self.metrics.clone(), queued: true })
            }
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => None,
        }
    }

    /// Waits for a free seat in the engine.
    pub async fn free_seat(&self) -> FreeSeat {
        // The semaphore is never closed, so acquiring only waits.
        FreeSeat(self.seats.clone().acquire_owned().await.expect("the seats semaphore is never closed"))
    }

    /// Records how long a request spent in the engine (a batch's time over
    /// the requests it served).
    pub fn served(&self, took: Duration) {
        let old = f64::from_bits(self.mean_service_bits.load(Ordering::Relaxed));
        let new = 0.8 * old + 0.2 * took.as_secs_f64();
        self.mean_service_bits.store(new.to_bits(), Ordering::Relaxed);
    }

    /// Seconds a refused client should wait: the time the engine needs
    /// for everything admitted now, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let mean = f64::from_bits(self.mean_service_bits.load(Ordering::Relaxed));
        let admitted = self.tickets_in_use() as f64;
        ((mean * admitted / self.concurrency as f64).ceil() as u64).max(1)
    }

    fn tickets_in_use(&self) -> usize {
        self.total_tickets.saturating_sub(self.tickets.available_permits())
    }
}

impl FreeSeat {
    /// The seat taken by the requests of `tickets`, which leave the queue.
    pub fn take(self, mut tickets: Vec<Ticket>) -> Seat {
        tickets.iter_mut().for_each(Ticket::leave_queue);
        Seat { _tickets: tickets, _seat: self.0 }
    }
}

impl Ticket {
    fn leave_queue(&mut self) {
        if std::mem::replace(&mut self.queued, false) {
            self.metrics.queue_depth.dec();
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.leave_queue();
    }
}
