//! The consumer's rebalance hooks: a revocation waits until the batch in
//! the engine is produced and committed, so a partition never changes
//! hands with work of ours half done (no loss, no commit by a member that
//! no longer owns it).

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex};

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};

/// Whether a batch is between its first poll and its commit.
#[derive(Default)]
pub struct InFlight {
    busy: Mutex<bool>,
    idle: Condvar,
}

/// Marks a batch in flight until dropped, whichever way its work ends.
pub struct InFlightGuard(Arc<InFlight>);

impl InFlight {
    /// Marks a batch in flight.
    pub fn begin(self: &Arc<Self>) -> InFlightGuard {
        *self.busy.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        InFlightGuard(self.clone())
    }

    /// Blocks until no batch is in flight.
    fn wait_idle(&self) {
        let mut busy = self.busy.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while *busy {
            busy = self.idle.wait(busy).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        *self.0.busy.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = false;
        self.0.idle.notify_all();
    }
}

/// The worker's consumer context.
#[derive(Default)]
pub struct WorkerContext {
    /// The batch in flight, if any.
    pub in_flight: Arc<InFlight>,
    /// Partitions revoked since the main loop last looked: messages of
    /// theirs polled before must be dropped (another member, or this one
    /// after a new assignment, reads them again from the last commit).
    revoked: Mutex<HashSet<(String, i32)>>,
}

impl WorkerContext {
    /// The partitions revoked since the last call.
    pub fn take_revoked(&self) -> HashSet<(String, i32)> {
        std::mem::take(&mut *self.revoked.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

impl ClientContext for WorkerContext {}

impl ConsumerContext for WorkerContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(partitions) => {
                tracing::info!(partitions = partitions.count(), "partitions revoked: finishing the batch in flight");
                // The batch's own thread produces and commits; it never
                // waits on this poll, so waiting here cannot deadlock.
                self.in_flight.wait_idle();
                let mut revoked = self.revoked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                revoked.extend(partitions.elements().iter().map(|p| (p.topic().to_string(), p.partition())));
            }
            Rebalance::Assign(partitions) => {
                tracing::info!(partitions = partitions.count(), "partitions assigned");
            }
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance error"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        // librdkafka keeps a partition's paused flag across assignments:
        // one paused for a batch and revoked before the batch resumed it
        // would come back paused, and never be read again.
        if let Rebalance::Assign(partitions) = rebalance
            && let Err(error) = consumer.resume(partitions)
        {
            tracing::warn!(%error, "cannot resume the assigned partitions");
        }
    }
}
