//! The HTTP mode, end to end: the real binary on loopback, answers checked
//! against the core run in this process.

mod support;

#[path = "../../tests/cases.rs"]
mod cases;

use std::time::{Duration, Instant};

use edgemine::{BATCH_ROUNDING, DocumentOptions, Engine, Extraction, OffsetUnit, Options, PhraseEmbedding, Task};
use serde_json::{Value, json};
use support::{Server, document, get_text, post};

fn core_json(text: &str, options: &Options) -> Value {
    let engine = Engine::new().expect("default models");
    // Through JSON text, as the server sends it (f32 scores print short).
    serde_json::from_str(&serde_json::to_string(&engine.extract_with(text, options).unwrap()).unwrap()).unwrap()
}

/// Asserts that `answer` is `text`'s extraction alone with `id`, but for
/// the last bits of its scores: a document that ran in a batch with others
/// shared packed rows with them ([`Extraction::equal_up_to`]).
fn assert_batched_extraction(answer: &Value, id: &Value, text: &str) {
    assert_eq!(answer["id"], *id);
    let got: Extraction = serde_json::from_value(answer.clone()).expect("an extraction");
    let alone: Extraction = serde_json::from_value(core_json(text, &Options::default())).expect("an extraction");
    assert!(got.equal_up_to(&alone, BATCH_ROUNDING), "{id}: {got:?}\n{alone:?}");
}

#[test]
fn extract_answers_with_the_cores_schema_and_values() {
    let server = Server::start("http", &[]);
    let text = "Dr. Anna Keller 👩‍🔬 inspected the Hamburg plant of Siemens. Señora Müller met her in São Paulo.";

    // One document: the core's extraction, with the id echoed.
    let answer = post(&server.url("/v1/extract"), &json!({"id": 7, "text": text}).to_string(), None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut expected = core_json(text, &Options::default());
    expected.as_object_mut().unwrap().insert("id".into(), json!(7));
    assert_eq!(answer.body, expected);

    // Options: tasks and UTF-16 offsets; every span slices the UTF-16 text.
    let request = json!({"text": text, "options": {"tasks": ["entities", "triples"], "offsets": "utf16"}});
    let answer = post(&server.url("/v1/extract"), &request.to_string(), None);
    assert_eq!(answer.status, 200);
    let options = Options::default().with_tasks([Task::Entities, Task::Triples]).with_offsets(OffsetUnit::Utf16);
    assert_eq!(answer.body, core_json(text, &options));
    assert!(answer.body.get("words").is_none() && answer.body.get("keyphrases").is_none());
    let units: Vec<u16> = text.encode_utf16().collect();
    let entities = answer.body["entities"].as_array().unwrap();
    assert!(entities.iter().any(|e| e["text"] == "São Paulo"), "{entities:?}");
    for entity in entities {
        let (start, end) = (entity["start"].as_u64().unwrap() as usize, entity["end"].as_u64().unwrap() as usize);
        assert_eq!(String::from_utf16(&units[start..end]).unwrap(), entity["text"].as_str().unwrap());
    }

    // Key phrases embedded in context, as the core gives them.
    let request = json!({"text": text, "options": {"tasks": ["keyphrases"], "keyphrase_embedding": "in-context"}});
    let answer = post(&server.url("/v1/extract"), &request.to_string(), None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut options = Options::default().with_tasks([Task::Keyphrases]);
    options.keyphrases.embedding = PhraseEmbedding::InContext;
    assert_eq!(answer.body, core_json(text, &options));

    // Every option of the core's DocumentOptions reaches the engine: here
    // one-word key phrases, two at most, read one sentence a chunk.
    let set = json!({"tasks": ["keyphrases"], "keyphrase_max_words": 1, "top_k": 2, "pack_sentences": false});
    let answer = post(&server.url("/v1/extract"), &json!({"text": text, "options": set}).to_string(), None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let set: DocumentOptions = serde_json::from_value(set).unwrap();
    assert_eq!(answer.body, core_json(text, &set.apply(&Options::default())));
    let phrases = answer.body["keyphrases"].as_array().unwrap();
    assert!(!phrases.is_empty() && phrases.len() <= 2, "{phrases:?}");
    assert!(phrases.iter().all(|p| !p["text"].as_str().unwrap().contains(' ')), "{phrases:?}");

    // A batch: each result equals the document alone; a bad one fails alone.
    let batch = json!({"documents": [
        {"id": "a", "text": document(1)},
        {"id": "b", "text": "   "},
        {"id": "c", "text": document(2)},
    ]});
    let answer = post(&server.url("/v1/extract"), &batch.to_string(), None);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["errors"], 1);
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[1],
        json!({"id": "b", "error": {"code": "EMPTY_DOCUMENT", "message": edgemine::Error::EmptyDocument.to_string()}})
    );
    for (result, id, i) in [(&results[0], "a", 1), (&results[2], "c", 2)] {
        assert_batched_extraction(result, &json!(id), &document(i));
    }

    // Metrics count what was done: 6 documents extracted, 1 empty.
    assert_eq!(server.metric("edgemine_documents_total{outcome=\"ok\"}"), 6.0);
    assert_eq!(server.metric("edgemine_documents_total{outcome=\"EMPTY_DOCUMENT\"}"), 1.0);
    assert_eq!(server.metric("edgemine_errors_total{code=\"EMPTY_DOCUMENT\"}"), 1.0);
    assert_eq!(server.metric("edgemine_http_requests_total{status=\"200\"}"), 5.0);
    assert!(server.metric("edgemine_words_total") > 20.0);
    assert!(server.metric("edgemine_model_load_seconds") > 0.0);
    assert_eq!(server.metric("edgemine_queue_depth"), 0.0);
}

#[test]
fn bad_requests_get_clear_errors_with_their_status() {
    let server =
        Server::start("http", &["--max-body-bytes", "4096", "--max-batch", "3", "--max-document-bytes", "1000"]);
    let url = server.url("/v1/extract");
    let cases: &[(String, u16, &str, &str)] = &[
        ("not json".into(), 400, "INVALID_REQUEST", "not a valid request"),
        (
            json!({"text": "x", "options": {"offset": "utf8"}}).to_string(),
            400,
            "INVALID_REQUEST",
            "unknown field `offset`",
        ),
        (json!({"text": "x", "documents": []}).to_string(), 400, "INVALID_REQUEST", "not both"),
        (json!({}).to_string(), 400, "INVALID_REQUEST", "not both and not neither"),
        (
            json!({"text": "x", "options": {"tasks": ["sentiment"]}}).to_string(),
            400,
            "INVALID_REQUEST",
            "unknown variant `sentiment`",
        ),
        (json!({"text": "x", "options": {"mmr_lambda": 3.0}}).to_string(), 400, "INVALID_OPTION", "mmr"),
        (json!({"text": " \n "}).to_string(), 422, "EMPTY_DOCUMENT", "empty"),
        (json!({"text": "word ".repeat(300)}).to_string(), 413, "DOCUMENT_TOO_LARGE", "limit of 1000 bytes"),
        ("x".repeat(5000), 413, "PAYLOAD_TOO_LARGE", "--max-body-bytes"),
        (
            json!({"documents": [{"text": "a"}, {"text": "b"}, {"text": "c"}, {"text": "d"}]}).to_string(),
            413,
            "BATCH_TOO_LARGE",
            "--max-batch",
        ),
    ];
    for (body, status, code, message) in cases {
        let answer = post(&url, body, None);
        assert_eq!(answer.status, *status, "{body:.60}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], *code, "{body:.60}");
        let text = answer.body["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{body:.60}: {text}");
    }
    // The server still works after all that.
    assert_eq!(post(&url, &json!({"text": "Anna lives in Berlin."}).to_string(), None).status, 200);
    assert_eq!(server.metric("edgemine_http_requests_total{status=\"400\"}"), 6.0);
    assert_eq!(server.metric("edgemine_errors_total{code=\"INVALID_REQUEST\"}"), 5.0);
    assert_eq!(server.metric("edgemine_errors_total{code=\"BATCH_TOO_LARGE\"}"), 1.0);
}

#[test]
fn a_token_file_guards_the_api_but_not_the_probes() {
    let dir = std::env::temp_dir().join(format!("edgemine-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let server = Server::start("http", &["--token-file", token_file.to_str().unwrap()]);
    let body = json!({"text": "Anna lives in Berlin."}).to_string();
    let refused = post(&server.url("/v1/extract"), &body, None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.body["error"]["code"], "UNAUTHORIZED");
    assert_eq!(post(&server.url("/v1/extract"), &body, Some("wrong")).status, 401);
    assert_eq!(post(&server.url("/v1/extract"), &body, Some("s3cret-token")).status, 200);
    assert_eq!(get_text(&server.url("/healthz")).0, 200);
    assert_eq!(get_text(&server.url("/metrics")).0, 200);
}

#[test]
fn openapi_describes_the_api_and_swagger_ui_is_served() {
    let server = Server::start("http", &[]);
    let (status, text) = get_text(&server.url("/openapi.json"));
    assert_eq!(status, 200);
    let spec: Value = serde_json::from_str(&text).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/v1/extract", "/healthz", "/readyz", "/metrics"] {
        assert!(spec["paths"].get(path).is_some(), "{path} missing");
    }
    let schemas = &spec["components"]["schemas"];
    for name in [
        "ExtractRequest",
        "Extracted",
        "Extraction",
        "Entity",
        "KeyPhrase",
        "Triple",
        "Word",
        "OffsetUnit",
        "DocumentOptions",
        "Aggregation",
        "ErrorResponse",
    ] {
        assert!(schemas.get(name).is_some(), "schema {name} missing");
    }
    let entity = &schemas["Entity"]["properties"];
    for field in ["text", "label", "start", "end", "score", "sentence"] {
        assert!(entity.get(field).is_some(), "Entity.{field} missing");
    }
    let (status, page) = get_text(&server.url("/docs/"));
    assert_eq!(status, 200);
    assert!(page.contains("swagger"), "{page:.200}");
    // `edgemine-server openapi` prints the same document.
    let printed = std::process::Command::new(support::server_binary()).arg("openapi").output().unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&printed.stdout).unwrap(), spec);
}

/// SIGTERM: readiness drops at once, the request in flight is answered,
/// then the process exits 0.
#[test]
fn sigterm_drains_in_flight_requests() {
    let mut server = Server::start("http", &["--drain-delay", "1"]);
    let url = server.url("/v1/extract");
    let body = json!({"documents": (0..24).map(|i| json!({"text": document(i)})).collect::<Vec<_>>()}).to_string();
    std::thread::scope(|scope| {
        let in_flight = scope.spawn(|| post(&url, &body, None));
        // Let the request reach the engine, then ask the server to stop.
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.metric("edgemine_in_flight") < 1.0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        server.signal("TERM");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(get_text(&server.url("/readyz")).0, 503, "readiness drops on SIGTERM");
        let answer = in_flight.join().unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["results"].as_array().unwrap().len(), 24);
    });
    let status = server.wait_exit(Duration::from_secs(30)).expect("exits after draining");
    assert!(status.success(), "{status:?}\n{}", server.log_text());
    assert!(server.log_text().contains("\"level\":\"INFO\""), "JSON logs");
}

/// A request past its deadline gets 503 TIMEOUT (with a Retry-After), and
/// the server goes on answering.
#[test]
fn a_request_past_its_deadline_gets_503() {
    let server = Server::start("http", &["--request-timeout", "0.05"]);
    let url = server.url("/v1/extract");
    let body = json!({"documents": (0..24).map(|i| json!({"text": document(i)})).collect::<Vec<_>>()}).to_string();
    let answer = post(&url, &body, None);
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "TIMEOUT");
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("--request-timeout"));
    assert!(answer.retry_after.is_some());
    // The abandoned work finishes in the background and gives its seat back.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.metric("edgemine_in_flight") > 0.0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.metric("edgemine_in_flight"), 0.0);
    assert_eq!(server.metric("edgemine_http_requests_total{status=\"503\"}"), 1.0);
    assert_eq!(get_text(&server.url("/readyz")).0, 200);
}

/// Concurrent requests are gathered into shared engine batches, and each
/// still gets its own document's extraction.
#[test]
fn concurrent_requests_share_engine_batches() {
    let server = Server::start("http", &["--gather-ms", "300", "--concurrency", "1"]);
    let url = server.url("/v1/extract");
    let answers: Vec<(usize, support::Answer)> = std::thread::scope(|scope| {
        let sent: Vec<_> = (0..6)
            .map(|i| {
                let url = &url;
                scope.spawn(move || (i, post(url, &json!({"id": i, "text": document(i)}).to_string(), None)))
            })
            .collect();
        sent.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for (i, answer) in answers {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_batched_extraction(&answer.body, &json!(i), &document(i));
    }
    let batches = server.metric("edgemine_http_gathered_requests_count");
    assert_eq!(server.metric("edgemine_http_gathered_requests_sum"), 6.0);
    assert!((1.0..6.0).contains(&batches), "6 concurrent requests ran in {batches} engine batches");
}

#[test]
fn every_shared_case_holds_over_http() {
    let server = Server::start("http", &[]);
    for case in cases::cases() {
        let (name, text, options) = cases::parts(&case);
        let answer = post(&server.url("/v1/extract"), &json!({"text": text, "options": options}).to_string(), None);
        let code = answer.body["error"]["code"].as_str();
        assert_eq!(answer.status == 200, code.is_none(), "{name}: {}", answer.body);
        cases::check(&case, code.map_or(Ok(&answer.body), Err));
    }
}
