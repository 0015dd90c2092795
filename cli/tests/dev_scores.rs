//! The CLI reproduces the shipped model's dev scores (recorded in its
//! manifest by the recipe's evaluate.py): entities on uner_ewt dev within
//! 0.3 F1, parts of speech and the parse on ud_ewt dev within 0.3 points
//! (but see [`tolerance`]).
//! Each dev document is one line of `--input jsonl --pretokenized` input,
//! a sentence a line of its text, so the words are the gold words and the
//! engine reads the document as it reads any (packing its sentences when
//! the model was trained that way, as evaluate.py does); the CLI still
//! splits sentences itself. Each check runs with tract, and again with
//! ONNX Runtime where `ORT_DYLIB_PATH` names its library, in fp32 and with
//! the model's int8 graph (against the int8 graph's own scores, recorded in
//! the manifest's `graphs.int8.evaluation` by models/recipe/int8.py, on a
//! CPU with VNNI; without it ONNX Runtime's int8 sums saturate, and the
//! int8 run is held to within 1.0: [`tolerance`]).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// A gold sentence: its rows, each row its columns.
type GoldSentence = Vec<Vec<String>>;
/// (byte offset, word index) pairs.
type ByteToWord = (usize, usize);

fn data_dir() -> PathBuf {
    std::env::var_os("EDGEMINE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

/// A way to run the model: the backend and the precision (`--backend`, `--precision`).
type Run = (&'static str, &'static str);

/// How far a dev score of `run` may be from the manifest's: 0.3, but 1.0
/// for the int8 graph on a CPU where ONNX Runtime's int8 sums saturate
/// ([`edgemine::Backend::int8_exact`]; automatic precision then runs fp32).
fn tolerance(run: Run) -> f64 {
    let onnxruntime = edgemine::Backend::OnnxRuntime { library: None, sessions: None };
    if run == ("onnxruntime", "int8") && !onnxruntime.int8_exact() { 1.0 } else { 0.3 }
}

/// The dev score the manifest records for the graph `run` loads.
fn manifest_score((_, precision): Run, dataset: &str, key: &str) -> f64 {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/minilm-tagger/edgemine.json");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("manifest")).expect("json");
    let evaluation = match precision {
        "fp32" => &manifest["evaluation"],
        other => &manifest["graphs"][other]["evaluation"],
    };
    evaluation[dataset][key]
        .as_f64()
        .unwrap_or_else(|| panic!("manifest has no {precision} evaluation.{dataset}.{key}"))
}

/// A dev document: its sentences, in order.
type GoldDocument = Vec<GoldSentence>;

/// The documents of a CoNLL-style file (`# newdoc id` starts one), each
/// sentence as its rows (other comment lines skipped, multiword-token and
/// empty-node rows dropped).
fn documents(path: PathBuf) -> Vec<GoldDocument> {
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set EDGEMINE_DATA to the shared data folder)", path.display()));
    let mut docs: Vec<GoldDocument> = Vec::new();
    for block in text.split("\n\n") {
        let rows: GoldSentence = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.split('\t').map(str::to_owned).collect::<Vec<_>>())
            .filter(|c| c[0].chars().all(|ch| ch.is_ascii_digit()))
            .collect();
        if rows.is_empty() {
            continue;
        }
        if docs.is_empty() || block.lines().any(|l| l.starts_with("# newdoc id")) {
            docs.push(Vec::new());
        }
        docs.last_mut().expect("a document").push(rows);
    }
    docs
}

/// The gold documents of a dev file and the CLI's records for them (one
/// per document) with `tasks`.
fn gold_and_cli(file: &str, tasks: &str, run: Run) -> (Vec<GoldDocument>, Vec<Value>) {
    let gold = documents(data_dir().join(file));
    let texts: Vec<String> = gold.iter().map(document_text).collect();
    let records = run_cli(tasks, &texts, tasks, run);
    (gold, records)
}

/// A document's words (column 2) joined by spaces, its sentences by line breaks.
fn document_text(doc: &GoldDocument) -> String {
    let line = |s: &GoldSentence| s.iter().map(|r| r[1].as_str()).collect::<Vec<_>>().join(" ");
    doc.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// Runs `edgemine extract` on one JSON line per document and returns the
/// output records in input order.
fn run_cli(name: &str, texts: &[String], tasks: &str, (backend, precision): Run) -> Vec<Value> {
    let input = std::env::temp_dir().join(format!("edgemine-{name}-{}.jsonl", std::process::id()));
    let lines: Vec<String> =
        texts.iter().enumerate().map(|(k, t)| serde_json::json!({"id": k, "text": t}).to_string()).collect();
    std::fs::write(&input, lines.join("\n")).expect("write input");
    let out = Command::new(env!("CARGO_BIN_EXE_edgemine"))
        .args([
            "extract",
            "--input",
            "jsonl",
            "--format",
            "jsonl",
            "--pretokenized",
            "--offsets",
            "utf8",
            "--tasks",
            tasks,
            "--backend",
            backend,
            "--precision",
            precision,
        ])
        .arg(&input)
        .output()
        .expect("run edgemine");
    let _ = std::fs::remove_file(&input);
    assert!(out.status.success(), "edgemine failed: {}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<Value> = String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(records.len(), texts.len());
    records
}

/// Word index (within the document) of each byte offset where a word
/// starts / ends, in `document_text`'s layout: one separator byte between
/// words, whether a space or a line break.
fn word_bounds(doc: &GoldDocument) -> (Vec<ByteToWord>, Vec<ByteToWord>) {
    let (mut starts, mut ends, mut at) = (Vec::new(), Vec::new(), 0);
    for (i, w) in doc.iter().flatten().map(|r| &r[1]).enumerate() {
        starts.push((at, i));
        ends.push((at + w.len(), i + 1));
        at += w.len() + 1;
    }
    (starts, ends)
}

fn bio_spans(tags: &[String]) -> HashSet<(usize, usize, String)> {
    let mut out = HashSet::new();
    let mut open: Option<(usize, String)> = None;
    for (i, tag) in tags.iter().map(String::as_str).chain(["O"]).enumerate() {
        let (prefix, kind) = tag.split_once('-').unwrap_or((tag, ""));
        if let Some((start, k)) = &open
            && (prefix != "I" || kind != k)
        {
            out.insert((*start, i, k.clone()));
            open = None;
        }
        if prefix == "B" || (prefix == "I" && open.is_none()) {
            open = Some((i, kind.to_string()));
        }
    }
    out
}

/// The runs to check: tract, and ONNX Runtime in fp32 and int8 where
/// `ORT_DYLIB_PATH` names its library (test.sh sets it to the onnxruntime
/// wheel's).
fn runs() -> Vec<Run> {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(_) => vec![("tract", "fp32"), ("onnxruntime", "fp32"), ("onnxruntime", "int8")],
        None => {
            eprintln!("ORT_DYLIB_PATH is not set: the onnxruntime backend is not checked");
            vec![("tract", "fp32")]
        }
    }
}

#[test]
fn entities_reproduce_the_models_dev_f1() {
    runs().into_iter().for_each(entities_reproduce_the_models_dev_f1_with);
}

#[test]
fn parse_reproduces_the_models_dev_upos_and_las() {
    runs().into_iter().for_each(parse_reproduces_the_models_dev_upos_and_las_with);
}

fn entities_reproduce_the_models_dev_f1_with(run: Run) {
    let (gold, records) = gold_and_cli("uner_ewt/en_ewt-ud-dev.iob2", "entities", run);
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (doc, record) in gold.iter().zip(&records) {
        let (starts, ends) = word_bounds(doc);
        let at = |table: &[(usize, usize)], offset: &Value| {
            let o = offset.as_u64().expect("offset") as usize;
            table.iter().find(|(b, _)| *b == o).map(|(_, i)| *i).expect("entity offsets fall on word bounds")
        };
        let pred: HashSet<(usize, usize, String)> = record["entities"]
            .as_array()
            .expect("entities")
            .iter()
            .map(|e| (at(&starts, &e["start"]), at(&ends, &e["end"]), e["label"].as_str().unwrap_or("").to_string()))
            .collect();
        // Gold spans per sentence, moved to document word indices.
        let mut gold = HashSet::new();
        let mut first = 0;
        for sentence in doc {
            let tags: Vec<String> = sentence.iter().map(|r| r[2].clone()).collect();
            gold.extend(bio_spans(&tags).into_iter().map(|(s, e, k)| (first + s, first + e, k)));
            first += sentence.len();
        }
        tp += pred.intersection(&gold).count();
        fp += pred.difference(&gold).count();
        fn_ += gold.difference(&pred).count();
    }
    let f1 = 200.0 * tp as f64 / (2 * tp + fp + fn_) as f64;
    let expected = manifest_score(run, "uner_ewt_dev", "entity_f1");
    eprintln!("CLI ({run:?}) entity F1 on uner_ewt dev: {f1:.2} (model: {expected:.2})");
    let within = tolerance(run);
    assert!((f1 - expected).abs() <= within, "CLI ({run:?}) entity F1 {f1:.2}, the model's dev F1 is {expected:.2}");
}

fn parse_reproduces_the_models_dev_upos_and_las_with(run: Run) {
    let (gold, records) = gold_and_cli("ud_ewt/en_ewt-ud-dev.conllu", "parse", run);
    let (mut n, mut upos, mut las) = (0usize, 0usize, 0usize);
    for (doc, record) in gold.iter().zip(&records) {
        let out = record["words"].as_array().expect("words");
        assert_eq!(out.len(), doc.iter().map(Vec::len).sum::<usize>(), "pretokenized words come back one for one");
        // Heads as document word indices (None: the root). The CLI's count
        // within its sentences, the gold's within the gold sentences.
        let mut first_of_sentence = std::collections::HashMap::new();
        for (i, w) in out.iter().enumerate() {
            first_of_sentence.entry(w["sentence"].as_u64()).or_insert(i);
        }
        let mut gold_heads = Vec::new();
        let mut first = 0;
        for sentence in doc {
            for row in sentence {
                let h: usize = row[6].parse().expect("a gold head");
                gold_heads.push((h > 0).then(|| first + h - 1));
            }
            first += sentence.len();
        }
        for ((w, row), gold_head) in out.iter().zip(doc.iter().flatten()).zip(gold_heads) {
            let head = match w["head"].as_u64().expect("head") as usize {
                0 => None,
                h => Some(first_of_sentence[&w["sentence"].as_u64()] + h - 1),
            };
            n += 1;
            upos += usize::from(w["upos"] == row[3].as_str());
            las += usize::from(head == gold_head && w["deprel"] == row[7].as_str());
        }
    }
    let (upos, las) = (100.0 * upos as f64 / n as f64, 100.0 * las as f64 / n as f64);
    let (want_upos, want_las) = (manifest_score(run, "ud_ewt_dev", "upos"), manifest_score(run, "ud_ewt_dev", "las"));
    eprintln!("CLI ({run:?}) on ud_ewt dev: UPOS {upos:.2} (model {want_upos:.2}), LAS {las:.2} (model {want_las:.2})");
    let within = tolerance(run);
    assert!((upos - want_upos).abs() <= within, "{run:?}: UPOS {upos:.2} vs {want_upos:.2}");
    assert!((las - want_las).abs() <= within, "{run:?}: LAS {las:.2} vs {want_las:.2}");
}
