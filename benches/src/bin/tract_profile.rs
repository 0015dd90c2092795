//! Where a plan's time goes: runs one batch shape of a model through tract
//! and prints the time of each kind of node, summed over its nodes, with the
//! matrix kernels the plan chose.
//!
//!     tract-profile MODEL.onnx ROWS LENGTH [WORDS] [REPEATS]
//!
//! ROWS as `4?` runs 4 rows through a plan whose batch axis stays symbolic.
//!
//! Inputs are synthetic (ids 1000.., full attention, one sequence a row,
//! word i at wordpiece i + 1): the cost depends on the shape alone. It
//! prints the time by operator, then the slowest nodes with their matrix
//! shapes, and each kernel's share with the products it ran. Kernels are
//! chosen as edgemine chooses them; `TRACT_CPU_ISA` limits them as it does
//! for edgemine.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Result, bail};
use tract_onnx::prelude::*;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model_path, rows, length, rest @ ..] = &args[..] else {
        bail!("usage: tract-profile MODEL.onnx ROWS LENGTH [WORDS] [REPEATS]");
    };
    // `4?`: run 4 rows through a plan that leaves the batch axis symbolic.
    let symbolic_rows = rows.ends_with('?');
    let (rows, length): (usize, usize) = (rows.trim_end_matches('?').parse()?, length.parse()?);
    let words: usize = rest.first().map(|w| w.parse()).transpose()?.unwrap_or(length.saturating_sub(2).max(1));
    let repeats: usize = rest.get(1).map(|r| r.parse()).transpose()?.unwrap_or(20);
    let shape = Shape { rows, length, words, symbolic_rows };
    let model = tract_onnx::onnx().model_for_path(model_path)?.into_typed()?.into_decluttered()?;
    let (symbols, feeds) = synthetic_inputs(&model, &shape)?;
    let started = Instant::now();
    let plan = model.set_symbols(&symbols.to_dim_map())?.into_optimized()?.into_runnable()?;
    let plan_ms = started.elapsed().as_secs_f64() * 1e3;
    let times = profile(&plan, &feeds, repeats)?;
    println!(
        "{rows}x{length} (words {words}): {:.2} ms a run, {:.0} wordpieces/s on one thread; plan built in {plan_ms:.0} ms",
        times.total_ms,
        (rows * length) as f64 / times.total_ms * 1e3
    );
    // The kernels are chosen as edgemine chooses them (it adds a rule to tract's choice on some CPUs).
    println!("edgemine's kernel rule: {}", edgemine::internals::kernel_rule().unwrap_or("none on this CPU"));
    report(&plan, &times)
}

/// The batch shape to profile.
struct Shape {
    rows: usize,
    length: usize,
    words: usize,
    /// The plan leaves the batch axis symbolic.
    symbolic_rows: bool,
}

/// The values of the model's symbols for `shape`, and synthetic inputs of that shape.
fn synthetic_inputs(model: &TypedModel, shape: &Shape) -> Result<(SymbolValues, TVec<TValue>)> {
    let Shape { rows, length, words, symbolic_rows } = *shape;
    let mut symbols = SymbolValues::default();
    let mut feeds = TVec::new();
    for (ix, outlet) in model.input_outlets()?.iter().enumerate() {
        let name = &model.node(outlet.node).name;
        let columns = if name == "word_index" { words } else { length };
        for (axis, dim) in model.input_fact(ix)?.shape.iter().enumerate() {
            if let TDim::Sym(s) = dim {
                if axis > 0 || !symbolic_rows {
                    symbols = symbols.with(s, if axis == 0 { rows } else { columns } as i64);
                }
            }
        }
        let value = |r: usize, c: usize| -> i64 {
            match name.as_str() {
                "input_ids" => 1000 + ((r * 31 + c * 7) % 20000) as i64,
                "attention_mask" => 1,
                "case_ids" => (c % 3) as i64,
                "word_index" => (c + 1).min(length - 1) as i64,
                "segment_ids" => 1,
                "position_ids" => c as i64,
                _ => 0,
            }
        };
        feeds.push(tract_ndarray::Array2::from_shape_fn((rows, columns), |(r, c)| value(r, c)).into_tvalue());
    }
    Ok((symbols, feeds))
}

/// Where the time of a run went: by operator and by node, summed over the
/// repeats, and a run's mean.
struct Times {
    by_op: Vec<(String, f64)>,
    by_node: Vec<(usize, f64)>,
    total_ms: f64,
    repeats: usize,
}

/// Runs `plan` on `feeds` `repeats` times (after three warm-up runs),
/// timing every node.
fn profile(plan: &Arc<TypedSimplePlan>, feeds: &TVec<TValue>, repeats: usize) -> Result<Times> {
    let mut state = tract_onnx::tract_core::plan::SimpleState::new(plan)?;
    for _ in 0..3 {
        state.run(feeds.clone())?;
    }
    let mut by_op: HashMap<String, f64> = HashMap::new();
    let mut by_node: HashMap<usize, f64> = HashMap::new();
    let started = Instant::now();
    for _ in 0..repeats {
        state.run_plan_with_eval(feeds.clone(), |session, op_state, node, inputs| {
            let t = Instant::now();
            let out = tract_onnx::tract_core::plan::eval(session, op_state, node, inputs);
            let secs = t.elapsed().as_secs_f64();
            *by_op.entry(node.op.name().to_string()).or_default() += secs;
            *by_node.entry(node.id).or_default() += secs;
            out
        })?;
    }
    let total_ms = started.elapsed().as_secs_f64() * 1e3 / repeats as f64;
    let mut by_op: Vec<_> = by_op.into_iter().collect();
    by_op.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut by_node: Vec<_> = by_node.into_iter().collect();
    by_node.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(Times { by_op, by_node, total_ms, repeats })
}

/// Prints the time by operator, the slowest nodes, and each kernel's share
/// with the products it ran.
fn report(plan: &Arc<TypedSimplePlan>, times: &Times) -> Result<()> {
    let mut kernels: HashMap<String, usize> = HashMap::new();
    for node in plan.model().nodes() {
        for line in node.op.info()? {
            if let Some(k) = line.split("with ").nth(1) {
                *kernels.entry(k.to_string()).or_default() += 1;
            }
        }
    }
    let share = |secs: f64| {
        let ms = secs * 1e3 / times.repeats as f64;
        format!("{ms:8.3} ms {:5.1} %", 100.0 * ms / times.total_ms)
    };
    println!("by operator:");
    for (op, secs) in times.by_op.iter().take(12) {
        println!("  {}  {op}", share(*secs));
    }
    println!("slowest nodes:");
    for (id, secs) in times.by_node.iter().take(12) {
        let node = plan.model().node(*id);
        let shape = node.op.info()?.into_iter().find(|l| l.starts_with("Mult")).unwrap_or_default();
        println!("  {}  {} {}  {shape}", share(*secs), node.op.name(), node.name);
    }
    // Each kernel's share of the run, with the matrix shapes it ran.
    let mut by_kernel: HashMap<String, (f64, Vec<String>)> = HashMap::new();
    for (id, secs) in &times.by_node {
        for line in plan.model().node(*id).op.info()? {
            if let Some((shape, kernel)) = line.split_once(" with ") {
                let entry = by_kernel.entry(kernel.to_string()).or_default();
                entry.0 += secs;
                entry.1.push(shape.trim_start_matches("Mult: ").to_string());
            }
        }
    }
    let mut by_kernel: Vec<_> = by_kernel.into_iter().collect();
    by_kernel.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    println!("by kernel:");
    for (kernel, (secs, mut distinct)) in by_kernel {
        distinct.sort();
        distinct.dedup();
        let count = kernels.get(&kernel).copied().unwrap_or(0);
        println!("  kernel {count:3}x  {kernel}  {}: {}", share(secs), distinct.join("; "));
    }
    Ok(())
}
