//! Decode: model scores into labels, spans and trees.
//!
//! - entities: IOB2-constrained Viterbi over per-word label log-probabilities
//!   (an `I-X` only after `B-X` or `I-X`), each span scored by its
//!   probability among the valid label sequences (forward-backward), which
//!   reads the same for models trained per word and for CRF-trained ones;
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
    /// Probability of exactly this span (these words, this type, not longer
    /// or shorter) among the IOB2-valid label sequences.
    pub score: f32,
}

/// Best label sequence under IOB2 constraints, then its spans.
/// `log_probs` holds one row of label scores per word (log-probabilities,
/// or any per-word shift of them: a CRF-trained model's raw potentials
/// decode the same).
pub fn bio_spans(log_probs: &[Vec<f32>], labels: &[SpanLabel]) -> Vec<WordSpan> {
    let chain = BioChain::new(log_probs, labels);
    let path = chain.viterbi();
    let Some(paths) = chain.paths() else { return Vec::new() };
    spans_of(&path, labels)
        .into_iter()
        .map(|(words, kind)| {
            let score = chain.span_probability(&paths, words.clone(), kind) as f32;
            WordSpan { words, kind: kind.to_string(), score }
        })
        .collect()
}

/// The spans a label sequence spells: each starts at a non-`O` label and
/// takes the following words whose labels continue it.
fn spans_of<'l>(path: &[usize], labels: &'l [SpanLabel]) -> Vec<(Range<usize>, &'l str)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < path.len() {
        if labels[path[i]].prefix == 'O' {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < path.len() && continues(&labels[path[end - 1]], &labels[path[end]]) {
            end += 1;
        }
        spans.push((i..end, labels[path[i]].kind.as_str()));
        i = end;
    }
    spans
}

/// Whether `cur` extends the span `prev` is in (an `I-X` after any `X`).
fn continues(prev: &SpanLabel, cur: &SpanLabel) -> bool {
    cur.prefix == 'I' && prev.prefix != 'O' && prev.kind == cur.kind
}

/// `ln(sum(exp(x)))`, `-inf` for none.
fn log_sum_exp(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = xs.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + xs.map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// The linear chain of one sentence's label scores under IOB2's rule: an
/// `I-X` follows only `B-X` or `I-X`, unless the scheme has no `B-X` at all
/// (IO tagging), where `I-X` starts spans itself. Its best path is the
/// decoded labels; its sums over paths give each span's probability.
struct BioChain<'a> {
    log_probs: &'a [Vec<f32>],
    labels: &'a [SpanLabel],
    /// Labels that may only continue a span (the `I-X` with a `B-X`).
    constrained: Vec<bool>,
}

/// Forward and backward log-sums over the valid paths.
struct PathSums {
    /// `forward[i][c]`: paths over words `..=i` ending in `c`, `c`'s score included.
    forward: Vec<Vec<f64>>,
    /// `backward[i][c]`: paths over words `i + 1..` after `c` at `i`.
    backward: Vec<Vec<f64>>,
    /// All valid paths.
    log_total: f64,
}

impl<'a> BioChain<'a> {
    fn new(log_probs: &'a [Vec<f32>], labels: &'a [SpanLabel]) -> Self {
        let has_begin = |kind: &str| labels.iter().any(|l| l.prefix == 'B' && l.kind == kind);
        let constrained = labels.iter().map(|l| l.prefix == 'I' && has_begin(&l.kind)).collect();
        Self { log_probs, labels, constrained }
    }

    fn k(&self) -> usize {
        self.labels.len()
    }

    fn score(&self, word: usize, label: usize) -> f64 {
        self.log_probs[word][label] as f64
    }

    fn allowed(&self, prev: usize, cur: usize) -> bool {
        !self.constrained[cur] || (self.labels[prev].prefix != 'O' && self.labels[prev].kind == self.labels[cur].kind)
    }

    fn continues(&self, prev: usize, cur: usize) -> bool {
        continues(&self.labels[prev], &self.labels[cur])
    }

    /// Score of starting the sentence with `label`.
    fn first(&self, label: usize) -> f64 {
        if self.constrained[label] { f64::NEG_INFINITY } else { self.score(0, label) }
    }

    fn viterbi(&self) -> Vec<usize> {
        let (n, k) = (self.log_probs.len(), self.k());
        if n == 0 || k == 0 {
            return Vec::new();
        }
        let mut score: Vec<f64> = (0..k).map(|c| self.first(c)).collect();
        let mut back = vec![vec![0usize; k]; n];
        for (i, back_row) in back.iter_mut().enumerate().skip(1) {
            let mut next = vec![f64::NEG_INFINITY; k];
            for cur in 0..k {
                let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
                for (prev, &s) in score.iter().enumerate() {
                    if self.allowed(prev, cur) && s > best {
                        (best, arg) = (s, prev);
                    }
                }
                next[cur] = best + self.score(i, cur);
                back_row[cur] = arg;
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

    /// Forward and backward sums; `None` for an empty sentence or label set.
    fn paths(&self) -> Option<PathSums> {
        let (n, k) = (self.log_probs.len(), self.k());
        if n == 0 || k == 0 {
            return None;
        }
        let mut forward = vec![(0..k).map(|c| self.first(c)).collect::<Vec<f64>>()];
        for i in 1..n {
            let prev = &forward[i - 1];
            let row = (0..k)
                .map(|c| {
                    let into = (0..k).filter(|&p| self.allowed(p, c)).map(|p| prev[p]);
                    log_sum_exp(into) + self.score(i, c)
                })
                .collect();
            forward.push(row);
        }
        let mut backward = vec![vec![0.0; k]; n];
        for i in (0..n - 1).rev() {
            for c in 0..k {
                let out = (0..k).filter(|&d| self.allowed(c, d)).map(|d| self.score(i + 1, d) + backward[i + 1][d]);
                backward[i][c] = log_sum_exp(out);
            }
        }
        let log_total = log_sum_exp(forward[n - 1].iter().copied());
        Some(PathSums { forward, backward, log_total })
    }

    /// Probability that the labels spell a span of type `kind` over exactly
    /// `words`: the sum over paths that start such a span at its first word,
    /// continue it through its last, and do not continue it after.
    fn span_probability(&self, paths: &PathSums, words: Range<usize>, kind: &str) -> f64 {
        let (n, k) = (self.log_probs.len(), self.k());
        let i = words.start;
        // inside[c]: paths up to the current word of the span, ending in c.
        let mut inside: Vec<f64> = (0..k)
            .map(|c| {
                if self.labels[c].prefix == 'O' || self.labels[c].kind != kind {
                    return f64::NEG_INFINITY;
                }
                if i == 0 {
                    return self.first(c);
                }
                let into = (0..k).filter(|&p| self.allowed(p, c) && !self.continues(p, c));
                log_sum_exp(into.map(|p| paths.forward[i - 1][p])) + self.score(i, c)
            })
            .collect();
        for w in words.start + 1..words.end {
            inside = (0..k)
                .map(|c| {
                    let into = (0..k).filter(|&p| self.allowed(p, c) && self.continues(p, c));
                    log_sum_exp(into.map(|p| inside[p])) + self.score(w, c)
                })
                .collect();
        }
        let last = words.end - 1;
        let spans = if words.end == n {
            log_sum_exp(inside.iter().copied())
        } else {
            let after = (0..k).flat_map(|p| (0..k).map(move |c| (p, c)));
            let after = after.filter(|&(p, c)| self.allowed(p, c) && !self.continues(p, c));
            log_sum_exp(after.map(|(p, c)| inside[p] + self.score(last + 1, c) + paths.backward[last + 1][c]))
        };
        (spans - paths.log_total).exp().clamp(0.0, 1.0)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `heads` (0 = ROOT, 1-based) form one tree: exactly one root,
    /// every word reaches it, no cycles.
    fn is_tree(heads: &[usize]) -> bool {
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

    fn labels(names: &[&str]) -> Vec<SpanLabel> {
        names.iter().map(|l| SpanLabel::parse(l)).collect()
    }

    fn assert_one_span(spans: &[WordSpan], words: std::ops::Range<usize>, kind: &str, score: f32) {
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!((spans[0].words.clone(), spans[0].kind.as_str()), (words, kind));
        assert!((spans[0].score - score).abs() < 1e-5, "score {}", spans[0].score);
    }

    /// A reproducible stream of scores in [-3, 3) (a linear congruential
    /// generator: the tests need variety, not quality).
    fn scores_in_minus_3_to_3(mut seed: u64) -> impl FnMut() -> f32 {
        move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) * 6.0 - 3.0
        }
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
        // Legal paths: O O .06, O B .12, B O .01, B B .02, B I .07 (total .28).
        // O B-PER (.12) is the best; the span 1..2 is in O B and B B: .14 / .28.
        assert_one_span(&spans, 1..2, "PER", 0.5);
    }

    #[test]
    fn viterbi_joins_b_and_i_of_one_type_only() {
        let l = labels(&["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]);
        let lp = rows(&[&[0.05, 0.8, 0.05, 0.05, 0.05], &[0.05, 0.05, 0.8, 0.05, 0.05], &[0.1, 0.04, 0.03, 0.03, 0.8]]);
        let spans = bio_spans(&lp, &l);
        // I-ORG cannot continue a PER span: the third word falls back to its best legal label, O.
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!((spans[0].words.clone(), spans[0].kind.as_str()), (0..2, "PER"));
        let want = span_probability_by_enumeration(&lp, &l, 0..2, "PER");
        assert!((spans[0].score as f64 - want).abs() < 1e-5, "{} vs {want}", spans[0].score);
    }

    #[test]
    fn io_labels_make_spans_too() {
        let l = labels(&["O", "PER"]);
        let lp = rows(&[&[0.9, 0.1], &[0.2, 0.8], &[0.3, 0.7], &[0.9, 0.1]]);
        let spans = bio_spans(&lp, &l);
        // Words are independent here: .9 × .8 × .7 × .9 for the span 1..3.
        assert_one_span(&spans, 1..3, "PER", 0.9 * 0.8 * 0.7 * 0.9);
    }

    /// Probability of the span by listing every label sequence, keeping the
    /// valid ones and adding up those that spell it.
    fn span_probability_by_enumeration(lp: &[Vec<f32>], l: &[SpanLabel], words: Range<usize>, kind: &str) -> f64 {
        let chain = BioChain::new(lp, l);
        let (n, k) = (lp.len(), l.len());
        let (mut total, mut with_span) = (0.0, 0.0);
        for code in 0..k.pow(n as u32) {
            let path: Vec<usize> = (0..n).map(|i| code / k.pow(i as u32) % k).collect();
            let valid = !chain.constrained[path[0]] && path.windows(2).all(|w| chain.allowed(w[0], w[1]));
            if !valid {
                continue;
            }
            let p: f64 = path.iter().enumerate().map(|(i, &c)| lp[i][c] as f64).sum::<f64>().exp();
            total += p;
            if spans_of(&path, l).iter().any(|(r, t)| *r == words && *t == kind) {
                with_span += p;
            }
        }
        with_span / total
    }

    #[test]
    fn span_probabilities_match_enumeration() {
        let mut next = scores_in_minus_3_to_3(11);
        let schemes = [labels(&["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]), labels(&["O", "PER", "LOC"])];
        for l in &schemes {
            for n in 1..=5 {
                for _ in 0..10 {
                    // Raw potentials, not normalized per word: as a CRF-trained model gives them.
                    let lp: Vec<Vec<f32>> = (0..n).map(|_| (0..l.len()).map(|_| next()).collect()).collect();
                    let chain = BioChain::new(&lp, l);
                    let paths = chain.paths().expect("a non-empty sentence");
                    // Every span any sequence can spell, not only the decoded ones.
                    for start in 0..n {
                        for end in start + 1..=n {
                            for kind in ["PER", "ORG", "LOC"] {
                                if !l.iter().any(|x| x.kind == kind) {
                                    continue;
                                }
                                let got = chain.span_probability(&paths, start..end, kind);
                                let want = span_probability_by_enumeration(&lp, l, start..end, kind);
                                assert!((got - want).abs() < 1e-9, "n={n} {start}..{end} {kind}: {got} vs {want}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn span_scores_ignore_a_per_word_shift() {
        // A CRF's potentials and their per-word log-softmax give the same spans and scores.
        let l = labels(&["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]);
        let raw = vec![vec![0.3, 2.0, -1.0, 0.5, 0.0], vec![1.0, -0.5, 1.8, 0.2, 0.9], vec![2.5, 0.0, 0.1, 0.3, -2.0]];
        let mut normalized = raw.clone();
        normalized.iter_mut().for_each(|r| log_softmax(r));
        let (a, b) = (bio_spans(&raw, &l), bio_spans(&normalized, &l));
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].words, b[0].words);
        assert!((a[0].score - b[0].score).abs() < 1e-5, "{} vs {}", a[0].score, b[0].score);
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
        let mut next = scores_in_minus_3_to_3(7);
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
