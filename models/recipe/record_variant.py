"""Keep one recipe variant's result in the repository: models/variants/NAME.json.

    python record_variant.py WORK/variants/NAME [--into ../variants]

variant.sh trains, exports and evaluates a variant under WORK (scratch space,
not kept); this writes what the model card's variant table needs (the
train.py options that differ from their defaults, training minutes, and the
dev scores of the int8-stored graph for each input mode) into a small JSON
file that is committed, so the table survives a fresh machine and
model_card.py can rebuild it from the records alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import MODELS

# train.py options a record shows, each left out where it has this value (its
# default); None: always shown.
SHOWN_OPTIONS = {
    "epochs": None, "batch": 32, "no_case": False, "wnut": False, "entity_weight": 1.0, "entity_loss": "token",
    "entity_hidden": 0, "ema": 0.0, "context": 0, "distill_weight": None, "phrases_per_step": None,
    "lr": 8e-5, "head_lr": 1e-3, "bf16": False, "seed": 13, "threads": 2,
}
# How evaluate.py read dev: one sentence a sequence, or a document's sentences
# packed into sequences of up to N wordpieces (contextN).
INPUT_MODES = ("sentences", "context64", "context128")


def train_flags(args: dict, keep) -> str:
    """train.py's command-line flags for the options in `args` (train.json's
    "args") for which keep(name, value) holds, in train.py's order."""
    return " ".join(
        f"--{k.replace('_', '-')}" + ("" if isinstance(v, bool) else f" {v}") for k, v in args.items() if keep(k, v)
    )


def options_text(args: dict) -> str:
    return train_flags(args, lambda k, v: k in SHOWN_OPTIONS and v != SHOWN_OPTIONS[k])


def dev_summary(scores: dict) -> dict:
    """The numbers of one evaluate.py --json that the variant table shows."""
    e = scores["entities"]
    return {
        "precision": round(e["micro"]["precision"], 2), "recall": round(e["micro"]["recall"], 2),
        "f1": round(e["micro"]["f1"], 2),
        **{t: round(e[t]["f1"], 2) for t in ("PER", "ORG", "LOC")},
        **{k: round(scores[k], 2) for k in ("upos", "uas", "las")},
    }


def record(variant: Path) -> dict:
    train = json.loads((variant / "train.json").read_text())
    dev = {
        mode: dev_summary(json.loads((variant / f"dev.{mode}.json").read_text()))
        for mode in INPUT_MODES
        if (variant / f"dev.{mode}.json").exists()
    }
    if not dev:
        raise SystemExit(f"{variant}: no dev.MODE.json for any of {INPUT_MODES}; run evaluate.py first")
    return {
        "name": variant.name,
        "options": options_text(train["args"]),
        "train_minutes": round(train["minutes"], 1),
        "threads": train["threads"],
        "dev": dev,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variant", type=Path, help="WORK/variants/NAME, as variant.sh leaves it")
    ap.add_argument("--into", type=Path, default=MODELS / "variants")
    args = ap.parse_args()
    rec = record(args.variant)
    args.into.mkdir(parents=True, exist_ok=True)
    out = args.into / f"{rec['name']}.json"
    out.write_text(json.dumps(rec, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
