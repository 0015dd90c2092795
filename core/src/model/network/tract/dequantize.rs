//! Weights stored as int8 made f32 in the ONNX graph, before tract reads it.
//!
//! The shipped graphs keep their matrix weights as int8 with a scale per
//! output channel, each behind a `DequantizeLinear` whose inputs are all
//! initializers (a quarter of the file size, no cost per run: the products
//! see f32 constants). tract folds those constants while it types the
//! graph, evaluating the Cast, Sub and Mul of its `DequantizeLinear`
//! expansion through generic element-wise code: ≈ 140 ms of a ≈ 230 ms
//! load, and three f32 copies of every weight on the way. The same
//! arithmetic here, one pass per weight, replaces each such node with the
//! f32 initializer tract would have folded it to, value for value.
//!
//! Only what the shipped graphs use is folded: int8 or uint8 values with
//! f32 scales, per tensor or per axis, stored in the file itself. Anything
//! else (blocked quantization, external data, other types, an input that is
//! not an initializer) is left to tract as before.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

/// Replaces every `DequantizeLinear` of constant int8 or uint8 weights in
/// `graph` with its f32 result, and drops the folded nodes' inputs that
/// nothing else reads. Returns how many nodes it folded.
pub(super) fn fold_constant_weights(graph: &mut GraphProto) -> usize {
    let initializers: HashMap<&str, usize> =
        graph.initializer.iter().enumerate().map(|(i, t)| (t.name.as_str(), i)).collect();
    let mut folded = Vec::new();
    // The inputs of the nodes folded: dropped unless something else reads them.
    let mut freed: HashSet<String> = HashSet::new();
    let mut kept = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        match fold(&node, &graph.initializer, &initializers) {
            Some(tensor) => {
                freed.extend(node.input.iter().cloned());
                folded.push(tensor);
            }
            None => kept.push(node),
        }
    }
    graph.node = kept;
    let count = folded.len();
    let read: HashSet<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter())
        .chain(graph.input.iter().chain(&graph.output).map(|v| &v.name))
        .map(String::as_str)
        .collect();
    freed.retain(|name| !read.contains(name.as_str()));
    graph.initializer.retain(|t| !freed.contains(&t.name));
    graph.initializer.extend(folded);
    count
}

/// The f32 initializer that replaces `node`, if it is a `DequantizeLinear`
/// of initializers that can be folded.
fn fold(node: &NodeProto, tensors: &[TensorProto], initializers: &HashMap<&str, usize>) -> Option<TensorProto> {
    if node.op_type != "DequantizeLinear" || !matches!(node.domain.as_str(), "" | "ai.onnx") {
        return None;
    }
    let constant = |i: usize| node.input.get(i).and_then(|name| initializers.get(name.as_str())).map(|&t| &tensors[t]);
    let zero = match node.input.get(2).filter(|name| !name.is_empty()) {
        Some(_) => Some(constant(2)?),
        None => None,
    };
    dequantize(node, constant(0)?, constant(1)?, zero)
}

/// The f32 initializer `node` computes from `x`, `scale` and `zero`, or
/// `None` for anything but the plain int8/uint8, f32-scaled case.
fn dequantize(
    node: &NodeProto,
    x: &TensorProto,
    scale: &TensorProto,
    zero: Option<&TensorProto>,
) -> Option<TensorProto> {
    let attribute = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.i);
    if attribute("block_size").is_some_and(|b| b != 0) || node.output.len() != 1 {
        return None;
    }
    let values = integers(x)?;
    let scales = floats(scale)?;
    let zeros = match zero {
        Some(z) if z.data_type == x.data_type => integers(z)?,
        Some(_) => return None,
        None => vec![0.0],
    };
    let dims: Vec<usize> = x.dims.iter().map(|&d| usize::try_from(d).ok()).collect::<Option<_>>()?;
    if values.is_empty() || dims.iter().product::<usize>() != values.len() {
        return None;
    }
    // The channel of element i is (i / inner) % channels; per tensor, one channel.
    let (channels, inner) = if scales.len() == 1 && zeros.len() == 1 {
        (1, values.len())
    } else {
        let rank = i64::try_from(dims.len()).ok()?;
        let axis = attribute("axis").unwrap_or(1);
        let axis = usize::try_from(if axis < 0 { axis + rank } else { axis }).ok().filter(|&a| a < dims.len())?;
        let channels = dims[axis];
        if scales.len() != channels || (zeros.len() != channels && zeros.len() != 1) {
            return None;
        }
        (channels, dims[axis + 1..].iter().product())
    };
    let zeros = if zeros.len() == channels { zeros } else { vec![zeros[0]; channels] };
    // As tract's expansion computes it: (x - zero point) * scale, in f32;
    // channel by channel, in runs the compiler vectorizes.
    let mut y = Vec::with_capacity(values.len());
    if inner == 1 {
        for row in values.chunks_exact(channels) {
            y.extend(row.iter().zip(&zeros).zip(&scales).map(|((&q, &z), &s)| (q - z) * s));
        }
    } else {
        for (k, run) in values.chunks_exact(inner).enumerate() {
            let (z, s) = (zeros[k % channels], scales[k % channels]);
            y.extend(run.iter().map(|&q| (q - z) * s));
        }
    }
    Some(TensorProto {
        name: node.output[0].clone(),
        dims: x.dims.clone(),
        data_type: DataType::Float as i32,
        float_data: y,
        ..TensorProto::default()
    })
}

/// The values of an int8 or uint8 tensor stored in the file, as f32 (exact).
fn integers(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_location.is_some_and(|l| l != 0) || !t.external_data.is_empty() {
        return None;
    }
    let from_raw = !t.raw_data.is_empty();
    match DataType::try_from(t.data_type).ok()? {
        DataType::Int8 if from_raw => Some(t.raw_data.iter().map(|&b| f32::from(b as i8)).collect()),
        DataType::Uint8 if from_raw => Some(t.raw_data.iter().map(|&b| f32::from(b)).collect()),
        // Without raw data, ONNX keeps 8-bit values in int32_data.
        DataType::Int8 | DataType::Uint8 => Some(t.int32_data.iter().map(|&v| v as f32).collect()),
        _ => None,
    }
}

/// The values of an f32 tensor stored in the file.
fn floats(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_type != DataType::Float as i32 || t.data_location.is_some_and(|l| l != 0) || !t.external_data.is_empty() {
        return None;
    }
    if t.raw_data.is_empty() {
        return Some(t.float_data.clone());
    }
    let chunks = t.raw_data.chunks_exact(4);
    if !chunks.remainder().is_empty() {
        return None;
    }
    Some(chunks.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::AttributeProto;

    use super::*;

    fn tensor(name: &str, dims: &[i64], data_type: DataType, raw: Vec<u8>) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: data_type as i32,
            raw_data: raw,
            ..Default::default()
        }
    }

    fn f32s(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn node(inputs: &[&str], axis: Option<i64>) -> NodeProto {
        NodeProto {
            op_type: "DequantizeLinear".into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec!["w".into()],
            attribute: axis
                .map(|i| AttributeProto { name: "axis".into(), i, ..Default::default() })
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    fn graph(node: NodeProto, initializers: Vec<TensorProto>) -> GraphProto {
        let reader = NodeProto { op_type: "MatMul".into(), input: vec!["x".into(), "w".into()], ..Default::default() };
        GraphProto { node: vec![node, reader], initializer: initializers, ..Default::default() }
    }

    fn folded(graph: &GraphProto) -> Vec<f32> {
        let w = graph.initializer.iter().find(|t| t.name == "w").expect("the folded weight");
        assert_eq!(w.data_type, DataType::Float as i32);
        floats(w).expect("f32 values")
    }

    #[test]
    fn per_axis_weights_take_the_scale_and_zero_point_of_their_channel() {
        // 2 × 3 int8 values, channels along axis 1 (ONNX's default) and along axis 0.
        let q = [-3i8, 0, 5, 7, -128, 127].iter().map(|&v| v as u8).collect::<Vec<_>>();
        let initializers = || {
            vec![
                tensor("q", &[2, 3], DataType::Int8, q.clone()),
                tensor("s3", &[3], DataType::Float, f32s(&[0.5, 2.0, 0.25])),
                tensor("z3", &[3], DataType::Int8, vec![1, 0, (-1i8) as u8]),
                tensor("s2", &[2], DataType::Float, f32s(&[0.5, 2.0])),
            ]
        };
        let mut g = graph(node(&["q", "s3", "z3"], None), initializers());
        assert_eq!(fold_constant_weights(&mut g), 1);
        assert_eq!(folded(&g), [-2.0, 0.0, 1.5, 3.0, -256.0, 32.0]);
        assert_eq!(g.node.len(), 1, "the DequantizeLinear is gone, its reader stays");
        let names: Vec<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["s2", "w"], "the folded node's values, scale and zero point are dropped, nothing else");

        let mut g = graph(node(&["q", "s2"], Some(0)), initializers());
        assert_eq!(fold_constant_weights(&mut g), 1);
        assert_eq!(folded(&g), [-1.5, 0.0, 2.5, 14.0, -256.0, 254.0]);
    }

    #[test]
    fn per_tensor_uint8_weights_fold_and_anything_else_is_left_to_tract() {
        let initializers = vec![
            tensor("q", &[4], DataType::Uint8, vec![0, 10, 128, 255]),
            tensor("s", &[], DataType::Float, f32s(&[0.1])),
            tensor("z", &[], DataType::Uint8, vec![128]),
        ];
        let mut g = graph(node(&["q", "s", "z"], None), initializers.clone());
        assert_eq!(fold_constant_weights(&mut g), 1);
        let expected: Vec<f32> = [0u8, 10, 128, 255].iter().map(|&q| (f32::from(q) - 128.0) * 0.1f32).collect();
        assert_eq!(folded(&g), expected);

        // An input that is not an initializer, a blocked quantization, a
        // zero point of another type: unchanged.
        let mut g = graph(node(&["x", "s", "z"], None), initializers.clone());
        assert_eq!(fold_constant_weights(&mut g), 0);
        let mut blocked = node(&["q", "s", "z"], None);
        blocked.attribute.push(AttributeProto { name: "block_size".into(), i: 2, ..Default::default() });
        let mut g = graph(blocked, initializers.clone());
        assert_eq!(fold_constant_weights(&mut g), 0);
        let mut other = initializers;
        other[2] = tensor("z", &[], DataType::Int8, vec![0]);
        let mut g = graph(node(&["q", "s", "z"], None), other);
        assert_eq!(fold_constant_weights(&mut g), 0);
        assert_eq!(g.node.len(), 2);
        assert_eq!(g.initializer.len(), 3, "nothing dropped");
    }
}
