//! Criterion benchmarks of the pipeline's stages on a fixed corpus (the UD
//! English EWT dev documents, see the crate docs): split (sentences and
//! words), tokenize (wordpieces with spans), and whole extractions.
//!
//!     cargo bench -p edgemine-benches
//!     cargo bench -p edgemine-benches -- extract     # one group

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use edgemine::internals::{Wordpiecer, sentences, words};
use edgemine::{Engine, Options, Task};
use edgemine_benches::dev_documents;

/// Documents in the extraction benchmark: enough for every worker to have
/// batches of every common length, few enough for ten samples in a minute.
const EXTRACT_DOCUMENTS: usize = 40;

fn stages(c: &mut Criterion) {
    let docs = dev_documents().expect("the benchmark corpus");
    let texts: Vec<String> = docs.iter().map(|d| d.text()).collect();
    let total_words: usize = docs.iter().map(|d| d.words).sum();

    let mut group = c.benchmark_group("split");
    group.throughput(Throughput::Elements(total_words as u64));
    group.bench_function("sentences+words", |b| {
        b.iter(|| {
            let mut n = 0;
            for t in &texts {
                for s in sentences(t) {
                    n += words(&t[s]).len();
                }
            }
            black_box(n)
        })
    });
    group.finish();

    let tokenizer = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/minilm-tagger/tokenizer.json");
    let wordpiecer = Wordpiecer::from_file(&tokenizer).expect("the default tokenizer");
    let worded: Vec<(&str, Vec<std::ops::Range<usize>>)> = texts.iter().map(|t| (t.as_str(), words(t))).collect();
    let mut group = c.benchmark_group("tokenize");
    group.throughput(Throughput::Elements(total_words as u64));
    group.bench_function("wordpieces+spans", |b| {
        b.iter(|| {
            let mut n = 0;
            for (t, w) in &worded {
                n += wordpiecer.encode(t, w).expect("encodes").ids.len();
            }
            black_box(n)
        })
    });
    group.finish();

    let engine = Engine::new().expect("the default models");
    let some: Vec<&str> = texts.iter().take(EXTRACT_DOCUMENTS).map(String::as_str).collect();
    let some_words: usize = docs.iter().take(EXTRACT_DOCUMENTS).map(|d| d.words).sum();
    let mut group = c.benchmark_group("extract");
    group.sample_size(10);
    group.throughput(Throughput::Elements(some_words as u64));
    for (name, tasks) in [
        ("entities", vec![Task::Entities]),
        ("entities+parse", vec![Task::Entities, Task::Parse]),
        ("entities+parse+triples", vec![Task::Entities, Task::Parse, Task::Triples]),
        ("keyphrases", vec![Task::Keyphrases]),
        ("all", Task::ALL.to_vec()),
    ] {
        let options = Options { tasks: Some(tasks), ..Options::default() };
        // Plans for the corpus's shapes are built before timing starts.
        engine.extract_batch_with(&some, &options);
        group.bench_function(name, |b| b.iter(|| black_box(engine.extract_batch_with(&some, &options))));
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
