"""edgemine against the usual Python pipeline, on the same corpus, model and cores.

The Python side is what one would write with onnxruntime and tokenizers:
sentences in document order, batches of 8 padded to the longest, default
onnxruntime threads, argmax decoding. edgemine runs as its CLI does, on the
whole documents (it splits them itself). Both are timed end to end, model
loading included, and divided by the same count: the corpus's UD words.

Then the raw encoder ratio: the exact batches the Python pipeline ran, through
onnxruntime and through tract (`tract-batches`), one thread against one thread
and default threads against one tract worker per CPU.

    cargo build --release -p edgemine-cli -p edgemine-benches
    python benches/side_by_side.py               # this CPU as it is
    python benches/side_by_side.py --isa avx2    # tract limited to AVX2+FMA

Needs numpy, onnxruntime and tokenizers (models/recipe/requirements.txt has
them). The corpus is the UD English EWT dev split from the shared data
(EDGEMINE_DATA, default ../shared/data). `--isa` limits tract only;
onnxruntime keeps every instruction set of the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models" / "recipe"))
from common import case_class  # noqa: E402  (the case rule the model was trained with)

# Alder Lake-like minus AVX-VNNI: the AVX2+FMA kernels of a Skylake-era i3/i5.
AVX2_ONLY = "-avx512f,-avx512vnni,-avx512fp16,-amx-int8,-amx-bf16,-avxvnni"
BATCH = 8


def corpus(data: Path, limit: int) -> tuple[list[list[str]], int]:
    """Documents (lists of sentences) of the UD EWT dev split, and their UD word count."""
    docs: list[list[str]] = []
    words = 0
    for line in (data / "ud_ewt" / "en_ewt-ud-dev.conllu").read_text(encoding="utf-8").splitlines():
        if line.startswith("# newdoc") or not docs:
            if limit and len(docs) == limit:
                break
            docs.append([])
        if line.startswith("# text = "):
            docs[-1].append(line[len("# text = ") :])
        elif line.split("\t", 1)[0].isdigit():
            words += 1
    return [d for d in docs if d], words


def python_pipeline(sentences: list[str], model_dir: Path, parse: bool) -> dict:
    """The usual way; returns timings, results and the batches it ran."""
    started = time.perf_counter()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    tok.enable_truncation(512)
    session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    manifest = json.loads((model_dir / "edgemine.json").read_text())
    heads = manifest["heads"]
    entity_labels = heads["entities"]["labels"]
    wanted = [heads["entities"]["output"]]
    if parse:
        wanted += [heads["upos"]["output"], heads["arcs"]["output"], heads["deprels"]["output"]]

    batches, entities, first_result_s = [], 0, None
    for at in range(0, len(sentences), BATCH):
        texts = sentences[at : at + BATCH]
        encs = tok.encode_batch(texts)
        n, length = len(encs), len(encs[0].ids)
        firsts = []
        case_ids = np.zeros((n, length), dtype=np.int64)
        for r, (enc, text) in enumerate(zip(encs, texts)):
            first: dict[int, int] = {}
            for p, w in enumerate(enc.word_ids):
                if w is not None:
                    first.setdefault(w, p)
                    span = enc.word_to_chars(w)
                    case_ids[r, p] = case_class(text[span[0] : span[1]])
            firsts.append([first[w] for w in sorted(first)])
        width = max(1, max(len(f) for f in firsts))
        word_index = np.zeros((n, width), dtype=np.int64)
        for r, f in enumerate(firsts):
            word_index[r, : len(f)] = f
        feeds = {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "case_ids": case_ids,
            "word_index": word_index,
        }
        outs = session.run(wanted, feeds)
        for r, (enc, f) in enumerate(zip(encs, firsts)):
            tags = [entity_labels[k] for k in outs[0][r, : len(f)].argmax(-1)]
            entities += sum(t.startswith("B-") or (t.startswith("I-") and (i == 0 or tags[i - 1] == "O")) for i, t in enumerate(tags))
            if parse:
                # Decoded as a user would; the labels themselves are not compared here.
                outs[1][r, : len(f)].argmax(-1)
                head = outs[2][r, : len(f), : len(f) + 1].argmax(-1)
                outs[3][r, np.arange(len(f)), head].argmax(-1)
        if first_result_s is None:
            first_result_s = time.perf_counter() - started
        batches.append(feeds)
    return {
        "seconds": time.perf_counter() - started,
        "first_result_s": first_result_s,
        "entities": int(entities),
        "batches": batches,
    }


def edgemine_cli(binary: Path, docs: list[list[str]], tasks: str, env: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        corpus_file = Path(tmp) / "corpus.jsonl"
        corpus_file.write_text("".join(json.dumps({"id": str(i), "text": " ".join(d)}) + "\n" for i, d in enumerate(docs)))
        first_file = Path(tmp) / "first.txt"
        first_file.write_text(" ".join(docs[0]))
        started = time.perf_counter()
        subprocess.run([binary, "extract", "--tasks", tasks, first_file], env=env, check=True, capture_output=True)
        first_result_s = time.perf_counter() - started
        started = time.perf_counter()
        out = subprocess.run(
            [binary, "extract", "--input", "jsonl", "--format", "jsonl", "--tasks", tasks, corpus_file],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        seconds = time.perf_counter() - started
    records = [json.loads(line) for line in out.splitlines()]
    return {
        "seconds": seconds,
        "first_result_s": first_result_s,
        "entities": sum(len(r.get("entities", [])) for r in records),
        "failed": sum("error" in r for r in records),
    }


def onnxruntime_batches(model: Path, batches: list[dict], threads: int | None, repeats: int) -> float:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    best = float("inf")
    for rep in range(repeats + 1):
        started = time.perf_counter()
        for feeds in batches:
            session.run(None, feeds)
        if rep:
            best = min(best, time.perf_counter() - started)
    return best * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isa", choices=["native", "avx2"], default="native", help="instruction sets tract may use")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "minilm-tagger")
    ap.add_argument("--bin", type=Path, default=ROOT / "target" / "release", help="folder of edgemine and tract-batches")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("EDGEMINE_DATA", ROOT.parent / "shared" / "data")))
    ap.add_argument("--tasks", default="entities,parse", help="edgemine --tasks; the Python side fetches the same heads")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the batches in the raw comparison (best counts)")
    ap.add_argument("--documents", type=int, default=0, help="only the first N documents (0 = all)")
    args = ap.parse_args()

    env = dict(os.environ)
    if args.isa == "avx2":
        env["TRACT_CPU_ISA"] = AVX2_ONLY
    cpus = len(os.sched_getaffinity(0))
    docs, words = corpus(args.data, args.documents)
    sentences = [s for d in docs for s in d]
    parse = "parse" in args.tasks
    print(f"corpus: {len(docs)} documents, {len(sentences)} sentences, {words} UD words; {cpus} CPUs; tract ISA: {args.isa}")

    ours = edgemine_cli(args.bin / "edgemine", docs, args.tasks, env)
    if ours["failed"]:
        raise SystemExit(f"edgemine failed on {ours['failed']} documents; the timing would not compare like with like")
    ours_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    theirs = python_pipeline(sentences, args.model, parse)
    theirs_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\nend to end ({args.tasks}), model loading included")
    print(f"  edgemine CLI        {ours['seconds']:7.2f} s  {words / ours['seconds']:8.0f} words/s  "
          f"first result {ours['first_result_s']:.2f} s  peak RSS {ours_rss:.0f} MB  entities {ours['entities']}")
    print(f"  Python onnxruntime  {theirs['seconds']:7.2f} s  {words / theirs['seconds']:8.0f} words/s  "
          f"first result {theirs['first_result_s']:.2f} s  peak RSS {theirs_rss:.0f} MB  entities {theirs['entities']}")
    print(f"  ratio (edgemine / Python): {theirs['seconds'] / ours['seconds']:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        batches_file = Path(tmp) / "batches.json"
        batches_file.write_text(json.dumps([{k: v.tolist() for k, v in b.items()} for b in theirs["batches"]]))
        tract = {}
        for workers in (1, cpus):
            out = subprocess.run(
                [args.bin / "tract-batches", args.model / "model.onnx", batches_file, str(args.repeats), str(workers)],
                env=env, check=True, capture_output=True, text=True,
            ).stdout
            tract[workers] = json.loads(out)
    ort_one = onnxruntime_batches(args.model / "model.onnx", theirs["batches"], 1, args.repeats)
    ort_default = onnxruntime_batches(args.model / "model.onnx", theirs["batches"], None, args.repeats)
    padded = tract[1]["padded_wordpieces"]
    print(f"\nraw encoder on the Python pipeline's {len(theirs['batches'])} batches ({padded} padded wordpieces), best of {args.repeats}")
    print(f"  1 thread:   onnxruntime {ort_one:8.0f} ms   tract {tract[1]['run_ms']:8.0f} ms   ratio (tract / onnxruntime speed) {ort_one / tract[1]['run_ms']:.2f}")
    print(f"  {cpus} threads:  onnxruntime {ort_default:8.0f} ms   tract {tract[cpus]['run_ms']:8.0f} ms   ratio {ort_default / tract[cpus]['run_ms']:.2f}"
          f"   (onnxruntime default intra-op threads; tract: one batch per worker)")
    print(f"  tract built {tract[1]['plans']} plans in {tract[1]['plan_ms']:.0f} ms (not in the times above)")


if __name__ == "__main__":
    main()
