"""The shipped default model folder: manifest, checksums, sizes, shapes, behaviour.

Runs in CI with onnxruntime and tokenizers only (no torch).
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from common import CASE_CLASSES, ENTITY_LABELS, UPOS_LABELS, encode_words, load_tokenizer
from decode import bio_viterbi, deprels_by_head, is_tree, mst_heads, span_probabilities
from packing import one_sequence_a_row
from storage import plain_fp32

FOLDER = Path(__file__).resolve().parents[1] / "minilm-tagger"
# Each artifact stays under 30 MB; the folder holds the fp32-compute graph
# (int8 storage), the int8-compute graph for onnxruntime and small files.
MAX_FILE_BYTES = 30 * 1000 * 1000
MAX_FOLDER_BYTES = 55 * 1000 * 1000
DEPRELS = json.loads((FOLDER / "edgemine.json").read_text())["heads"]["deprels"]


@pytest.fixture(scope="module")
def manifest():
    return json.loads((FOLDER / "edgemine.json").read_text())


@pytest.fixture(scope="module")
def session():
    return ort.InferenceSession(str(FOLDER / "model.onnx"), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(FOLDER / "tokenizer.json")


def run(session, tokenizer, words):
    enc = encode_words(tokenizer, words, 512)
    feeds = {
        "input_ids": np.array([enc.input_ids], dtype=np.int64),
        "attention_mask": np.ones((1, len(enc.input_ids)), dtype=np.int64),
        "case_ids": np.array([enc.case_ids], dtype=np.int64),
        "word_index": np.array([enc.word_index], dtype=np.int64),
    }
    feeds.update(one_sequence_a_row([i.name for i in session.get_inputs()], feeds["attention_mask"]))
    names = [o.name for o in session.get_outputs()]
    return by_head(dict(zip(names, (x[0] for x in session.run(names, feeds)))))


def by_head(out: dict) -> dict:
    """The outputs with the label scores as [words, words+1, labels] (fuse.py
    leaves them as [words, labels, words+1]; the manifest says which)."""
    return {**out, "deprel_logits": deprels_by_head(out["deprel_logits"], DEPRELS)}


def test_packed_sequences_read_as_if_alone(session, tokenizer):
    """Two sentences in one row (packing.py): each one's entities, UPOS, arcs
    and labels equal those of the sentence run alone, with its [CLS] listed as
    a word and read as its ROOT column."""
    sentences = [["Anna", "Keller", "works", "for", "Siemens", "."], ["It", "rains", "in", "Oslo", "today", "."]]
    alone = [run(session, tokenizer, words) for words in sentences]
    encs = [encode_words(tokenizer, words, 512) for words in sentences]
    ids, case, segment, position, word_index, first_slot = [], [], [], [], [], []
    for k, enc in enumerate(encs):
        offset, n = len(ids), len(enc.input_ids)
        ids += enc.input_ids
        case += enc.case_ids
        segment += [k + 1] * n
        position += list(range(n))
        word_index.append(offset)  # the [CLS] pseudo-word: this sentence's ROOT
        first_slot.append(len(word_index))
        word_index += [offset + p for p in enc.word_index]
    padded = len(ids) + 5
    row = lambda values: np.array([values + [0] * (padded - len(values))], dtype=np.int64)  # noqa: E731
    feeds = {
        "input_ids": row(ids),
        "attention_mask": row([1] * len(ids)),
        "case_ids": row(case),
        "word_index": np.array([word_index], dtype=np.int64),
        "segment_ids": row(segment),
        "position_ids": row(position),
    }
    names = [o.name for o in session.get_outputs()]
    packed = by_head(dict(zip(names, (x[0] for x in session.run(names, feeds)))))
    for words, out, first in zip(sentences, alone, first_slot):
        n = len(words)
        words_of = slice(first, first + n)
        for head in ("entity_logits", "upos_logits"):
            np.testing.assert_allclose(packed[head][words_of], out[head], atol=1e-4)
        for head in ("arc_scores", "deprel_logits"):
            # Columns: ROOT (the pseudo-word's column, first), then the sentence's words.
            columns = [first] + list(range(first + 1, first + 1 + n))
            np.testing.assert_allclose(packed[head][words_of][:, columns], out[head], atol=1e-4)


def test_folder_is_complete_and_small(manifest):
    names = {p.name for p in FOLDER.iterdir()}
    assert {"model.onnx", "tokenizer.json", "edgemine.json", "MODEL_CARD.md"} <= names
    assert all(p.stat().st_size <= MAX_FILE_BYTES for p in FOLDER.iterdir())
    assert sum(p.stat().st_size for p in FOLDER.iterdir()) <= MAX_FOLDER_BYTES


def test_checksums_match_the_manifest(manifest):
    graphs = {g["file"] for g in manifest.get("graphs", {}).values()}
    assert set(manifest["files"]) == {"model.onnx", "tokenizer.json"} | graphs
    for name, entry in manifest["files"].items():
        data = (FOLDER / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name} changed without its manifest"
        assert len(data) == entry["bytes"]


def test_the_int8_graph_is_static_and_scored(manifest):
    graph = manifest["graphs"]["int8"]
    assert graph["backends"] == ["onnxruntime"] and graph["default"] is True
    model = onnx.load(str(FOLDER / graph["file"]))
    ops = {n.op_type for n in model.graph.node}
    # Static QDQ: fixed activation scales (no scale computed per batch, which
    # made a sequence's result depend on its batch neighbours).
    assert "QuantizeLinear" in ops and "DynamicQuantizeLinear" not in ops, ops
    inits = {i.name: i for i in model.graph.initializer}
    quantized = [n for n in model.graph.node if n.op_type == "QuantizeLinear"]
    assert len(quantized) >= 20 and all(n.input[1] in inits for n in quantized)
    # Its own dev scores, near the fp32 graph's (cli/tests/dev_scores.rs checks the engine reproduces them).
    fp32, int8 = manifest["evaluation"], graph["evaluation"]
    assert abs(int8["uner_ewt_dev"]["entity_f1"] - fp32["uner_ewt_dev"]["entity_f1"]) <= 0.3
    for key in ("upos", "las"):
        assert abs(int8["ud_ewt_dev"][key] - fp32["ud_ewt_dev"][key]) <= 0.3


def test_manifest_states_the_contract(manifest):
    assert manifest["format"] == "edgemine-model" and manifest["format_version"] == 1
    assert manifest["words"]["pooling"] == "first_wordpiece"
    assert manifest["inputs"]["case_ids"]["classes"] == CASE_CLASSES
    heads = manifest["heads"]
    assert heads["entities"]["labels"] == ENTITY_LABELS
    assert heads["upos"]["labels"] == UPOS_LABELS
    assert {"nsubj", "obj", "root", "amod", "nmod:poss", "acl:relcl"} <= set(heads["deprels"]["labels"])
    assert manifest["provenance"]["seed"] is not None
    assert manifest["tokenizer"]["max_wordpieces"] == 512


def test_graph_matches_the_manifest(manifest, session):
    inputs = {i.name: i for i in session.get_inputs()}
    assert set(inputs) == set(manifest["inputs"])
    assert all(i.type == "tensor(int64)" for i in inputs.values())
    named = {h["output"] for h in manifest["heads"].values()}
    named |= {h["token_output"] for h in manifest["heads"].values() if "token_output" in h}
    assert {o.name for o in session.get_outputs()} == named


def test_weights_are_stored_as_int8(manifest):
    graph = onnx.load(str(FOLDER / "model.onnx")).graph
    int8 = sum(int(np.prod(i.dims)) for i in graph.initializer if i.data_type == onnx.TensorProto.INT8)
    total = sum(int(np.prod(i.dims)) for i in graph.initializer)
    assert int8 / total > 0.95
    assert sum(n.op_type == "DequantizeLinear" for n in graph.node) >= 36  # 6 layers x 6 matrices


def test_output_shapes(manifest, session, tokenizer):
    words = "The engineers from Siemens visited the plant in Hamburg .".split()
    out = run(session, tokenizer, words)
    n, heads = len(words), manifest["heads"]
    assert out["entity_logits"].shape == (n, len(heads["entities"]["labels"]))
    assert out["upos_logits"].shape == (n, len(heads["upos"]["labels"]))
    assert out["arc_scores"].shape == (n, n + 1)
    assert out["deprel_logits"].shape == (n, n + 1, len(heads["deprels"]["labels"]))
    assert out["sentence_embedding"].shape == (384,)
    assert np.linalg.norm(out["sentence_embedding"]) == pytest.approx(1.0, abs=1e-4)


def test_tags_an_unambiguous_sentence(manifest, session, tokenizer):
    words = "Angela Merkel met engineers from Microsoft in Paris on Monday .".split()
    out = run(session, tokenizer, words)
    tags = bio_viterbi(out["entity_logits"], ENTITY_LABELS)
    assert tags[:2] == ["B-PER", "I-PER"]
    assert tags[5] == "B-ORG" and tags[7] == "B-LOC"
    upos = [UPOS_LABELS[i] for i in out["upos_logits"].argmax(-1)]
    assert upos[:4] == ["PROPN", "PROPN", "VERB", "NOUN"] and upos[-1] == "PUNCT"
    heads = mst_heads(out["arc_scores"])
    assert is_tree(heads)
    assert heads[2] == 0  # "met" is the root
    assert heads[0] == 3 and heads[1] == 1  # UD: "Angela" is the subject of "met", "Merkel" is flat on "Angela"
    labels = manifest["heads"]["deprels"]["labels"]
    assert labels[int(out["deprel_logits"][0, heads[0]].argmax())] == "nsubj"
    assert labels[int(out["deprel_logits"][1, heads[1]].argmax())] == "flat"


def test_capitalization_is_seen(session, tokenizer):
    # Same wordpieces, different case classes: the entity scores must differ.
    a = run(session, tokenizer, "I met Apple engineers .".split())
    b = run(session, tokenizer, "I met apple engineers .".split())
    assert not np.allclose(a["entity_logits"], b["entity_logits"])
    assert bio_viterbi(a["entity_logits"], ENTITY_LABELS)[2] == "B-ORG"
    # WNUT-17's lowercase brand names teach that "apple" may be one too, so
    # the capital must raise the organisation's probability, not decide it.
    p_title = span_probabilities(a["entity_logits"], ENTITY_LABELS)(2, 3, "ORG")
    p_lower = span_probabilities(b["entity_logits"], ENTITY_LABELS)(2, 3, "ORG")
    assert p_title > p_lower + 0.1, (p_title, p_lower)


def test_embedding_ranks_related_phrases_closer(session, tokenizer):
    def embed(text):
        return run(session, tokenizer, text.split())["sentence_embedding"]

    pump, impeller, poetry = embed("cooling water pump"), embed("centrifugal pump impeller"), embed("romantic poetry")
    assert float(pump @ impeller) > float(pump @ poetry) + 0.1


def test_token_embeddings_pool_to_the_sentence_embedding(session, tokenizer):
    out = run(session, tokenizer, ["Edge", "boxes", "mine", "text", "offline", "."])
    pooled = out["token_embeddings"].mean(axis=0)
    np.testing.assert_allclose(pooled / np.linalg.norm(pooled), out["sentence_embedding"], atol=1e-5)


def test_plain_fp32_graph_computes_what_the_stored_one_does(tokenizer):
    """benches/side_by_side.py's peer runs `plain_fp32` of the shipped graph:
    the same function, with every weight fp32 again."""
    plain = plain_fp32(onnx.load(str(FOLDER / "model.onnx")))
    assert not any(n.op_type == "DequantizeLinear" for n in plain.graph.node)
    assert all(i.data_type != onnx.TensorProto.INT8 for i in plain.graph.initializer)
    # onnxruntime's own optimizations would turn the stored graph's int8 into int8 compute: off, to compare.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    stored = ort.InferenceSession(str(FOLDER / "model.onnx"), options, providers=["CPUExecutionProvider"])
    fp32 = ort.InferenceSession(plain.SerializeToString(), providers=["CPUExecutionProvider"])
    words = ["Anna", "Keller", "flew", "to", "Oslo", "."]
    for a, b in zip(run(stored, tokenizer, words).values(), run(fp32, tokenizer, words).values()):
        np.testing.assert_allclose(a, b, atol=1e-4)
