//! The graph in ONNX Runtime, loaded at run time from `libonnxruntime`.
//!
//! Sessions: one can serve every batch, splitting each over the engine's
//! threads (ONNX Runtime's intra-op threads), so batches take turns; with
//! as many sessions as threads, each runs its batches on one thread, side
//! by side, as tract's workers do. Each session holds its own weights, so
//! more sessions cost memory: ≈ 95 MB a session for MiniLM-L6 in fp32,
//! ≈ 75 MB in int8 (weights and ONNX Runtime's buffers). Hence the default,
//! measured where it is chosen
//! ([`Backend::default_sessions`](super::Backend::default_sessions)): one
//! a thread for int8, one for fp32.
//! `Session::run` takes `&mut self` (ONNX Runtime's `Run` is not safe to
//! call concurrently on one session), so each session has its lock.
//!
//! QDQ handling follows the graph's [`Precision`]. The fp32 graph stores
//! its weights as int8 with a `DequantizeLinear` in front of each MatMul:
//! with ONNX Runtime's QDQ handling on it keeps those and dequantizes on
//! every call (≈ 1.3× slower), so its session turns QDQ handling off, and
//! constant folding then turns them into the plain fp32 weights once, at
//! load. The int8 graph is a static QDQ graph (activations and weights each
//! behind a QuantizeLinear/DequantizeLinear pair): its session keeps QDQ
//! handling on, which fuses each pair around a MatMul into an int8 product
//! (with it off the same graph ran 0.9× the fp32 speed, with it on 1.5×).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{OutputSelector, RunOptions, Session};
use tract_onnx::prelude::Tensor;

use super::{BatchInput, InputKind, Precision};
use crate::error::{Error, Result};

/// The process's ONNX Runtime, once loaded: its environment (ONNX Runtime
/// allows one a process) and the library it came from. A failed load is
/// not kept: a later engine may name another library.
static RUNTIME: Mutex<Option<(Environment, PathBuf)>> = Mutex::new(None);

/// The shared library found as [`super::Backend::OnnxRuntime`] says.
fn library_path(library: Option<&Path>) -> PathBuf {
    library
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("libonnxruntime.so"))
}

/// The environment, loading the library on first use.
fn environment(library: Option<&Path>) -> Result<Environment> {
    let wanted = library_path(library);
    let mut runtime = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((environment, loaded)) = runtime.as_ref() {
        return match library.is_none() || *loaded == wanted {
            true => Ok(environment.clone()),
            false => Err(Error::InvalidOption {
                name: "backend",
                detail: format!(
                    "ONNX Runtime is already loaded in this process from {}; a process loads one library, so \
                     name that one (or none)",
                    loaded.display()
                ),
            }),
        };
    }
    let environment = ort::init_from(&wanted)
        .map_err(|e| e.to_string())
        .and_then(|b| b.with_name("edgemine").with_telemetry(false).build().map_err(|e| e.to_string()))
        .map_err(|e| Error::InvalidOption {
            name: "backend",
            detail: format!(
                "cannot load ONNX Runtime from {}: {e}. Give the path of libonnxruntime.so 1.22 or later (the \
                 onnxruntime wheel from PyPI has one in onnxruntime/capi/) with --onnxruntime-library or \
                 ORT_DYLIB_PATH, or use the tract backend",
                wanted.display()
            ),
        })?;
    *runtime = Some((environment.clone(), wanted));
    Ok(environment)
}

pub(crate) struct OnnxRuntimeNetwork {
    path: PathBuf,
    sessions: Vec<Mutex<Session>>,
    inputs: Vec<InputKind>,
    input_names: Vec<String>,
    output_names: Vec<String>,
}

impl OnnxRuntimeNetwork {
    /// Loads the graph at `path`, which computes in `precision`, into
    /// `sessions` sessions sharing `threads` threads.
    pub fn load(
        path: &Path,
        precision: Precision,
        library: Option<&Path>,
        sessions: usize,
        threads: usize,
    ) -> Result<Self> {
        let environment = environment(library)?;
        let count = sessions.max(1);
        let per_session = (threads / count).max(1);
        // Built side by side: each optimizes the graph on its own, and the
        // first result waits for all of them (two int8 sessions built in
        // turn: 0.36 s to the first result; side by side: 0.21-0.24 s).
        let sessions = std::thread::scope(|scope| {
            let builds: Vec<_> =
                (0..count).map(|_| scope.spawn(|| Self::session(&environment, path, precision, per_session))).collect();
            builds
                .into_iter()
                .map(|b| b.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect::<Result<Vec<_>>>()
        })?;
        let input_names: Vec<String> = sessions[0].inputs().iter().map(|i| i.name().to_owned()).collect();
        let inputs = input_names.iter().map(|name| InputKind::from_name(path, name)).collect::<Result<_>>()?;
        let output_names = sessions[0].outputs().iter().map(|o| o.name().to_owned()).collect();
        let sessions = sessions.into_iter().map(Mutex::new).collect();
        Ok(Self { path: path.to_path_buf(), sessions, inputs, input_names, output_names })
    }

    /// One session of the graph at `path` on `threads` intra-op threads.
    fn session(environment: &Environment, path: &Path, precision: Precision, threads: usize) -> Result<Session> {
        let unsupported = |e: ort::Error| Error::ModelUnsupported {
            path: path.to_path_buf(),
            detail: format!("ONNX Runtime cannot load this graph: {e}"),
        };
        Session::builder(environment)
            .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::All)?))
            .and_then(|b| Ok(b.with_intra_threads(threads)?))
            .and_then(|b| Ok(b.with_inter_threads(1)?))
            // fp32: fold each stored int8 weight into fp32 once; int8: fuse
            // the QDQ pairs into int8 products (see the module's documentation).
            .and_then(|b| {
                let disable_qdq = if precision == Precision::Fp32 { "1" } else { "0" };
                Ok(b.with_config_entry("session.disable_quant_qdq", disable_qdq)?)
            })
            // Idle intra-op threads spinning would take the cores the engine
            // decodes the previous batch on (on UD dev sentences: no faster
            // within noise, 15 % more CPU time). The memory arena stays on:
            // without it the same run was 5-10 % slower and peaked higher.
            .and_then(|b| Ok(b.with_intra_op_spinning(false)?))
            .and_then(|mut b| b.commit_from_file(path))
            .map_err(unsupported)
    }

    /// How many sessions run batches.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// The graph's inputs, in order.
    pub fn inputs(&self) -> &[InputKind] {
        &self.inputs
    }

    /// The graph's output names, in order.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }

    /// Runs one batch, computing only the wanted outputs (ONNX Runtime
    /// prunes the heads nobody asked for).
    pub fn run(&self, mut input: BatchInput, wanted: &[usize]) -> Result<Vec<Tensor>> {
        let failed = |e: ort::Error| Error::Inference(format!("ONNX Runtime on {}: {e}", self.path.display()));
        let mut feeds = Vec::with_capacity(self.inputs.len());
        for (&kind, name) in self.inputs.iter().zip(&self.input_names) {
            let (data, columns) = input.take(kind);
            let tensor = ort::value::Tensor::from_array(([input.rows, columns], data)).map_err(failed)?;
            feeds.push((name.as_str(), tensor));
        }
        let selected = wanted.iter().fold(OutputSelector::no_default(), |s, &o| s.with(&self.output_names[o]));
        let options = RunOptions::new().map_err(failed)?.with_outputs(selected);
        // A free session, else the one this worker thread is mapped to.
        let mut session = self.sessions.iter().find_map(|s| s.try_lock().ok()).unwrap_or_else(|| {
            let mine = rayon::current_thread_index().unwrap_or(0) % self.sessions.len();
            self.sessions[mine].lock().unwrap_or_else(|e| e.into_inner())
        });
        let outputs = session.run_with_options(feeds, &options).map_err(failed)?;
        wanted
            .iter()
            .map(|&o| {
                let name = &self.output_names[o];
                let value = outputs
                    .get(name.as_str())
                    .ok_or_else(|| Error::Inference(format!("ONNX Runtime returned no output `{name}`")))?;
                let (shape, data) = value.try_extract_tensor::<f32>().map_err(failed)?;
                let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
                Tensor::from_shape(&dims, data).map_err(|e| Error::Inference(format!("output `{name}`: {e:#}")))
            })
            .collect()
    }
}
