//! `edgemine-server worker`: a Kafka consumer-group member that extracts.
//!
//! ```text
//! input topic ─► poll a batch ─► pause partitions ─► BatchJob (blocking thread):
//!                    ▲             extract ─► produce ─► wait for acks ─► commit
//!                    └──── resume ◄──────────────────────────────────────┘
//! ```
//!
//! While a batch is in the engine its partitions are paused and the loop
//! keeps polling: the member stays in the group however long the batch
//! takes, nothing more is fetched meanwhile (backpressure), and rebalance
//! callbacks run; a revocation waits for the batch's commit (`context`).
//! Scale out by running more workers in the same group: Kafka spreads the
//! partitions over them.

mod batch;
mod context;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::FutureProducer;

use crate::engine::EngineArgs;
use crate::metrics::Metrics;
use crate::probes::{self, Probes, Readiness};
use batch::BatchJob;
use context::WorkerContext;

/// Flags of the worker mode, each also read from its `EDGEMINE_*` variable.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// Kafka bootstrap servers, comma separated.
    #[arg(long, env = "EDGEMINE_KAFKA_BROKERS", default_value = "localhost:9092")]
    pub brokers: String,
    /// Consumer group: workers in one group share the input's partitions.
    #[arg(long, env = "EDGEMINE_KAFKA_GROUP", default_value = "edgemine")]
    pub group: String,
    /// Topic of input documents: JSON `{"id", "text", "options"}`.
    #[arg(long, env = "EDGEMINE_INPUT_TOPIC", default_value = "edgemine.documents")]
    pub input_topic: String,
    /// Topic the extractions go to, keyed by document id.
    #[arg(long, env = "EDGEMINE_OUTPUT_TOPIC", default_value = "edgemine.extractions")]
    pub output_topic: String,
    /// Topic for messages that cannot be extracted: the original record
    /// with the error in its headers.
    #[arg(long, env = "EDGEMINE_DEAD_LETTER_TOPIC", default_value = "edgemine.dead-letter")]
    pub dead_letter_topic: String,
    /// Most messages in one batch through the engine.
    #[arg(long, env = "EDGEMINE_BATCH_SIZE", default_value_t = 32)]
    pub batch_size: usize,
    /// Milliseconds to wait for a batch to fill once its first message is in.
    #[arg(long, env = "EDGEMINE_BATCH_WAIT_MS", default_value_t = 50)]
    pub batch_wait_ms: u64,
    /// Extra librdkafka settings, KEY=VALUE (security.protocol,
    /// sasl.mechanism, session.timeout.ms…); repeat the flag, or separate
    /// them with `;` in the variable. They apply to consumer and producer.
    #[arg(long = "kafka", env = "EDGEMINE_KAFKA_CONFIG", value_delimiter = ';', value_parser = parse_setting)]
    pub kafka: Vec<(String, String)>,
    /// Address of the probes and metrics (/healthz, /readyz, /metrics).
    #[arg(long, env = "EDGEMINE_LISTEN", default_value = "0.0.0.0:9090")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.trim().to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE (e.g. session.timeout.ms=10000)")),
    }
}

/// Runs the worker until SIGTERM/SIGINT; the batch in flight then
/// finishes and commits before the process leaves the group.
pub async fn run(args: WorkerArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch_size >= 1, "--batch-size must be at least 1");
    let metrics = Arc::new(Metrics::new());
    let readiness = Arc::new(Readiness::default());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, "probes listening");
    let probes = probes::router(Probes { readiness: readiness.clone(), metrics: metrics.clone() });
    tokio::spawn(async move { axum::serve(listener, probes).await });

    let engine_args = args.engine.clone();
    let (engine, seconds) = tokio::task::spawn_blocking(move || engine_args.load()).await??;
    metrics.model_load_seconds.set(seconds);
    tracing::info!(model = %engine.info().dir.display(), threads = engine.threads(), seconds, "models loaded");

    let mut common = ClientConfig::new();
    common.set("bootstrap.servers", &args.brokers);
    for (key, value) in &args.kafka {
        common.set(key, value);
    }
    let consumer: StreamConsumer<WorkerContext> = common
        .clone()
        .set("group.id", &args.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .create_with_context(WorkerContext::default())
        .context("cannot create the Kafka consumer")?;
    let consumer = Arc::new(consumer);
    // Idempotence: the producer's own retries never write a record twice.
    let producer: FutureProducer = common
        .clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()
        .context("cannot create the Kafka producer")?;
    consumer.subscribe(&[&args.input_topic]).with_context(|| format!("cannot subscribe to {}", args.input_topic))?;
    readiness.set(true);
    tracing::info!(brokers = %args.brokers, group = %args.group, input = %args.input_topic, output = %args.output_topic, dead_letter = %args.dead_letter_topic, "consuming");

    let job = Arc::new(BatchJob {
        engine,
        defaults: args.engine.defaults(),
        producer,
        consumer: consumer.clone(),
        output_topic: args.output_topic.clone(),
        dead_letter_topic: args.dead_letter_topic.clone(),
        metrics: metrics.clone(),
    });
    let shutdown = crate::shutdown::signal();
    tokio::pin!(shutdown);
    let mut carried: Vec<OwnedMessage> = Vec::new();
    let wait = Duration::from_millis(args.batch_wait_ms);
    loop {
        let batch = tokio::select! {
            biased;
            () = &mut shutdown => break,
            batch = next_batch(&consumer, &mut carried, args.batch_size, wait) => batch,
        };
        if batch.is_empty() {
            continue;
        }
        let outcome = run_batch(&consumer, &job, batch, &mut carried).await?;
        tracing::debug!(?outcome, "batch done");
    }
    readiness.set(false);
    tracing::info!("leaving the group");
    consumer.unsubscribe();
    Ok(())
}

/// Messages for the next batch: those carried over first, then polled
/// ones, until the batch is full or `wait` has passed since its first.
async fn next_batch(
    consumer: &StreamConsumer<WorkerContext>,
    carried: &mut Vec<OwnedMessage>,
    size: usize,
    wait: Duration,
) -> Vec<OwnedMessage> {
    drop_revoked(consumer, carried);
    let mut batch: Vec<OwnedMessage> = carried.drain(..carried.len().min(size)).collect();
    let mut deadline = None;
    while batch.len() < size {
        // Wait as long as it takes for a first message, then at most `wait`.
        let polled = if batch.is_empty() {
            Some(consumer.recv().await)
        } else {
            let deadline = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + wait);
            tokio::time::timeout_at(deadline, consumer.recv()).await.ok()
        };
        // A rebalance runs inside a poll: drop what was polled before it
        // from revoked partitions; what this poll returned is current.
        drop_revoked(consumer, &mut batch);
        match polled {
            None => break,
            Some(Ok(message)) => batch.push(message.detach()),
            Some(Err(error)) => {
                tracing::warn!(%error, "Kafka consumer error");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop_revoked(consumer, &mut batch);
    batch
}

/// Drops polled messages of partitions revoked since the last call: their
/// new owner (or this worker, assigned them again) reads them anew from the
/// last commit, so keeping them would process them twice, or commit for a
/// partition that is no longer ours. Call it after every poll, before
/// keeping what the poll returned.
fn drop_revoked(consumer: &StreamConsumer<WorkerContext>, messages: &mut Vec<OwnedMessage>) {
    let revoked = consumer.context().take_revoked();
    if !revoked.is_empty() {
        messages.retain(|m| !revoked.contains(&(m.topic().to_string(), m.partition())));
    }
}

/// Runs one batch on a blocking thread with the partitions paused, polling
/// meanwhile so rebalances are served and the member stays in the group.
async fn run_batch(
    consumer: &Arc<StreamConsumer<WorkerContext>>,
    job: &Arc<BatchJob>,
    batch: Vec<OwnedMessage>,
    carried: &mut Vec<OwnedMessage>,
) -> anyhow::Result<batch::Outcome> {
    let started = Instant::now();
    let paused = consumer.assignment().context("cannot read the assignment")?;
    if paused.count() > 0 {
        consumer.pause(&paused).context("cannot pause the partitions")?;
    }
    job.metrics.in_flight.inc();
    let guard = consumer.context().in_flight.begin();
    let work = {
        let job = job.clone();
        tokio::task::spawn_blocking(move || {
            let _in_flight = guard;
            job.run(&batch)
        })
    };
    tokio::pin!(work);
    let result = loop {
        tokio::select! {
            done = &mut work => break done,
            polled = consumer.recv() => {
                drop_revoked(consumer, carried);
                match polled {
                    // Fetched before the pause took effect, or from
                    // partitions assigned meanwhile: the next batch's.
                    Ok(message) => carried.push(message.detach()),
                    Err(error) => tracing::warn!(%error, "Kafka consumer error"),
                }
            }
        }
    };
    job.metrics.in_flight.dec();
    let resume = consumer.assignment().context("cannot read the assignment")?;
    if resume.count() > 0 {
        consumer.resume(&resume).context("cannot resume the partitions")?;
    }
    let outcome = result.context("the batch panicked")??;
    job.metrics.batch_seconds.observe(started.elapsed().as_secs_f64());
    Ok(outcome)
}
