//! The sentence splitter against UD English-EWT dev: each document's
//! sentences joined as running text (a space between sentences, a line
//! break between paragraphs), split again, and the boundaries compared.

use std::collections::HashSet;

/// (document text, gold sentence end offsets).
fn documents() -> Vec<(String, HashSet<usize>)> {
    let conllu = super::read_shared_data("ud_ewt/en_ewt-ud-dev.conllu");
    let mut docs: Vec<(String, HashSet<usize>)> = Vec::new();
    for line in conllu.lines() {
        if line.starts_with("# newdoc") {
            docs.push((String::new(), HashSet::new()));
        } else if line.starts_with("# newpar") {
            if let Some((text, _)) = docs.last_mut().filter(|(t, _)| !t.is_empty()) {
                text.push('\n');
            }
        } else if let Some(sentence) = line.strip_prefix("# text = ") {
            let (text, ends) = docs.last_mut().expect("a sentence before the first document");
            if !text.is_empty() && !text.ends_with('\n') {
                text.push(' ');
            }
            text.push_str(sentence.trim());
            ends.insert(text.len());
        }
    }
    docs
}

#[test]
fn sentence_boundaries_match_ewt_dev() {
    let docs = documents();
    assert!(docs.len() > 300);
    let (mut tp, mut n_pred, mut n_gold) = (0usize, 0usize, 0usize);
    for (text, gold) in &docs {
        let pred: HashSet<usize> = crate::split::sentences(text).into_iter().map(|s| s.end).collect();
        tp += pred.intersection(gold).count();
        n_pred += pred.len();
        n_gold += gold.len();
    }
    let (p, r) = (tp as f64 / n_pred as f64, tp as f64 / n_gold as f64);
    let f1 = 2.0 * p * r / (p + r);
    println!("EWT dev sentence ends: P {p:.4} R {r:.4} F1 {f1:.4}");
    assert!(f1 > 0.90, "sentence boundary F1 {f1:.4}");
}
