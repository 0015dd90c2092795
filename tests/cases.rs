//! The shared expected extractions (`tests/cases.json`) and what must hold
//! of each, for the Rust test suites that run them: the core's, the CLI's
//! and the service's each include this file (`#[path]`) and hand it the
//! extraction their interface gave, as JSON. Python and Node check the same
//! file with the same rules (`python/tests/test_cases.py`,
//! `node/test/cases.test.js`).

use serde_json::Value;

/// Every case of `tests/cases.json`.
pub fn cases() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).expect("tests/cases.json is JSON");
    file["cases"].as_array().expect("a `cases` array").clone()
}

/// A case's name, text and options.
pub fn parts(case: &Value) -> (&str, &str, &Value) {
    (case["name"].as_str().unwrap_or("?"), case["text"].as_str().expect("text"), &case["options"])
}

/// Checks what an interface gave for `case`: the extraction as JSON, or
/// the code of its error.
pub fn check(case: &Value, got: Result<&Value, &str>) {
    let (name, text, options) = parts(case);
    match (case["error"].as_str(), got) {
        (Some(want), Err(code)) => assert_eq!(code, want, "{name}"),
        (Some(want), Ok(x)) => panic!("{name}: want the error {want}, got {x}"),
        (None, Err(code)) => panic!("{name}: failed with {code}"),
        (None, Ok(x)) => check_extraction(case, name, text, options, x),
    }
}

fn check_extraction(case: &Value, name: &str, text: &str, options: &Value, x: &Value) {
    let unit = options["offsets"].as_str().expect("every case names its offsets");
    assert_eq!(x["offsets"], unit, "{name}");
    let asked: Vec<&str> = match options["tasks"].as_array() {
        Some(tasks) => tasks.iter().filter_map(Value::as_str).collect(),
        None => vec!["entities", "parse", "keyphrases", "triples"],
    };
    for (task, field) in
        [("entities", "entities"), ("parse", "words"), ("keyphrases", "keyphrases"), ("triples", "triples")]
    {
        assert_eq!(!x[field].is_null(), asked.contains(&task), "{name}: {field}");
    }
    for (got, start, end) in spans(x) {
        assert_eq!(sliced(text, unit, start, end).as_deref(), Some(got), "{name}: {start}..{end}");
    }
    let list = |field: &str| x[field].as_array().cloned().unwrap_or_default();
    for phrase in list("keyphrases") {
        for o in phrase["occurrences"].as_array().into_iter().flatten() {
            let occurrence = sliced(text, unit, number(&o["start"]), number(&o["end"]));
            assert!(occurrence.is_some_and(|o| !o.trim().is_empty()), "{name}: {phrase}");
        }
        let explained = options["explain_keyphrases"].as_bool().unwrap_or(false);
        assert_eq!(phrase["features"].is_object(), explained, "{name}: {phrase}");
    }
    let rows = |field: &str, row: &dyn Fn(&Value) -> Value| list(field).iter().map(row).collect::<Vec<_>>();
    let entities = rows("entities", &|e| serde_json::json!([e["label"], e["text"]]));
    let triples =
        rows("triples", &|t| serde_json::json!([t["subject"]["text"], t["relation"]["text"], t["object"]["text"]]));
    let words = rows("words", &|w| serde_json::json!([w["text"], w["upos"], w["head"]]));
    for (field, got) in [("entities", &entities), ("triples", &triples), ("words", &words)] {
        for want in case[field].as_array().into_iter().flatten() {
            assert!(got.contains(want), "{name}: {want} not among {got:?}");
        }
    }
    let phrases: Vec<Value> = list("keyphrases").iter().map(|k| k["text"].clone()).collect();
    let first = case["keyphrases"].as_array().cloned().unwrap_or_default();
    assert_eq!(&phrases[..first.len().min(phrases.len())], &first[..], "{name}: {phrases:?}");
    if let Some(count) = case["keyphrase_count"].as_u64() {
        assert_eq!(phrases.len() as u64, count, "{name}: {phrases:?}");
    }
    for excluded in case["keyphrases_exclude"].as_array().into_iter().flatten() {
        assert!(!phrases.contains(excluded), "{name}: {excluded} among {phrases:?}");
    }
}

fn number(v: &Value) -> usize {
    v.as_u64().expect("an offset") as usize
}

/// Every (text, start, end) of entities, words and triple arguments.
fn spans(x: &Value) -> Vec<(&str, usize, usize)> {
    fn span(v: &Value) -> Option<(&str, usize, usize)> {
        Some((v["text"].as_str()?, v["start"].as_u64()? as usize, v["end"].as_u64()? as usize))
    }
    fn items(v: &Value) -> Vec<&Value> {
        v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
    }
    let mut values: Vec<&Value> = items(&x["entities"]);
    values.extend(items(&x["words"]));
    for t in items(&x["triples"]) {
        values.extend([&t["subject"], &t["relation"], &t["object"]]);
        values.extend(items(&t["arguments"]));
    }
    values.into_iter().filter_map(span).collect()
}

/// `text[start..end]` with the offsets in `unit`, if they fall on character boundaries.
fn sliced(text: &str, unit: &str, start: usize, end: usize) -> Option<String> {
    match unit {
        "utf8" => text.get(start..end).map(str::to_string),
        "utf16" => String::from_utf16(text.encode_utf16().collect::<Vec<_>>().get(start..end)?).ok(),
        _ => Some(text.chars().skip(start).take(end.checked_sub(start)?).collect()),
    }
}
