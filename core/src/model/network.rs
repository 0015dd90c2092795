//! Infer: the ONNX graph, run by one of two backends behind one interface.
//!
//! - [`Backend::Tract`] (the default): tract, pure Rust and compiled in, with
//!   one optimized plan per concrete batch shape (`tract.rs`).
//! - [`Backend::OnnxRuntime`]: ONNX Runtime, loaded at run time from the
//!   `libonnxruntime` shared library a user already has (the one the
//!   `onnxruntime` wheel ships): nothing is downloaded or linked at build
//!   time (`onnxruntime.rs`). Its kernels are faster than tract's on x86.
//!
//! Both take the same [`BatchInput`] and give the wanted outputs as tract
//! tensors, so everything after inference is the same code.

mod onnxruntime;
mod tract;

use std::path::{Path, PathBuf};

use tract_onnx::prelude::Tensor;

use self::onnxruntime::OnnxRuntimeNetwork;
use self::tract::TractNetwork;
#[cfg(feature = "internals")]
pub use self::tract::kernel_rule;
use crate::error::{Error, Result};

/// The library that runs the model graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Backend {
    /// tract: pure Rust, compiled into edgemine, nothing else needed.
    #[default]
    Tract,
    /// ONNX Runtime (1.22 or later), loaded when the engine loads from the
    /// shared library at `library`; `None` = the `ORT_DYLIB_PATH`
    /// environment variable, else `libonnxruntime.so` on the system
    /// loader's path. The `onnxruntime` wheel from PyPI ships one
    /// (`onnxruntime/capi/libonnxruntime.so.*`).
    OnnxRuntime {
        /// The `libonnxruntime` shared library.
        library: Option<PathBuf>,
        /// Sessions, each with its own copy of the weights and its share
        /// of the engine's threads ([`Backend::SESSIONS_HELP`]); `None` =
        /// [`Backend::default_sessions`].
        sessions: Option<usize>,
    },
}

impl Backend {
    /// The names [`Backend::from_name`] accepts.
    pub const NAMES: [&'static str; 2] = ["tract", "onnxruntime"];

    /// What ONNX Runtime's session count means, for every interface's help.
    pub const SESSIONS_HELP: &'static str = "ONNX Runtime sessions, each with its own copy of the weights and \
        its share of the threads: 1 runs each batch on every thread, in turn; one a thread runs batches side by \
        side, one thread each (on 2 cores about 1.25x faster, for the memory). Default: one a thread for an int8 \
        graph (about 75 MB more a session with the default model), 1 for fp32 (about 95 MB a copy)";

    /// ONNX Runtime's sessions when none are asked for: one a thread for an
    /// int8 graph, whose weights are small (on UD dev sentences, 2 cores,
    /// entities+parse: 3.5 s instead of 4.4 s, 205 MB peak instead of
    /// 130 MB); one for fp32, whose copy of the weights costs ≈ 95 MB.
    pub fn default_sessions(precision: Precision, threads: usize) -> usize {
        match precision {
            Precision::Int8 => threads.max(1),
            Precision::Fp32 => 1,
        }
    }

    /// The backend called `name` (`tract` or `onnxruntime`), with ONNX
    /// Runtime's library found as [`Backend::OnnxRuntime`] says.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "tract" => Ok(Self::Tract),
            "onnxruntime" => Ok(Self::OnnxRuntime { library: None, sessions: None }),
            other => Err(Error::InvalidOption {
                name: "backend",
                detail: format!("unknown backend `{other}`; use one of {}", Self::NAMES.join(", ")),
            }),
        }
    }

    /// The backend a command line asks for with a name (`--backend`),
    /// ONNX Runtime's library (`--onnxruntime-library`) and sessions
    /// (`--onnxruntime-sessions`): ONNX Runtime's settings alone ask for
    /// ONNX Runtime; nothing, for the engine's default (`None`).
    pub fn from_args(name: Option<&str>, library: Option<PathBuf>, sessions: Option<usize>) -> Result<Option<Self>> {
        if sessions == Some(0) {
            return Err(Error::InvalidOption {
                name: "onnxruntime_sessions",
                detail: "0 sessions cannot run anything; use 1 or more".into(),
            });
        }
        let onnxruntime_settings = library.is_some() || sessions.is_some();
        Ok(match name.map(Self::from_name).transpose()? {
            Some(Self::Tract) => Some(Self::Tract),
            Some(Self::OnnxRuntime { .. }) => Some(Self::OnnxRuntime { library, sessions }),
            None if onnxruntime_settings => Some(Self::OnnxRuntime { library, sessions }),
            None => None,
        })
    }

    /// The backend's name, as [`Backend::from_name`] reads it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Tract => "tract",
            Self::OnnxRuntime { .. } => "onnxruntime",
        }
    }

    /// Whether this backend's int8 products keep the int8 graph's accuracy
    /// on this CPU, so that automatic precision may choose it.
    ///
    /// ONNX Runtime's x86 kernels multiply u8 activations by s8 weights in
    /// pairs summed to 16 bits (`vpmaddubsw`), which saturate unless the
    /// CPU has VNNI (AVX512-VNNI or AVX-VNNI) to sum them to 32 bits: on
    /// an AVX2-only EPYC the default model's int8 graph scored entity F1
    /// 75.78 on UNER EWT dev against 76.36 where VNNI computed it
    /// (`cli/tests/dev_scores.rs`). Other architectures: as the manifest
    /// says.
    pub fn int8_exact(&self) -> bool {
        match self {
            Self::Tract => true,
            #[cfg(target_arch = "x86_64")]
            Self::OnnxRuntime { .. } => {
                std::arch::is_x86_feature_detected!("avx512vnni") || std::arch::is_x86_feature_detected!("avxvnni")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Self::OnnxRuntime { .. } => true,
        }
    }
}

/// The arithmetic the graph's matrix products run in. A model folder
/// always has its fp32 graph (`model.onnx`, which may store its weights as
/// int8 but computes in fp32); it may also ship graphs that compute in int8
/// for the backends whose int8 kernels are faster than their fp32 ones
/// (the manifest's `graphs`). `None` where a precision is asked for means
/// automatic: the model's int8 graph where its manifest makes it the
/// default for the backend and the backend computes it without loss on
/// this CPU ([`Backend::int8_exact`]), else fp32. The default model's int8
/// graph is the default on ONNX Runtime with VNNI (≈ 1.3× faster there;
/// dev scores within 0.2 of fp32: its model card says how much); `fp32`
/// runs `model.onnx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// fp32 products (`model.onnx`): every backend.
    Fp32,
    /// int8 products, activations quantized with scales fixed when the
    /// graph was calibrated (so a sequence's result does not depend on the
    /// batch it runs in): the backends the model's int8 graph names.
    Int8,
}

impl Precision {
    /// The names [`Precision::from_name`] accepts: `auto` is `None`.
    pub const NAMES: [&'static str; 3] = ["auto", "fp32", "int8"];

    /// What choosing a precision does, for the help of every interface
    /// that offers the choice.
    pub const HELP: &'static str = "What the model's matrix products compute in: fp32 (model.onnx, every \
        backend), int8 (the model's int8 graph, for the backends it names: the default model's is for \
        onnxruntime, about 1.3x faster there end to end, dev scores within 0.2), or auto: whatever the model's manifest makes \
        the default for the backend (the default model: int8 on onnxruntime where the CPU has VNNI, whose \
        int8 sums do not saturate; fp32 elsewhere and on tract). Default: EDGEMINE_PRECISION, else auto";

    /// The precision called `name`; `auto` gives `None` (automatic).
    pub fn from_name(name: &str) -> Result<Option<Self>> {
        match name {
            "auto" => Ok(None),
            "fp32" => Ok(Some(Self::Fp32)),
            "int8" => Ok(Some(Self::Int8)),
            other => Err(Error::InvalidOption {
                name: "precision",
                detail: format!("unknown precision `{other}`; use one of {}", Self::NAMES.join(", ")),
            }),
        }
    }

    /// The precision's name, as [`Precision::from_name`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Int8 => "int8",
        }
    }
}

/// The inputs a graph may take, recognised by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputKind {
    InputIds,
    AttentionMask,
    TokenTypeIds,
    CaseIds,
    WordIndex,
    /// Which sequence of a packed row each wordpiece belongs to.
    SegmentIds,
    /// Each wordpiece's position within its own sequence.
    PositionIds,
}

impl InputKind {
    /// The input called `name` in the graph at `path`.
    fn from_name(path: &Path, name: &str) -> Result<Self> {
        Ok(match name {
            "input_ids" => Self::InputIds,
            "attention_mask" => Self::AttentionMask,
            "token_type_ids" => Self::TokenTypeIds,
            "case_ids" => Self::CaseIds,
            "word_index" => Self::WordIndex,
            "segment_ids" => Self::SegmentIds,
            "position_ids" => Self::PositionIds,
            _ => {
                return Err(Error::ModelUnsupported {
                    path: path.to_path_buf(),
                    detail: format!(
                        "unknown graph input `{name}`; the engine feeds input_ids, attention_mask, token_type_ids, \
                         case_ids, word_index, segment_ids and position_ids"
                    ),
                });
            }
        })
    }
}

/// The padded input tensors of one batch, row-major.
pub(crate) struct BatchInput {
    pub rows: usize,
    pub sequence: usize,
    /// Width of the word axis (equal to `sequence`; unused by wordpiece-level graphs).
    pub words: usize,
    pub input_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub case_ids: Vec<i64>,
    pub segment_ids: Vec<i64>,
    pub position_ids: Vec<i64>,
    pub word_index: Vec<i64>,
}

impl BatchInput {
    /// Takes the values of input `kind` (`rows` × the returned columns).
    fn take(&mut self, kind: InputKind) -> (Vec<i64>, usize) {
        let (sequence, words) = (self.sequence, self.words);
        match kind {
            InputKind::InputIds => (std::mem::take(&mut self.input_ids), sequence),
            InputKind::AttentionMask => (std::mem::take(&mut self.attention_mask), sequence),
            InputKind::TokenTypeIds => (vec![0; self.rows * sequence], sequence),
            InputKind::CaseIds => (std::mem::take(&mut self.case_ids), sequence),
            InputKind::WordIndex => (std::mem::take(&mut self.word_index), words),
            InputKind::SegmentIds => (std::mem::take(&mut self.segment_ids), sequence),
            InputKind::PositionIds => (std::mem::take(&mut self.position_ids), sequence),
        }
    }
}

/// A loaded graph, in the backend chosen.
pub(crate) enum Network {
    Tract(Box<TractNetwork>),
    OnnxRuntime(OnnxRuntimeNetwork),
}

impl Network {
    /// Loads `model.onnx` at `path` into `backend`. tract keeps at most
    /// `max_plans` optimized plans; ONNX Runtime's sessions share `threads`
    /// threads of their own.
    pub fn load(
        path: &Path,
        precision: Precision,
        backend: &Backend,
        max_plans: usize,
        threads: usize,
    ) -> Result<Self> {
        Ok(match backend {
            Backend::Tract => Self::Tract(Box::new(TractNetwork::load(path, max_plans)?)),
            Backend::OnnxRuntime { library, sessions } => {
                let sessions = match sessions.unwrap_or(Backend::default_sessions(precision, threads)) {
                    0 => {
                        return Err(Error::InvalidOption {
                            name: "onnxruntime_sessions",
                            detail: "0 sessions cannot run anything; use 1 or more".into(),
                        });
                    }
                    n => n,
                };
                Self::OnnxRuntime(OnnxRuntimeNetwork::load(path, precision, library.as_deref(), sessions, threads)?)
            }
        })
    }

    /// Whether each new input shape costs a plan of its own (tract
    /// optimizes one per shape; ONNX Runtime runs any shape as it comes),
    /// so that batches should keep to few shapes.
    pub fn plans_by_shape(&self) -> bool {
        matches!(self, Self::Tract(_))
    }

    /// ONNX Runtime's sessions; `None` on tract.
    pub fn onnxruntime_sessions(&self) -> Option<usize> {
        match self {
            Self::Tract(_) => None,
            Self::OnnxRuntime(n) => Some(n.sessions()),
        }
    }

    fn inputs(&self) -> &[InputKind] {
        match self {
            Self::Tract(n) => n.inputs(),
            Self::OnnxRuntime(n) => n.inputs(),
        }
    }

    fn output_names(&self) -> &[String] {
        match self {
            Self::Tract(n) => n.output_names(),
            Self::OnnxRuntime(n) => n.output_names(),
        }
    }

    /// Whether the graph takes this input.
    pub fn takes(&self, kind: InputKind) -> bool {
        self.inputs().contains(&kind)
    }

    /// Position of the graph output called `name`.
    pub fn output(&self, path: &Path, name: &str) -> Result<usize> {
        let names = self.output_names();
        names.iter().position(|n| n == name).ok_or_else(|| Error::ModelUnsupported {
            path: path.to_path_buf(),
            detail: format!("the manifest names output `{name}`, the graph has {names:?}"),
        })
    }

    /// Runs one batch and returns the wanted outputs (by position), in the
    /// order asked.
    pub fn run(&self, input: BatchInput, wanted: &[usize]) -> Result<Vec<Tensor>> {
        match self {
            Self::Tract(n) => n.run(input, wanted),
            Self::OnnxRuntime(n) => n.run(input, wanted),
        }
    }
}
