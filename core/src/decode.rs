//! Decode: model scores into labels, spans and trees.
//!
//! - entities: IOB2-constrained Viterbi over per-word label log-probabilities
//!   (an `I-X` only after `B-X` or `I-X`), spans scored by the mean
//!   probability of their labels;
//! - parts of speech: argmax;
//! - dependencies: the maximum spanning tree over arc log-probabilities with
//!   exactly one root (Chu-Liu/Edmonds).
//!
//! The Python recipe's `decode.py` is the reference these agree with.

use std::ops::Range;

/// `log_softmax` of one row of logits, in place.
pub fn log_softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return;
    }
    let sum: f32 = row.iter().map(|x| (x - max).exp()).sum();
    let log_sum = sum.ln() + max;
    row.iter_mut().for_each(|x| *x -= log_sum);
}

/// Index of the largest value (the first one on ties).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in row.iter().enumerate() {
        if x > row[best] {
            best = i;
        }
    }
    best
}

/// Index and softmax probability of the largest of some logits.
pub fn most_probable(logits: impl Iterator<Item = f32> + Clone) -> (usize, f32) {
    let (mut best, mut top) = (0, f32::NEG_INFINITY);
    for (i, x) in logits.clone().enumerate() {
        if x > top {
            (best, top) = (i, x);
        }
    }
    let total: f32 = logits.map(|x| (x - top).exp()).sum();
    (best, if total > 0.0 { 1.0 / total } else { 0.0 })
}

/// A label of a BIO-style scheme, split into its prefix and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanLabel {
    /// `B` (begins a span), `I` (continues one) or `O` (outside).
    pub prefix: char,
    /// The entity type (`PER`); empty for `O`.
    pub kind: String,
}

impl SpanLabel {
    /// Parses `B-PER`, `I-PER`, `O`; BIOES `S-`/`E-` read as `B-`/`I-`, and a
    /// bare type (`PER`, IO tagging) as `I-`.
    pub fn parse(label: &str) -> Self {
        if label == "O" || label.is_empty() {
            return Self { prefix: 'O', kind: String::new() };
        }
        match label.split_once(['-', '_']) {
            Some((p, kind)) if p.len() == 1 => {
                let prefix = match p {
                    "B" | "S" | "U" => 'B',
                    "I" | "E" | "L" | "M" => 'I',
                    _ => return Self { prefix: 'I', kind: label.to_string() },
                };
                Self { prefix, kind: kind.to_string() }
            }
            _ => Self { prefix: 'I', kind: label.to_string() },
        }
    }
}

/// A decoded span over words: `words` (end exclusive), its type and score.
#[derive(Debug, Clone, PartialEq)]
pub struct WordSpan {
    /// Words covered.
    pub words: Range<usize>,
    /// Entity type.
    pub kind: String,
    /// Mean probability of the chosen labels of its words.
    pub score: f32,
}

/// Best label sequence under IOB2 constraints, then its spans.
/// `log_probs` holds one row of label log-probabilities per word.
pub fn bio_spans(log_probs: &[Vec<f32>], labels: &[SpanLabel]) -> Vec<WordSpan> {
    let path = bio_viterbi(log_probs, labels);
    let mut spans = Vec::new();
    let mut i = 0;
    while i < path.len() {
        let label = &labels[path[i]];
        if label.prefix == 'O' {
            i += 1;
            continue;
        }
        // A span starts at B, or at an I the constraints let start (bare IO labels).
        let mut end = i + 1;
        while end < path.len() && labels[path[end]].prefix == 'I' && labels[path[end]].kind == label.kind {
            end += 1;
        }
        let score = (i..end).map(|w| log_probs[w][path[w]].exp()).sum::<f32>() / (end - i) as f32;
        spans.push(WordSpan { words: i..end, kind: label.kind.clone(), score });
        i = end;
    }
    spans
}

fn bio_viterbi(log_probs: &[Vec<f32>], labels: &[SpanLabel]) -> Vec<usize> {
    let n = log_probs.len();
    let k = labels.len();
    if n == 0 || k == 0 {
        return Vec::new();
    }
    // An I-X may follow only B-X or I-X — unless the scheme has no B-X at all
    // (IO tagging), where I-X starts spans itself.
    let has_begin = |kind: &str| labels.iter().any(|l| l.prefix == 'B' && l.kind == kind);
    let constrained: Vec<bool> = labels.iter().map(|l| l.prefix == 'I' && has_begin(&l.kind)).collect();
    let allowed = |prev: usize, cur: usize| {
        !constrained[cur] || (labels[prev].prefix != 'O' && labels[prev].kind == labels[cur].kind)
    };
    let mut score: Vec<f64> =
        (0..k).map(|c| if constrained[c] { f64::NEG_INFINITY } else { log_probs[0][c] as f64 }).collect();
    let mut back = vec![vec![0usize; k]; n];
    for i in 1..n {
        let mut next = vec![f64::NEG_INFINITY; k];
        for cur in 0..k {
            let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
            for (prev, &s) in score.iter().enumerate() {
                if allowed(prev, cur) && s > best {
                    (best, arg) = (s, prev);
                }
            }
            next[cur] = best + log_probs[i][cur] as f64;
            back[i][cur] = arg;
        }
        score = next;
    }
    let mut best = (0..k).fold(0, |b, c| if score[c] > score[b] { c } else { b });
    let mut path = vec![best; n];
    for i in (1..n).rev() {
        best = back[i][best];
        path[i - 1] = best;
    }
    path
}

/// Heads of the best tree over `n` words: `arc_log_probs[i][j]` scores word
/// `j` (0 = ROOT, 1-based words) as the head of word `i + 1`. Returns one
/// head per word (0 = ROOT); exactly one word attaches to ROOT.
///
/// Every ROOT arc pays a penalty larger than any possible difference in tree
/// scores, so the best tree uses as few ROOT arcs as possible (one) and is
/// otherwise the plain maximum spanning tree.
pub fn mst_heads(arc_log_probs: &[Vec<f32>]) -> Vec<usize> {
    let n = arc_log_probs.len();
    if n == 0 {
        return Vec::new();
    }
    let finite_max =
        arc_log_probs.iter().flatten().filter(|x| x.is_finite()).fold(0f64, |m, &x| m.max((x as f64).abs()));
    let penalty = 1.0 + 2.0 * (n as f64 + 1.0) * (finite_max + 1.0);
    // scores[d][h]: h heads d, over nodes 0..=n with 0 = ROOT.
    let mut scores = vec![vec![f64::NEG_INFINITY; n + 1]; n + 1];
    for (row, probs) in scores[1..].iter_mut().zip(arc_log_probs) {
        for (h, score) in row.iter_mut().enumerate() {
            let s = probs.get(h).copied().unwrap_or(f32::NEG_INFINITY) as f64;
            *score = if h == 0 { s - penalty } else { s };
        }
    }
    chu_liu_edmonds(&scores)[1..].to_vec()
}

/// Maximum spanning arborescence rooted at node 0; `scores[d][h]`.
fn chu_liu_edmonds(scores: &[Vec<f64>]) -> Vec<usize> {
    let n = scores.len();
    let s = |d: usize, h: usize| if d == h || d == 0 { f64::NEG_INFINITY } else { scores[d][h] };
    let mut heads: Vec<usize> =
        (0..n).map(|d| if d == 0 { 0 } else { (0..n).fold(0, |b, h| if s(d, h) > s(d, b) { h } else { b }) }).collect();
    let Some(cycle) = find_cycle(&heads) else { return heads };
    let in_cycle: Vec<bool> = (0..n).map(|i| cycle.contains(&i)).collect();
    let rest: Vec<usize> = (0..n).filter(|&i| !in_cycle[i]).collect(); // starts with 0
    let m = rest.len();
    // Contract the cycle into node m of a smaller graph.
    let mut sub = vec![vec![f64::NEG_INFINITY; m + 1]; m + 1];
    let mut out_best = vec![0usize; m]; // best cycle word heading each outside word
    let mut in_best = vec![0usize; m]; // best cycle word for each outside head to enter at
    for (a, &d) in rest.iter().enumerate() {
        for (b, &h) in rest.iter().enumerate() {
            sub[a][b] = s(d, h);
        }
        let (best_h, best) = cycle
            .iter()
            .map(|&c| (c, s(d, c)))
            .fold((cycle[0], f64::NEG_INFINITY), |acc, x| if x.1 > acc.1 { x } else { acc });
        out_best[a] = best_h;
        sub[a][m] = best;
    }
    for (b, &h) in rest.iter().enumerate() {
        let (best_d, best) = cycle
            .iter()
            .map(|&c| (c, s(c, h) - s(c, heads[c])))
            .fold((cycle[0], f64::NEG_INFINITY), |acc, x| if x.1 > acc.1 { x } else { acc });
        in_best[b] = best_d;
        sub[m][b] = best;
    }
    let sub_heads = chu_liu_edmonds(&sub);
    for (a, &d) in rest.iter().enumerate().skip(1) {
        let h = sub_heads[a];
        heads[d] = if h == m { out_best[a] } else { rest[h] };
    }
    let h = sub_heads[m];
    heads[in_best[h]] = rest[h];
    heads
}

fn find_cycle(heads: &[usize]) -> Option<Vec<usize>> {
    let n = heads.len();
    let mut color = vec![0u8; n]; // 0 new, 1 on the current path, 2 done
    color[0] = 2;
    for start in 1..n {
        let mut path = Vec::new();
        let mut node = start;
        while color[node] == 0 {
            color[node] = 1;
            path.push(node);
            node = heads[node];
        }
        if color[node] == 1 {
            let at = path.iter().position(|&p| p == node).unwrap_or(0);
            return Some(path[at..].to_vec());
        }
        for p in path {
            color[p] = 2;
        }
    }
    None
}

/// Whether `heads` (0 = ROOT, 1-based) form one tree: exactly one root,
/// every word reaches it, no cycles.
pub fn is_tree(heads: &[usize]) -> bool {
    if heads.iter().filter(|&&h| h == 0).count() != 1 {
        return false;
    }
    (1..=heads.len()).all(|start| {
        let mut node = start;
        for _ in 0..=heads.len() {
            if node == 0 {
                return true;
            }
            match heads.get(node - 1) {
                Some(&h) if h <= heads.len() => node = h,
                _ => return false,
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<SpanLabel> {
        names.iter().map(|l| SpanLabel::parse(l)).collect()
    }

    fn assert_one_span(spans: &[WordSpan], words: std::ops::Range<usize>, kind: &str, score: f32) {
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!((spans[0].words.clone(), spans[0].kind.as_str()), (words, kind));
        assert!((spans[0].score - score).abs() < 1e-5, "score {}", spans[0].score);
    }

    fn rows(probs: &[&[f32]]) -> Vec<Vec<f32>> {
        probs.iter().map(|r| r.iter().map(|p| p.ln()).collect()).collect()
    }

    #[test]
    fn viterbi_never_starts_a_span_with_i() {
        let l = labels(&["O", "B-PER", "I-PER"]);
        // Greedy would say O, I-PER: an I- with nothing to continue.
        let lp = rows(&[&[0.6, 0.1, 0.3], &[0.1, 0.2, 0.7]]);
        let spans = bio_spans(&lp, &l);
        // Legal paths: O B-PER (0.6 × 0.2) beats B-PER I-PER (0.1 × 0.7).
        assert_one_span(&spans, 1..2, "PER", 0.2);
    }

    #[test]
    fn viterbi_joins_b_and_i_of_one_type_only() {
        let l = labels(&["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]);
        let lp = rows(&[&[0.05, 0.8, 0.05, 0.05, 0.05], &[0.05, 0.05, 0.8, 0.05, 0.05], &[0.1, 0.04, 0.03, 0.03, 0.8]]);
        let spans = bio_spans(&lp, &l);
        // I-ORG cannot continue a PER span: the third word falls back to its best legal label, O.
        assert_one_span(&spans, 0..2, "PER", 0.8);
    }

    #[test]
    fn io_labels_make_spans_too() {
        let l = labels(&["O", "PER"]);
        let lp = rows(&[&[0.9, 0.1], &[0.2, 0.8], &[0.3, 0.7], &[0.9, 0.1]]);
        let spans = bio_spans(&lp, &l);
        assert_one_span(&spans, 1..3, "PER", 0.75);
    }

    /// Brute force over all head assignments of a small sentence.
    fn best_tree(arcs: &[Vec<f32>]) -> (f64, Vec<usize>) {
        let n = arcs.len();
        let mut best = (f64::NEG_INFINITY, Vec::new());
        let mut heads = vec![0usize; n];
        loop {
            if is_tree(&heads) {
                let s: f64 = heads.iter().enumerate().map(|(d, &h)| arcs[d][h] as f64).sum();
                if s > best.0 {
                    best = (s, heads.clone());
                }
            }
            let mut k = 0;
            loop {
                if k == n {
                    return best;
                }
                heads[k] += 1;
                if heads[k] <= n {
                    break;
                }
                heads[k] = 0;
                k += 1;
            }
        }
    }

    #[test]
    fn mst_matches_brute_force() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) * 6.0 - 3.0
        };
        for n in 1..=5 {
            for _ in 0..40 {
                let mut arcs: Vec<Vec<f32>> = (0..n).map(|_| (0..=n).map(|_| next()).collect()).collect();
                arcs.iter_mut().for_each(|r| log_softmax(r));
                let heads = mst_heads(&arcs);
                assert!(is_tree(&heads), "{heads:?}");
                let score: f64 = heads.iter().enumerate().map(|(d, &h)| arcs[d][h] as f64).sum();
                let (best, _) = best_tree(&arcs);
                assert!((score - best).abs() < 1e-4, "n={n}: {score} vs {best}");
            }
        }
    }

    #[test]
    fn is_tree_rejects_cycles_and_two_roots() {
        assert!(is_tree(&[2, 0, 2]));
        assert!(!is_tree(&[0, 0]));
        assert!(!is_tree(&[2, 1, 0]));
        assert!(!is_tree(&[4, 0]));
    }
}
