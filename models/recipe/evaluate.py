"""Step 7: dev scores computed from a shipped model folder's ONNX file.

    python evaluate.py ../minilm-tagger [--model-file model.onnx] [--teacher WORK/reference/model.onnx]
                       [--context N] [--json out.json]

Runs the graph in onnxruntime (not the training framework) over the dev
splits, reads them as the engine reads documents by default (one sentence a
sequence, or a document's consecutive sentences packed into sequences of up
to the manifest's `pack_wordpieces` for a model trained that way), decodes
as the engine does (IOB2 Viterbi, single-root maximum spanning tree) and
prints entity span F1 (exact match, micro and per type)
on uner_ewt dev, UPOS accuracy, UAS and LAS on ud_ewt dev. With --teacher
(the reference all-MiniLM-L6-v2 export), also the student embedding's mean
cosine to the teacher on dev sentences and dev noun phrases.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from common import (
    ENTITY_TYPES, bio_spans, encode_words, join_sentences, load_tokenizer, noun_phrases, pack_documents, read_ewt,
    wordpiece_counts,
)
from decode import bio_viterbi, deprels_by_head, mst_heads
from packing import one_sequence_a_row

BATCH = 32


def session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def pad(rows, value=0):
    width = max(len(r) for r in rows)
    return np.array([r + [value] * (width - len(r)) for r in rows], dtype=np.int64)


def run_tagger(sess, encs):
    """Yield (index, outputs) per sentence, running length-sorted batches."""
    order = sorted(range(len(encs)), key=lambda i: len(encs[i].input_ids))
    for k in range(0, len(order), BATCH):
        idx = order[k : k + BATCH]
        feeds = {
            "input_ids": pad([encs[i].input_ids for i in idx]),
            "attention_mask": pad([[1] * len(encs[i].input_ids) for i in idx]),
            "case_ids": pad([encs[i].case_ids for i in idx]),
            "word_index": pad([encs[i].word_index for i in idx]),
        }
        feeds.update(one_sequence_a_row([i.name for i in sess.get_inputs()], feeds["attention_mask"]))
        names = [o.name for o in sess.get_outputs()]
        outs = dict(zip(names, sess.run(names, feeds)))
        for j, i in enumerate(idx):
            yield i, {name: value[j] for name, value in outs.items()}


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": 100 * p, "recall": 100 * r, "f1": 100 * f}


def evaluate_tagger(folder: Path, model_file: str, context: int | None = None) -> dict:
    """Dev scores; with `context`, consecutive sentences of a document share a
    sequence of up to `context` wordpieces (as the engine packs documents) and
    are decoded sentence by sentence. `None`: as the manifest says the model
    was trained (`tokenizer.pack_wordpieces`), 0 when it says nothing."""
    manifest = json.loads((folder / "edgemine.json").read_text())
    if context is None:
        context = manifest["tokenizer"].get("pack_wordpieces", 0)
    heads = manifest["heads"]
    tok = load_tokenizer(folder / "tokenizer.json")
    sess = session(folder / model_file)
    dev = read_ewt("dev")
    if context:
        groups = pack_documents(dev, wordpiece_counts(tok, dev), context)
    else:
        groups = [[i] for i in range(len(dev))]
    chunks = [join_sentences([dev[i] for i in g]) for g in groups]
    encs = [encode_words(tok, c.words, manifest["tokenizer"]["max_wordpieces"]) for c in chunks]
    if any(e is None for e in encs):
        raise SystemExit("a dev sentence exceeds the model's maximum length")

    counts = {t: [0, 0, 0] for t in ENTITY_TYPES}
    upos_ok = uas = las = n_words = 0
    labels = heads["deprels"]["labels"]
    t0 = time.time()
    for c, out in run_tagger(sess, encs):
        deprels = deprels_by_head(out["deprel_logits"], heads["deprels"])
        offset = 0
        for i in groups[c]:
            s, n = dev[i], len(dev[i].words)
            rows = slice(offset, offset + n)
            pred = bio_spans(bio_viterbi(out["entity_logits"][rows], heads["entities"]["labels"]))
            gold = bio_spans(s.entities)
            for t in ENTITY_TYPES:
                g = {x for x in gold if x[2] == t}
                p = {x for x in pred if x[2] == t}
                counts[t][0] += len(g & p)
                counts[t][1] += len(p - g)
                counts[t][2] += len(g - p)
            upos = out["upos_logits"][rows].argmax(-1)
            upos_ok += sum(heads["upos"]["labels"][u] == g for u, g in zip(upos, s.upos))
            columns = [0] + list(range(offset + 1, offset + n + 1))  # ROOT, then this sentence's words
            tree = mst_heads(out["arc_scores"][rows][:, columns])
            for w, h in enumerate(tree):
                if h == s.heads[w]:
                    uas += 1
                    las += labels[int(deprels[offset + w, columns[h]].argmax())] == s.deprels[w]
            n_words += n
            offset += n
    seconds = time.time() - t0
    micro = prf(*(sum(c[k] for c in counts.values()) for k in range(3)))
    return {
        "model_file": model_file,
        "bytes": (folder / model_file).stat().st_size,
        "context": context,
        "entities": {"micro": micro, **{t: prf(*c) for t, c in counts.items()}},
        "upos": 100 * upos_ok / n_words,
        "uas": 100 * uas / n_words,
        "las": 100 * las / n_words,
        "sentences": len(dev),
        "sequences": len(chunks),
        "words": n_words,
        "seconds": seconds,
    }


def embedding_fidelity(folder: Path, model_file: str, teacher: Path) -> dict:
    """Mean cosine student/teacher on dev sentences (each read alone) and on
    dev noun phrases."""
    tok = load_tokenizer(folder / "tokenizer.json")
    dev = read_ewt("dev")
    t_sess = session(teacher)
    s_sess = session(folder / model_file)

    def teacher_embed(encs):
        out = [None] * len(encs)
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].input_ids))
        for k in range(0, len(order), BATCH):
            idx = order[k : k + BATCH]
            ids = pad([encs[i].input_ids for i in idx])
            mask = pad([[1] * len(encs[i].input_ids) for i in idx])
            emb = t_sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]
            for j, i in enumerate(idx):
                out[i] = emb[j]
        return out

    encs = [encode_words(tok, s.words, 512) for s in dev]
    t_sent = teacher_embed(encs)
    s_sent = [out["sentence_embedding"] for _, out in sorted(run_tagger(s_sess, encs), key=lambda x: x[0])]
    sent_cos = [float(np.dot(a, b)) for a, b in zip(s_sent, t_sent)]

    seen, phrases = set(), []
    for s in dev:
        for words in noun_phrases(s):
            key = " ".join(words).lower()
            if key not in seen:
                seen.add(key)
                phrases.append(encode_words(tok, words, 64))
    t_phr = teacher_embed(phrases)
    s_phr = [out["sentence_embedding"] for _, out in sorted(run_tagger(s_sess, phrases), key=lambda x: x[0])]
    phr_cos = [float(np.dot(a, b)) for a, b in zip(s_phr, t_phr)]
    return {
        "sentences": {"n": len(sent_cos), "mean_cosine": float(np.mean(sent_cos)), "min_cosine": float(np.min(sent_cos))},
        "noun_phrases": {"n": len(phr_cos), "mean_cosine": float(np.mean(phr_cos)), "min_cosine": float(np.min(phr_cos))},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--model-file", default="model.onnx", help="graph inside FOLDER, or a path")
    ap.add_argument("--teacher", type=Path, help="reference all-MiniLM-L6-v2 ONNX, for embedding fidelity")
    ap.add_argument(
        "--context", type=int,
        help="pack a document's sentences into sequences of up to N wordpieces ([CLS] and [SEP] included); "
        "0: one sentence a sequence; default: as the model was trained (the manifest's tokenizer.pack_wordpieces), "
        "as the engine reads documents",
    )
    ap.add_argument("--json", type=Path, help="also write the scores here")
    args = ap.parse_args()
    scores = evaluate_tagger(args.folder, args.model_file, args.context)
    if args.teacher:
        scores["embedding_fidelity"] = embedding_fidelity(args.folder, args.model_file, args.teacher)
    e = scores["entities"]
    mode = f"documents packed into {scores['context']} wordpieces" if scores["context"] else "one sentence a sequence"
    print(f"{args.folder / args.model_file}  ({scores['bytes'] / 1e6:.1f} MB), {mode}")
    print(
        f"entities  micro P {e['micro']['precision']:.2f} R {e['micro']['recall']:.2f} F1 {e['micro']['f1']:.2f}   "
        + "  ".join(f"{t} {e[t]['f1']:.2f}" for t in ENTITY_TYPES)
    )
    print(f"UPOS {scores['upos']:.2f}   UAS {scores['uas']:.2f}   LAS {scores['las']:.2f}")
    if "embedding_fidelity" in scores:
        f = scores["embedding_fidelity"]
        print(
            f"embedding cosine to teacher: sentences {f['sentences']['mean_cosine']:.4f}  "
            f"noun phrases {f['noun_phrases']['mean_cosine']:.4f}"
        )
    if args.json:
        args.json.write_text(json.dumps(scores, indent=2) + "\n")


if __name__ == "__main__":
    main()
