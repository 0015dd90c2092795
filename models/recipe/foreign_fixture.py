"""Build the foreign-model test fixture: a tiny Hugging Face token
classifier exported with optimum, the way a user brings one to edgemine.

The weights are random (seeded) and tiny (2 layers, hidden 16, 2.2 MB), so
the labels mean nothing; what matters is the folder's shape (`model.onnx`
from optimum's exporter, `tokenizer.json`, `config.json` with `id2label`,
no edgemine manifest) and that the engine decodes it exactly as this script
does with onnxruntime. `expected.json` holds, for pretokenized sentences,
the entities from onnxruntime logits read at each word's first wordpiece
and decoded with the recipe's BIO Viterbi (the engine's reference decoder).

Needs optimum-onnx, which pins transformers < 4.58; run it with a separate
package folder so the training environment stays as it is:

    pip install --no-deps --target /tmp/optimum "optimum==2.1.0" "optimum-onnx==0.1.0" \
        "transformers==4.57.1" "huggingface_hub<1.0" "tokenizers>=0.22,<0.23" \
        requests urllib3 idna charset_normalizer certifi
    PYTHONPATH=/tmp/optimum $VENV/bin/python models/recipe/foreign_fixture.py
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from common import bio_spans
from decode import bio_viterbi

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent
OUT = MODELS / "fixtures" / "tiny-bert-ner"
LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
# Whitespace separates the words: the test runs them pretokenized.
SENTENCES = [
    "Maria Lopez flew from Lisbon to Berlin on Monday .",
    "The United Nations met in Geneva with delegates from Kenya and Peru .",
    "Acme Corporation hired Dr. Chen , formerly of Stanford University .",
    "Nothing here names anyone at all .",
    "Übermäßig große Häuser in Zürich kosten 1.5 Millionen Franken 🙂 !",
]
# Smallest gap between the best and second-best label of any word: far
# above the ≈ 1e-6 at which tract and onnxruntime differ.
MIN_MARGIN = 0.05


def build_hf_folder(folder: Path, seed: int) -> None:
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    model = BertForTokenClassification(config).eval()
    with torch.no_grad():
        # Random init gives near-equal logits; spread them so the labels
        # vary and no word sits on a tie.
        model.classifier.weight.mul_(60.0)
    model.save_pretrained(folder)
    BertTokenizerFast(tokenizer_file=str(MODELS / "minilm-tagger" / "tokenizer.json")).save_pretrained(folder)


def expected_entities(folder: Path) -> tuple[list[dict], float]:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    out, margin = [], float("inf")
    for text in SENTENCES:
        words = text.split(" ")
        enc = tok.encode(words, is_pretokenized=True)
        feeds = {
            "input_ids": np.array([enc.ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(enc.ids)), dtype=np.int64),
            "token_type_ids": np.zeros((1, len(enc.ids)), dtype=np.int64),
        }
        logits = session.run(None, {k: v for k, v in feeds.items() if k in names})[0][0]
        first = {}
        for position, word in enumerate(enc.word_ids):
            if word is not None and word not in first:
                first[word] = position
        word_logits = logits[[first[w] for w in range(len(words))]]
        top2 = np.sort(word_logits, axis=-1)[:, -2:]
        margin = min(margin, float((top2[:, 1] - top2[:, 0]).min()))
        starts = np.cumsum([0] + [len(w) + 1 for w in words])
        entities = []
        for s, e, kind in sorted(bio_spans(bio_viterbi(word_logits, LABELS))):
            start, end = int(starts[s]), int(starts[e - 1] + len(words[e - 1]))
            entities.append({"text": text[start:end], "label": kind, "start": start, "end": end})
        out.append({"text": text, "entities": entities})
    return out, margin


def main() -> None:
    from optimum.exporters.onnx import main_export

    for seed in range(100):
        with tempfile.TemporaryDirectory() as tmp:
            hf, exported = Path(tmp) / "hf", Path(tmp) / "onnx"
            build_hf_folder(hf, seed)
            main_export(str(hf), output=str(exported), task="token-classification")
            expected, margin = expected_entities(exported)
            found = sum(len(s["entities"]) for s in expected)
            if margin < MIN_MARGIN or found < 5:
                print(f"seed {seed}: margin {margin:.3f}, {found} entities; next seed")
                continue
            if OUT.exists():
                shutil.rmtree(OUT)
            OUT.mkdir(parents=True)
            for name in ("model.onnx", "tokenizer.json", "config.json"):
                shutil.copy(exported / name, OUT / name)
            (OUT / "expected.json").write_text(
                json.dumps({"seed": seed, "min_margin": margin, "sentences": expected}, indent=1, ensure_ascii=False)
                + "\n"
            )
            print(f"seed {seed}: margin {margin:.3f}, {found} entities -> {OUT}")
            return
    raise SystemExit("no seed gave clear margins; widen the classifier scale")


if __name__ == "__main__":
    main()
