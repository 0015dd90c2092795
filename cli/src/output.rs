//! Writing extractions: JSON, JSON lines, CoNLL-U, CaRB's tab-separated triples.

use std::io::Write;

use clap::ValueEnum;
use edgemine::Extraction;
use serde::Serialize;
use serde_json::Value;

use crate::input::{Document, Failure};

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Pretty JSON: one object for a single text document, else an array.
    Json,
    /// One JSON object per line, in input order.
    Jsonl,
    /// CoNLL-U: words, UPOS, HEAD, DEPREL; entities as IOB2 in MISC (`Entity=B-PER`).
    Conllu,
    /// Triples for the CaRB scorer: `sentence<TAB>score<TAB>relation<TAB>subject<TAB>object<TAB>arguments…`,
    /// one per line. The sentence is the input line (`--input lines|jsonl`) or the sentence's text.
    Carb,
}

/// One output record: the document's id, then its extraction or its error.
#[derive(Serialize)]
#[serde(untagged)]
enum Record<'a> {
    Done {
        id: &'a Value,
        #[serde(flatten)]
        extraction: &'a Extraction,
    },
    Failed {
        id: &'a Value,
        error: &'a str,
        code: &'a str,
    },
}

pub struct Writer<W: Write> {
    out: W,
    format: Format,
    /// Pretty JSON of a single text document is a bare object; anything else an array.
    bare_object: bool,
    /// Whole documents are whole inputs (a file), not lines.
    text_input: bool,
    written: usize,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, format: Format, documents: usize, text_input: bool) -> Self {
        Self { out, format, bare_object: documents == 1 && text_input, text_input, written: 0 }
    }

    /// Writes one document's result: the extraction with its `id`, or
    /// `{"id", "error", "code"}`.
    pub fn write(&mut self, doc: &Document, result: &Result<Extraction, Failure>) -> std::io::Result<()> {
        match (self.format, result, &doc.text) {
            (Format::Conllu, Ok(x), Ok(text)) => return write_conllu(&mut self.out, &doc.name(), text, x),
            (Format::Carb, Ok(x), Ok(text)) => return write_carb(&mut self.out, text, x, !self.text_input),
            (Format::Conllu | Format::Carb, _, _) => return Ok(()),
            _ => {}
        }
        let value = match result {
            Ok(extraction) => Record::Done { id: &doc.id, extraction },
            Err(failure) => Record::Failed { id: &doc.id, error: &failure.message, code: failure.code },
        };
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, &value)?;
                writeln!(self.out)?;
            }
            _ => {
                if !self.bare_object {
                    self.out.write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                }
                serde_json::to_writer_pretty(&mut self.out, &value)?;
            }
        }
        self.written += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            match (self.bare_object, self.written) {
                (true, _) => writeln!(self.out)?,
                (false, 0) => writeln!(self.out, "[]")?,
                (false, _) => writeln!(self.out, "\n]")?,
            }
        }
        self.out.flush()
    }
}

fn write_conllu(out: &mut impl Write, id: &str, text: &str, x: &Extraction) -> std::io::Result<()> {
    writeln!(out, "# newdoc id = {id}")?;
    debug_assert_eq!(x.offsets, edgemine::OffsetUnit::Utf8, "CoNLL-U slices the text by byte offsets");
    let words = x.words.as_deref().unwrap_or(&[]);
    let entities = x.entities.as_deref().unwrap_or(&[]);
    for (s, sentence) in x.sentences.iter().enumerate() {
        writeln!(out, "# sent_id = {id}-{}", s + 1)?;
        let sentence_text = text.get(sentence.start..sentence.end).unwrap_or_default();
        writeln!(out, "# text = {}", sentence_text.replace(['\n', '\r'], " "))?;
        let in_sentence: Vec<_> = words.iter().filter(|w| w.sentence == s).collect();
        let ents: Vec<_> = entities.iter().filter(|e| e.sentence == s).collect();
        for (k, w) in in_sentence.iter().enumerate() {
            let entity = ents.iter().find(|e| e.start <= w.start && w.end <= e.end).map(|e| {
                let prefix = if e.start == w.start { "B" } else { "I" };
                format!("Entity={prefix}-{}", e.label)
            });
            let space_after = in_sentence.get(k + 1).is_some_and(|next| next.start == w.end);
            let misc: Vec<String> =
                entity.into_iter().chain(space_after.then(|| "SpaceAfter=No".to_string())).collect();
            writeln!(
                out,
                "{}\t{}\t_\t{}\t_\t_\t{}\t{}\t_\t{}",
                k + 1,
                w.text,
                w.upos.as_deref().unwrap_or("_"),
                w.head.map_or("_".to_string(), |h| h.to_string()),
                w.deprel.as_deref().unwrap_or("_"),
                if misc.is_empty() { "_".to_string() } else { misc.join("|") },
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// CaRB's tabbed format. Tabs and line breaks inside a field become spaces.
fn write_carb(out: &mut impl Write, text: &str, x: &Extraction, whole_document: bool) -> std::io::Result<()> {
    debug_assert_eq!(x.offsets, edgemine::OffsetUnit::Utf8, "CaRB output slices the text by byte offsets");
    let field = |s: &str| s.trim().replace(['\t', '\n', '\r'], " ");
    for t in x.triples.as_deref().unwrap_or(&[]) {
        let sentence = if whole_document {
            field(text)
        } else {
            x.sentences.get(t.sentence).and_then(|s| text.get(s.start..s.end)).map(field).unwrap_or_default()
        };
        write!(out, "{sentence}\t{:.4}\t{}\t{}", t.score, field(&t.label), field(&t.subject.text))?;
        if let Some(o) = &t.object {
            write!(out, "\t{}", field(&o.text))?;
        }
        for a in &t.arguments {
            write!(out, "\t{}", field(&a.text))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
