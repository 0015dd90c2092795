//! The worker against a real Kafka broker (KRaft, from Maven Central jars:
//! containers/kafka/broker.sh). Ignored by plain `cargo test`; `./test.sh`
//! starts the broker and runs them with `--ignored`, as `.ci/run` does.
//! EDGEMINE_KAFKA_BROKERS names the broker (default 127.0.0.1:19092).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use edgemine::{BATCH_ROUNDING, Extraction};
use serde_json::{Value, json};
use support::kafka::{Read, Topics, create_topics, produce, read_until, start_worker};
use support::{Server, document};

fn worker(topics: &Topics, group: &str, batch_size: &str) -> Server {
    let extra = [
        "--batch-size",
        batch_size,
        "--threads",
        "1",
        // Notice a killed member within seconds, not the default 45.
        "--kafka",
        "session.timeout.ms=6000",
        "--kafka",
        "heartbeat.interval.ms=1000",
    ];
    start_worker(topics, group, &extra)
}

/// Two workers in one group share the partitions; one is killed with
/// SIGKILL in the middle of its work; every document still comes out, and
/// any duplicate carries the same key and content.
#[test]
#[ignore = "needs a Kafka broker: ./test.sh starts one (containers/kafka/broker.sh)"]
fn two_workers_share_the_input_and_a_killed_one_loses_nothing() {
    const DOCUMENTS: usize = 240;
    let topics = create_topics("share", 4);
    let group = format!("group-{}", topics.input);
    let inputs: Vec<(Option<String>, Vec<u8>)> = (0..DOCUMENTS)
        .map(|i| {
            (Some(format!("doc-{i}")), json!({"id": format!("doc-{i}"), "text": document(i)}).to_string().into_bytes())
        })
        .collect();
    produce(&topics.input, &inputs);

    let mut first = worker(&topics, &group, "8");
    let second = worker(&topics, &group, "8");
    // Let both work, then kill the first in the middle of a batch.
    let deadline = Instant::now() + Duration::from_secs(120);
    while (first.metric("edgemine_documents_total{outcome=\"ok\"}") < 16.0 || first.metric("edgemine_in_flight") < 1.0)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let first_done = first.metric("edgemine_documents_total{outcome=\"ok\"}");
    assert!(first_done >= 16.0, "the first worker got no share:\n{}", first.log_text());
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10)).expect("killed");

    let want: BTreeSet<String> = (0..DOCUMENTS).map(|i| format!("doc-{i}")).collect();
    let outputs = read_until(&topics.output, Duration::from_secs(240), |read| {
        read.iter().filter_map(|r| r.key.clone()).collect::<BTreeSet<_>>().is_superset(&want)
    });
    let mut by_key: BTreeMap<String, Vec<&Read>> = BTreeMap::new();
    for read in &outputs {
        by_key.entry(read.key.clone().expect("keyed by id")).or_default().push(read);
    }
    let missing: Vec<_> = want.iter().filter(|id| !by_key.contains_key(*id)).collect();
    let duplicates: usize = by_key.values().map(|v| v.len() - 1).sum();
    eprintln!(
        "kill -9: {DOCUMENTS} documents in, {} records out, {} distinct ids, {duplicates} duplicates, {} missing; \
         the killed worker had extracted {first_done}",
        outputs.len(),
        by_key.len(),
        missing.len()
    );
    assert!(missing.is_empty(), "lost documents: {missing:?}\n{}", second.log_text());
    assert_eq!(by_key.len(), DOCUMENTS, "no ids but the inputs'");
    for (key, copies) in &by_key {
        let record: Value = serde_json::from_slice(&copies[0].value).unwrap();
        assert_eq!(record["id"], *key);
        // The extraction is of this document: every entity is its text at its offsets.
        let i: usize = key.trim_start_matches("doc-").parse().unwrap();
        let chars: Vec<char> = document(i).chars().collect();
        let entities = record["entities"].as_array().unwrap();
        assert!(!entities.is_empty(), "{key}: {record}");
        for entity in entities {
            let (start, end) = (entity["start"].as_u64().unwrap() as usize, entity["end"].as_u64().unwrap() as usize);
            assert_eq!(chars[start..end].iter().collect::<String>(), entity["text"].as_str().unwrap(), "{key}");
        }
        // A redelivered document ran in another batch than its first copy,
        // so its scores may differ in the last bits; all else is equal.
        let first: Extraction = serde_json::from_value(record.clone()).expect("an extraction");
        for copy in &copies[1..] {
            let again: Value = serde_json::from_slice(&copy.value).unwrap();
            assert_eq!(again["id"], *key);
            let again: Extraction = serde_json::from_value(again).expect("an extraction");
            assert!(again.equal_up_to(&first, BATCH_ROUNDING), "duplicate of {key} differs:\n{again:?}\n{first:?}");
        }
    }
    assert!(second.metric("edgemine_documents_total{outcome=\"ok\"}") > 0.0);
}

/// A poison message (not JSON) and a bad document land in the dead-letter
/// topic with the error; the good ones around them come out; the worker
/// keeps running and, on SIGTERM, leaves cleanly.
#[test]
#[ignore = "needs a Kafka broker: ./test.sh starts one (containers/kafka/broker.sh)"]
fn poison_messages_go_to_the_dead_letter_topic() {
    let topics = create_topics("poison", 1);
    let records = vec![
        (Some("good-1".to_string()), json!({"id": "good-1", "text": document(1)}).to_string().into_bytes()),
        (Some("poison".to_string()), b"\xff\xfe not json at all".to_vec()),
        (None, json!({"id": 42, "text": "   "}).to_string().into_bytes()),
        (None, json!({"id": "bad-option", "text": "Anna", "options": {"offset": "utf8"}}).to_string().into_bytes()),
        (None, json!({"id": "good-2", "text": document(2), "options": {"offsets": "utf16", "tasks": ["entities"]}, "source": "crm"}).to_string().into_bytes()),
    ];
    produce(&topics.input, &records);
    let mut server = worker(&topics, &format!("group-{}", topics.input), "32");

    let dead = read_until(&topics.dead_letter, Duration::from_secs(120), |read| read.len() >= 3);
    let outputs = read_until(&topics.output, Duration::from_secs(60), |read| read.len() >= 2);
    assert_eq!(dead.len(), 3, "{dead:?}");
    let poison = dead.iter().find(|r| r.key.as_deref() == Some("poison")).expect("the poison message");
    assert_eq!(poison.value, records[1].1, "the original bytes, untouched");
    assert_eq!(poison.headers["edgemine.error.code"], "INVALID_MESSAGE");
    assert!(poison.headers["edgemine.error.message"].contains("not a document"));
    assert_eq!(poison.headers["edgemine.source.topic"], topics.input);
    assert_eq!(poison.headers["edgemine.source.offset"], "1");
    let empty = dead
        .iter()
        .find(|r| r.headers.get("edgemine.id").map(String::as_str) == Some("42"))
        .expect("the empty document");
    assert_eq!(empty.headers["edgemine.error.code"], "EMPTY_DOCUMENT");
    let option = dead.iter().find(|r| r.headers["edgemine.source.offset"] == "3").expect("the bad option");
    assert!(option.headers["edgemine.error.message"].contains("unknown field `offset`"));

    let keys: BTreeSet<_> = outputs.iter().filter_map(|r| r.key.clone()).collect();
    assert_eq!(keys, ["good-1", "good-2"].map(String::from).into());
    let good_2: Value =
        serde_json::from_slice(&outputs.iter().find(|r| r.key.as_deref() == Some("good-2")).unwrap().value).unwrap();
    assert_eq!(good_2["offsets"], "utf16");
    assert!(good_2.get("entities").is_some() && good_2.get("words").is_none());
    assert_eq!(server.metric("edgemine_dead_letters_total"), 3.0);
    assert_eq!(server.metric("edgemine_errors_total{code=\"INVALID_MESSAGE\"}"), 2.0);
    assert_eq!(server.metric("edgemine_errors_total{code=\"EMPTY_DOCUMENT\"}"), 1.0);

    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(30)).expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}\n{}", server.log_text());
}
