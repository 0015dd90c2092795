//! One batch of Kafka messages, start to commit, on a blocking thread:
//! parse → extract (grouped by options, over the engine's pool) → produce
//! every result (extractions keyed by id; failures to the dead-letter
//! topic) → wait for every acknowledgement → commit the batch's offsets.
//! Nothing is committed that was not acknowledged: a crash anywhere before
//! the commit redelivers the batch (at least once), and the same document
//! yields the same key and content again.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use edgemine::{Engine, Extraction, Options};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::Deserialize;

use super::context::WorkerContext;
use crate::document::{DocumentId, DocumentOptions, ErrorDetail, Extracted, word_count};
use crate::metrics::Metrics;

/// An input message: `{"id", "text", "options"}`. Other top-level keys
/// (producers' own metadata) are ignored; `options` is checked strictly.
#[derive(Debug, Deserialize)]
pub struct InputDocument {
    /// The document's id; default: the record's key, else
    /// `topic/partition/offset`.
    #[serde(default)]
    pub id: Option<DocumentId>,
    /// The text.
    pub text: String,
    /// Options for this document.
    #[serde(default)]
    pub options: DocumentOptions,
}

/// What a batch needs besides its messages.
pub struct BatchJob {
    /// The engine, shared with nothing else in the worker.
    pub engine: Arc<Engine>,
    /// Options every document starts from (the worker's flags).
    pub defaults: Options,
    /// Idempotent producer for extractions and dead letters.
    pub producer: FutureProducer,
    /// The group member, to commit with.
    pub consumer: Arc<StreamConsumer<WorkerContext>>,
    /// Where extractions go, keyed by document id.
    pub output_topic: String,
    /// Where failed messages go, as they came, with the error in headers.
    pub dead_letter_topic: String,
    /// The worker's metrics.
    pub metrics: Arc<Metrics>,
}

/// What became of a batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Extractions produced.
    pub extracted: usize,
    /// Records produced to the dead-letter topic.
    pub dead_letters: usize,
    /// Whether the offsets were committed (false when a rebalance took the
    /// partitions first: another member redoes them).
    pub committed: bool,
}

/// A record to produce, owning its parts.
struct Record {
    topic: String,
    key: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
    headers: Vec<(&'static str, Vec<u8>)>,
}

/// A message on its way: parsed, or already failed.
enum Parsed {
    Document { id: DocumentId, text: String, options: Options },
    Failed { id: Option<DocumentId>, error: ErrorDetail },
}

impl BatchJob {
    /// Processes `messages` and commits them. An error means some result
    /// could not be produced: nothing was committed, and the caller should
    /// stop (the messages come again to whoever consumes next).
    pub fn run(&self, messages: &[OwnedMessage]) -> anyhow::Result<Outcome> {
        let parsed: Vec<Parsed> = messages.iter().map(|m| self.parse(m)).collect();
        let results = self.extract(&parsed);
        let (records, kinds) = self.records(messages, &parsed, results)?;
        let delivered = self.deliver(records);
        let mut outcome = Outcome::default();
        let mut retries = Vec::new();
        for ((message, kind), result) in messages.iter().zip(kinds).zip(delivered) {
            match (kind, result) {
                (Kind::Output, Ok(())) => outcome.extracted += 1,
                (Kind::DeadLetter, Ok(())) => outcome.dead_letters += 1,
                (kind, Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge))) => {
                    retries.push(self.too_large(message, kind));
                }
                (_, Err(error)) => {
                    anyhow::bail!(
                        "cannot produce to Kafka: {error}; nothing of this batch was committed, so it will be consumed again"
                    )
                }
            }
        }
        for result in self.deliver(retries) {
            result.map_err(|error| {
                anyhow::anyhow!("cannot produce to the dead-letter topic: {error}; nothing of this batch was committed")
            })?;
            outcome.dead_letters += 1;
        }
        self.metrics.dead_letters.inc_by(outcome.dead_letters as u64);
        outcome.committed = self.commit(messages);
        Ok(outcome)
    }

    /// The record each message's result goes out as: its extraction to
    /// the output topic, or the message with its error to the dead-letter
    /// topic.
    fn records(
        &self,
        messages: &[OwnedMessage],
        parsed: &[Parsed],
        results: Vec<Option<Result<Extraction, ErrorDetail>>>,
    ) -> anyhow::Result<(Vec<Record>, Vec<Kind>)> {
        let mut records = Vec::with_capacity(messages.len());
        let mut kinds = Vec::with_capacity(messages.len());
        for ((message, parsed), result) in messages.iter().zip(parsed).zip(results) {
            let (id, outcome) = match (parsed, result) {
                (Parsed::Document { id, text, .. }, Some(Ok(extraction))) => {
                    self.metrics.document("ok", word_count(text));
                    (Some(id.clone()), Ok(extraction))
                }
                (Parsed::Document { id, .. }, Some(Err(error))) => (Some(id.clone()), Err(error)),
                (Parsed::Failed { id, error }, _) => (id.clone(), Err(error.clone())),
                (Parsed::Document { id, .. }, None) => {
                    (Some(id.clone()), Err(ErrorDetail::new("INTERNAL", "the engine returned no result")))
                }
            };
            match outcome {
                Ok(extraction) => {
                    let id = id.expect("a parsed document has an id");
                    records.push(self.output(&id, extraction)?);
                    kinds.push(Kind::Output);
                }
                Err(error) => {
                    self.metrics.document(&error.code, 0);
                    self.metrics.error(&error.code);
                    records.push(self.dead_letter(message, id.as_ref(), &error));
                    kinds.push(Kind::DeadLetter);
                }
            }
        }
        Ok((records, kinds))
    }

    /// What to send instead of a record of `kind` for `message` that was
    /// larger than its topic takes.
    fn too_large(&self, message: &OwnedMessage, kind: Kind) -> Record {
        match kind {
            // An extraction bigger than the output topic takes: the
            // document goes to the dead-letter topic instead.
            Kind::Output => {
                let error = ErrorDetail::new(
                    "OUTPUT_TOO_LARGE",
                    "the extraction is larger than the output topic's records may be (message.max.bytes); \
                     raise it, or ask for fewer tasks",
                );
                self.metrics.document(&error.code, 0);
                self.metrics.error(&error.code);
                self.dead_letter(message, None, &error)
            }
            // Too big to copy whole: the error alone, without the payload.
            Kind::DeadLetter => {
                let error =
                    ErrorDetail::new("PAYLOAD_DROPPED", "the message is too large to copy to the dead-letter topic");
                let mut record = self.dead_letter(message, None, &error);
                record.payload = None;
                record
            }
        }
    }

    fn parse(&self, message: &OwnedMessage) -> Parsed {
        let fallback_id = || match message.key().map(std::str::from_utf8) {
            Some(Ok(key)) => DocumentId::Text(key.to_string()),
            _ => DocumentId::Text(format!("{}/{}/{}", message.topic(), message.partition(), message.offset())),
        };
        let Some(payload) = message.payload() else {
            return Parsed::Failed {
                id: None,
                error: ErrorDetail::new(
                    "INVALID_MESSAGE",
                    "the message has no value; send {\"id\": …, \"text\": \"…\"}",
                ),
            };
        };
        match serde_json::from_slice::<InputDocument>(payload) {
            Ok(document) => Parsed::Document {
                id: document.id.unwrap_or_else(fallback_id),
                options: document.options.apply(&self.defaults),
                text: document.text,
            },
            Err(error) => Parsed::Failed {
                id: None,
                error: ErrorDetail::new(
                    "INVALID_MESSAGE",
                    format!("the message is not a document: {error}; send JSON {{\"id\": …, \"text\": \"…\"}}"),
                ),
            },
        }
    }

    /// The engine's result for every parsed document (`None` for those
    /// that failed to parse), from one engine call (documents with equal
    /// options share batches).
    fn extract(&self, parsed: &[Parsed]) -> Vec<Option<Result<Extraction, ErrorDetail>>> {
        let documents: Vec<(usize, (&str, &Options))> = parsed
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Parsed::Document { text, options, .. } => Some((i, (text.as_str(), options))),
                Parsed::Failed { .. } => None,
            })
            .collect();
        let (places, documents): (Vec<usize>, Vec<(&str, &Options)>) = documents.into_iter().unzip();
        // A panic is a bug, but one document must not take the batch (or
        // the worker) with it: retry one by one to find it.
        let extracted = catch_unwind(AssertUnwindSafe(|| self.engine.extract_each(&documents))).unwrap_or_else(|_| {
            documents
                .iter()
                .map(|&(text, options)| {
                    catch_unwind(AssertUnwindSafe(|| self.engine.extract_with(text, options))).unwrap_or_else(|_| {
                        Err(edgemine::Error::Inference("the engine panicked on this document".into()))
                    })
                })
                .collect()
        });
        let mut results: Vec<Option<Result<Extraction, ErrorDetail>>> = parsed.iter().map(|_| None).collect();
        for (i, result) in places.into_iter().zip(extracted) {
            results[i] = Some(result.map_err(|e| ErrorDetail::from(&e)));
        }
        results
    }

    fn output(&self, id: &DocumentId, extraction: Extraction) -> anyhow::Result<Record> {
        let payload = serde_json::to_vec(&Extracted { id: Some(id.clone()), extraction })?;
        Ok(Record {
            topic: self.output_topic.clone(),
            key: Some(id.key().into_bytes()),
            payload: Some(payload),
            headers: vec![],
        })
    }

    /// The original message, key and value untouched, with the error and
    /// where it came from in headers (Kafka Connect's dead-letter
    /// convention): it can be fixed and sent again as it is.
    fn dead_letter(&self, message: &OwnedMessage, id: Option<&DocumentId>, error: &ErrorDetail) -> Record {
        let mut headers = vec![
            ("edgemine.error.code", error.code.clone().into_bytes()),
            ("edgemine.error.message", error.message.clone().into_bytes()),
            ("edgemine.source.topic", message.topic().as_bytes().to_vec()),
            ("edgemine.source.partition", message.partition().to_string().into_bytes()),
            ("edgemine.source.offset", message.offset().to_string().into_bytes()),
        ];
        if let Some(id) = id {
            headers.push(("edgemine.id", id.key().into_bytes()));
        }
        Record {
            topic: self.dead_letter_topic.clone(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
        }
    }

    /// Produces every record and waits for every acknowledgement.
    fn deliver(&self, records: Vec<Record>) -> Vec<Result<(), KafkaError>> {
        let mut pending = Vec::with_capacity(records.len());
        for record in &records {
            let headers = record
                .headers
                .iter()
                .fold(OwnedHeaders::new(), |h, (key, value)| h.insert(Header { key, value: Some(value.as_slice()) }));
            let mut future_record = FutureRecord::<[u8], [u8]>::to(&record.topic).headers(headers);
            if let Some(key) = &record.key {
                future_record = future_record.key(key.as_slice());
            }
            if let Some(payload) = &record.payload {
                future_record = future_record.payload(payload.as_slice());
            }
            loop {
                match self.producer.send_result(future_record) {
                    Ok(delivery) => {
                        pending.push(Ok(delivery));
                        break;
                    }
                    // The local queue is full: let the producer's thread
                    // drain it, then enqueue again.
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        future_record = returned;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err((error, _)) => {
                        pending.push(Err(error));
                        break;
                    }
                }
            }
        }
        pending
            .into_iter()
            .map(|p| match p {
                Ok(delivery) => match futures::executor::block_on(delivery) {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err((error, _))) => Err(error),
                    Err(_canceled) => Err(KafkaError::Canceled),
                },
                Err(error) => Err(error),
            })
            .collect()
    }

    /// Commits the offset after each partition's last message, if the
    /// partitions are still ours.
    fn commit(&self, messages: &[OwnedMessage]) -> bool {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for message in messages {
            let entry = next.entry((message.topic(), message.partition())).or_insert(0);
            *entry = (*entry).max(message.offset() + 1);
        }
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            if offsets.add_partition_offset(topic, partition, Offset::Offset(offset)).is_err() {
                return false;
            }
        }
        match self.consumer.commit(&offsets, CommitMode::Sync) {
            Ok(()) => true,
            Err(error) => {
                // Another member now owns these partitions and redoes them
                // from the last commit: duplicates, never loss.
                tracing::warn!(%error, "commit refused; the batch will be consumed again by the partitions' new owner");
                false
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Output,
    DeadLetter,
}
