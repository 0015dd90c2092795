//! The graph in tract, with one optimized plan per concrete batch shape.
//!
//! The graph is loaded once (tract memory-maps `model.onnx` while it parses
//! it), typed and decluttered with its symbolic axes. A plan for a concrete
//! (batch, sequence, words) shape and a set of wanted outputs is optimized
//! the first time that shape is asked for and cached: a plan for concrete
//! shapes runs about 1.5× faster than one with symbolic axes, and leaving
//! out unwanted outputs (the parse, when only entities are asked for) prunes
//! their heads from the plan. Two threads asking for the same new shape wait
//! for one build.
//!
//! Each plan holds its own copy of the weights, packed for the kernels
//! chosen for its shape (with its buffers, ≈ 35–55 MB resident for
//! MiniLM-L6), so the cache keeps at most
//! `max_plans` of them and forgets the one used longest ago; a batch still
//! running on a forgotten plan keeps it alive until it ends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tract_onnx::prelude::*;

use super::{BatchInput, InputKind};
use crate::error::{Error, Result};

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
}

impl TractNetwork {
    /// Loads and declutters `model.onnx`; keeps at most `max_plans`
    /// optimized plans.
    pub fn load(path: &Path, max_plans: usize) -> Result<Self> {
        let onnx = tract_onnx::onnx();
        let proto = onnx.proto_model_for_path(path).map_err(|e| Error::ModelCorrupt {
            path: path.to_path_buf(),
            detail: format!("not a readable ONNX file ({e})"),
        })?;
        let unsupported = |e: TractError| Error::ModelUnsupported {
            path: path.to_path_buf(),
            detail: format!(
                "tract cannot run this graph: {e:#}. Export it with opset 13..18 and dynamic batch and sequence axes"
            ),
        };
        let model = onnx
            .model_for_proto_model(&proto)
            .and_then(|m| m.into_typed())
            .and_then(|m| m.into_decluttered())
            .map_err(unsupported)?;
        drop(proto);

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

    fn build_plan(&self, (rows, sequence, words, _): PlanKey, wanted: &[usize]) -> TractResult<Plan> {
        let mut model = self.model.clone();
        let outlets: Vec<OutletId> =
            wanted.iter().map(|&o| model.output_outlets().map(|all| all[o])).collect::<TractResult<_>>()?;
        model.select_output_outlets(&outlets)?;
        let mut values = SymbolValues::default().with(&self.batch, rows as i64).with(&self.sequence, sequence as i64);
        if let Some(w) = &self.words {
            values = values.with(w, words as i64);
        }
        model.set_symbols(&values.to_dim_map())?.into_optimized()?.into_runnable()
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
}
