"""The recipe's numpy pieces: decoders, case classes, tag projection, int8 storage."""

import itertools

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from brute_force import valid_iob2_paths
from common import ENTITY_LABELS, bio_spans, case_class, project_bio
from decode import bio_viterbi, entity_spans, is_tree, log_softmax, mst_heads
from storage import store_int8


def tree_score(lp, heads):
    return sum(lp[i, h] for i, h in enumerate(heads))


def brute_force_best_tree(arc_scores):
    lp = log_softmax(arc_scores.astype(np.float64))
    n = arc_scores.shape[0]
    trees = (list(h) for h in itertools.product(range(n + 1), repeat=n))
    return max((t for t in trees if is_tree(t)), key=lambda t: tree_score(lp, t))


@pytest.mark.parametrize("seed", range(40))
def test_mst_is_the_best_single_root_tree(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    scores = rng.normal(size=(n, n + 1)) * 4
    got = mst_heads(scores)
    assert is_tree(got)
    lp = log_softmax(scores)
    assert tree_score(lp, got) == pytest.approx(tree_score(lp, brute_force_best_tree(scores)))


def test_mst_forces_one_root_even_when_every_word_prefers_root():
    scores = np.zeros((6, 7))
    scores[:, 0] = 10.0
    heads = mst_heads(scores)
    assert is_tree(heads) and heads.count(0) == 1


def test_mst_on_long_sentences_is_well_formed():
    rng = np.random.default_rng(1)
    for n in (40, 120):
        assert is_tree(mst_heads(rng.normal(size=(n, n + 1))))


def test_viterbi_never_starts_a_span_with_inside():
    logits = np.full((4, len(ENTITY_LABELS)), -5.0)
    i_per = ENTITY_LABELS.index("I-PER")
    logits[:, i_per] = 5.0  # greedy would say I-PER everywhere
    logits[0, ENTITY_LABELS.index("B-PER")] = 4.0
    tags = bio_viterbi(logits, ENTITY_LABELS)
    assert tags == ["B-PER", "I-PER", "I-PER", "I-PER"]
    logits[1, ENTITY_LABELS.index("B-LOC")] = 30.0  # forces a new span: I-PER may not follow it
    tags = bio_viterbi(logits, ENTITY_LABELS)
    assert tags[1] == "B-LOC" and tags[2] != "I-PER"


@pytest.mark.parametrize("seed", range(10))
def test_viterbi_finds_the_best_valid_path_of_raw_scores(seed):
    # The per-word log-softmax the decoder applies must not change the winner:
    # a model trained on whole-sequence scores (--entity-loss crf) is decoded
    # by the same Viterbi.
    logits = np.random.default_rng(seed).normal(0, 3, size=(3, len(ENTITY_LABELS)))
    best = max(valid_iob2_paths(3), key=lambda p: sum(logits[i, c] for i, c in enumerate(p)))
    assert bio_viterbi(logits, ENTITY_LABELS) == [ENTITY_LABELS[c] for c in best]


@pytest.mark.parametrize("seed", range(6))
def test_entity_span_scores_are_span_probabilities(seed):
    # Each decoded span's score is the share of IOB2-valid sequences (weighted
    # by their scores) that spell exactly that span, counted by enumeration.
    n = 4
    logits = np.random.default_rng(seed).normal(0, 2, size=(n, len(ENTITY_LABELS)))
    logits[1:3, ENTITY_LABELS.index("B-ORG")] += 3.0  # make sure something is decoded
    weights = {}
    for path in valid_iob2_paths(n):
        w = np.exp(sum(logits[i, c] for i, c in enumerate(path)))
        for span in bio_spans([ENTITY_LABELS[c] for c in path]):
            weights[span] = weights.get(span, 0.0) + w
    total = sum(np.exp(sum(logits[i, c] for i, c in enumerate(p))) for p in valid_iob2_paths(n))
    decoded = entity_spans(logits, ENTITY_LABELS)
    assert decoded
    for start, end, kind, score in decoded:
        assert score == pytest.approx(weights[(start, end, kind)] / total, abs=1e-9)


def test_bio_spans_follow_conlleval():
    assert bio_spans(["B-PER", "I-PER", "O", "I-LOC", "B-ORG", "I-LOC"]) == {
        (0, 2, "PER"),
        (3, 4, "LOC"),
        (4, 5, "ORG"),
        (5, 6, "LOC"),
    }


@pytest.mark.parametrize(
    "word,expected",
    [("the", "lower"), ("Paris", "title"), ("I", "title"), ("NASA", "upper"), ("iPhone", "mixed"),
     ("McDonald", "mixed"), ("42", "none"), ("東京", "none"), ("Élan", "title"), ("U.S.", "upper"), ("", "none")],
)
def test_case_classes(word, expected):
    from common import CASE_CLASSES

    assert CASE_CLASSES[case_class(word)] == expected


def test_project_bio_moves_spans_across_tokenizations():
    src = ["the", "Inter-", "Services", "Intelligence", "said", "."]
    tags = ["O", "B-ORG", "I-ORG", "I-ORG", "O", "O"]
    dst = ["the", "Inter", "-", "Services", "Intelligence", "said"]
    assert project_bio(src, tags, dst) == ["O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "O"]


def test_int8_storage_keeps_outputs_and_shrinks_weights():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(1000, 64)).astype(np.float32)
    weight = rng.normal(size=(64, 256)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["x"]), helper.make_node("MatMul", ["x", "weight"], ["y"])],
        "g",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 256])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(weight, "weight")],
    )
    fp32 = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    stored, names = store_int8(onnx.load_from_string(fp32.SerializeToString()))
    onnx.checker.check_model(stored)
    assert sorted(names) == ["table", "weight"]
    assert all(i.data_type != TensorProto.FLOAT or i.dims[-1] == 1 or len(i.dims) == 1 for i in stored.graph.initializer)
    ids = np.array([0, 17, 999], dtype=np.int64)
    run = lambda m: ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]
    want, got = run(fp32), run(stored)
    assert np.abs(got - want).max() < 0.02 * np.abs(want).max()
    assert len(stored.SerializeToString()) < 0.35 * len(fp32.SerializeToString())
