//! The word tokenizer against the gold words of UD English-EWT dev: the
//! default models were trained on UD words, so the engine must cut text the
//! way the treebank does.

use std::collections::HashSet;

/// (text, gold word byte spans) per sentence. A multiword token counts as
/// its words when they spell it exactly ("don't" = "do" + "n't", as the
/// models were trained), else as its surface form.
fn gold_sentences() -> Vec<(String, Vec<(usize, usize)>)> {
    let conllu = super::read_shared_data("ud_ewt/en_ewt-ud-dev.conllu");
    let mut out = Vec::new();
    for block in conllu.split("\n\n") {
        let Some(text) = block.lines().find_map(|l| l.strip_prefix("# text = ")) else { continue };
        let rows: Vec<Vec<&str>> = block
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|c| c.len() == 10 && !c[0].contains('.'))
            .collect();
        let mut forms: Vec<&str> = Vec::new();
        let mut k = 0;
        while k < rows.len() {
            if let Some((a, b)) = rows[k][0].split_once('-') {
                let n = b.parse::<usize>().unwrap_or(0) - a.parse::<usize>().unwrap_or(0) + 1;
                let parts: Vec<&str> = rows[k + 1..(k + 1 + n).min(rows.len())].iter().map(|r| r[1]).collect();
                if parts.concat() == rows[k][1] {
                    forms.extend(parts);
                } else {
                    forms.push(rows[k][1]);
                }
                k += 1 + n;
            } else {
                forms.push(rows[k][1]);
                k += 1;
            }
        }
        let mut spans = Vec::new();
        let mut cursor = 0;
        for form in forms {
            let Some(at) = text[cursor..].find(form) else {
                spans.clear();
                break;
            };
            spans.push((cursor + at, cursor + at + form.len()));
            cursor += at + form.len();
        }
        if !spans.is_empty() {
            out.push((text.to_string(), spans));
        }
    }
    out
}

#[test]
fn words_match_ewt_dev() {
    let sentences = gold_sentences();
    assert!(sentences.len() > 1900, "read only {} sentences", sentences.len());
    let (mut tp, mut n_pred, mut n_gold, mut exact) = (0usize, 0usize, 0usize, 0usize);
    for (text, gold) in &sentences {
        let pred: HashSet<(usize, usize)> = crate::words::words(text).into_iter().map(|r| (r.start, r.end)).collect();
        let gold: HashSet<(usize, usize)> = gold.iter().copied().collect();
        tp += pred.intersection(&gold).count();
        n_pred += pred.len();
        n_gold += gold.len();
        exact += usize::from(pred == gold);
        if pred != gold && std::env::var_os("SHOW").is_some() {
            let mut p: Vec<_> = pred.difference(&gold).map(|&(a, b)| &text[a..b]).collect();
            let mut g: Vec<_> = gold.difference(&pred).map(|&(a, b)| &text[a..b]).collect();
            p.sort();
            g.sort();
            println!("PRED {:?}  GOLD {:?}", p, g);
        }
    }
    let f1 = 2.0 * tp as f64 / (n_pred + n_gold) as f64;
    let sentence_accuracy = exact as f64 / sentences.len() as f64;
    println!("EWT dev words: F1 {:.4}, sentences cut exactly {:.4}", f1, sentence_accuracy);
    assert!(f1 > 0.985, "word F1 {f1:.4}");
    assert!(sentence_accuracy > 0.92, "exact sentences {sentence_accuracy:.4}");
}
