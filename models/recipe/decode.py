"""Decoders from the tagger's scores to labels and trees (numpy only).

These are the reference the Rust engine's decoders are checked against:
BIO-constrained Viterbi for entities, each span scored by its probability
among the valid label sequences (forward-backward), and a maximum spanning
tree with exactly one root (Chu-Liu/Edmonds) for the parse.
"""

from __future__ import annotations

import numpy as np

from common import bio_spans


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def bio_constraints(labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """IOB2's rule as masks: `allowed[prev, cur]` (I-X follows only B-X or I-X)
    and `start_ok[cur]` (a sequence never starts with I-X)."""
    k = len(labels)
    kind = [lab.partition("-") for lab in labels]
    allowed = np.ones((k, k), dtype=bool)
    start_ok = np.ones(k, dtype=bool)
    for c, (prefix, _, t) in enumerate(kind):
        if prefix == "I":
            start_ok[c] = False
            for p, (pp, _, pt) in enumerate(kind):
                allowed[p, c] = pp in ("B", "I") and pt == t
    return allowed, start_ok


def bio_viterbi(logits: np.ndarray, labels: list[str]) -> list[str]:
    """Best IOB2 sequence under the rule that I-X follows only B-X or I-X."""
    n, k = logits.shape
    if n == 0:
        return []
    lp = log_softmax(logits.astype(np.float64))
    allowed, start_ok = bio_constraints(labels)
    trans = np.where(allowed, 0.0, -np.inf)
    score = np.where(start_ok, lp[0], -np.inf)
    back = np.zeros((n, k), dtype=np.int64)
    for i in range(1, n):
        total = score[:, None] + trans
        back[i] = total.argmax(0)
        score = total.max(0) + lp[i]
    best = [int(score.argmax())]
    for i in range(n - 1, 0, -1):
        best.append(int(back[i, best[-1]]))
    return [labels[c] for c in reversed(best)]


def _logsumexp(x: np.ndarray, axis=None) -> np.ndarray:
    """log(sum(exp(x))) that gives -inf, not NaN, where every term is -inf."""
    top = np.max(x, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(x - safe).sum(axis=axis, keepdims=True)) + safe
    return out.squeeze(axis) if axis is not None else out.reshape(())


def span_probabilities(logits: np.ndarray, labels: list[str]):
    """probability(start, end, kind): the probability that the labels spell
    exactly the span words[start:end] of type `kind`, among the IOB2-valid
    sequences (forward-backward). It reads the same for raw CRF potentials
    as for per-word log-probabilities."""
    n, k = logits.shape
    lp = log_softmax(logits.astype(np.float64))
    allowed, start_ok = bio_constraints(labels)
    parts = [lab.partition("-") for lab in labels]
    outside = np.array([p == "O" for p, _, _ in parts])
    # continues[p, c]: c extends the span p is in (an I-X after any X).
    continues = np.array([[c[0] == "I" and p[0] != "O" and p[2] == c[2] for c in parts] for p in parts])
    trans = np.where(allowed, 0.0, -np.inf)
    forward = np.empty((n, k))
    forward[0] = np.where(start_ok, lp[0], -np.inf)
    for i in range(1, n):
        forward[i] = _logsumexp(forward[i - 1][:, None] + trans, axis=0) + lp[i]
    backward = np.zeros((n, k))
    for i in range(n - 2, -1, -1):
        backward[i] = _logsumexp(trans + (lp[i + 1] + backward[i + 1])[None, :], axis=1)
    log_total = _logsumexp(forward[n - 1])
    starts = np.where(allowed & ~continues, 0.0, -np.inf)
    extends = np.where(allowed & continues, 0.0, -np.inf)

    def probability(start: int, end: int, kind: str) -> float:
        of_kind = np.array([not o and t == kind for o, (_, _, t) in zip(outside, parts)])
        if start == 0:
            inside = np.where(start_ok, lp[0], -np.inf)
        else:
            inside = _logsumexp(forward[start - 1][:, None] + starts, axis=0) + lp[start]
        inside = np.where(of_kind, inside, -np.inf)
        for w in range(start + 1, end):
            inside = _logsumexp(inside[:, None] + extends, axis=0) + lp[w]
        if end == n:
            spans = _logsumexp(inside)
        else:
            spans = _logsumexp(inside[:, None] + starts + (lp[end] + backward[end])[None, :])
        return float(np.clip(np.exp(spans - log_total), 0.0, 1.0))

    return probability


def entity_spans(logits: np.ndarray, labels: list[str]) -> list[tuple[int, int, str, float]]:
    """The decoded entity spans (start, end exclusive, type, probability):
    Viterbi's IOB2 path, each of its spans scored by span_probabilities, as
    the engine scores them."""
    n = logits.shape[0]
    if n == 0:
        return []
    probability = span_probabilities(logits, labels)
    spans = sorted(bio_spans(bio_viterbi(logits, labels)))
    return [(start, end, kind, probability(start, end, kind)) for start, end, kind in spans]


def _find_cycle(heads: np.ndarray) -> list[int] | None:
    n = len(heads)
    color = np.zeros(n, dtype=np.int8)  # 0 new, 1 on current path, 2 done
    color[0] = 2
    for start in range(1, n):
        path, node = [], start
        while color[node] == 0:
            color[node] = 1
            path.append(node)
            node = heads[node]
        if color[node] == 1:
            return path[path.index(node) :]
        for p in path:
            color[p] = 2
    return None


def _chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """scores[d, h]: score of h heading d; node 0 is the root (row 0 unused).
    Returns heads (heads[0] = 0) of the maximum spanning arborescence."""
    n = scores.shape[0]
    s = scores.copy()
    np.fill_diagonal(s, -np.inf)
    s[0, :] = -np.inf
    heads = s.argmax(1)
    heads[0] = 0
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    in_cycle = set(cycle)
    rest = [i for i in range(n) if i not in in_cycle]  # contains 0, sorted
    m = len(rest)
    cyc = np.array(cycle)
    sub = np.full((m + 1, m + 1), -np.inf)
    sub[:m, :m] = s[np.ix_(rest, rest)]
    out_scores = s[np.ix_(rest, cyc)]  # a cycle word heading an outside word
    out_best = cyc[out_scores.argmax(1)]
    sub[:m, m] = out_scores.max(1)
    kept = s[cyc, heads[cyc]]
    in_scores = s[np.ix_(cyc, rest)] - kept[:, None]  # an outside word heading into the cycle
    in_best = cyc[in_scores.argmax(0)]
    sub[m, :m] = in_scores.max(0)
    sub_heads = _chu_liu_edmonds(sub)
    result = heads.copy()
    for i, d in enumerate(rest[1:], start=1):
        h = sub_heads[i]
        result[d] = out_best[i] if h == m else rest[h]
    h = sub_heads[m]
    result[in_best[h]] = rest[h]
    return result


def mst_heads(arc_scores: np.ndarray) -> list[int]:
    """One well-formed tree from arc scores [n, n+1] (arc_scores[i, j]: word j
    heads word i+1; j = 0 is ROOT). Exactly one word attaches to ROOT: every
    ROOT arc pays a penalty larger than any score difference, so the best tree
    uses as few ROOT arcs as possible (one) and is otherwise the plain MST."""
    n = arc_scores.shape[0]
    if n == 0:
        return []
    lp = log_softmax(arc_scores.astype(np.float64), axis=-1)
    scores = np.full((n + 1, n + 1), -np.inf)
    scores[1:, :] = lp
    penalty = 1.0 + 2 * (n + 1) * (np.abs(lp[np.isfinite(lp)]).max() + 1.0)
    scores[1:, 0] -= penalty
    return [int(h) for h in _chu_liu_edmonds(scores)[1:]]


def is_tree(heads: list[int]) -> bool:
    """Exactly one root, every word reaches it, no cycles."""
    if sum(h == 0 for h in heads) != 1:
        return False
    for start in range(1, len(heads) + 1):
        seen, node = set(), start
        while node != 0:
            if node in seen or not 0 <= node - 1 < len(heads):
                return False
            seen.add(node)
            node = heads[node - 1]
    return True


def deprels_by_head(deprel_logits: np.ndarray, deprels_head: dict) -> np.ndarray:
    """The label scores as [..., words, words+1, labels], whichever order the
    manifest's `heads.deprels.shape` names (fuse.py leaves the labels before
    the heads)."""
    shape = deprels_head.get("shape", [])
    return np.swapaxes(deprel_logits, -1, -2) if shape and shape[-1] == "words+1" else deprel_logits
