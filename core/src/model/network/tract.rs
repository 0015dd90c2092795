//! The graph in tract, with one optimized plan per concrete batch shape.
//!
//! The graph is loaded once (tract memory-maps `model.onnx` while it parses
//! it; weights stored as int8 are made f32 first, [`dequantize`]), typed and
//! decluttered with its symbolic axes. A plan for a concrete
//! (batch, sequence, words) shape and a set of wanted outputs is optimized
//! the first time that shape is asked for and cached: a plan for concrete
//! shapes runs about 1.5× faster than one with symbolic axes, and leaving
//! out unwanted outputs (the parse, when only entities are asked for) prunes
//! their heads from the plan. Two threads asking for the same new shape wait
//! for one build.
//!
//! tract packs a plan's weights for the kernels it chose for the plan's
//! shape (≈ 50 MB for MiniLM-L6). Shapes often choose the same packing for
//! most weights, so a new plan's packed weights that hold the same values
//! as a live plan's are shared with it ([`PackedWeights`]): a plan then
//! costs ≈ 5–40 MB, not 50. Plans are built one at a time, each packing its
//! own copy before sharing. The cache keeps at most `max_plans` plans and
//! forgets the one used longest ago; a batch still running on a forgotten
//! plan keeps it alive until it ends, and packed weights live as long as a
//! plan uses them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::matmul::optimized::{MatMulOperand, OptMatMul, ProtoFusedSpec};
use tract_onnx::tract_core::tract_linalg::mmm::{EagerPackedInput, MMMInputValue, PackedExoticFact};
use tract_onnx::tract_core::tract_linalg::pack::PackedFormat;

use super::{BatchInput, InputKind};
use crate::error::{Error, Result};

mod dequantize;
#[cfg(target_arch = "x86_64")]
mod kernels;
#[cfg(all(target_arch = "x86_64", feature = "internals"))]
pub use kernels::active_rule as kernel_rule;

/// The rule edgemine adds to tract's choice of matrix kernels for this CPU:
/// none outside x86-64.
#[cfg(all(not(target_arch = "x86_64"), feature = "internals"))]
pub fn kernel_rule() -> Option<&'static str> {
    None
}

type Plan = Arc<TypedRunnableModel>;
type PlanKey = (usize, usize, usize, u64);
/// A plan built once (a failed build is kept as its message).
type PlanCell = Arc<OnceLock<Result<Plan, String>>>;

/// Plans by shape, least recently used forgotten first.
#[derive(Default)]
struct PlanCache {
    plans: HashMap<PlanKey, (PlanCell, u64)>,
    clock: u64,
}

impl PlanCache {
    /// The cell for `key`, new if needed, evicting down to `capacity`.
    fn cell(&mut self, key: PlanKey, capacity: usize) -> PlanCell {
        self.clock += 1;
        let now = self.clock;
        if let Some((cell, used)) = self.plans.get_mut(&key) {
            *used = now;
            return cell.clone();
        }
        while self.plans.len() >= capacity.max(1) {
            let Some(oldest) = self.plans.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k) else { break };
            self.plans.remove(&oldest);
        }
        self.plans.entry(key).or_insert_with(|| (PlanCell::default(), now)).0.clone()
    }
}

/// The packed weights of the plans alive, to share among them.
///
/// Packing is a pure function of the weight and its packing (format, `k`,
/// `mn`: [`EagerPackedInput::fact`]), so two packed weights with equal
/// facts and equal values are interchangeable; only such pairs are merged.
#[derive(Default)]
struct PackedWeights {
    known: Vec<KnownPacking>,
}

/// A packed weight some plan holds: its bytes held weakly, so that a
/// packing no plan uses any longer is freed with its last plan.
struct KnownPacking {
    fact: PackedExoticFact,
    panel_bytes: usize,
    mn: usize,
    bytes: Weak<Blob>,
}

impl KnownPacking {
    /// The bytes of this packing if `packed` is the same packing of the
    /// same values.
    fn bytes_of(&self, packed: &EagerPackedInput) -> Option<Arc<Blob>> {
        if self.fact != packed.fact || self.panel_bytes != packed.panel_bytes || self.mn != packed.mn {
            return None;
        }
        let bytes = self.bytes.upgrade()?;
        same_values(&packed.fact, packed.panel_bytes, &bytes, &packed.packed).then_some(bytes)
    }
}

/// Whether two packings of one [`PackedFormat`] hold the same values.
///
/// A panel is `r` columns of `k` records, then padding records and
/// alignment that tract leaves uninitialized and its kernels never use
/// (lanes past `mn` in the last panel are zeroed), so only the first
/// `k × r` values of each panel are compared. Other formats are never
/// taken for equal.
fn same_values(fact: &PackedExoticFact, panel_bytes: usize, a: &Blob, b: &Blob) -> bool {
    let Some(format) = fact.format.downcast_ref::<PackedFormat>() else { return false };
    let used = fact.k * format.r * format.dt.size_of();
    if a.len() != b.len() || panel_bytes == 0 || used > panel_bytes {
        return false;
    }
    a.as_bytes().chunks(panel_bytes).zip(b.as_bytes().chunks(panel_bytes)).all(|(x, y)| {
        let n = used.min(x.len());
        x[..n] == y[..n]
    })
}

impl PackedWeights {
    /// Points the constant operands of `plan`'s matrix products at equal
    /// packed weights already known, and makes the others known. Returns
    /// the bytes shared.
    fn share(&mut self, plan: &mut TypedModel) -> usize {
        self.known.retain(|known| known.bytes.strong_count() > 0);
        let mut shared = 0;
        for node in &mut plan.nodes {
            let Some(product) = node.op_as_mut::<OptMatMul>() else { continue };
            for spec in &mut product.micro_ops {
                let ProtoFusedSpec::AddMatMul { a, b, .. } = spec else { continue };
                for operand in [a, b] {
                    if let MatMulOperand::Const(value) = operand {
                        shared += self.share_one(value);
                    }
                }
            }
        }
        shared
    }

    fn share_one(&mut self, value: &mut Box<dyn MMMInputValue>) -> usize {
        let Some(packed) = value.downcast_ref::<EagerPackedInput>() else { return 0 };
        match self.known.iter().find_map(|known| known.bytes_of(packed)) {
            Some(bytes) => {
                let len = bytes.len();
                *value = Box::new(EagerPackedInput { packed: bytes, ..packed.clone() });
                len
            }
            None => {
                self.known.push(KnownPacking {
                    fact: packed.fact.clone(),
                    panel_bytes: packed.panel_bytes,
                    mn: packed.mn,
                    bytes: Arc::downgrade(&packed.packed),
                });
                0
            }
        }
    }
}

pub(crate) struct TractNetwork {
    path: PathBuf,
    model: TypedModel,
    inputs: Vec<InputKind>,
    batch: Symbol,
    sequence: Symbol,
    words: Option<Symbol>,
    output_names: Vec<String>,
    plans: Mutex<PlanCache>,
    max_plans: usize,
    packed_weights: Mutex<PackedWeights>,
}

impl TractNetwork {
    /// Loads and declutters `model.onnx`; keeps at most `max_plans`
    /// optimized plans.
    pub fn load(path: &Path, max_plans: usize) -> Result<Self> {
        let mut proto = tract_onnx::onnx().proto_model_for_path(path).map_err(|e| Error::ModelCorrupt {
            path: path.to_path_buf(),
            detail: format!("not a readable ONNX file ({e})"),
        })?;
        if let Some(graph) = proto.graph.as_mut() {
            dequantize::fold_constant_weights(graph);
        }
        let network = Self::from_proto(path, proto, max_plans);
        // The file's tensors and tract's copies on the way are free now.
        crate::process::return_free_memory();
        network
    }

    /// The network of the ONNX graph `proto`, read from `path`.
    fn from_proto(path: &Path, proto: tract_onnx::pb::ModelProto, max_plans: usize) -> Result<Self> {
        let onnx = tract_onnx::onnx();
        let unsupported = |e: TractError| Error::ModelUnsupported {
            path: path.to_path_buf(),
            detail: format!(
                "tract cannot run this graph: {e:#}. Export it with opset 13..18 and dynamic batch and sequence axes"
            ),
        };
        let model = onnx.model_for_proto_model(&proto);
        // The graph holds its own copy of the weights now: free the file's
        // before typing makes more.
        drop(proto);
        let model = model.and_then(|m| m.into_typed()).and_then(|m| m.into_decluttered()).map_err(unsupported)?;

        let mut inputs = Vec::new();
        for outlet in model.input_outlets().map_err(unsupported)? {
            let name = &model.node(outlet.node).name;
            inputs.push(InputKind::from_name(path, name)?);
        }
        let axis = |kind: InputKind, k: usize, what: &str| -> Result<Symbol> {
            let ix = inputs.iter().position(|&i| i == kind).ok_or_else(|| Error::ModelUnsupported {
                path: path.to_path_buf(),
                detail: format!("the graph has no {kind:?} input"),
            })?;
            let fact = model.input_fact(ix).map_err(unsupported)?;
            match fact.shape.get(k) {
                Some(TDim::Sym(s)) => Ok(s.clone()),
                other => Err(Error::ModelUnsupported {
                    path: path.to_path_buf(),
                    detail: format!(
                        "the {what} axis of input {kind:?} is {other:?}, not symbolic; export with dynamic axes"
                    ),
                }),
            }
        };
        let batch = axis(InputKind::InputIds, 0, "batch")?;
        let sequence = axis(InputKind::InputIds, 1, "sequence")?;
        let words =
            if inputs.contains(&InputKind::WordIndex) { Some(axis(InputKind::WordIndex, 1, "words")?) } else { None };
        let output_names = model
            .output_outlets()
            .map_err(unsupported)?
            .iter()
            .map(|&o| model.outlet_label(o).map(str::to_owned).unwrap_or_else(|| model.node(o.node).name.clone()))
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            model,
            inputs,
            batch,
            sequence,
            words,
            output_names,
            plans: Mutex::default(),
            max_plans,
            packed_weights: Mutex::default(),
        })
    }

    /// The graph's inputs, in order.
    pub fn inputs(&self) -> &[InputKind] {
        &self.inputs
    }

    /// The graph's output names, in order.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }

    /// Runs one batch and returns the wanted outputs (by position), in the
    /// order asked.
    pub fn run(&self, mut input: BatchInput, wanted: &[usize]) -> Result<Vec<Tensor>> {
        let mask = wanted.iter().fold(0u64, |m, &o| m | (1 << o));
        let plan = self.plan((input.rows, input.sequence, input.words, mask), wanted)?;
        let mut feeds = TVec::new();
        for &kind in &self.inputs {
            let (data, columns) = input.take(kind);
            let array = tract_ndarray::Array2::from_shape_vec((input.rows, columns), data)
                .map_err(|e| Error::Inference(format!("input of the wrong size: {e}")))?;
            feeds.push(array.into_tvalue());
        }
        let outputs = plan.run(feeds).map_err(|e| Error::Inference(format!("{e:#}")))?;
        Ok(outputs.into_iter().map(|v| v.into_tensor()).collect())
    }

    fn plan(&self, key: PlanKey, wanted: &[usize]) -> Result<Plan> {
        let cell = {
            let mut plans = self.plans.lock().map_err(|_| Error::Inference("plan cache poisoned".into()))?;
            plans.cell(key, self.max_plans)
        };
        cell.get_or_init(|| self.build_plan(key, wanted).map_err(|e| format!("{e:#}"))).clone().map_err(|e| {
            Error::ModelUnsupported {
                path: self.path.clone(),
                detail: format!("cannot build a plan for batch {}×{}: {e}", key.0, key.1),
            }
        })
    }

    fn build_plan(&self, key: PlanKey, wanted: &[usize]) -> TractResult<Plan> {
        // One build at a time: each packs its own copy of the weights before
        // it can share them, so builds at once would peak at a copy each.
        // A poisoned lock only means that another build panicked: the list
        // is still a list of live packings.
        let mut packed_weights = self.packed_weights.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut plan = self.optimize(key, wanted)?;
        packed_weights.share(&mut plan);
        drop(packed_weights);
        // The packing just replaced by a shared one is free now.
        crate::process::return_free_memory();
        plan.into_runnable()
    }

    /// The graph optimized for one concrete shape and the wanted outputs.
    fn optimize(&self, (rows, sequence, words, _): PlanKey, wanted: &[usize]) -> TractResult<TypedModel> {
        let mut model = self.model.clone();
        let outlets: Vec<OutletId> =
            wanted.iter().map(|&o| model.output_outlets().map(|all| all[o])).collect::<TractResult<_>>()?;
        model.select_output_outlets(&outlets)?;
        let mut values = SymbolValues::default().with(&self.batch, rows as i64).with(&self.sequence, sequence as i64);
        if let Some(w) = &self.words {
            values = values.with(w, words as i64);
        }
        model.set_symbols(&values.to_dim_map())?.into_optimized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_forgets_the_plan_used_longest_ago() {
        let mut cache = PlanCache::default();
        let a = cache.cell((1, 16, 16, 1), 2);
        let _b = cache.cell((2, 16, 16, 1), 2);
        assert!(Arc::ptr_eq(&a, &cache.cell((1, 16, 16, 1), 2)), "a cached plan is reused");
        cache.cell((4, 16, 16, 1), 2);
        assert_eq!(cache.plans.len(), 2);
        assert!(cache.plans.contains_key(&(1, 16, 16, 1)), "used most recently, kept");
        assert!(!cache.plans.contains_key(&(2, 16, 16, 1)), "used longest ago, forgotten");
    }

    fn packed(values: &Tensor, format: &PackedFormat) -> EagerPackedInput {
        let packed = format.pack_tensor(values, 0, 1).expect("packs");
        packed.downcast_ref::<EagerPackedInput>().expect("an eager packing").clone()
    }

    #[test]
    fn packings_are_the_same_values_whatever_their_padding_holds() {
        // k = 5 records of mn = 7 columns, in panels of r = 4: two panels,
        // each with a padding record and alignment after its 5 × 4 values.
        let values = Tensor::from_shape(&[5, 7], &(0..35).map(|v| v as f32).collect::<Vec<_>>()).expect("a tensor");
        let format = PackedFormat::new(f32::datum_type(), 4, 32);
        let a = packed(&values, &format);
        let mut b = packed(&values, &format);
        let used = 5 * 4 * 4;
        assert!(b.panel_bytes > used, "the format pads its panels");
        let bytes = Arc::make_mut(&mut b.packed).as_bytes_mut();
        bytes[used..a.panel_bytes].fill(0xA5);
        assert!(same_values(&a.fact, a.panel_bytes, &a.packed, &b.packed), "padding is not a value");

        let bytes = Arc::make_mut(&mut b.packed).as_bytes_mut();
        bytes[a.panel_bytes + 3] ^= 1;
        assert!(!same_values(&a.fact, a.panel_bytes, &a.packed, &b.packed), "a value of the second panel differs");
    }

    fn fixture() -> TractNetwork {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/fixtures/tiny-bert-ner/model.onnx");
        TractNetwork::load(&path, 4).expect("the fixture loads")
    }

    /// Runs `plan` on made-up wordpieces, all attended to.
    fn run(plan: TypedModel, rows: usize, sequence: usize, inputs: &[InputKind]) -> Vec<Tensor> {
        let value = |kind: InputKind, r: usize, c: usize| match kind {
            InputKind::InputIds => 1000 + ((r * 31 + c * 7) % 900) as i64,
            InputKind::AttentionMask => 1,
            _ => 0,
        };
        let feeds = inputs
            .iter()
            .map(|&kind| tract_ndarray::Array2::from_shape_fn((rows, sequence), |(r, c)| value(kind, r, c)))
            .map(IntoTValue::into_tvalue)
            .collect();
        let outputs = plan.into_runnable().expect("runnable").run(feeds).expect("runs");
        outputs.into_iter().map(|v| v.into_tensor()).collect()
    }

    #[test]
    fn weights_folded_before_tract_compute_what_tracts_own_folding_does() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/minilm-tagger/model.onnx");
        let raw = tract_onnx::onnx().proto_model_for_path(&path).expect("the shipped graph reads");
        let mut folded = raw.clone();
        let graph = folded.graph.as_mut().expect("a graph");
        assert!(dequantize::fold_constant_weights(graph) >= 36, "six layers of six matrices each, at least");
        assert!(graph.node.iter().all(|n| n.op_type != "DequantizeLinear"), "every weight folded");
        let ours = TractNetwork::from_proto(&path, folded, 1).expect("loads");
        let tracts = TractNetwork::from_proto(&path, raw, 1).expect("loads");
        let wanted: Vec<usize> = (0..ours.output_names().len()).collect();
        let outputs = |network: &TractNetwork| {
            let plan = network.optimize((2, 16, 16, 0), &wanted).expect("optimizes");
            run(plan, 2, 16, network.inputs())
        };
        assert_eq!(outputs(&ours), outputs(&tracts), "every output, value for value");
    }

    #[test]
    fn plans_of_other_shapes_share_packed_weights_and_compute_the_same() {
        let network = fixture();
        let wanted = [0];
        let mut shared = PackedWeights::default();
        let mut first = network.optimize((4, 16, 0, 1), &wanted).expect("optimizes");
        assert_eq!(shared.share(&mut first), 0, "nothing to share with yet");
        let mut second = network.optimize((2, 16, 0, 1), &wanted).expect("optimizes");
        let bytes = shared.share(&mut second);
        assert!(bytes > 0, "a plan of another batch size packs some weights as the first did");

        let alone = network.optimize((2, 16, 0, 1), &wanted).expect("optimizes");
        let inputs = network.inputs();
        assert_eq!(run(second, 2, 16, inputs), run(alone, 2, 16, inputs), "shared weights compute what its own did");
        drop(first);
        assert!(
            shared.known.iter().all(|k| k.bytes.strong_count() == 0),
            "packings are freed with the last plan that uses them"
        );
    }

    #[test]
    fn free_memory_is_handed_back_after_loading_and_after_each_plan() {
        // Counted on this thread: other tests load networks too.
        thread_local! { static CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) }; }
        assert!(crate::process::return_free_memory_with(|| CALLS.with(|c| c.set(c.get() + 1))), "no other hook");
        let network = fixture();
        assert_eq!(CALLS.with(|c| c.get()), 1, "once loaded");
        network.plan((1, 16, 0, 1), &[0]).expect("a plan");
        network.plan((1, 16, 0, 1), &[0]).expect("the same plan");
        assert_eq!(CALLS.with(|c| c.get()), 2, "once a plan is built, not when it is reused");
    }
}
