//! The shared expected extractions (`tests/cases.json`) through the core's
//! API: each case's options read as the core's `DocumentOptions`.

#[path = "../../tests/cases.rs"]
mod cases;

use edgemine::{DocumentOptions, Engine, Options};

#[test]
fn every_case_holds() {
    let engine = Engine::new().expect("default models");
    for case in cases::cases() {
        let (name, text, options) = cases::parts(&case);
        let options: DocumentOptions =
            serde_json::from_value(options.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let result = engine.extract_with(text, &options.apply(&Options::default()));
        let json = result.as_ref().map(|x| serde_json::to_value(x).expect("an extraction is JSON"));
        cases::check(&case, json.as_ref().map_err(|e| e.code()));
    }
}
