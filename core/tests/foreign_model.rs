//! A token classifier exported from Hugging Face with optimum (no edgemine
//! manifest: `config.json` with `id2label`) loads and decodes exactly as
//! onnxruntime plus the recipe's reference decoder do.
//!
//! The fixture and its expected entities are built by
//! `models/recipe/foreign_fixture.py`.

use std::path::PathBuf;

use edgemine::{Aggregation, Engine, Error, OffsetUnit, Options, Task};
use serde_json::Value;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/fixtures/tiny-bert-ner")
}

fn expected() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture().join("expected.json")).expect("expected.json of the fixture");
    let json: Value = serde_json::from_str(&text).expect("expected.json is JSON");
    json["sentences"].as_array().expect("a sentences array").clone()
}

#[test]
fn loads_from_config_json_alone() {
    let engine = Engine::from_dir(fixture()).expect("an optimum export loads");
    let info = engine.info();
    assert_eq!(info.manifest, "config.json");
    assert_eq!(info.tasks, [Task::Entities]);
    assert_eq!(info.entity_labels, ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]);
    assert_eq!(info.max_wordpieces, 128, "max_position_embeddings bounds the sequence");
    // A token classifier has no parse and no embedding: no key phrases.
    let err = engine.extract_with("Hello Berlin.", &Options::default().with_tasks([Task::Keyphrases])).unwrap_err();
    assert!(matches!(err, Error::TaskUnavailable { .. }), "{err}");
}

#[test]
fn entities_match_onnxruntime_and_the_reference_decoder() {
    let engine = Engine::from_dir(fixture()).expect("an optimum export loads");
    let options = Options {
        pretokenized: true,
        offsets: OffsetUnit::Char,
        aggregation: Aggregation::First,
        ..Options::default()
    };
    let sentences = expected();
    let texts: Vec<&str> = sentences.iter().map(|s| s["text"].as_str().expect("text")).collect();
    let mut compared = 0;
    for (sentence, result) in sentences.iter().zip(engine.extract_batch_with(&texts, &options)) {
        let x = result.expect("the sentence extracts");
        let got: Vec<(String, String, usize, usize)> =
            x.entities.expect("entities ran").into_iter().map(|e| (e.text, e.label, e.start, e.end)).collect();
        let want: Vec<(String, String, usize, usize)> = sentence["entities"]
            .as_array()
            .expect("entities")
            .iter()
            .map(|e| {
                let n = |k: &str| e[k].as_u64().expect("an offset") as usize;
                (
                    e["text"].as_str().unwrap_or_default().into(),
                    e["label"].as_str().unwrap_or_default().into(),
                    n("start"),
                    n("end"),
                )
            })
            .collect();
        assert_eq!(got, want, "in {:?}", sentence["text"]);
        compared += want.len();
    }
    assert!(compared >= 5, "the fixture should carry entities to compare, found {compared}");
}

#[test]
fn every_aggregation_gives_exact_spans() {
    let engine = Engine::from_dir(fixture()).expect("an optimum export loads");
    let text = "Zürich's Übermäßig-große Häuser, said Dr. Chen, cost 1.5 million francs. 🙂 Really!";
    let mut found = 0;
    for aggregation in [Aggregation::First, Aggregation::Average, Aggregation::Max] {
        for offsets in [OffsetUnit::Utf8, OffsetUnit::Char, OffsetUnit::Utf16] {
            let x = engine
                .extract_with(text, &Options { aggregation, offsets, ..Options::default() })
                .expect("the text extracts");
            for e in x.entities.expect("entities ran") {
                let slice = match offsets {
                    OffsetUnit::Utf8 => text[e.start..e.end].to_string(),
                    OffsetUnit::Char => text.chars().skip(e.start).take(e.end - e.start).collect(),
                    OffsetUnit::Utf16 => {
                        String::from_utf16(&text.encode_utf16().collect::<Vec<u16>>()[e.start..e.end]).expect("utf16")
                    }
                };
                assert_eq!(slice, e.text, "{aggregation:?} {offsets:?}");
                assert!((0.0..=1.0).contains(&e.score));
                found += 1;
            }
        }
    }
    assert!(found > 0, "the fixture labels something in this text");
}
