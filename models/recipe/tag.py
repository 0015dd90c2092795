"""Run a shipped model folder on a text file and print the DESIGN.md schema.

    python tag.py ../../samples/sample.txt [--model ../minilm-tagger]

This is the model's reference runner in Python (onnxruntime): a plain
regex sentence splitter and UD-style word tokenizer, one sequence per
sentence, the same decoders as evaluate.py. The Rust engine (core/) is the
product; this script exists to show what the model does and to produce
expected outputs the engine is checked against. Offsets are code points
(Python string indices): text == document[start:end] for every span.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from common import MODELS, encode_words, load_tokenizer
from decode import deprels_by_head, entity_spans, mst_heads
from evaluate import run_tagger, session

# A sentence ends after . ! ? (and closing quotes/brackets) followed by space,
# unless the period ends a known abbreviation or an initial.
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp", "e.g", "i.e", "u.s", "no"}
SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+")
WORD = re.compile(
    r"""(?ix)
    (?:n't|'s|'re|'ve|'ll|'d|'m)(?![a-z])          # clitics as their own words
  | [a-z]+(?=n't\b)                                 # "do" of "don't"
  | \w+(?=['’](?:s|re|ve|ll|d|m)\b)                 # "John" of "John's"
  | (?:mr|mrs|ms|dr|prof|st|jr|sr|vs|etc|inc|ltd|corp)\.   # abbreviations keep their period
  | https?://\S+[^\s.,;:!?'")\]]                    # URLs whole
  | \d+(?:[.,:/]\d+)*                               # numbers, times, dates
  | (?:[a-z]\.){2,}                                 # U.S., e.g.
  | \w+(?:['’.]\w+)*                                # words (hyphens split off, as in EWT)
  | \S                                              # any other single character
    """
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in SENTENCE_END.finditer(text):
        before = text[start : m.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if m.group().startswith(".") and (last in ABBREVIATIONS or len(last) == 1):
            continue
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), s + len(text[s:e].rstrip())) for s, e in spans if text[s:e].strip()]


def tag(text: str, folder: Path) -> dict:
    manifest = json.loads((folder / "edgemine.json").read_text())
    heads = manifest["heads"]
    tok = load_tokenizer(folder / "tokenizer.json")
    sess = session(folder / "model.onnx")
    sentences = split_sentences(text)
    words = [[(m.group(), s + m.start(), s + m.end()) for m in WORD.finditer(text[s:e])] for s, e in sentences]
    encs = [encode_words(tok, [w for w, _, _ in ws], manifest["tokenizer"]["max_wordpieces"]) for ws in words]
    if any(e is None for e in encs):
        raise SystemExit("a sentence is longer than the model's maximum length; the Rust engine splits such sentences")
    out = {"entities": [], "sentences": [{"start": s, "end": e} for s, e in sentences], "words": [], "offsets": "char"}
    for i, o in sorted(run_tagger(sess, encs), key=lambda x: x[0]):
        ws, n = words[i], len(words[i])
        for start, end, kind, score in entity_spans(o["entity_logits"][:n], heads["entities"]["labels"]):
            start_c, end_c = ws[start][1], ws[end - 1][2]
            out["entities"].append(
                {"text": text[start_c:end_c], "label": kind, "start": start_c, "end": end_c, "score": round(score, 4), "sentence": i}
            )
        tree = mst_heads(o["arc_scores"][:n, : n + 1])
        upos = o["upos_logits"][:n].argmax(-1)
        for w, ((word, s, e), h) in enumerate(zip(ws, tree)):
            out["words"].append(
                {
                    "text": word, "start": s, "end": e, "sentence": i, "head": h,
                    "upos": heads["upos"]["labels"][int(upos[w])],
                    "deprel": heads["deprels"]["labels"][int(deprels_by_head(o["deprel_logits"], heads["deprels"])[w, h].argmax())],
                }
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path, help="UTF-8 text file; - for stdin")
    ap.add_argument("--model", type=Path, default=MODELS / "minilm-tagger")
    ap.add_argument("--words", action="store_true", help="include the parse (words with UPOS, head, deprel)")
    args = ap.parse_args()
    text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
    out = tag(text, args.model)
    if not args.words:
        del out["words"]
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
