"""Fits the key-phrase ranker: a logistic regression over the signals the engine computes for each candidate.

    cargo build --release -p edgemine-cli
    python keyphrase_ranker.py --embedding in-context           # cross-validates, fits, prints
    python keyphrase_ranker.py --embedding in-context --write   # and writes them into the model's edgemine.json
    python keyphrase_ranker.py --embedding alone --write        # the ranker of candidates embedded alone

The engine explains every candidate of every document in
tests/keyphrases/ (`edgemine extract --tasks keyphrases --explain-keyphrases
--top-k 1000000 --mmr-lambda 1 --keyphrase-embedding ...`); a candidate is positive when its Porter stem
equals a gold phrase's, as the benchmarks match them. The regularization is
chosen by training on one hand-written set and scoring F1@10 on the other,
both ways; the final fit uses both sets. Standardization is folded into the
coefficients, so the engine computes `sigmoid(bias + w · features)` from raw
features. They are the model's: `--write` stores them in its manifest
(`keyphrases.rankers`), which the engine reads when it loads the model.
Deterministic (liblinear-free lbfgs, no sampling).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from keyphrase_dev import documents, extract, prf, stem  # noqa: E402

DEFAULT_MODEL = ROOT / "models" / "minilm-tagger"
SCALAR = ["document", "section", "frequency", "first_word", "termhood", "nested", "word_frequency", "head_share"]
NAMES = SCALAR + ["words=1", "words=2", "words=3", "words>=4"]


def vector(f: dict) -> list[float]:
    w = f["words"]
    return [float(f[k]) for k in SCALAR] + [float(w == 1), float(w == 2), float(w == 3), float(w >= 4)]


def table(docs: list[dict], embedding: str, model: Path) -> list[dict]:
    """Each document's candidates: texts, stems, feature matrix, labels."""
    extra = ["--mmr-lambda", "1", "--explain-keyphrases", "--keyphrase-embedding", embedding, "--model", str(model)]
    found = extract(docs, top_k=1_000_000, extra=extra)
    out = []
    for d in docs:
        phrases = found[d["id"]]
        gold = {stem(g) for g in d["keyphrases"]}
        stems = [stem(p["text"]) for p in phrases]
        out.append({
            "id": d["id"],
            "gold": d["keyphrases"],
            "texts": [p["text"] for p in phrases],
            "X": np.array([vector(p["features"]) for p in phrases], dtype=np.float64).reshape(-1, len(NAMES)),
            "y": np.array([s in gold for s in stems], dtype=np.int64),
        })
    return out


def fit(rows: list[dict], c: float) -> tuple[np.ndarray, float]:
    """Coefficients on raw features and the bias."""
    X = np.concatenate([r["X"] for r in rows])
    y = np.concatenate([r["y"] for r in rows])
    scaler = StandardScaler().fit(X)
    model = LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(X), y)
    w = model.coef_[0] / scaler.scale_
    b = float(model.intercept_[0] - np.sum(model.coef_[0] * scaler.mean_ / scaler.scale_))
    return w, b


def f1_at_10(rows: list[dict], w: np.ndarray, b: float) -> float:
    scores = []
    for r in rows:
        order = np.argsort(-(r["X"] @ w + b), kind="stable")
        scores.append(prf([r["texts"][i] for i in order], r["gold"], 10)[2])
    return float(np.mean(scores))


def ranker(w: np.ndarray, b: float) -> dict:
    """The coefficients as the manifest's `keyphrases.rankers` entry holds them."""
    c = dict(zip(NAMES, w))
    return {"bias": round(b, 4), **{name: round(float(c[name]), 4) for name in SCALAR},
            "words": [round(float(c[n]), 4) for n in NAMES[len(SCALAR):]]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedding", choices=["in-context", "alone"], required=True,
                    help="how the engine embeds candidates (`--keyphrase-embedding`): each way has its own ranker")
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL,
                    help="model folder whose embedding the ranker reads (default: the shipped models/minilm-tagger)")
    ap.add_argument("--write", action="store_true", help="write the coefficients into the model's edgemine.json")
    args = ap.parse_args()
    rows = table(documents(), args.embedding, args.model)
    sets = {}
    for r in rows:
        sets.setdefault("b" if r["id"].startswith("b") else "a", []).append(r)
    a, b = sets["a"], sets["b"]
    print(f"{sum(len(r['y']) for r in rows)} candidates, {sum(int(r['y'].sum()) for r in rows)} positive")
    best = None
    for c in (0.01, 0.03, 0.1, 0.3, 1.0):
        a_to_b = f1_at_10(b, *fit(a, c))
        b_to_a = f1_at_10(a, *fit(b, c))
        mean = (a_to_b + b_to_a) / 2
        print(f"C={c:<5} F1@10 trained on A, scored on B {a_to_b:.3f}; B on A {b_to_a:.3f}; mean {mean:.3f}")
        if best is None or mean > best[0]:
            best = (mean, c)
    w, bias = fit(rows, best[1])
    print(f"chosen C={best[1]}; fitted on both sets:")
    for name, value in zip(NAMES, w):
        print(f"  {name:15} {value:+.4f}")
    fitted = ranker(w, bias)
    print(json.dumps({args.embedding: fitted}))
    if args.write:
        path = args.model / "edgemine.json"
        manifest = json.loads(path.read_text())
        manifest.setdefault("keyphrases", {}).setdefault("rankers", {})[args.embedding] = fitted
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote keyphrases.rankers.{args.embedding} into {path}; run tests/keyphrase_dev.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
