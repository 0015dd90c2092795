//! The command line as users script it: formats, ids, exit codes, errors.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

#[path = "../../tests/cases.rs"]
mod cases;

fn edgemine(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgemine"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run edgemine");
    // A command refused at its arguments exits before reading stdin, so a
    // broken pipe here is that exit, which the caller then checks.
    match child.stdin.take().expect("stdin").write_all(stdin.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("wait")
}

fn sample() -> String {
    format!("{}/../samples/sample.txt", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn extract_a_sample_file_as_json() {
    let out = edgemine(&["extract", &sample()], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let x: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(x["offsets"], "char");
    let entities = x["entities"].as_array().expect("entities");
    assert!(entities.iter().any(|e| e["text"] == "Anna Keller" && e["label"] == "PER"), "{entities:?}");
    let text: Vec<char> = std::fs::read_to_string(sample()).expect("sample").chars().collect();
    for e in entities {
        let (s, t) = (e["start"].as_u64().expect("start") as usize, e["end"].as_u64().expect("end") as usize);
        assert_eq!(text[s..t].iter().collect::<String>(), e["text"].as_str().expect("text"));
    }
    assert!(x["words"].as_array().is_some_and(|w| !w.is_empty()), "parse runs by default");
}

#[test]
fn jsonl_keeps_ids_and_a_bad_line_fails_alone() {
    let input = "{\"id\": \"a\", \"text\": \"Anna Keller lives in Berlin.\"}\nnot json\n\n{\"id\": 7, \"text\": \"   \"}\n{\"text\": \"Siemens is in Munich.\"}\n";
    let out = edgemine(&["extract", "--input", "jsonl", "--format", "jsonl", "--tasks", "entities"], input);
    assert_eq!(out.status.code(), Some(1), "some documents failed");
    let records: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(records.len(), 4, "one record per non-blank line");
    assert_eq!(records[0]["id"], "a");
    assert!(records[0]["entities"].as_array().is_some_and(|e| !e.is_empty()));
    assert_eq!(records[1]["id"], "stdin:2");
    assert!(records[1]["error"].as_str().is_some_and(|m| m.contains("JSON")));
    assert_eq!(
        (records[1]["code"].as_str(), records[2]["code"].as_str()),
        (Some("INVALID_INPUT"), Some("EMPTY_DOCUMENT"))
    );
    assert_eq!(records[2]["id"], 7);
    assert!(records[2]["error"].as_str().is_some_and(|m| m.contains("empty")));
    assert_eq!(records[3]["id"], "stdin:5");
    assert!(records[3]["entities"].is_array() && records[3].get("words").is_none());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("document stdin:2") && stderr.contains("2 of 4 documents failed"), "{stderr}");
}

#[test]
fn conllu_has_ten_columns_and_heads_in_range() {
    let out = edgemine(&["extract", "--format", "conllu", &sample()], "");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.starts_with("# newdoc id = "));
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let rows: Vec<Vec<&str>> =
            block.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').collect()).collect();
        assert!(!rows.is_empty());
        for (k, r) in rows.iter().enumerate() {
            assert_eq!(r.len(), 10, "{r:?}");
            assert_eq!(r[0], (k + 1).to_string());
            let head: usize = r[6].parse().expect("numeric head");
            assert!(head <= rows.len() && r[7] != "_");
        }
        assert_eq!(rows.iter().filter(|r| r[6] == "0").count(), 1, "one root per sentence");
    }
}

#[test]
fn carb_format_writes_one_scored_triple_per_line_with_the_input_line() {
    let lines =
        "Siemens built a new plant in Hamburg .\nThe plant , which employs 300 people , was opened by Anna Keller .\n";
    let out = edgemine(&["extract", "--input", "lines", "--format", "carb"], lines);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    let inputs: Vec<&str> = lines.lines().collect();
    let rows: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert!(rows.len() >= 3, "{stdout}");
    for row in &rows {
        assert!(row.len() >= 4, "sentence, score, relation, subject at least: {row:?}");
        assert!(inputs.contains(&row[0]), "the sentence is an input line: {row:?}");
        let score: f64 = row[1].parse().expect("score");
        assert!((0.0..=1.0).contains(&score));
    }
    assert!(rows.iter().any(|r| r[0] == inputs[0] && r[2..5] == ["built", "Siemens", "a new plant"]), "{stdout}");
    assert!(rows.iter().any(|r| r[0] == inputs[1] && r[2..5] == ["employs", "The plant", "300 people"]), "{stdout}");

    let refused = edgemine(&["extract", "--format", "carb", "--tasks", "entities"], "Hello.");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("add triples to --tasks"));
}

#[test]
fn exit_codes_say_what_failed() {
    let missing = edgemine(&["extract", "/nonexistent/file.txt"], "");
    assert_eq!(missing.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/file.txt"));
    let no_model = edgemine(&["extract", "--model", "/nonexistent/model", &sample()], "");
    assert_eq!(no_model.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&no_model.stderr).contains("model not found"));
    let bad_task = edgemine(&["extract", "--tasks", "entities,colours", &sample()], "");
    assert_eq!(bad_task.status.code(), Some(2));
    let invalid_utf8 = edgemine(&["extract", "-"], "ok");
    assert!(invalid_utf8.status.success());
    let models = edgemine(&["models", "--json"], "");
    let info: Value = serde_json::from_slice(&models.stdout).expect("json");
    assert_eq!(info["tasks"], serde_json::json!(["entities", "parse", "keyphrases", "triples"]));
    assert!(info["threads"].as_u64().is_some_and(|t| t >= 1));
}

#[test]
fn invalid_utf8_names_the_document_and_the_byte() {
    let dir = std::env::temp_dir().join(format!("edgemine-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, b"Anna \xff Keller").expect("write");
    let out = edgemine(&["extract", "--format", "jsonl", bad.to_str().expect("path"), &sample()], "");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.txt") && stderr.contains("offset 5"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2, "the good file is still extracted");
}

#[test]
fn key_phrases_with_top_k_and_every_occurrence() {
    let text = "The cooling pump failed. We replaced the cooling pump. Cooling pumps are checked weekly.";
    let out = edgemine(&["extract", "--tasks", "keyphrases", "--top-k", "2", "--offsets", "utf8"], text);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let phrases = json["keyphrases"].as_array().expect("keyphrases");
    assert_eq!(phrases.len(), 2);
    let pump = phrases.iter().find(|k| k["text"] == "cooling pump").expect("cooling pump");
    let spans: Vec<&str> = pump["occurrences"]
        .as_array()
        .expect("occurrences")
        .iter()
        .map(|o| &text[o["start"].as_u64().unwrap_or(0) as usize..o["end"].as_u64().unwrap_or(0) as usize])
        .collect();
    assert_eq!(spans, ["cooling pump", "cooling pump", "Cooling pumps"]);
    assert!(pump.get("features").is_none());
    let explained = edgemine(&["extract", "--tasks", "keyphrases", "--explain-keyphrases", "--format", "jsonl"], text);
    let json: Value = serde_json::from_slice(&explained.stdout).expect("json");
    assert!(json["keyphrases"][0]["features"]["document"].as_f64().is_some());
    // "X of Y" phrases unless --of-phrases=false.
    let text = "The quality of service fell. Customers noticed the quality of service.";
    let texts = |args: &[&str]| -> Vec<String> {
        let out = edgemine(&[&["extract", "--tasks", "keyphrases", "--format", "jsonl"], args].concat(), text);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: Value = serde_json::from_slice(&out.stdout).expect("json");
        json["keyphrases"].as_array().expect("keyphrases").iter().map(|k| k["text"].as_str().unwrap().into()).collect()
    };
    assert!(texts(&[]).iter().any(|t| t == "quality of service"), "{:?}", texts(&[]));
    let without = texts(&["--of-phrases=false"]);
    assert!(!without.is_empty() && without.iter().all(|t| !t.contains(" of ")), "{without:?}");
    for bad in [["--top-k", "0"], ["--mmr-lambda", "1.5"], ["--keyphrase-max-words", "0"]] {
        let refused = edgemine(&["extract", "--tasks", "keyphrases", bad[0], bad[1]], text);
        assert_eq!(refused.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&refused.stderr).contains(bad[1]), "{bad:?} named");
    }
}

/// The command-line flags of a case's options: `--name-with-dashes value`,
/// a list comma-separated, `true` alone for a switch and `=BOOL` for the
/// options that default to true or to the model's choice.
fn flags(options: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in options.as_object().into_iter().flatten() {
        let flag = format!("--{}", name.replace('_', "-"));
        match value {
            Value::Bool(b) if ["pack_sentences", "of_phrases"].contains(&name.as_str()) => {
                out.push(format!("{flag}={b}"))
            }
            Value::Bool(true) => out.push(flag),
            Value::Bool(false) => {}
            Value::Array(items) => {
                out.push(flag);
                out.push(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","));
            }
            Value::String(s) => out.extend([flag, s.clone()]),
            other => out.extend([flag, other.to_string()]),
        }
    }
    out
}

#[test]
fn every_shared_case_holds_on_the_command_line() {
    for case in cases::cases() {
        let (name, text, options) = cases::parts(&case);
        let mut args = vec!["extract".to_string(), "--format".into(), "jsonl".into()];
        args.extend(flags(options));
        let out = edgemine(&args.iter().map(String::as_str).collect::<Vec<_>>(), text);
        let record: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {args:?}\n{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(out.status.code(), Some(if record.get("error").is_some() { 1 } else { 0 }), "{name}");
        cases::check(&case, record.get("code").and_then(Value::as_str).map_or(Ok(&record), Err));
    }
}
