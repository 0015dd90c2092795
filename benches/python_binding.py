"""What the Python package costs over the CLI, on the same documents.

    cargo build --release -p edgemine-cli && pip install ./python
    python benches/python_binding.py [--docs 200] [--threads N] [--tasks entities,parse,keyphrases,triples]

Takes the first N documents of UD English-EWT dev (reviews, e-mails, blogs,
news; the data folder is EDGEMINE_DATA, default ../shared/data) and times,
with the same threads and tasks:
- the CLI: `edgemine extract DOCS.jsonl --input jsonl --format jsonl`, a
  fresh process (model loading included);
- Python: `edgemine.Engine()` plus one `engine.extract_batch(texts)`, then
  `to_dict()` of every result;
- Python, one call per document (`engine.extract(text)`), as a loop would;
- Python, two threads each calling `extract` on half the documents.
Prints seconds and words/s for each. The binary is EDGEMINE_BIN, default
target/release/edgemine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import edgemine
from keyphrase_lengths import ewt_documents  # benches/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent


def timed(label: str, words: int, work) -> None:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:7.2f} s  {words / seconds:8.0f} words/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tasks", default="entities,parse,keyphrases,triples")
    args = parser.parse_args()
    texts = ewt_documents("dev")[: args.docs]
    tasks = args.tasks.split(",")
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} documents, {words} words, {args.threads} threads, tasks {args.tasks}")
    binary = os.environ.get("EDGEMINE_BIN", str(ROOT / "target" / "release" / "edgemine"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.jsonl"
        path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
        command = [binary, "extract", str(path), "--input", "jsonl", "--format", "jsonl",
                   "--threads", str(args.threads), "--tasks", args.tasks]
        timed("CLI, one process (load included)", words,
              lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))

    def batch() -> None:
        engine = edgemine.Engine(threads=args.threads)
        for doc in engine.extract_batch(texts, tasks=tasks):
            doc.to_dict()

    timed("Python, Engine() + extract_batch + to_dict", words, batch)
    engine = edgemine.Engine(threads=args.threads)
    engine.extract_batch(texts[:20], tasks=tasks)  # warm the plans, as the CLI's run warmed its own
    timed("Python, extract() per document", words, lambda: [engine.extract(t, tasks=tasks) for t in texts])

    def two_threads() -> None:
        halves = [texts[0::2], texts[1::2]]
        workers = [threading.Thread(target=lambda h=h: [engine.extract(t, tasks=tasks) for t in h]) for h in halves]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    timed("Python, extract() per document, 2 threads", words, two_threads)


if __name__ == "__main__":
    main()
