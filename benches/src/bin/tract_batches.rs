//! The tract side of the raw encoder comparison: runs the exact batches the
//! Python pipeline ran through onnxruntime, and prints the times as JSON.
//!
//!     tract-batches MODEL.onnx BATCHES.json [REPEATS] [WORKERS]
//!
//! BATCHES.json is `[{"input_ids": [[..]], "attention_mask": .., ...}, ...]`,
//! one object per batch with one 2-D array per graph input (written by
//! `benches/side_by_side.py`). Like edgemine, it optimizes one plan per
//! concrete batch shape; plan building is timed apart from running.
//! tract runs one batch on one thread; WORKERS threads (default 1) take
//! the batches in turn, as edgemine's pool does. `TRACT_CPU_ISA` limits the
//! kernels as it does for edgemine.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tract_onnx::prelude::*;

/// The values of a batch's symbolic axes, which pick its plan.
type ShapeKey = Vec<(String, i64)>;

/// The inputs of one batch, with the symbol values of its shape.
type Feed = (ShapeKey, TVec<TValue>);

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model_path, batches_path, rest @ ..] = &args[..] else {
        bail!("usage: tract-batches MODEL.onnx BATCHES.json [REPEATS] [WORKERS]");
    };
    let repeats: usize = rest.first().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let workers: usize = rest.get(1).map(|r| r.parse()).transpose()?.unwrap_or(1).max(1);
    let batches: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(batches_path)?)?;

    let started = Instant::now();
    let model = tract_onnx::onnx()
        .model_for_path(model_path)
        .and_then(|m| m.into_typed())
        .and_then(|m| m.into_decluttered())
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let feeds = batch_inputs(&model, &batches)?;
    let started = Instant::now();
    let plans = plans_by_shape(&model, &feeds)?;
    let plan_ms = started.elapsed().as_secs_f64() * 1e3;
    // One warm-up pass, then the fastest of `repeats` passes over all batches.
    let mut best = f64::INFINITY;
    for pass in 0..=repeats {
        let started = Instant::now();
        run_all(&plans, &feeds, workers)?;
        if pass > 0 {
            best = best.min(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let wordpieces: usize = feeds.iter().map(|(_, t)| t[0].len()).sum();
    println!(
        "{}",
        json!({"workers": workers, "kernel_rule": edgemine::internals::kernel_rule(), "load_ms": load_ms, "plans": plans.len(), "plan_ms": plan_ms, "run_ms": best, "padded_wordpieces": wordpieces})
    );
    Ok(())
}

/// Inputs of every batch as tensors, and the symbol values of its shape.
fn batch_inputs(model: &TypedModel, batches: &[Value]) -> Result<Vec<Feed>> {
    let input_names: Vec<String> = model.input_outlets()?.iter().map(|o| model.node(o.node).name.clone()).collect();
    let mut feeds = Vec::new();
    for batch in batches {
        let mut values = Vec::new();
        let mut tensors = TVec::new();
        for (ix, name) in input_names.iter().enumerate() {
            let rows: Vec<Vec<i64>> =
                serde_json::from_value(batch[name].clone()).with_context(|| format!("batch input {name}"))?;
            let (r, c) = (rows.len(), rows.first().map_or(0, Vec::len));
            let array = tract_ndarray::Array2::from_shape_vec((r, c), rows.concat())?;
            for (axis, dim) in model.input_fact(ix)?.shape.iter().enumerate() {
                if let TDim::Sym(s) = dim {
                    values.push((format!("{s}"), if axis == 0 { r as i64 } else { c as i64 }));
                }
            }
            tensors.push(array.into_tvalue());
        }
        values.sort();
        values.dedup();
        feeds.push((values, tensors));
    }
    Ok(feeds)
}

/// One optimized plan for each batch shape among `feeds`.
fn plans_by_shape(model: &TypedModel, feeds: &[Feed]) -> Result<HashMap<ShapeKey, Arc<TypedRunnableModel>>> {
    let mut plans: HashMap<ShapeKey, Arc<TypedRunnableModel>> = HashMap::new();
    for (values, _) in feeds {
        if plans.contains_key(values) {
            continue;
        }
        let mut symbols = SymbolValues::default();
        for (name, v) in values {
            symbols = symbols.with(&model.symbols.sym(name), *v);
        }
        let plan = model
            .clone()
            .set_symbols(&symbols.to_dim_map())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        plans.insert(values.clone(), plan);
    }
    Ok(plans)
}

/// One pass over every batch, `workers` threads taking them in turn.
fn run_all(plans: &HashMap<ShapeKey, Arc<TypedRunnableModel>>, feeds: &[Feed], workers: usize) -> Result<()> {
    std::thread::scope(|scope| -> Result<()> {
        let running: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || -> Result<()> {
                    for (values, tensors) in feeds.iter().skip(w).step_by(workers) {
                        plans[values].run(tensors.clone()).map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for r in running {
            r.join().map_err(|_| anyhow::anyhow!("a worker panicked"))??;
        }
        Ok(())
    })
}
