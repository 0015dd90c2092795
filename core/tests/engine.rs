//! The engine with the shipped default models: exact spans in every offset
//! unit, batch equals one by one, pretokenized words round-trip, long
//! sentences cut without loss, clear errors that harm nothing else.

use std::sync::OnceLock;

use edgemine::{
    BATCH_ROUNDING, Backend, Engine, EngineConfig, Error, Extraction, OffsetUnit, Options, Precision, Task,
};
use edgemine::{KeyphraseOptions, PhraseEmbedding, normalize_phrase};
use proptest::prelude::*;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new().expect("the default models load"))
}

/// `text[start..end]` with offsets in `unit`.
fn slice(text: &str, unit: OffsetUnit, start: usize, end: usize) -> String {
    match unit {
        OffsetUnit::Utf8 => text.get(start..end).expect("utf8 offsets on char boundaries").to_string(),
        OffsetUnit::Char => text.chars().skip(start).take(end - start).collect(),
        OffsetUnit::Utf16 => {
            let units: Vec<u16> = text.encode_utf16().collect();
            String::from_utf16(&units[start..end]).expect("utf16 offsets on code point boundaries")
        }
    }
}

/// Whether `heads` (0 = the root, else a 1-based word) form one tree:
/// exactly one root, and every word reaches it without a cycle.
fn is_tree(heads: &[usize]) -> bool {
    let reaches_root = |start: usize| {
        let mut node = start;
        // A path longer than the words has gone round a cycle.
        for _ in 0..=heads.len() {
            match node {
                0 => return true,
                _ => match heads.get(node - 1) {
                    Some(&head) => node = head,
                    None => return false,
                },
            }
        }
        false
    };
    heads.iter().filter(|&&h| h == 0).count() == 1 && (1..=heads.len()).all(reaches_root)
}

fn check_spans(text: &str, x: &Extraction) {
    let unit = x.offsets;
    for e in x.entities.iter().flatten() {
        assert_eq!(slice(text, unit, e.start, e.end), e.text, "entity in {unit:?}");
        assert!((0.0..=1.0).contains(&e.score));
    }
    for w in x.words.iter().flatten() {
        assert_eq!(slice(text, unit, w.start, w.end), w.text, "word in {unit:?}");
    }
    for t in x.triples.iter().flatten() {
        assert!((0.0..=1.0).contains(&t.score), "triple score {}", t.score);
        assert!(t.sentence < x.sentences.len());
        let parts = [Some(&t.subject), Some(&t.relation), t.object.as_ref()].into_iter().flatten().chain(&t.arguments);
        for p in parts {
            assert_eq!(slice(text, unit, p.start, p.end), p.text, "triple part in {unit:?}");
        }
        for piece in &t.relation.parts {
            assert!(
                t.relation.start <= piece.start && piece.end <= t.relation.end,
                "a relation piece inside the relation"
            );
            assert!(!slice(text, unit, piece.start, piece.end).trim().is_empty());
        }
    }
    for k in x.keyphrases.iter().flatten() {
        assert!((0.0..=1.0).contains(&k.score), "key phrase score {}", k.score);
        for o in &k.occurrences {
            let written = slice(text, unit, o.start, o.end);
            assert_eq!(normalize_phrase(&written), normalize_phrase(&k.text), "key phrase occurrence in {unit:?}");
        }
    }
    for s in &x.sentences {
        let t = slice(text, unit, s.start, s.end);
        assert!(!t.trim().is_empty() && t.trim() == t, "sentence {t:?}");
    }
}

fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "Anna Keller",
        "Siemens",
        "visited",
        "Berlin",
        "the",
        "plant",
        ".",
        ",",
        "!",
        "?",
        "Dr.",
        "U.S.",
        "don't",
        "Tom's",
        "3.5",
        "48,500",
        "e-mail",
        "👋",
        "🇩🇪",
        "東京",
        "naïve",
        "e\u{301}",
        "Zoë",
        "«quoted»",
        "\n",
        "\n\n",
        "  ",
        "\t",
        "--",
        "(",
        ")",
        "https://example.org/a?b=c",
        "\u{200b}",
        "İstanbul",
        "ǅ",
    ])
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec((piece(), prop::sample::select(vec![" ", "", " ", "  "])), 1..40)
        .prop_map(|parts| parts.into_iter().map(|(p, sep)| format!("{p}{sep}")).collect::<String>())
        .prop_filter("has text", |t| !t.trim().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_span_is_exact_in_every_unit(text in document()) {
        for unit in [OffsetUnit::Utf8, OffsetUnit::Char, OffsetUnit::Utf16] {
            let x = engine().extract_with(&text, &Options::default().with_offsets(unit)).expect("extract");
            check_spans(&text, &x);
            // Every word's head lies in its sentence, and each sentence is one tree.
            let words = x.words.as_ref().expect("parse ran");
            for s in 0..x.sentences.len() {
                let heads: Vec<usize> = words.iter().filter(|w| w.sentence == s).map(|w| w.head.expect("head")).collect();
                prop_assert!(is_tree(&heads), "sentence {} heads {:?}", s, heads);
            }
        }
    }

    #[test]
    fn any_text_parses_into_trees_and_exact_triples(text in "\\PC{1,120}") {
        prop_assume!(!text.trim().is_empty());
        let options = Options::default().with_tasks([Task::Parse, Task::Triples]).with_offsets(OffsetUnit::Utf16);
        let x = engine().extract_with(&text, &options).expect("extract");
        check_spans(&text, &x);
        let words = x.words.as_ref().expect("parse ran");
        for s in 0..x.sentences.len() {
            let heads: Vec<usize> = words.iter().filter(|w| w.sentence == s).map(|w| w.head.expect("head")).collect();
            prop_assert!(is_tree(&heads), "sentence {} heads {:?}", s, heads);
        }
    }

    #[test]
    fn pretokenized_words_round_trip(tokens in prop::collection::vec("[A-Za-z0-9.,!?'’-]{1,12}|[東京👋é]{1,3}", 1..30),
                                     seps in prop::collection::vec(prop::sample::select(vec![" ", "  ", "\t", "\n"]), 30)) {
        let text: String = tokens.iter().zip(&seps).map(|(t, s)| format!("{t}{s}")).collect();
        let x = engine().extract_with(&text, &Options::default().with_pretokenized(true).with_tasks([Task::Parse])).expect("extract");
        let words: Vec<&str> = x.words.as_ref().expect("words").iter().map(|w| w.text.as_str()).collect();
        prop_assert_eq!(words, tokens.iter().map(String::as_str).collect::<Vec<_>>());
        check_spans(&text, &x);
    }
}

#[test]
fn triples_come_from_the_parse_with_exact_spans() {
    let text = "Siemens built a new plant in Hamburg. The plant, which employs 300 people, was opened by Anna Keller.";
    let x = engine().extract_with(text, &Options::default().with_tasks([Task::Triples])).expect("extract");
    assert!(x.words.is_none() && x.entities.is_none(), "only the asked task is returned");
    let triples = x.triples.as_ref().expect("triples");
    let facts: Vec<(&str, &str, Option<&str>)> = triples
        .iter()
        .map(|t| (t.subject.text.as_str(), t.label.as_str(), t.object.as_ref().map(|o| o.text.as_str())))
        .collect();
    assert!(facts.contains(&("Siemens", "built", Some("a new plant"))), "{facts:?}");
    assert!(facts.contains(&("The plant", "employs", Some("300 people"))), "relative clause: {facts:?}");
    assert!(facts.contains(&("The plant", "was opened by", Some("Anna Keller"))), "passive: {facts:?}");
    let built = triples.iter().find(|t| t.label == "built").expect("built");
    assert_eq!(built.arguments.iter().map(|a| a.text.as_str()).collect::<Vec<_>>(), ["in Hamburg"]);
    assert_eq!((built.sentence, triples.iter().find(|t| t.label == "employs").map(|t| t.sentence)), (0, Some(1)));
    check_spans(text, &x);
}

/// How far two backends' fp32 scores may be apart.
const BACKENDS: f64 = 1e-3;

#[test]
fn each_document_gets_its_own_options() {
    let utf16 = Options::default().with_offsets(OffsetUnit::Utf16).with_tasks([Task::Entities]);
    let parse = Options::default().with_tasks([Task::Parse]);
    let documents = [
        ("Zoë Keller 👋 flew to Berlin.", &utf16),
        ("Siemens builds trains in Munich.", &parse),
        ("   ", &parse),
        ("Anna met Tom in Paris.", &utf16),
    ];
    let results = engine().extract_each(&documents);
    assert_eq!(results.len(), documents.len());
    for ((text, options), result) in documents.iter().zip(results) {
        match (result, engine().extract_with(text, options)) {
            (Ok(got), Ok(alone)) => {
                assert_eq!(got.offsets, options.offsets, "{text}");
                assert!(got.equal_up_to(&alone, BATCH_ROUNDING), "{text}:\n{got:?}\n{alone:?}");
            }
            (Err(got), Err(alone)) => assert_eq!(got.code(), alone.code(), "{text}"),
            (got, alone) => panic!("{text}: {got:?} against {alone:?}"),
        }
    }
}

#[test]
fn batch_equals_one_by_one() {
    let docs = [
        "Dr. Anna Keller from Siemens Energy inspected the turbine hall in Hamburg.",
        "Short.",
        "Tom O'Brien asked the team in Rotterdam to send spare parts. Keller's report went to Brussels!",
        "東京 and Berlin 👋 are far apart; Zoë flew from İstanbul.",
        "A long list: pumps, valves, seals, impellers, bearings, gaskets, motors, drives and more.",
    ];
    let options = Options::default().with_offsets(OffsetUnit::Utf16);
    let batch = engine().extract_batch_with(&docs, &options);
    for (doc, result) in docs.iter().zip(batch) {
        let (batched, single) = (result.expect("batch"), engine().extract_with(doc, &options).expect("single"));
        assert!(batched.equal_up_to(&single, BATCH_ROUNDING), "{doc}:\n{batched:?}\n{single:?}");
    }
}

#[test]
fn known_entities_with_offsets_in_each_unit() {
    let text = "👋 Anna Keller visited Berlin.";
    for (unit, start) in [(OffsetUnit::Utf8, 5), (OffsetUnit::Char, 2), (OffsetUnit::Utf16, 3)] {
        let x = engine()
            .extract_with(text, &Options::default().with_offsets(unit).with_tasks([Task::Entities]))
            .expect("extract");
        let entities = x.entities.expect("entities ran");
        let person = entities.iter().find(|e| e.label == "PER").expect("a person");
        assert_eq!((person.text.as_str(), person.start), ("Anna Keller", start));
        assert!(entities.iter().any(|e| e.label == "LOC" && e.text == "Berlin"), "{entities:?}");
        assert!(x.words.is_none(), "parse was not asked for");
    }
}

#[test]
fn a_sentence_longer_than_a_chunk_is_cut_without_loss() {
    let sentence: String =
        (0..40).map(|k| format!("Anna Keller met Tom Smith in Berlin on day {k} and ")).collect::<String>() + "left.";
    let options = Options { chunk_wordpieces: Some(48), ..Options::default() };
    let x = engine().extract_with(&sentence, &options).expect("extract");
    let words = x.words.as_ref().expect("words");
    // Each day: "Anna Keller met Tom Smith in Berlin on day K and"; then "left" ".".
    assert_eq!(words.len(), 40 * 11 + 2, "every word once");
    assert_eq!(x.sentences.len(), 1);
    let heads: Vec<usize> = words.iter().map(|w| w.head.expect("head")).collect();
    assert!(is_tree(&heads), "one tree over the windows");
    let berlin = x.entities.as_ref().expect("entities").iter().filter(|e| e.text == "Berlin").count();
    assert!(berlin >= 35, "entities found in every window, no duplicates: {berlin} of 40");
    let mut starts: Vec<usize> = x.entities.iter().flatten().map(|e| e.start).collect();
    starts.dedup();
    assert_eq!(starts.len(), x.entities.as_ref().map_or(0, Vec::len), "no entity twice");
    check_spans(&sentence, &x);
}

#[test]
fn bad_documents_fail_alone() {
    let options = Options { max_document_bytes: 100, ..Options::default() };
    let long = "word ".repeat(40);
    let docs = ["Anna Keller lives in Berlin.", "", "  \n ", long.as_str(), "Siemens is in Munich."];
    let results = engine().extract_batch_with(&docs, &options);
    assert!(results[0].is_ok() && results[4].is_ok());
    assert!(matches!(results[1], Err(Error::EmptyDocument)));
    assert!(matches!(results[2], Err(Error::EmptyDocument)));
    assert!(matches!(results[3], Err(Error::DocumentTooLarge { bytes: 200, limit: 100 })));
    let message = results[3].as_ref().err().map(ToString::to_string).unwrap_or_default();
    assert!(message.contains("max_document_bytes"), "the error says which limit: {message}");
}

#[test]
fn a_one_plan_cache_gives_the_same_results() {
    // Sentences of many lengths, so batches of many shapes evict each other
    // from a cache of one plan while both workers run.
    let docs: Vec<String> = (1..40)
        .map(|n| format!("Anna Keller met {} in Hamburg.", vec!["the engineers of Siemens"; n % 9 + 1].join(" and ")))
        .collect();
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let small = Engine::with_config(EngineConfig { max_plans: Some(1), threads: Some(2), ..EngineConfig::default() })
        .expect("default models");
    let options = Options::default();
    let expected = engine().extract_batch_with(&docs, &options);
    for (got, want) in small.extract_batch_with(&docs, &options).into_iter().zip(expected) {
        assert_eq!(got.expect("extracts"), want.expect("extracts"));
    }
    let err =
        Engine::with_config(EngineConfig { max_plans: Some(0), ..EngineConfig::default() }).err().expect("0 plans");
    assert!(matches!(err, Error::InvalidOption { name: "max_plans", .. }), "{err}");
}

#[test]
fn unavailable_tasks_and_bad_options_are_refused() {
    let err = engine()
        .extract_with("Hello Berlin.", &Options { chunk_wordpieces: Some(100_000), ..Options::default() })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidOption { name: "chunk_wordpieces", .. }), "{err}");
    assert!(matches!(edgemine::document_from_bytes(b"ok \xff"), Err(Error::InvalidUtf8 { valid_up_to: 3 })));
}

#[test]
fn missing_and_corrupt_models_are_named() {
    let err = Engine::from_dir("/nonexistent/models").err().expect("no model there");
    assert!(matches!(err, Error::ModelNotFound { .. }), "{err}");

    // A copy of the default model whose model.onnx is cut short.
    let shipped = Engine::new().expect("default").info().dir;
    let dir = std::env::temp_dir().join(format!("edgemine-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in ["edgemine.json", "tokenizer.json"] {
        std::fs::copy(shipped.join(f), dir.join(f)).expect("copy");
    }
    let onnx = std::fs::read(shipped.join("model.onnx")).expect("read");
    std::fs::write(dir.join("model.onnx"), &onnx[..onnx.len() / 2]).expect("write");
    let err = Engine::from_dir(&dir).err().expect("a truncated model must not load");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(&err, Error::ModelCorrupt { path, .. } if path.ends_with("model.onnx")), "{err}");
}

/// A copy of the default model (`model.onnx`, `tokenizer.json`) under a
/// manifest that `edit` changed, loaded.
fn with_manifest(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> edgemine::Result<Engine> {
    let shipped = engine().info().dir;
    let dir = std::env::temp_dir().join(format!("edgemine-manifest-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(shipped.join(f), dir.join(f)).expect("copy");
    }
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shipped.join("edgemine.json")).expect("manifest")).expect("json");
    edit(&mut manifest);
    std::fs::write(dir.join("edgemine.json"), manifest.to_string()).expect("write manifest");
    let loaded = Engine::from_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    loaded
}

#[test]
fn graphs_of_other_precisions_are_read_from_the_manifest() {
    // Copies of the default model whose manifest lists an int8 graph.
    let with_graphs = |name: &str, graphs: serde_json::Value| {
        with_manifest(&format!("graphs-{name}"), |manifest| {
            manifest["graphs"] = graphs;
            // A graph the engine does not read is not checksummed.
            let files = manifest["files"].as_object_mut().expect("files");
            files.remove("model.int8.onnx");
            files.insert("elsewhere.onnx".into(), serde_json::json!({"sha256": "00", "bytes": 1}));
        })
    };
    let other_backend = serde_json::json!({"int8": {"file": "elsewhere.onnx", "backends": ["onnxruntime"]}});
    let loaded = with_graphs("other", other_backend).expect("fp32 under tract, the int8 graph left alone");
    assert_eq!(loaded.info().precision, "fp32");
    let not_default = serde_json::json!({"int8": {"file": "elsewhere.onnx", "backends": ["tract"]}});
    assert_eq!(with_graphs("opt-in", not_default).expect("fp32: int8 is not the default").info().precision, "fp32");
    let missing = serde_json::json!({"int8": {"file": "missing.onnx", "backends": ["tract"], "default": true}});
    let err = with_graphs("missing", missing).err().expect("automatic picks the int8 graph listed for tract");
    assert!(matches!(&err, Error::ModelNotFound { path, .. } if path.ends_with("missing.onnx")), "{err}");
    let outside = serde_json::json!({"int8": {"file": "../model.onnx", "backends": ["tract"], "default": true}});
    let err = with_graphs("outside", outside).err().expect("a path out of the folder");
    assert!(matches!(&err, Error::ModelUnsupported { .. }) && err.to_string().contains("../model.onnx"), "{err}");
    let unknown = serde_json::json!({"fp8": {"file": "model.onnx", "backends": ["tract"]}});
    let err = with_graphs("unknown", unknown).err().expect("an unknown precision");
    assert!(matches!(&err, Error::ModelUnsupported { .. }) && err.to_string().contains("fp8"), "{err}");
}

#[test]
fn word_unit_case_classes_and_rankers_come_from_the_manifest() {
    let text = "Dr. Anna Keller inspected the Hamburg plant of Siemens. The cooling pump failed twice.";
    let shipped = engine().extract(text).expect("extract");

    // The same classes listed in another order: other ids, so other inputs.
    let reordered = with_manifest("case-order", |m| {
        m["inputs"]["case_ids"]["classes"] = serde_json::json!(["none", "upper", "lower", "mixed", "title"]);
    })
    .expect("any order of the known classes loads");
    assert_ne!(reordered.extract(text).expect("extract").entities, shipped.entities, "the ids reach the model");
    let cases = [
        ("/words", "unit", serde_json::json!("sentencepiece"), "sentencepiece"),
        ("/inputs/case_ids", "classes", serde_json::json!(["none", "lower", "title", "upper", "camel"]), "camel"),
        ("/keyphrases/rankers", "alone", serde_json::json!({"bias": 0.0}), "document"),
        ("/keyphrases/rankers", "elsewhere", serde_json::json!({}), "elsewhere"),
    ];
    for (parent, key, value, named) in cases {
        let err = with_manifest(key, |m| {
            m.pointer_mut(parent)
                .and_then(|p| p.as_object_mut())
                .expect("in the shipped manifest")
                .insert(key.into(), value);
        })
        .err()
        .expect("refused at load");
        assert!(matches!(&err, Error::ModelUnsupported { .. } | Error::ModelCorrupt { .. }), "{key}: {err}");
        assert!(err.to_string().contains(named), "{key}: what is wrong is named: {err}");
    }

    // Without fitted rankers, key phrases rank by similarity to the document.
    let unfitted = with_manifest("no-rankers", |m| {
        m.as_object_mut().expect("an object").remove("keyphrases");
    })
    .expect("loads");
    assert!(unfitted.info().keyphrase_rankers.is_empty());
    assert_eq!(engine().info().keyphrase_rankers, PhraseEmbedding::ALL, "the shipped model has both");
    let explained =
        Options { keyphrases: KeyphraseOptions { explain: true, ..Default::default() }, ..Options::default() };
    let phrases = unfitted.extract_with(text, &explained).expect("extract").keyphrases.expect("keyphrases");
    for k in &phrases {
        let document = k.features.expect("explained").document;
        assert!((k.score - 1.0 / (1.0 + (-document).exp())).abs() < 1e-6, "{}: sigmoid of its cosine", k.text);
    }
}

#[test]
fn sentences_pack_as_the_manifest_says_unless_options_say_otherwise() {
    // A copy of the default model whose manifest says it was trained on
    // sentences packed into sequences of up to 64 wordpieces.
    let packed = with_manifest("packed", |m| m["tokenizer"]["pack_wordpieces"] = 64.into()).expect("the copy loads");
    assert_eq!(packed.info().pack_wordpieces, Some(64));

    let text = "Anna Keller flew to Berlin. She met Tom Smith there. Siemens paid for it.";
    let with = |engine: &Engine, pack: Option<bool>| {
        let options = Options { pack_sentences: pack, ..Options::default() };
        engine.extract_with(text, &options).expect("extract")
    };
    let by_default = with(&packed, None);
    assert_eq!(by_default, with(&packed, Some(true)), "packs by default, as trained");
    let alone = with(&packed, Some(false));
    assert_ne!(by_default, alone, "three sentences read together score differently from each alone");
    // Read alone, the copy is the shipped model read alone.
    assert_eq!(alone, with(engine(), Some(false)));
    check_spans(text, &by_default);
    assert_eq!(by_default.sentences.len(), 3);
}

#[test]
#[ignore = "needs ONNX Runtime: set ORT_DYLIB_PATH to a libonnxruntime.so (test.sh uses the onnxruntime wheel's)"]
fn the_onnxruntime_backend_extracts_what_tract_does() {
    // The same fp32 graph: the same results (the int8 graph is checked on
    // the dev sets by cli/tests/dev_scores.rs).
    let ort = Engine::with_config(EngineConfig {
        backend: Some(Backend::OnnxRuntime { library: None, sessions: Some(2) }),
        precision: Some(Precision::Fp32),
        threads: Some(2),
        ..EngineConfig::default()
    })
    .expect("ONNX Runtime loads from ORT_DYLIB_PATH");
    assert_eq!((ort.info().backend.as_str(), ort.info().precision.as_str()), ("onnxruntime", "fp32"));
    assert_eq!(ort.info().onnxruntime_sessions, Some(2), "the sessions asked for");
    let sample =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/sample.txt")).expect("sample");
    let docs = [
        sample.as_str(),
        "Anna Keller of General Electric visited the plant in Hamburg on Monday.",
        "Kurz.",
        "The pumps at the Rotterdam site were replaced by Siemens engineers, who also checked the valves.",
    ];
    let options = Options::default().with_tasks(Task::ALL);
    let want = Engine::with_config(EngineConfig { backend: Some(Backend::Tract), ..EngineConfig::default() })
        .expect("tract")
        .extract_batch_with(&docs, &options);
    let got = ort.extract_batch_with(&docs, &options);
    for (doc, (got, want)) in got.into_iter().zip(want).enumerate() {
        let (got, want) = (got.expect("extracts"), want.expect("extracts"));
        assert!(got.entities.as_ref().is_some_and(|e| !e.is_empty()) || doc == 2, "document {doc} has entities");
        assert!(got.equal_up_to(&want, BACKENDS), "document {doc}: {got:?}\n{want:?}");
    }
}

#[test]
#[ignore = "needs ONNX Runtime: set ORT_DYLIB_PATH to a libonnxruntime.so (test.sh uses the onnxruntime wheel's)"]
fn onnxruntime_computes_in_int8_unless_fp32_is_asked_for() {
    let onnxruntime = Backend::OnnxRuntime { library: None, sessions: None };
    let load = |precision: Option<Precision>| {
        let config =
            EngineConfig { backend: Some(onnxruntime.clone()), precision, threads: Some(2), ..EngineConfig::default() };
        Engine::with_config(config).expect("ONNX Runtime loads from ORT_DYLIB_PATH")
    };
    // The manifest makes the int8 graph onnxruntime's default, where the CPU
    // sums its products without saturating; int8 on request on any CPU.
    let automatic = if onnxruntime.int8_exact() { "int8" } else { "fp32" };
    assert_eq!(load(None).info().precision, automatic, "automatic");
    let int8 = load(Some(Precision::Int8));
    assert_eq!(int8.info().precision, "int8");
    assert_eq!(int8.info().onnxruntime_sessions, Some(2), "int8: one session a thread unless asked otherwise");
    let fp32 = load(Some(Precision::Fp32));
    assert_eq!(fp32.info().precision, "fp32");
    assert_eq!(fp32.info().onnxruntime_sessions, Some(1), "fp32: one session, its weights being large");
    assert_eq!(engine().info().onnxruntime_sessions, None, "tract has no sessions");
    // Close, not equal: int8 moves the scores a little, a boundary now and
    // then (here "General Electric" may shrink to "Electric"): the same
    // entities with the same labels, each overlapping its fp32 span.
    let text = "Anna Keller of General Electric visited the plant in Hamburg on Monday.";
    let options = Options::default().with_tasks([Task::Entities, Task::Parse]);
    let (a, b) = (int8.extract_with(text, &options).expect("int8"), fp32.extract_with(text, &options).expect("fp32"));
    let entities = |x: &Extraction| x.entities.clone().unwrap_or_default();
    let (a_entities, b_entities) = (entities(&a), entities(&b));
    assert_eq!(a_entities.len(), 3, "{a_entities:?}");
    assert_eq!(a_entities.len(), b_entities.len(), "{a_entities:?}\n{b_entities:?}");
    for (x, y) in a_entities.iter().zip(&b_entities) {
        assert!(x.label == y.label && x.start < y.end && y.start < x.end, "{x:?} against fp32 {y:?}");
    }
    assert!(a_entities.iter().zip(&b_entities).any(|(x, y)| x.score != y.score), "the int8 graph really ran");
    // The parse too: almost every word keeps its head and label.
    let words = |x: &Extraction| x.words.iter().flatten().map(|w| (w.head, w.deprel.clone())).collect::<Vec<_>>();
    let (a_words, b_words) = (words(&a), words(&b));
    let same = a_words.iter().zip(&b_words).filter(|(x, y)| x == y).count();
    assert!(a_words.len() == b_words.len() && same + 1 >= b_words.len(), "{a_words:?}\n{b_words:?}");
    // Activation scales are fixed in the graph, not computed per batch: a
    // document's result is exactly the same alone as among others.
    let docs = [
        text,
        "The pumps at the Rotterdam site were replaced by Siemens engineers, who also checked the valves.",
        "Kurz.",
        "On 3 March 2021 the board of Nordwind AG in Bremen approved the merger with a Danish supplier.",
    ];
    let batch = int8.extract_batch_with(&docs, &options);
    for (doc, result) in docs.iter().zip(batch) {
        assert_eq!(result.expect("batch"), int8.extract_with(doc, &options).expect("alone"), "{doc}");
    }
}

#[test]
fn the_int8_graph_is_for_the_backends_it_names() {
    // tract's int8 kernels are slower than its fp32 ones: automatic is fp32
    // there, and int8 asked for is refused with what to do instead.
    assert_eq!(engine().info().precision, "fp32");
    let err = Engine::with_config(EngineConfig {
        backend: Some(Backend::Tract),
        precision: Some(Precision::Int8),
        ..EngineConfig::default()
    })
    .err()
    .expect("no int8 graph for tract");
    assert!(matches!(&err, Error::InvalidOption { name: "precision", .. }), "{err}");
    assert!(err.to_string().contains("onnxruntime") && err.to_string().contains("fp32"), "{err}");
    assert_eq!(Precision::from_name("auto").ok(), Some(None));
    assert_eq!(Precision::from_name("int8").ok(), Some(Some(Precision::Int8)));
    assert!(matches!(Precision::from_name("fp16"), Err(Error::InvalidOption { name: "precision", .. })));
}

#[test]
fn a_missing_onnxruntime_library_is_named() {
    let library = std::path::PathBuf::from("/nonexistent/libonnxruntime.so");
    let err = Engine::with_config(EngineConfig {
        backend: Some(Backend::OnnxRuntime { library: Some(library), sessions: None }),
        ..EngineConfig::default()
    })
    .err()
    .expect("no ONNX Runtime there");
    // Where another test loaded a real library first, the error names that one instead.
    assert!(matches!(&err, Error::InvalidOption { name: "backend", .. }), "{err}");
    assert!(err.to_string().contains("libonnxruntime.so"), "{err}");
    assert!(matches!(Backend::from_name("onnx"), Err(Error::InvalidOption { name: "backend", .. })));
    assert_eq!(Backend::from_name("onnxruntime").map(|b| b.name()).ok(), Some("onnxruntime"));
    // Command-line settings: ONNX Runtime's alone ask for it; 0 sessions is refused.
    let lib = std::path::PathBuf::from("lib.so");
    assert_eq!(Backend::from_args(None, None, None).ok(), Some(None));
    assert_eq!(
        Backend::from_args(None, Some(lib.clone()), None).ok(),
        Some(Some(Backend::OnnxRuntime { library: Some(lib.clone()), sessions: None }))
    );
    assert_eq!(Backend::from_args(Some("tract"), Some(lib), Some(2)).ok(), Some(Some(Backend::Tract)));
    let err = Backend::from_args(Some("onnxruntime"), None, Some(0)).expect_err("0 sessions");
    assert!(matches!(err, Error::InvalidOption { name: "onnxruntime_sessions", .. }), "{err}");
}

#[test]
fn key_phrases_are_the_same_from_the_phrase_cache() {
    // Candidates repeat across documents and calls: the second call finds
    // every one in the cache; an engine without a cache embeds them all.
    let docs = [
        "The service engineers replaced the water pumps at the Rotterdam site.",
        "Water pumps at the site failed twice; the service engineers came back.",
        "The Rotterdam site ordered new water pumps.",
    ];
    let options = Options::default().with_tasks([Task::Keyphrases]);
    let uncached = Engine::with_config(EngineConfig { phrase_cache: Some(0), ..EngineConfig::default() })
        .expect("default models")
        .extract_batch_with(&docs, &options);
    let first = engine().extract_batch_with(&docs, &options);
    let again = engine().extract_batch_with(&docs, &options);
    for ((uncached, first), again) in uncached.into_iter().zip(first).zip(again) {
        let (uncached, first, again) =
            (uncached.expect("extracts"), first.expect("extracts"), again.expect("extracts"));
        assert!(uncached.keyphrases.as_ref().is_some_and(|k| k.len() >= 2), "{uncached:?}");
        assert!(first.equal_up_to(&uncached, BACKENDS), "{first:?}\n{uncached:?}");
        assert!(again.equal_up_to(&uncached, BACKENDS), "{again:?}\n{uncached:?}");
    }
}
