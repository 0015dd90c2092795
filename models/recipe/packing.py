"""Several sequences in one row: the graph inputs that let the engine pack them.

An exported tagger reads one sequence a row: every wordpiece attends to every
other of its row, and positions count from the row's start. Short documents
then run as short rows (16 wordpieces for a typical sentence), where tract's
kernels spend as much time on per-matrix overhead and padding as on work.
`add_packing_inputs` lets a row hold several sequences, each as if alone:

* `segment_ids` [batch, sequence]: which sequence of the row each wordpiece
  belongs to (any integers; padding may take any value, `attention_mask`
  still masks it). A wordpiece attends only to wordpieces of its own segment:
  the attention bias gets -1e4 where the segments differ, which softmax
  turns into an exact 0 in fp32, so each sequence's outputs are those of the
  sequence alone, up to rounding.
* `position_ids` [batch, sequence]: each wordpiece's position within its
  own sequence (0 at its [CLS]), instead of within the row.

Heads that read words need no new input: the engine lists each segment's
[CLS] in `word_index` as a word of its own, before the segment's words, and
reads the parse's ROOT column of that segment from it (the arc and label
heads score the row's [CLS] as ROOT through the same layers they score words
with). The pooled `sentence_embedding` averages the whole row, so
`add_token_embeddings` adds an output the engine pools per sequence:

* `token_embeddings` [batch, sequence, 384]: each wordpiece's vector through
  the embedding projection. Projection and mean commute, so the mean over a
  sequence's wordpieces, L2-normalized, is that sequence's
  `sentence_embedding`.

Fed one sequence a row (segment 1 everywhere, positions 0..n), the graph
computes exactly what it computed before.

    python packing.py MODEL_DIR     # rewrite MODEL_DIR/model.onnx, update its manifest
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper, numpy_helper
import numpy as np

SEGMENT_IDS = "segment_ids"
POSITION_IDS = "position_ids"
TOKEN_EMBEDDINGS = "token_embeddings"
# As the attention_mask bias: softmax gives exp(-1e4) = 0 in fp32.
MASKED = -1e4


def _consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    out: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def _attention_bias(graph: onnx.GraphProto) -> str:
    """The [batch, 1, 1, sequence] additive bias made from attention_mask:
    Unsqueeze → Cast → Sub(1, ·) → Mul(·, -1e4), as the encoder exports it."""
    consumers = _consumers(graph)
    for start in consumers.get("attention_mask", []):
        node, chain = start, [start.op_type]
        while node.op_type != "Mul":
            nxt = consumers.get(node.output[0], [])
            if len(nxt) != 1:
                break
            node = nxt[0]
            chain.append(node.op_type)
        if chain == ["Unsqueeze", "Cast", "Sub", "Mul"]:
            return node.output[0]
    raise ValueError("no attention bias (Unsqueeze, Cast, Sub, Mul from attention_mask) found in the graph")


def _position_gathers(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The Gathers of the position table (two under int8 storage: rows and their scales)."""
    found = [
        n
        for n in graph.node
        if n.op_type == "Gather" and n.input[0].startswith("encoder.embeddings.position_embeddings")
    ]
    if not found:
        raise ValueError("no Gather of encoder.embeddings.position_embeddings found in the graph")
    return found


def add_packing_inputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """Adds `segment_ids` and `position_ids` inputs to `model`, in place."""
    graph = model.graph
    if any(i.name in (SEGMENT_IDS, POSITION_IDS) for i in graph.input):
        raise ValueError("the graph already takes segment_ids / position_ids")
    bias = _attention_bias(graph)
    mask = next(i for i in graph.input if i.name == "attention_mask")
    for name in (SEGMENT_IDS, POSITION_IDS):
        vi = graph.input.add()
        vi.CopyFrom(mask)
        vi.name = name

    # Positions: the row's arange becomes the caller's positions.
    for gather in _position_gathers(graph):
        gather.input[1] = POSITION_IDS

    # Attention: bias + (-1e4 where the two wordpieces' segments differ).
    consumers = _consumers(graph)
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([1, 3], np.int64), "packing.query_axes"),
            numpy_helper.from_array(np.array([1, 2], np.int64), "packing.key_axes"),
            numpy_helper.from_array(np.array(0.0, np.float32), "packing.zero"),
            numpy_helper.from_array(np.array(MASKED, np.float32), "packing.masked"),
        ]
    )
    nodes = [
        helper.make_node("Unsqueeze", [SEGMENT_IDS, "packing.query_axes"], ["packing.query_segment"]),
        helper.make_node("Unsqueeze", [SEGMENT_IDS, "packing.key_axes"], ["packing.key_segment"]),
        helper.make_node("Equal", ["packing.query_segment", "packing.key_segment"], ["packing.same_segment"]),
        helper.make_node("Where", ["packing.same_segment", "packing.zero", "packing.masked"], ["packing.segment_bias"]),
        helper.make_node("Add", [bias, "packing.segment_bias"], ["packing.attention_bias"]),
    ]
    for node in consumers[bias]:
        for k, name in enumerate(node.input):
            if name == bias:
                node.input[k] = "packing.attention_bias"
    # After the bias is made, before its first use: keep the node list topological.
    first_use = min(i for i, n in enumerate(graph.node) if "packing.attention_bias" in n.input)
    for offset, node in enumerate(nodes):
        graph.node.insert(first_use + offset, node)
    # The row's arange may now be unused; drop what nothing reads.
    _prune(graph)
    # Shapes recorded at export no longer hold (positions were [1, sequence],
    # now [batch, sequence]); runtimes infer them again from the inputs.
    del graph.value_info[:]
    return model


def add_token_embeddings(model: onnx.ModelProto) -> onnx.ModelProto:
    """Adds the `token_embeddings` output to `model`, in place: the encoder's
    last hidden states through the projection of `sentence_embedding`
    (the Gemm reading `embedding_proj.weight`), before pooling."""
    graph = model.graph
    if any(o.name == TOKEN_EMBEDDINGS for o in graph.output):
        raise ValueError("the graph already has a token_embeddings output")
    producer = {o: n for n in graph.node for o in n.output}
    gemm = next((n for n in graph.node if n.op_type == "Gemm" and n.input[1] == "embedding_proj.weight"), None)
    if gemm is None or any(a.name == "transB" and a.i != 1 for a in gemm.attribute):
        raise ValueError("no Gemm(pooled, embedding_proj.weight, transB=1) found in the graph")
    # pooled = ReduceSum(Mul(hidden, mask)) / count: walk back to `hidden`.
    div = producer[gemm.input[0]]
    summed = producer[div.input[0]]
    masked = producer[summed.input[0]]
    if (div.op_type, summed.op_type, masked.op_type) != ("Div", "ReduceSum", "Mul"):
        raise ValueError(f"the pooled input is {div.op_type}({summed.op_type}({masked.op_type})), not a masked mean")
    hidden = masked.input[0]
    nodes = [
        helper.make_node("Transpose", [gemm.input[1]], ["token_embeddings.weight_t"], perm=[1, 0]),
        helper.make_node("MatMul", [hidden, "token_embeddings.weight_t"], ["token_embeddings.projected"]),
        helper.make_node("Add", ["token_embeddings.projected", gemm.input[2]], [TOKEN_EMBEDDINGS]),
    ]
    graph.node.extend(nodes)
    hidden_size = next(i for i in graph.initializer if i.name == gemm.input[2]).dims[0]
    graph.output.append(
        helper.make_tensor_value_info(TOKEN_EMBEDDINGS, TensorProto.FLOAT, ["batch", "sequence", hidden_size])
    )
    return model


def _prune(graph: onnx.GraphProto) -> None:
    while True:
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            graph.node.remove(n)
    used = {i for n in graph.node for i in n.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


MANIFEST_INPUTS = {
    SEGMENT_IDS: {
        "dtype": "int64",
        "shape": ["batch", "sequence"],
        "note": "which sequence of the row each wordpiece belongs to; a wordpiece attends only to its own "
        "segment. One sequence a row: all 1",
    },
    POSITION_IDS: {
        "dtype": "int64",
        "shape": ["batch", "sequence"],
        "note": "position of each wordpiece within its own sequence (0 at its [CLS])",
    },
}


def one_sequence_a_row(input_names, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
    """The packing inputs for rows of one sequence each, for a graph that takes
    them (none otherwise): segment 1 everywhere, positions from 0."""
    rows, length = attention_mask.shape
    feeds = {
        SEGMENT_IDS: np.ones((rows, length), np.int64),
        POSITION_IDS: np.tile(np.arange(length, dtype=np.int64), (rows, 1)),
    }
    return {name: value for name, value in feeds.items() if name in set(input_names)}


MANIFEST_TOKEN_OUTPUT = {
    "token_output": TOKEN_EMBEDDINGS,
    "token_note": "each wordpiece's vector through the projection, before pooling: the mean over a sequence's "
    "wordpieces, L2-normalized, is its sentence_embedding (how the engine pools sequences packed in one row)",
}


def make_packable(model: onnx.ModelProto) -> onnx.ModelProto:
    """Both changes: packing inputs and the per-wordpiece embedding output."""
    return add_token_embeddings(add_packing_inputs(model))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", type=Path)
    args = ap.parse_args()
    path = args.model_dir / "model.onnx"
    model = make_packable(onnx.load(str(path)))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    manifest_path = args.model_dir / "edgemine.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["inputs"].update(MANIFEST_INPUTS)
    manifest["heads"]["embedding"].update(MANIFEST_TOKEN_OUTPUT)
    data = path.read_bytes()
    manifest["files"]["model.onnx"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{path}: takes {SEGMENT_IDS} and {POSITION_IDS}, gives {TOKEN_EMBEDDINGS}; {len(data) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
