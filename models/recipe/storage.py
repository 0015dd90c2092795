"""Weight-only int8 storage for ONNX graphs that tract folds back to fp32.

tract runs dynamic-int8 graphs slower than fp32 (and ~70x slower on
AVX2-only CPUs), so edgemine stores weights as int8 but computes in fp32:

* every MatMul / Gemm weight becomes an int8 initializer with one fp32 scale
  per output channel, behind a `DequantizeLinear`; tract constant-folds it
  when the plan is optimized, so inference costs nothing extra;
* the word-embedding table is not dequantized whole (tract would redo that
  on every run): its int8 rows are gathered, `Cast` to fp32 and multiplied
  by their gathered per-row scale.

Symmetric quantization (zero point 0), scale = max|w| / 127 per channel.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

MIN_ELEMENTS = 16384  # small matrices stay fp32: no size to gain


def _quantize(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    reduce_axes = tuple(i for i in range(w.ndim) if i != axis)
    scale = np.abs(w).max(axis=reduce_axes) / 127.0
    scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def store_int8(model: onnx.ModelProto, tables_only: bool = False) -> tuple[onnx.ModelProto, list[str]]:
    """Rewrite `model` in place; returns it and the names of stored weights.

    `tables_only`: store only the gathered embedding tables, leaving fp32
    MatMul weights as they are (a graph that runs its other products in
    int8 keeps the few it leaves in fp32 free of a per-call dequantize)."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def weight_axis(name: str) -> int | None:
        """Output-channel axis of `name` if every consumer is a MatMul/Gemm
        reading it as the weight operand, else None."""
        axes = set()
        for node in consumers.get(name, []):
            if node.op_type == "MatMul" and node.input[1] == name:
                axes.add(1)
            elif node.op_type == "Gemm" and node.input[1] == name:
                trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
                axes.add(0 if trans_b else 1)
            else:
                return None
        return axes.pop() if len(axes) == 1 else None

    def gather_table(name: str) -> bool:
        nodes = consumers.get(name, [])
        return bool(nodes) and all(n.op_type == "Gather" and n.input[0] == name for n in nodes)

    new_inits, new_nodes, stored = [], [], []
    for name, init in inits.items():
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.ndim != 2 or w.size < MIN_ELEMENTS:
            new_inits.append(init)
            continue
        axis = None if tables_only else weight_axis(name)
        if axis is not None:
            q, scale = _quantize(w, axis)
            new_inits += [numpy_helper.from_array(q, f"{name}.int8"), numpy_helper.from_array(scale, f"{name}.scale")]
            new_nodes.append(
                helper.make_node(
                    "DequantizeLinear", [f"{name}.int8", f"{name}.scale"], [name], name=f"{name}.dequantize", axis=axis
                )
            )
            stored.append(name)
        elif gather_table(name):
            q, scale = _quantize(w, 0)
            new_inits += [
                numpy_helper.from_array(q, f"{name}.int8"),
                numpy_helper.from_array(scale.reshape(-1, 1), f"{name}.row_scale"),
            ]
            for i, node in enumerate(consumers[name]):
                ids, out = node.input[1], node.output[0]
                tag = f"{name}.{i}"
                node.input[0] = f"{name}.int8"
                node.output[0] = f"{tag}.rows_int8"
                new_nodes += [
                    helper.make_node("Cast", [f"{tag}.rows_int8"], [f"{tag}.rows"], to=onnx.TensorProto.FLOAT),
                    helper.make_node("Gather", [f"{name}.row_scale", ids], [f"{tag}.scales"], axis=0),
                    helper.make_node("Mul", [f"{tag}.rows", f"{tag}.scales"], [out]),
                ]
            stored.append(name)
        else:
            new_inits.append(init)

    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    # Dequantize nodes first; the embedding Cast/Mul after their Gather. A
    # topological sort keeps the graph valid whatever order they were added.
    all_nodes = list(graph.node) + new_nodes
    del graph.node[:]
    graph.node.extend(_topological(all_nodes, {i.name for i in graph.initializer} | {i.name for i in graph.input}))
    return model, stored


def _topological(nodes: list[onnx.NodeProto], available: set[str]) -> list[onnx.NodeProto]:
    ready = set(available) | {""}
    pending, ordered = list(nodes), []
    while pending:
        rest = []
        for node in pending:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError(f"graph has a cycle or a missing input near {rest[0].name}")
        pending = rest
    return ordered


def plain_fp32(model: onnx.ModelProto) -> onnx.ModelProto:
    """The inverse of `store_int8`, in place: the graph a Python user exporting
    with torch would run. Every int8 weight becomes its fp32 value again (the
    values `store_int8` stored, not the original weights) and every stored
    embedding table a plain `Gather`. Benchmarks compare against this graph:
    onnxruntime runs each `DequantizeLinear` on every call, so the int8
    storage graph would make onnxruntime look 1.5x slower than it is."""
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    drop: set[int] = set()
    new_inits: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0].endswith(".int8"):
            q, scale = inits[node.input[0]], inits[node.input[1]]
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            shape[axis] = -1
            new_inits[node.output[0]] = q.astype(np.float32) * scale.reshape(shape)
            drop.add(id(node))
        elif node.op_type == "Mul" and node.input[0].endswith(".rows") and node.input[1].endswith(".scales"):
            cast, scales = producer[node.input[0]], producer[node.input[1]]
            gather = producer[cast.input[0]]
            table = gather.input[0][: -len(".int8")]
            if table not in new_inits:
                new_inits[table] = inits[gather.input[0]].astype(np.float32) * inits[f"{table}.row_scale"]
            node.op_type, node.input[:] = "Gather", [table, gather.input[1]]
            node.attribute.append(helper.make_attribute("axis", 0))
            drop.update({id(cast), id(scales), id(gather)})
    kept = [n for n in graph.node if id(n) not in drop]
    used = {i for n in kept for i in n.input}
    initializers = [i for i in graph.initializer if i.name in used and i.name not in new_inits]
    initializers += [numpy_helper.from_array(w, name) for name, w in new_inits.items() if name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.node[:]
    graph.node.extend(_topological(kept, {i.name for i in graph.initializer} | {i.name for i in graph.input}))
    return model
