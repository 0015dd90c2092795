//! Reading input files into documents.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Deserialize;

/// How an input file splits into documents.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputMode {
    /// The whole file is one document.
    Text,
    /// Each non-blank line is one document.
    Lines,
    /// Each non-blank line is a JSON object with "text" and an optional "id".
    Jsonl,
}

/// One document: its id (the file name, `file:line`, or the JSON id) and
/// its text, or why it could not be read.
pub struct Document {
    pub id: serde_json::Value,
    pub text: Result<String, Failure>,
}

/// Why a document has no extraction: the error's code (the core's
/// `Error::code`, or `INVALID_INPUT` for a JSON line that is not a
/// document) and its message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl From<edgemine::Error> for Failure {
    fn from(error: edgemine::Error) -> Self {
        Self { code: error.code(), message: error.to_string() }
    }
}

impl Document {
    /// The id as people read it in messages: strings without quotes.
    pub fn name(&self) -> String {
        match &self.id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct JsonDocument {
    #[serde(default)]
    id: Option<serde_json::Value>,
    text: String,
}

/// Reads every input; a file that cannot be opened stops everything (exit
/// 4), a document that is not UTF-8 or not valid JSON fails alone.
pub fn read_all(files: &[PathBuf], mode: InputMode) -> Result<Vec<Document>, String> {
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let mut out = Vec::new();
    for path in files {
        let bytes = read(path)?;
        let name = if path == Path::new("-") { "stdin".to_string() } else { path.display().to_string() };
        match mode {
            InputMode::Text => out.push(Document { id: name.into(), text: utf8(bytes) }),
            InputMode::Lines | InputMode::Jsonl => {
                for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let at = format!("{name}:{}", n + 1);
                    out.push(match mode {
                        InputMode::Jsonl => json_document(line, at),
                        _ => Document { id: at.into(), text: utf8(line.to_vec()) },
                    });
                }
            }
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map(|_| ())
    };
    result.map(|_| bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn utf8(bytes: Vec<u8>) -> Result<String, Failure> {
    String::from_utf8(bytes)
        .map_err(|e| edgemine::Error::InvalidUtf8 { valid_up_to: e.utf8_error().valid_up_to() }.into())
}

fn json_document(line: &[u8], at: String) -> Document {
    match serde_json::from_slice::<JsonDocument>(line) {
        Ok(d) => Document { id: d.id.unwrap_or_else(|| at.into()), text: Ok(d.text) },
        Err(e) => {
            let message = format!("not a JSON object with a \"text\" string: {e}");
            Document { id: at.into(), text: Err(Failure { code: "INVALID_INPUT", message }) }
        }
    }
}
