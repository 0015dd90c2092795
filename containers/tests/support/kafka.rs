//! Kafka helpers for the worker's tests and benchmark: unique topics,
//! producing inputs, reading a topic back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Message};

pub fn brokers() -> String {
    std::env::var("EDGEMINE_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:19092".into())
}

/// Topics of one test, named uniquely so runs never see each other's data.
pub struct Topics {
    pub input: String,
    pub output: String,
    pub dead_letter: String,
}

pub fn create_topics(name: &str, partitions: i32) -> Topics {
    let suffix = format!("{name}-{}-{}", std::process::id(), rand_seed());
    let topics =
        Topics { input: format!("in-{suffix}"), output: format!("out-{suffix}"), dead_letter: format!("dlq-{suffix}") };
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers()).create().expect("admin client");
    let new = [
        NewTopic::new(&topics.input, partitions, TopicReplication::Fixed(1)),
        NewTopic::new(&topics.output, partitions, TopicReplication::Fixed(1)),
        NewTopic::new(&topics.dead_letter, 1, TopicReplication::Fixed(1)),
    ];
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = futures::executor::block_on(admin.create_topics(&new, &options)).unwrap_or_else(|e| {
        panic!("cannot reach Kafka at {} ({e}): start it with containers/kafka/broker.sh start", brokers())
    });
    for result in results {
        result.unwrap_or_else(|(topic, e)| panic!("cannot create {topic}: {e}"));
    }
    topics
}

fn rand_seed() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

/// Produces `(key, value)` records and waits until all are acknowledged.
pub fn produce(topic: &str, records: &[(Option<String>, Vec<u8>)]) {
    let producer: ThreadedProducer<DefaultProducerContext> =
        ClientConfig::new().set("bootstrap.servers", brokers()).set("linger.ms", "5").create().unwrap();
    for (key, value) in records {
        let mut record = BaseRecord::<String, Vec<u8>>::to(topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        producer.send(record).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// A record read back: key, value and headers.
#[derive(Debug, Clone)]
pub struct Read {
    pub key: Option<String>,
    pub value: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

/// Reads a topic from the start until `done` says so or `limit` passes.
pub fn read_until(topic: &str, limit: Duration, mut done: impl FnMut(&[Read]) -> bool) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", format!("reader-{topic}-{}", rand_seed()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut read = Vec::new();
    let started = Instant::now();
    while started.elapsed() < limit && !done(&read) {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            let headers = message
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|header| {
                            (
                                header.key.to_string(),
                                String::from_utf8_lossy(header.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            read.push(Read {
                key: message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                value: message.payload().unwrap_or_default().to_vec(),
                headers,
            });
        }
    }
    read
}

/// Starts a worker of `group` on `topics`, with `extra` flags after the
/// topic ones.
pub fn start_worker(topics: &Topics, group: &str, extra: &[&str]) -> super::Server {
    let brokers = brokers();
    let mut args = vec![
        "--brokers",
        &brokers,
        "--group",
        group,
        "--input-topic",
        &topics.input,
        "--output-topic",
        &topics.output,
        "--dead-letter-topic",
        &topics.dead_letter,
    ];
    args.extend_from_slice(extra);
    super::Server::start("worker", &args)
}
