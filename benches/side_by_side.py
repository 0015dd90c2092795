"""edgemine against the usual Python pipeline: the project's speed benchmark.

One run prints, on the UD English EWT dev split (the shared data), the
numbers to quote about edgemine's speed, each row a configuration:

* **Python onnxruntime fp32**: what one would write with tokenizers and
  onnxruntime: the sentences in document order (a Python user splits into
  sentences), batches of 8 padded to the longest, default onnxruntime
  threads, argmax decoding of the entity and parse heads (a graph with the
  packing inputs is fed one sentence a row: segment 1, positions 0..n).
  It runs the PLAIN fp32 graph (`plain_fp32` of models/recipe/storage.py,
  without the engine's `token_embeddings` output, built into a temporary
  model folder): onnxruntime would run the shipped graph's DequantizeLinear
  nodes on every call and look 1.5x slower than it is.
  It runs in a child process of its own (this script with `--peer`), so its
  peak RSS is its own; its time starts at loading the tokenizer and the
  model (interpreter start and imports are not counted, in its favour).
* **edgemine {native,avx2}, {sentences,documents}, {entities+parse,all
  tasks}**: the CLI (`edgemine extract`), model loading and process start
  included. `sentences`: each dev sentence a document (a file with one
  sentence a line, `--input lines`); `documents`: the UD documents whole
  (`--input jsonl`; edgemine splits them itself). `native`: tract uses
  every instruction set of this CPU; `avx2`: `TRACT_CPU_ISA` limits it to
  AVX2+FMA (a Skylake-era laptop); `onnxruntime`: the onnxruntime backend
  (`EDGEMINE_BACKEND=onnxruntime`, the library of the onnxruntime wheel
  this script imports), which uses every instruction set of this CPU;
  `onnxruntime-int8`: the same with the model's int8 graph, onnxruntime's
  default (`EDGEMINE_PRECISION=int8`: faster, a little less accurate; see
  the manifest's `graphs.int8`), and `onnxruntime` then runs it with
  `EDGEMINE_PRECISION=fp32`. `all tasks` adds key phrases and triples
  (`--tasks entities,parse,keyphrases,triples`); its line says its time
  against entities+parse on the same corpus. onnxruntime keeps every
  instruction set of the CPU in all rows.
* **words/s**: the corpus's UD words over wall seconds, the same count for
  every row. **x Python**: words/s over the Python pipeline's (which fetches
  entities and parse only, so for all-tasks rows it says what the extra
  tasks cost against the Python baseline). **peak RSS**: ru_maxrss of that
  run's own process, read with os.wait4 by a small launcher process (so
  the figure is not floored at this script's own peak; see LAUNCHER).
  **first result**: a fresh CLI process extracting the first sentence,
  with that row's ISA and tasks (after one untimed run that brings the
  binary and model into the page cache); for Python, the seconds to its
  first decoded batch.
* **HTTP N clients**: `edgemine-server http` on 127.0.0.1 with its default
  tasks (every task the model can do) and `--queue` raised so that no
  request is refused, a fresh one for each N (as each CLI row is a fresh
  process: a server that has seen the corpus has every key-phrase
  candidate in its cache); N threads each send one sentence a request on a
  keep-alive connection, after a short warm-up on other text that is not
  counted (the server is a running service, so model loading is not
  counted either).
  Printed: docs/s, words/s, p50/p99 latency, non-200 answers, and words/s
  as a percentage of the CLI's all-tasks sentences row (same ISA). The
  clients share the machine's CPUs with the server.
* **tract kernels**: the matrix kernels tract picks for a 16x16 batch
  (`tract-profile`), natively and with the AVX2 limit.
* `--raw` adds the raw encoder comparison: the exact batches the Python
  pipeline ran, through onnxruntime (the fp32 graph) and through tract
  (`tract-batches`, the shipped graph edgemine runs), one thread against
  one thread and default threads against one tract worker per CPU.

Build, then run:

    cargo build --release -p edgemine-cli -p edgemine-benches -p edgemine-server
    python benches/side_by_side.py                  # everything, on the whole dev split
    python benches/side_by_side.py --documents 10   # a quick check on 10 documents
    python benches/side_by_side.py --isa native --no-http --raw

Options: `--documents N` (first N documents), `--isa
all|both|native|avx2|onnxruntime|onnxruntime-int8` (default all: the four), `--http-clients 1,4,8,16`, `--http-sentences N` (0: every
sentence of the corpus), `--no-http`, `--server-flags "..."` (more flags for the
server), `--extract-flags "..."` (more flags for every `edgemine extract`,
e.g. `"--keyphrase-embedding in-context"`), `--raw` (with `--repeats`), `--bin`
(folder of edgemine, edgemine-server, tract-profile, tract-batches),
`--model`, `--data` (EDGEMINE_DATA, default ../shared/data).

Needs numpy, onnx, onnxruntime and tokenizers (models/recipe/requirements.txt
has them). Timings on a machine doing other work are noise: run it idle.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models" / "recipe"))
from common import case_class, cpu_name  # noqa: E402  (the case rule the model was trained with)
from packing import TOKEN_EMBEDDINGS, one_sequence_a_row  # noqa: E402
from decode import deprels_by_head  # noqa: E402

from engine_env import AVX2_ONLY, onnxruntime_library  # noqa: E402
BATCH = 8
BASE_TASKS = "entities,parse"
ALL_TASKS = "entities,parse,keyphrases,triples"
TASK_NAMES = {BASE_TASKS: "entities+parse", ALL_TASKS: "all tasks"}


def corpus(data: Path, limit: int) -> tuple[list[list[str]], list[int]]:
    """Documents (lists of sentences) of the UD EWT dev split, and the UD word
    count of each sentence, in order."""
    docs: list[list[str]] = []
    words: list[int] = []
    for line in (data / "ud_ewt" / "en_ewt-ud-dev.conllu").read_text(encoding="utf-8").splitlines():
        if line.startswith("# newdoc") or not docs:
            if limit and len(docs) == limit:
                break
            docs.append([])
        if line.startswith("# text = "):
            docs[-1].append(line[len("# text = ") :])
            words.append(0)
        elif line.split("\t", 1)[0].isdigit():
            words[-1] += 1
    return [d for d in docs if d], words


def python_pipeline(sentences: list[str], model_dir: Path, parse: bool, keep_batches: bool = False) -> dict:
    """The usual way; returns timings, results and (if asked) the batches it ran."""
    started = time.perf_counter()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    tok.enable_truncation(512)
    session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    manifest = json.loads((model_dir / "edgemine.json").read_text())
    input_names = [i.name for i in session.get_inputs()]
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
        feeds.update(one_sequence_a_row(input_names, feeds["attention_mask"]))
        outs = session.run(wanted, feeds)
        deprels = deprels_by_head(outs[3], heads["deprels"]) if parse else None
        for r, (enc, f) in enumerate(zip(encs, firsts)):
            tags = [entity_labels[k] for k in outs[0][r, : len(f)].argmax(-1)]
            entities += sum(t.startswith("B-") or (t.startswith("I-") and (i == 0 or tags[i - 1] == "O")) for i, t in enumerate(tags))
            if parse:
                # Decoded as a user would; the labels themselves are not compared here.
                outs[1][r, : len(f)].argmax(-1)
                head = outs[2][r, : len(f), : len(f) + 1].argmax(-1)
                deprels[r, np.arange(len(f)), head].argmax(-1)
        if first_result_s is None:
            first_result_s = time.perf_counter() - started
        if keep_batches:
            batches.append(feeds)
    return {
        "seconds": time.perf_counter() - started,
        "first_result_s": first_result_s,
        "entities": int(entities),
        "batches": batches,
    }


# A child's ru_maxrss is at least the peak RSS of the process that started
# it: exec records the old address space's high-water mark, and a vfork or
# fork child's old address space is this script's (hundreds of MB once the
# fp32 graph is built). So every measured process is started by this small
# launcher (a bare interpreter, about 8 MB), which reports its child's own
# peak RSS and wall seconds, and passes SIGTERM/SIGINT on to it.
LAUNCHER = r"""
import json, os, signal, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
child = []
def forward(sig, _frame):
    if child:
        os.kill(child[0], sig)
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, forward)
started = time.perf_counter()
child.append(os.posix_spawnp(cmd[0], cmd, os.environ))
with open(report + ".pid", "w") as f:
    f.write(str(child[0]))
_, status, usage = os.wait4(child[0], 0)
seconds = time.perf_counter() - started
with open(report, "w") as f:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "seconds": seconds, "rss_mb": usage.ru_maxrss / 1024}, f)
"""


def launch(cmd: list, env: dict | None, stdout, stderr, report: Path) -> subprocess.Popen:
    """Starts `cmd` under the launcher; its report lands in `report`."""
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *[str(c) for c in cmd]],
        stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env,
    )


@dataclass
class Child:
    """A finished child process: its output, wall seconds and own peak RSS."""

    rc: int
    stdout: str
    stderr: str
    seconds: float
    rss_mb: float


def run_child(cmd: list, env: dict | None = None) -> Child:
    """Runs `cmd` to the end, its peak RSS its own (see LAUNCHER). Output
    goes through files (no pipe to drain)."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        report = Path(tmp) / "report.json"
        proc = launch(cmd, env, out, err, report)
        proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        if not report.exists():
            raise SystemExit(f"could not run {cmd[0]} (launcher exit {proc.returncode}):\n{tail(stderr)}")
        r = json.loads(report.read_text())
        return Child(r["rc"], stdout, stderr, r["seconds"], r["rss_mb"])


def tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def edgemine_cli(binary: Path, model: Path, corpus_file: Path, input_kind: str, tasks: str, env: dict,
                 flags: list[str]) -> dict:
    """One `edgemine extract` run over a corpus file, end to end."""
    child = run_child(
        [binary, "extract", "--model", model, "--input", input_kind, "--format", "jsonl", "--tasks", tasks, *flags,
         corpus_file],
        env,
    )
    if child.rc not in (0, 1):
        raise SystemExit(f"edgemine failed (exit {child.rc}):\n{tail(child.stderr)}")
    records = [json.loads(line) for line in child.stdout.splitlines() if line.strip()]
    failed = sum("error" in r for r in records)
    if child.rc or failed:
        raise SystemExit(f"edgemine failed on {failed} documents; the timing would not compare like with like\n{tail(child.stderr)}")
    return {
        "seconds": child.seconds,
        "rss_mb": child.rss_mb,
        "entities": sum(len(r.get("entities", [])) for r in records),
        "documents": len(records),
    }


def first_result(binary: Path, model: Path, first_file: Path, tasks: str, env: dict, flags: list[str]) -> float:
    """Seconds for a fresh CLI process to extract one short document."""
    child = run_child([binary, "extract", "--model", model, "--tasks", tasks, *flags, first_file], env)
    if child.rc:
        raise SystemExit(f"edgemine failed on the first sentence (exit {child.rc}):\n{tail(child.stderr)}")
    return child.seconds


def build_fp32(model_dir: Path, into: Path) -> Path:
    """The plain fp32 graph of `model_dir` in a model folder of its own."""
    import onnx
    from storage import plain_fp32

    out = into / "fp32"
    out.mkdir()
    model = plain_fp32(onnx.load(str(model_dir / "model.onnx")))
    # A torch export has no per-wordpiece embedding output (packing.py adds it for the engine).
    kept = [o for o in model.graph.output if o.name != TOKEN_EMBEDDINGS]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    onnx.save(model, str(out / "model.onnx"))
    for name in ("tokenizer.json", "edgemine.json"):
        shutil.copy(model_dir / name, out / name)
    return out


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


def tract_kernels(binary: Path, model: Path, env: dict) -> list[str]:
    """The kernel lines `tract-profile MODEL 16 16` prints."""
    child = run_child([binary, model, "16", "16"], env)
    if child.rc:
        return [f"(tract-profile failed, exit {child.rc}: {tail(child.stderr, 2)})"]
    return [line.strip() for line in child.stdout.splitlines() if line.strip().startswith("kernel")]


# --- HTTP -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`edgemine-server http` in a child process, its peak RSS read at exit."""

    def __init__(self, binary: Path, model: Path, queue: int, env: dict, log: Path, extra: list[str]):
        self.port = free_port()
        self.log = log
        self.report = log.with_suffix(".report.json")
        self.flags = ["--listen", f"127.0.0.1:{self.port}", "--log-format", "text", "--queue", str(queue), "--model-dir", str(model), *extra]
        env = dict(env)
        env.pop("EDGEMINE_TASKS", None)  # its default tasks are the ones compared
        with open(log, "wb") as out:
            self.proc = launch([binary, "http", *self.flags], env, out, subprocess.STDOUT, self.report)
        self.rss_mb: float | None = None

    def exited(self) -> bool:
        if self.proc.poll() is None:
            return False
        if self.rss_mb is None and self.report.exists():
            self.rss_mb = json.loads(self.report.read_text())["rss_mb"]
        return True

    def wait_ready(self, timeout_s: float = 300.0) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout_s:
            if self.exited():
                raise SystemExit(f"edgemine-server exited:\n{tail(self.log.read_text())}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/readyz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"edgemine-server not ready after {timeout_s:.0f} s:\n{tail(self.log.read_text())}")

    def stop(self) -> None:
        """SIGTERM (the server drains and exits), then SIGKILL after 15 s."""
        if self.exited():
            return
        self.proc.terminate()  # the launcher passes it on
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            pid_file = self.report.with_name(self.report.name + ".pid")
            if pid_file.exists():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exited()


def http_load(port: int, sentences: list[str], clients: int) -> tuple[float, list[tuple[int, int, float]]]:
    """`clients` threads, each on its own keep-alive connection, take the
    sentences in turn, one a request. Returns the wall seconds and
    (index, status, latency) per request; status 0: no answer."""
    lock = threading.Lock()
    order = iter(range(len(sentences)))
    results: list[tuple[int, int, float]] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                i = next(order, None)
            if i is None:
                break
            body = json.dumps({"text": sentences[i]}).encode()
            started = time.perf_counter()
            status = 0
            for _attempt in range(2):  # a keep-alive connection the server closed: reconnect once
                try:
                    conn.request("POST", "/v1/extract", body, {"Content-Type": "application/json"})
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            latency = time.perf_counter() - started
            with lock:
                results.append((i, status, latency))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, results


def check_default_tasks(port: int, text: str) -> list[str]:
    """One request, its answer parsed: which result fields the defaults fill."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", "/v1/extract", json.dumps({"text": text}).encode(), {"Content-Type": "application/json"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"POST /v1/extract answered {response.status}: {body[:300]!r}")
    return sorted(json.loads(body))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- the run ----------------------------------------------------------------


def peer_main(args: argparse.Namespace) -> None:
    """`--peer`: the Python pipeline alone in this process; JSON on stdout."""
    sentences = json.loads(Path(args.peer).read_text())
    result = python_pipeline(sentences, args.model, parse=True, keep_batches=bool(args.peer_batches))
    if args.peer_batches:
        Path(args.peer_batches).write_text(json.dumps([{k: v.tolist() for k, v in b.items()} for b in result["batches"]]))
    print(json.dumps({k: v for k, v in result.items() if k != "batches"} | {"batches": len(result["batches"])}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isa", choices=["all", "both", "native", "avx2", "onnxruntime", "onnxruntime-int8"], default="all",
                    help="engine settings, one row each: tract with every instruction set (native), tract with AVX2+FMA only "
                         "(avx2), the onnxruntime backend in fp32 and with the model's int8 graph; both = native and avx2; "
                         "all (default) = the four")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "minilm-tagger")
    ap.add_argument("--bin", type=Path, default=ROOT / "target" / "release", help="folder of edgemine, edgemine-server, tract-profile, tract-batches")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("EDGEMINE_DATA", ROOT.parent / "shared" / "data")))
    ap.add_argument("--documents", type=int, default=0, help="only the first N documents (0 = all)")
    ap.add_argument("--http-clients", default="1,4,8,16", help="concurrent HTTP clients, comma separated")
    ap.add_argument("--http-sentences", type=int, default=0, help="sentences sent per HTTP run (0 = every sentence of the corpus)")
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP server runs")
    ap.add_argument("--extract-flags", default="",
                    help="more flags for every `edgemine extract`, e.g. \"--keyphrase-embedding in-context\"")
    ap.add_argument("--server-flags", default="", help="more flags for `edgemine-server http`, e.g. \"--concurrency 1 --gather-ms 5\"")
    ap.add_argument("--raw", action="store_true", help="add the raw encoder comparison (tract-batches against onnxruntime)")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the batches in the raw comparison (best counts)")
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    ap.add_argument("--peer-batches", help=argparse.SUPPRESS)
    args = ap.parse_args()
    extract_flags = args.extract_flags.split()
    if args.peer:
        peer_main(args)
        return
    clients_list = [int(c) for c in args.http_clients.split(",") if c.strip()]

    isas = {"all": ["native", "avx2", "onnxruntime", "onnxruntime-int8"], "both": ["native", "avx2"]}.get(args.isa, [args.isa])
    # The onnxruntime backend loads the library of the onnxruntime wheel this script imports.
    ort_library = onnxruntime_library()
    envs = {"native": dict(os.environ), "avx2": dict(os.environ, TRACT_CPU_ISA=AVX2_ONLY),
            "onnxruntime": dict(os.environ, EDGEMINE_BACKEND="onnxruntime", ORT_DYLIB_PATH=ort_library,
                                EDGEMINE_PRECISION="fp32"),
            "onnxruntime-int8": dict(os.environ, EDGEMINE_BACKEND="onnxruntime", ORT_DYLIB_PATH=ort_library,
                                     EDGEMINE_PRECISION="int8")}
    for name in ("native", "onnxruntime", "onnxruntime-int8"):
        envs[name].pop("TRACT_CPU_ISA", None)
    for name in ("native", "avx2"):
        envs[name].pop("EDGEMINE_BACKEND", None)
        envs[name].pop("EDGEMINE_PRECISION", None)
    cpus = len(os.sched_getaffinity(0))
    docs, sentence_words = corpus(args.data, args.documents)
    sentences = [s for d in docs for s in d]
    words = sum(sentence_words)
    edgemine = args.bin / "edgemine"
    if not edgemine.exists():
        raise SystemExit(f"{edgemine} is missing: cargo build --release -p edgemine-cli -p edgemine-benches -p edgemine-server")

    print(f"edgemine side by side, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"corpus:  UD EWT dev{f' (first {args.documents} documents)' if args.documents else ''}: "
          f"{len(docs)} documents, {len(sentences)} sentences, {words} UD words")
    print(f"CPUs:    {cpus} ({cpu_name()}); onnxruntime {ort.__version__}")
    print(f"model:   {args.model} (model.onnx {(args.model / 'model.onnx').stat().st_size / 1e6:.1f} MB, int8 storage)")
    print(f"engine:  {', '.join(isas)}" + (f"  (avx2: tract with TRACT_CPU_ISA={AVX2_ONLY})" if "avx2" in isas else "")
          + (f"  (onnxruntime: EDGEMINE_BACKEND=onnxruntime, {ort_library})" if "onnxruntime" in isas else "")
          + ("  (onnxruntime-int8: also EDGEMINE_PRECISION=int8)" if "onnxruntime-int8" in isas else ""), flush=True)

    rows: list[tuple[str, float, float | None, float | None]] = []  # name, words/s, RSS MB, first result s
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        fp32 = build_fp32(args.model, tmp)
        print(f"Python:  plain fp32 graph by plain_fp32 ({(fp32 / 'model.onnx').stat().st_size / 1e6:.1f} MB), own process", flush=True)

        lines_file = tmp / "sentences.txt"
        lines_file.write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
        docs_file = tmp / "documents.jsonl"
        docs_file.write_text("".join(json.dumps({"id": str(i), "text": " ".join(d)}) + "\n" for i, d in enumerate(docs)), encoding="utf-8")
        first_file = tmp / "first.txt"
        first_file.write_text(sentences[0], encoding="utf-8")
        peer_file = tmp / "peer.json"
        peer_file.write_text(json.dumps(sentences))
        batches_file = tmp / "batches.json"

        # The Python pipeline, once, in its own process.
        peer_cmd = [sys.executable, Path(__file__).resolve(), "--peer", peer_file, "--model", fp32]
        if args.raw:
            peer_cmd += ["--peer-batches", batches_file]
        child = run_child(peer_cmd)
        if child.rc:
            raise SystemExit(f"the Python pipeline failed (exit {child.rc}):\n{tail(child.stderr)}")
        theirs = json.loads(child.stdout.strip().splitlines()[-1])
        py_rate = words / theirs["seconds"]
        py_name = "Python onnxruntime fp32, sentences, entities+parse"
        rows.append((py_name, py_rate, child.rss_mb, theirs["first_result_s"]))

        print("\nend to end, model loading included; words/s = UD words / wall seconds")
        print(f"  {py_name:<52} {theirs['seconds']:7.2f} s {py_rate:8.0f} words/s  1.00x  "
              f"peak RSS {child.rss_mb:5.0f} MB  first {theirs['first_result_s']:.2f} s  entities {theirs['entities']}", flush=True)

        first_result(edgemine, args.model, first_file, BASE_TASKS, envs[isas[0]], extract_flags)  # untimed: the binary and model into the page cache
        cli: dict[tuple[str, str, str], dict] = {}
        for isa in isas:
            firsts = {tasks: first_result(edgemine, args.model, first_file, tasks, envs[isa], extract_flags) for tasks in (BASE_TASKS, ALL_TASKS)}
            for kind, corpus_file, input_kind in (("sentences", lines_file, "lines"), ("documents", docs_file, "jsonl")):
                for tasks in (BASE_TASKS, ALL_TASKS):
                    run = edgemine_cli(edgemine, args.model, corpus_file, input_kind, tasks, envs[isa], extract_flags)
                    run["first_result_s"] = firsts[tasks]
                    cli[(isa, kind, tasks)] = run
                    rate = words / run["seconds"]
                    name = f"edgemine {isa}, {kind}, {TASK_NAMES[tasks]}"
                    rows.append((name, rate, run["rss_mb"], firsts[tasks]))
                    extra = ""
                    if tasks == ALL_TASKS:
                        extra = f"  time {run['seconds'] / cli[(isa, kind, BASE_TASKS)]['seconds']:.2f}x entities+parse"
                    print(f"  {name:<52} {run['seconds']:7.2f} s {rate:8.0f} words/s {rate / py_rate:5.2f}x  "
                          f"peak RSS {run['rss_mb']:5.0f} MB  first {firsts[tasks]:.2f} s  entities {run['entities']}{extra}", flush=True)

        # HTTP: the server's default tasks (all the model can do) against the CLI's all-tasks sentences row.
        server_bin = args.bin / "edgemine-server"
        http_isa = isas[0]
        if args.no_http:
            print("\nHTTP: skipped (--no-http)")
        elif not server_bin.exists():
            print(f"\nHTTP: skipped, {server_bin} is missing (cargo build --release -p edgemine-server)")
        else:
            http_sentences = sentences[: args.http_sentences] if args.http_sentences else sentences
            http_words = sentence_words[: len(http_sentences)]
            reference = words / cli[(http_isa, "sentences", ALL_TASKS)]["seconds"]
            queue = max(64, 2 * max(clients_list))
            # A fresh server for each client count, as each CLI run is a fresh
            # process: a server that had already seen the corpus would find
            # every key-phrase candidate in its cache (one run after another
            # made 8 clients look as fast as the CLI). It warms up on text of
            # its own, so that no candidate of the corpus is cached before the
            # run.
            warm = [f"Warm-up request {i} from the benchmark client." for i in range(32)]
            for k, clients in enumerate(clients_list):
                server = Server(server_bin, args.model, queue, envs[http_isa], tmp / f"server-{clients}.log", args.server_flags.split())
                try:
                    ready_s = server.wait_ready()
                    http_load(server.port, warm, 1)
                    if k == 0:
                        fields = check_default_tasks(server.port, warm[0])
                        print(f"\nHTTP: edgemine-server http {' '.join(server.flags)} ({http_isa}); ready in {ready_s:.2f} s; "
                              f"default tasks fill {', '.join(fields)}")
                        print(f"  {len(http_sentences)} sentences ({sum(http_words)} UD words), one a request, keep-alive, "
                              f"a fresh server for each client count, after {len(warm)} warm-up requests of other text; "
                              f"CLI reference: edgemine {http_isa}, sentences, all tasks, {reference:.0f} words/s")
                    seconds, results = http_load(server.port, http_sentences, clients)
                finally:
                    server.stop()
                rss = server.rss_mb or float("nan")
                ok = [(i, lat) for i, status, lat in results if status == 200]
                refused: dict[int, int] = {}
                for _, status, _ in results:
                    if status != 200:
                        refused[status] = refused.get(status, 0) + 1
                latencies = [lat for _, lat in ok]
                rate = sum(http_words[i] for i, _ in ok) / seconds
                p50 = statistics.median(latencies) * 1e3 if latencies else float("nan")
                p99 = percentile(latencies, 0.99) * 1e3 if latencies else float("nan")
                not_ok = ", ".join(f"{n}x {s or 'no answer'}" for s, n in sorted(refused.items())) or "none"
                print(f"  {clients:3d} client{'s' if clients > 1 else ' '}: {len(ok) / seconds:7.1f} docs/s {rate:8.0f} words/s  p50 {p50:7.1f} ms  "
                      f"p99 {p99:7.1f} ms  {100 * rate / reference:5.1f}% of the CLI  peak RSS {rss:.0f} MB  non-200: {not_ok}", flush=True)
                rows.append((f"HTTP {http_isa}, {clients} client{'s' if clients > 1 else ''}, sentences, all tasks", rate, rss, None))

        # Which matrix kernels tract picked.
        profile = args.bin / "tract-profile"
        print("\ntract kernels for a 16x16 batch (tract-profile MODEL 16 16)")
        if not profile.exists():
            print(f"  {profile} is missing (cargo build --release -p edgemine-benches): not shown")
        else:
            for isa in ("native", "avx2"):
                print(f"  {isa}:")
                for line in tract_kernels(profile, args.model / "model.onnx", envs[isa]):
                    print(f"    {line}")

        if args.raw:
            raw_comparison(args, fp32, batches_file, isas, envs, cpus)

    print("\nsummary (x Python: words/s over the Python pipeline's, which does entities+parse only)")
    print(f"  {'configuration':<52} {'words/s':>8} {'x Python':>9} {'peak RSS MB':>12} {'first result s':>15}")
    for name, rate, rss, first in rows:
        rss_text = f"{rss:.0f}" if rss is not None else "-"
        first_text = f"{first:.2f}" if first is not None else "-"
        print(f"  {name:<52} {rate:8.0f} {rate / py_rate:8.2f}x {rss_text:>12} {first_text:>15}")


def raw_comparison(args: argparse.Namespace, fp32: Path, batches_file: Path, isas: list[str], envs: dict, cpus: int) -> None:
    """The Python pipeline's exact batches: onnxruntime (fp32 graph) against
    tract-batches (the shipped graph, as edgemine runs it)."""
    tract_batches = args.bin / "tract-batches"
    raw = json.loads(batches_file.read_text())
    batches = [{k: np.array(v, dtype=np.int64) for k, v in b.items()} for b in raw]
    ort_one = onnxruntime_batches(fp32 / "model.onnx", batches, 1, args.repeats)
    ort_default = onnxruntime_batches(fp32 / "model.onnx", batches, None, args.repeats)
    padded = sum(int(b["input_ids"].size) for b in batches)
    print(f"\nraw encoder on the Python pipeline's {len(batches)} batches ({padded} padded wordpieces), best of {args.repeats}")
    print(f"  onnxruntime (fp32 graph): 1 thread {ort_one:8.0f} ms;  default threads {ort_default:8.0f} ms")
    if not tract_batches.exists():
        print(f"  {tract_batches} is missing (cargo build --release -p edgemine-benches): tract side not shown")
        return
    for isa in [i for i in isas if i in ("native", "avx2")]:
        tract = {}
        for workers in (1, cpus):
            child = run_child([tract_batches, args.model / "model.onnx", batches_file, str(args.repeats), str(workers)], envs[isa])
            if child.rc:
                raise SystemExit(f"tract-batches failed (exit {child.rc}):\n{tail(child.stderr)}")
            tract[workers] = json.loads(child.stdout)
        print(f"  tract {isa:<6} 1 thread {tract[1]['run_ms']:8.0f} ms (tract {ort_one / tract[1]['run_ms']:.2f}x onnxruntime's speed);  "
              f"{cpus} workers {tract[cpus]['run_ms']:8.0f} ms (tract {ort_default / tract[cpus]['run_ms']:.2f}x onnxruntime's default threads);  "
              f"{tract[1]['plans']} plans built in {tract[1]['plan_ms']:.0f} ms, not counted")


if __name__ == "__main__":
    main()
