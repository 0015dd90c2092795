"""How key-phrase extraction time grows with document length.

    cargo build --release -p edgemine-cli
    python benches/keyphrase_lengths.py [--lengths 1000 10000 100000] [--threads N]

Builds one document of at least N words for each length from UD English-EWT
train (its documents' sentences in order, a blank line between documents:
reviews, e-mails, blogs, news), then times `edgemine extract DOC --tasks
parse` and `--tasks keyphrases` on it, a fresh process each (model loading
included, ≈ 0.5 s). The parse is the pass key phrases stand on; the
difference is what key phrases add. The data folder is EDGEMINE_DATA,
default ../shared/data; the binary is EDGEMINE_BIN, default
target/release/edgemine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ewt_documents(split: str = "train") -> list[str]:
    """The documents of UD English-EWT `split`, each its sentences' text joined."""
    data = Path(os.environ.get("EDGEMINE_DATA", ROOT.parent / "shared" / "data"))
    docs, sentences = [], []
    for line in (data / "ud_ewt" / f"en_ewt-ud-{split}.conllu").open(encoding="utf-8"):
        if line.startswith("# newdoc") and sentences:
            docs.append(" ".join(sentences))
            sentences = []
        elif line.startswith("# text = "):
            sentences.append(line[len("# text = "):].strip())
    if sentences:
        docs.append(" ".join(sentences))
    return docs


def document(words: int, docs: list[str]) -> str:
    out, n = [], 0
    for d in docs:
        if n >= words:
            break
        out.append(d)
        n += len(d.split())
    return "\n\n".join(out)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    binary = os.environ.get("EDGEMINE_BIN", str(ROOT / "target" / "release" / "edgemine"))
    docs = ewt_documents()
    print(f"{'words':>7} {'parse s':>8} {'keyphrases s':>12} {'added s':>8} {'words/s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for length in args.lengths:
            text = document(length, docs)
            path = Path(tmp) / f"doc_{length}.txt"
            path.write_text(text, encoding="utf-8")
            base = [binary, "extract", str(path), "--format", "jsonl"]
            if args.threads:
                base += ["--threads", str(args.threads)]
            parse = timed(base + ["--tasks", "parse"])
            phrases = timed(base + ["--tasks", "keyphrases"])
            words = len(text.split())
            print(f"{words:>7} {parse:>8.2f} {phrases:>12.2f} {phrases - parse:>8.2f} {words / phrases:>8.0f}")


if __name__ == "__main__":
    main()
