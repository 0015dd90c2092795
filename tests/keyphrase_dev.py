"""edgemine's key phrases on hand-written documents, scored as key-phrase benchmarks score them.

    cargo build --release -p edgemine-cli
    python tests/keyphrase_dev.py                 # F1@5 and F1@10 by kind of document
    python tests/keyphrase_dev.py --show a01      # one document's phrases beside its gold ones
    python tests/keyphrase_dev.py -- --keyphrase-embedding in-context   # any extract options after --
    python -m pytest tests/keyphrase_dev.py       # the same, as a regression check

The documents are in tests/keyphrases/*.jsonl: scientific abstracts,
field reports, news and two full papers of 4,000–5,000 words, each with the
keyphrases an author would list, written for this project (the public
benchmarks are held out). Scoring follows the benchmarks' convention: a
predicted phrase matches a gold phrase when their Porter-stemmed,
lowercased words are equal; P, R and F1 at k are computed per document and
averaged. Gold phrases absent from the text count against recall, as in
the benchmarks.

Runs `edgemine extract --input jsonl --tasks keyphrases --format jsonl`.
The binary is EDGEMINE_BIN, default target/release/edgemine (then
target/debug/edgemine). Needs nltk (for its Porter stemmer; no data files).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from nltk.stem.porter import PorterStemmer

from locations import ROOT, binary

SETS = sorted((ROOT / "tests" / "keyphrases").glob("*.jsonl"))
# Floors under the measured F1@10: catch a broken candidate rule or ranking, not noise.
MIN_F1_AT_10 = {"all": 0.25, "paper": 0.25}

_stemmer = PorterStemmer()


def stem(phrase: str) -> str:
    return " ".join(_stemmer.stem(w) for w in re.findall(r"\w+", phrase.lower()))


def documents() -> list[dict]:
    return [json.loads(line) for path in SETS for line in path.open() if line.strip()]


def extract(docs: list[dict], top_k: int = 10, extra: list[str] | None = None) -> dict[str, list[dict]]:
    """Key phrases of every document, by id."""
    lines = "".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in docs)
    cmd = [str(binary()), "extract", "-", "--input", "jsonl", "--format", "jsonl", "--tasks", "keyphrases"]
    cmd += ["--top-k", str(top_k), *(extra or [])]
    out = subprocess.run(cmd, input=lines, capture_output=True, text=True, check=True).stdout
    return {r["id"]: r["keyphrases"] for r in map(json.loads, out.splitlines())}


def prf(predicted: list[str], gold: list[str], k: int) -> tuple[float, float, float]:
    """Precision, recall and F1 of the top k predictions against the gold phrases, stemmed."""
    top, truth = [], {stem(g) for g in gold}
    for p in map(stem, predicted):
        if p not in top:
            top.append(p)
    top = top[:k]
    hits = len(set(top) & truth)
    p = hits / len(top) if top else 0.0
    r = hits / len(truth) if truth else 0.0
    return p, r, (2 * p * r / (p + r) if hits else 0.0)


def scores(docs: list[dict], predicted: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Mean F1@5 and F1@10 (and P, R at 10) by kind of document, and over all."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for d in docs:
        by_kind[d["kind"]].append(d)
        by_kind["all"].append(d)
    out = {}
    for kind, group in by_kind.items():
        at5 = [prf(predicted[d["id"]], d["keyphrases"], 5) for d in group]
        at10 = [prf(predicted[d["id"]], d["keyphrases"], 10) for d in group]
        mean = lambda xs, i: sum(x[i] for x in xs) / len(xs)  # noqa: E731
        out[kind] = {
            "docs": len(group),
            "F1@5": mean(at5, 2),
            "F1@10": mean(at10, 2),
            "P@10": mean(at10, 0),
            "R@10": mean(at10, 1),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", metavar="ID", help="print one document's phrases beside its gold ones")
    parser.add_argument("extra", nargs="*", help="more options for `edgemine extract` (after --)")
    args = parser.parse_args()
    docs = documents()
    found = extract(docs, extra=args.extra)
    predicted = {i: [k["text"] for k in phrases] for i, phrases in found.items()}
    if args.show:
        d = next(d for d in docs if d["id"] == args.show)
        gold = {stem(g) for g in d["keyphrases"]}
        for k in found[args.show]:
            mark = "+" if stem(k["text"]) in gold else " "
            print(f"{mark} {k['score']:.3f} {k['text']}  ×{len(k['occurrences'])}")
        print("gold:", "; ".join(d["keyphrases"]))
        return 0
    print(f"{'kind':10} {'docs':>4} {'F1@5':>6} {'F1@10':>6} {'P@10':>6} {'R@10':>6}")
    for kind, s in sorted(scores(docs, predicted).items()):
        print(f"{kind:10} {s['docs']:>4} {s['F1@5']:6.3f} {s['F1@10']:6.3f} {s['P@10']:6.3f} {s['R@10']:6.3f}")
    return 0


@pytest.mark.parametrize("embedding", ["alone", "in-context"])
def test_keyphrases_on_the_hand_written_documents(embedding):
    docs = documents()
    found = extract(docs, extra=["--keyphrase-embedding", embedding])
    predicted = {i: [k["text"] for k in phrases] for i, phrases in found.items()}
    s = scores(docs, predicted)
    print({k: round(v["F1@10"], 3) for k, v in s.items()})
    for kind, floor in MIN_F1_AT_10.items():
        assert s[kind]["F1@10"] >= floor, (kind, s[kind])


if __name__ == "__main__":
    sys.exit(main())
