"""Rewrites of the exported graph that compute the same outputs with fewer
full-size operations: what tract runs fastest.

A `tract-profile` of a 16x64 batch (AVX2+FMA only) found a quarter of the
time outside the encoder's matrix products in two places where tract takes
its generic broadcasting path (about 4 ns an element):

* **The attention bias.** Every layer adds the [batch, 1, seq, seq] bias
  (padding and segments, packing.py) to its [batch, heads, seq, seq]
  scores, broadcasting over the heads: six slow Adds (5 % of the batch).
  `expand_attention_bias` expands it to the scores' shape once; an Add of
  two tensors of one shape is fused by tract into the product before it.
* **The dependency-label head.** The tagger scores label l of the arc from
  head j to dependent i as

      ldep_i . W_l . lhead_j  +  a_l . ldep_i  +  b_l . lhead_j  +  c_l

  and the exporter computes the bilinear term for every (i, l, j), then
  transposes it to [batch, words, words+1, labels] and adds the three other
  terms with three broadcasting Adds over that whole tensor (10 % of the
  batch, though only the label of each word's chosen head is ever read).
  `fold_label_terms` gives b_l . lhead_j to the first product as a bias
  ((ldep_i W_l + b_l) . lhead_j), adds a_l . ldep_i + c_l (one number for
  each (i, l)) along j, and leaves the scores in the order the product
  makes them, [batch, words, labels, words+1]: without the transpose tract
  fuses that last Add into the product. The manifest's `heads.deprels.shape`
  says the order; the engine reads either.

Both give the same outputs up to rounding order: on the shipped graphs in
onnxruntime, before and after, every output equal but the label scores
(|difference| <= 1.4e-5, the same argmax). They read the
patterns the exporter writes (encoder.py's `SelfAttention` and
`Tagger.forward`) and touch only what follows the quantized products, so
they apply alike to the int8-storage graph and to the static int8 graph.

    python fuse.py MODEL_DIR     # rewrite MODEL_DIR's graphs, update its manifest
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from packing import _consumers, _prune
from storage import _topological

OUTPUT = "deprel_logits"
ATTENTION_BIAS = "packing.attention_bias"


class NotThePattern(ValueError):
    """The graph is not the exporter's pattern (or is rewritten already)."""


def for_speed(model: onnx.ModelProto) -> onnx.ModelProto:
    """Both rewrites."""
    return fold_label_terms(expand_attention_bias(model))


def expand_attention_bias(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model` with its attention bias expanded once to the scores' shape."""
    graph = model.graph
    adds = _consumers(graph).get(ATTENTION_BIAS, [])
    if not adds or any(n.op_type != "Add" for n in adds):
        raise NotThePattern(f"{ATTENTION_BIAS} is not added to attention scores (packing.py makes it)")
    scores = next(i for i in adds[0].input if i != ATTENTION_BIAS)
    expanded = "attention_bias/expanded"
    graph.node.extend([
        helper.make_node("Shape", [scores], ["attention_bias/shape"]),
        helper.make_node("Expand", [ATTENTION_BIAS, "attention_bias/shape"], [expanded]),
    ])
    for add in adds:
        add.input[list(add.input).index(ATTENTION_BIAS)] = expanded
    _sort(graph)
    return model


def fold_label_terms(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model` with the label head's linear terms and bias folded into its product."""
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def made(name: str, op: str) -> onnx.NodeProto:
        node = producer.get(name)
        if node is None or node.op_type != op:
            raise NotThePattern(f"{name} is not made by {op} (found {node.op_type if node else 'nothing'})")
        return node

    def term(unsqueezed: str) -> onnx.NodeProto:
        """The MatMul of the linear term `Unsqueeze(MatMul(x, Transpose(Slice(weight))))`."""
        return made(made(unsqueezed, "Unsqueeze").input[0], "MatMul")

    add_bias = made(OUTPUT, "Add")
    add_head = made(add_bias.input[0], "Add")
    add_dep = made(add_head.input[0], "Add")
    bias = consts.get(add_bias.input[1])
    if bias is None:
        raise NotThePattern(f"the last Add's second input {add_bias.input[1]} is not a constant")
    dep_term = term(add_dep.input[1])
    head_term = term(add_head.input[1])
    transpose = made(add_dep.input[0], "Transpose")
    if list(transpose.attribute[0].ints) != [0, 1, 3, 2]:
        raise NotThePattern(f"the product is transposed by {list(transpose.attribute[0].ints)}, not [0, 1, 3, 2]")
    bilinear = made(transpose.input[0], "MatMul")
    reshape = made(bilinear.input[0], "Reshape")
    projection = made(reshape.input[0], "MatMul")
    lhead = made(made(bilinear.input[1], "Unsqueeze").input[0], "Transpose").input[0]
    if head_term.input[0] != lhead:
        raise NotThePattern("the head's linear term does not read the head vectors the product reads")
    head_weight = _constant_matrix(producer, consts, head_term.input[1])  # [d, L]
    labels = bias.shape[0]
    if head_weight.shape[1] != labels:
        raise NotThePattern(f"head term of {head_weight.shape[1]} labels, bias of {labels}")

    name = lambda s: f"label_fold/{s}"  # noqa: E731
    # (ldep W_l + b_l): b_l laid out as the projection's [labels, d] columns.
    graph.initializer.append(numpy_helper.from_array(
        np.ascontiguousarray(head_weight.T).reshape(-1).astype(np.float32), name("head_term")))
    graph.initializer.append(numpy_helper.from_array(bias.astype(np.float32), name("bias")))
    graph.initializer.append(numpy_helper.from_array(np.array([-1], np.int64), name("last_axis")))
    new = [
        helper.make_node("Add", [projection.output[0], name("head_term")], [name("projected")]),
        helper.make_node("Reshape", [name("projected"), reshape.input[1]], [name("per_label")]),
        helper.make_node("MatMul", [name("per_label"), bilinear.input[1]], [name("products")]),
        # a_l . ldep_i + c_l: one number for each (i, l), added along j
        helper.make_node("Add", [dep_term.output[0], name("bias")], [name("dep_term")]),
        helper.make_node("Unsqueeze", [name("dep_term"), name("last_axis")], [name("dep_column")]),
        helper.make_node("Add", [name("products"), name("dep_column")], [OUTPUT]),
    ]
    for node in (add_bias, add_head, add_dep, transpose):
        graph.node.remove(node)
    for output in graph.output:
        if output.name == OUTPUT:
            dims = output.type.tensor_type.shape.dim
            dims[2].dim_value = labels
            dims[3].dim_param = "words+1"
    graph.node.extend(new)
    _prune(graph)
    _sort(graph)
    return model


def manifest_deprels(labels: int) -> dict:
    """The manifest's shape and note for the folded label scores."""
    return {
        "shape": ["batch", "words", labels, "words+1"],
        "note": "deprel_logits[b, i, l, j]: label l of the arc from head j (0 = ROOT, k = k-th word) to word i+1",
    }


def _constant_matrix(producer: dict, consts: dict, name: str) -> np.ndarray:
    """The value of `name` where it is a constant weight seen through Slice and
    Transpose nodes (how the exporter writes the slices of `label_linear`)."""
    node = producer.get(name)
    if node is None:
        if name not in consts:
            raise NotThePattern(f"{name} is neither a constant nor computed")
        return consts[name]
    inputs = [_constant_matrix(producer, consts, i) if i else None for i in node.input]
    if node.op_type == "Transpose":
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        return np.transpose(inputs[0], perm)
    if node.op_type == "Slice":
        data, starts, ends = inputs[:3]
        axes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else np.arange(len(starts))
        steps = inputs[4] if len(inputs) > 4 and inputs[4] is not None else np.ones(len(starts), np.int64)
        index = [slice(None)] * data.ndim
        for s, e, a, st in zip(starts, ends, axes, steps):
            index[int(a)] = slice(int(s), int(e), int(st))
        return data[tuple(index)]
    if node.op_type == "DequantizeLinear":
        raise NotThePattern(f"{name} is quantized; fold before quantizing its linear terms")
    raise NotThePattern(f"{name} is made by {node.op_type}, not a constant slice")


def _sort(graph: onnx.GraphProto) -> None:
    """Nodes in an order where each comes after what it reads (ONNX requires it)."""
    ordered = _topological(list(graph.node), {i.name for i in graph.initializer} | {i.name for i in graph.input})
    del graph.node[:]
    graph.node.extend(ordered)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", type=Path)
    args = ap.parse_args()
    manifest_path = args.model_dir / "edgemine.json"
    manifest = json.loads(manifest_path.read_text())
    for file in ("model.onnx", "model.int8.onnx"):
        path = args.model_dir / file
        if not path.exists():
            continue
        model = for_speed(onnx.load(str(path)))
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        data = path.read_bytes()
        manifest["files"][file] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        print(f"{path}: attention bias expanded once, label terms folded; {len(data) / 1e6:.1f} MB")
    manifest["heads"]["deprels"].update(manifest_deprels(len(manifest["heads"]["deprels"]["labels"])))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
