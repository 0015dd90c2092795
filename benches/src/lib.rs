//! The fixed corpus the benchmarks run on: the documents of the UD English
//! EWT dev split, rebuilt from each sentence's `# text` line, in file order.
//!
//! The data stays outside the repository (`../shared/data`, or the folder in
//! `EDGEMINE_DATA`), as the dev-score tests read it.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// The shared data folder.
pub fn data_dir() -> PathBuf {
    std::env::var_os("EDGEMINE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

/// One document of the corpus.
pub struct Document {
    /// Its sentences, in order.
    pub sentences: Vec<String>,
    /// UD words in it (multiword tokens counted by their parts).
    pub words: usize,
}

impl Document {
    /// The document's text: its sentences joined by a space.
    pub fn text(&self) -> String {
        self.sentences.join(" ")
    }
}

/// The documents of `ud_ewt/en_ewt-ud-dev.conllu`.
pub fn dev_documents() -> Result<Vec<Document>> {
    let path = data_dir().join("ud_ewt/en_ewt-ud-dev.conllu");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} (set EDGEMINE_DATA to the shared data folder)", path.display()))?;
    Ok(parse_conllu_documents(&text))
}

/// Documents from CoNLL-U: a `# newdoc` line starts one, `# text` lines give
/// the sentences, and word lines (integer ids) are counted.
pub fn parse_conllu_documents(conllu: &str) -> Vec<Document> {
    let mut docs: Vec<Document> = Vec::new();
    for line in conllu.lines() {
        if line.starts_with("# newdoc") || docs.is_empty() {
            docs.push(Document { sentences: Vec::new(), words: 0 });
        }
        let doc = docs.last_mut().expect("a document was just pushed");
        if let Some(text) = line.strip_prefix("# text = ") {
            doc.sentences.push(text.to_string());
        } else if line.split('\t').next().is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())) {
            doc.words += 1;
        }
    }
    docs.retain(|d| !d.sentences.is_empty());
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_on_newdoc_and_count_words_not_ranges() {
        let conllu = "# newdoc id = a\n# text = Hi there.\n1\tHi\n2\tthere\n3\t.\n\n\
                      # text = Don't.\n1-2\tDon't\n1\tDo\n2\tn't\n3\t.\n\n\
                      # newdoc id = b\n# text = Bye\n1\tBye\n\n";
        let docs = parse_conllu_documents(conllu);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text(), "Hi there. Don't.");
        assert_eq!(docs[0].words, 6);
        assert_eq!(docs[1].sentences, ["Bye"]);
        assert_eq!(docs[1].words, 1);
    }
}
