"""Memory over a long run: does edgemine's resident memory stay flat?

One `edgemine extract` process reads N documents of random lengths (by
default 50,000, log-uniform from 1 to 300 words: most short, some long)
built from the UD English EWT train and dev sentences, deterministically
from `--seed`. The script feeds them on stdin, counts the results as they
come back, and reads the process's resident memory (VmRSS in
/proc/PID/status) every `--every` seconds. It prints the RSS after each
tenth of the documents, the peak (VmHWM), and the growth from the first
tenth to the last: what "flat over a long run" means in numbers.

    cargo build --release -p edgemine-cli
    python benches/long_run.py                                   # tract, default tasks
    python benches/long_run.py --documents 5000 --tasks entities,parse
    python benches/long_run.py --backend onnxruntime             # the library of the onnxruntime wheel

Options: `--documents N`, `--max-words N`, `--seed N`, `--tasks LIST`
(default: the CLI's, every task), `--backend tract|onnxruntime`,
`--isa native|avx2` (tract: AVX2+FMA only, as in side_by_side.py),
`--bin` (folder of edgemine), `--data` (EDGEMINE_DATA, default
../shared/data). Extra arguments after `--` go to `edgemine extract`.
Needs only the standard library (and onnxruntime for its library with
`--backend onnxruntime`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from engine_env import AVX2_ONLY, onnxruntime_library

ROOT = Path(__file__).resolve().parents[1]


def sentences(data: Path) -> list[tuple[str, int]]:
    """Every EWT train and dev sentence with its UD word count."""
    out: list[tuple[str, int]] = []
    for split in ("train", "dev"):
        text, words = None, 0
        for line in (data / "ud_ewt" / f"en_ewt-ud-{split}.conllu").read_text(encoding="utf-8").splitlines():
            if line.startswith("# text = "):
                text, words = line[len("# text = ") :], 0
            elif line.split("\t", 1)[0].isdigit():
                words += 1
            elif not line.strip() and text is not None:
                out.append((text, words))
                text = None
    return out


def documents(pool: list[tuple[str, int]], n: int, max_words: int, seed: int) -> list[tuple[str, int]]:
    """`n` documents of consecutive sentences, each at least a length drawn
    log-uniformly from 1 to `max_words` words; with its word count."""
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        target = math.exp(rng.uniform(0.0, math.log(max_words)))
        at = rng.randrange(len(pool))
        parts, words = [], 0
        while words < target:
            text, w = pool[at % len(pool)]
            parts.append(text)
            words += w
            at += 1
        docs.append((" ".join(parts), words))
    return docs


def status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--documents", type=int, default=50_000)
    ap.add_argument("--max-words", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tasks", help="edgemine's --tasks (default: the CLI's default, every task)")
    ap.add_argument("--backend", choices=["tract", "onnxruntime"], default="tract")
    ap.add_argument("--isa", choices=["native", "avx2"], default="native", help="tract's instruction sets")
    ap.add_argument("--every", type=float, default=0.5, help="seconds between RSS readings")
    ap.add_argument("--bin", type=Path, default=ROOT / "target" / "release")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("EDGEMINE_DATA", ROOT.parent / "shared" / "data")))
    ap.add_argument("extra", nargs="*", help="more options for `edgemine extract` (after --)")
    args = ap.parse_args()

    edgemine = args.bin / "edgemine"
    if not edgemine.exists():
        raise SystemExit(f"{edgemine} is missing: cargo build --release -p edgemine-cli")
    docs = documents(sentences(args.data), args.documents, args.max_words, args.seed)
    total_words = sum(w for _, w in docs)
    env = dict(os.environ)
    env.pop("TRACT_CPU_ISA", None)
    env["EDGEMINE_BACKEND"] = args.backend
    if args.isa == "avx2":
        env["TRACT_CPU_ISA"] = AVX2_ONLY
    if args.backend == "onnxruntime" and "ORT_DYLIB_PATH" not in env:
        env["ORT_DYLIB_PATH"] = onnxruntime_library()
    cmd = [str(edgemine), "extract", "-", "--input", "jsonl", "--format", "jsonl"]
    if args.tasks:
        cmd += ["--tasks", args.tasks]
    cmd += args.extra
    lengths = sorted(w for _, w in docs)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"edgemine: {shlex.join(cmd)}  (EDGEMINE_BACKEND={args.backend}"
          + (f", TRACT_CPU_ISA={AVX2_ONLY}" if args.isa == "avx2" else "") + ")")
    print(f"documents: {len(docs)} from UD EWT train+dev sentences, seed {args.seed}; {total_words} words; "
          f"words a document: median {lengths[len(lengths) // 2]}, p99 {lengths[int(0.99 * (len(lengths) - 1))]}, "
          f"max {lengths[-1]}", flush=True)

    # stderr to a file: a pipe nobody reads would stall the CLI once it fills.
    errors = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)

    def feed() -> None:
        assert proc.stdin is not None
        try:
            for i, (text, _) in enumerate(docs):
                proc.stdin.write(json.dumps({"id": str(i), "text": text}) + "\n")
            proc.stdin.close()
        except BrokenPipeError:
            pass

    done = 0
    failed = 0
    readings: list[tuple[float, int, int]] = []  # seconds, documents done, RSS kB

    def read() -> None:
        nonlocal done, failed
        assert proc.stdout is not None
        for line in proc.stdout:
            done += 1
            if '"error"' in line[:40]:
                failed += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=feed, daemon=True), threading.Thread(target=read, daemon=True)]
    for t in threads:
        t.start()
    peak = 0
    while proc.poll() is None:
        rss = status_kb(proc.pid, "VmRSS")
        hwm = status_kb(proc.pid, "VmHWM")
        if rss is not None:
            readings.append((time.perf_counter() - started, done, rss))
        if hwm is not None:
            peak = max(peak, hwm)
        time.sleep(args.every)
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    errors.seek(0)
    stderr = errors.read()
    # Exit 1 with every result written means some documents failed (counted below).
    if done != len(docs) or proc.returncode not in ((0, 1) if failed else (0,)):
        raise SystemExit(f"edgemine exited {proc.returncode} after {done} of {len(docs)} results:\n{stderr[-2000:]}")

    print(f"\n{done} results ({failed} failed documents) in {seconds:.1f} s: {total_words / seconds:.0f} words/s, "
          f"{done / seconds:.0f} docs/s")
    print("RSS as the documents go by (the last reading before each tenth was done):")
    tenths = []
    for k in range(1, 11):
        mark = k * len(docs) // 10
        before = [r for r in readings if r[1] <= mark]
        if before:
            at, _, rss = before[-1]
            tenths.append(rss)
            print(f"  {10 * k:3d} %  {mark:6d} documents  {at:7.1f} s  RSS {rss / 1024:6.0f} MB")
    print(f"peak RSS (VmHWM) {peak / 1024:.0f} MB")
    if len(tenths) >= 2:
        first, last = tenths[0], tenths[-1]
        print(f"growth from the first tenth to the last: {(last - first) / 1024:+.0f} MB ({100 * (last - first) / first:+.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
