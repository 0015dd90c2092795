//! What one extraction call computes: the tasks its options ask for,
//! checked against the model; the graph outputs they need; how documents
//! are cut into chunks and chunks laid into rows. Built once a call, read
//! by every stage after it.

use crate::batch::{Layout, Shapes};
use crate::error::{Error, Result};
use crate::keyphrases::PhraseEmbedding;
use crate::model::Model;
use crate::options::{Options, Task};
use crate::split::ChunkLimits;

/// One call as the stages see it: the model, the caller's options, what
/// they make the call compute, and the threads it runs on.
#[derive(Clone, Copy)]
pub(crate) struct Call<'c> {
    pub model: &'c Model,
    pub options: &'c Options,
    pub plan: &'c RunPlan,
    pub threads: usize,
}

/// Which wanted output holds which head.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Slots {
    pub entities: Option<usize>,
    pub upos: Option<usize>,
    pub arcs: Option<usize>,
    pub deprels: Option<usize>,
    pub embedding: Option<usize>,
    /// The embedding output gives each wordpiece's vector, not each row's.
    pub embedding_per_token: bool,
}

/// What one call computes.
pub(crate) struct RunPlan {
    pub entities: bool,
    /// Words with their parse are returned.
    pub parse: bool,
    /// Triples are read off the parse (computed whether or not it is returned).
    pub triples: bool,
    /// Key phrases are chosen (from the parse, and the candidates' embeddings).
    pub keyphrases: bool,
    /// Where the candidates' embeddings come from: the option, unless the
    /// graph gives no per-wordpiece vectors to pool in context.
    pub phrase_embedding: PhraseEmbedding,
    /// Graph outputs to compute, in slot order.
    pub wanted: Vec<usize>,
    pub slots: Slots,
    /// How documents are cut into chunks: the wordpieces of a chunk
    /// (special tokens not counted), the overlap of a cut sentence's
    /// windows, and the wordpieces of a pack of sentences.
    pub chunks: ChunkLimits,
    /// How chunks sit in the model's rows.
    pub layout: Layout,
    /// Which batch shapes suit the backend.
    pub shapes: Shapes,
}

impl RunPlan {
    /// The plan of a call with `options` on `model`, or why the options
    /// cannot run there.
    pub fn new(model: &Model, options: &Options) -> Result<Self> {
        let tasks = checked_tasks(model, options)?;
        let has = |task| tasks.contains(&task);
        let (entities, parse, triples, keyphrases) =
            (has(Task::Entities), has(Task::Parse), has(Task::Triples), has(Task::Keyphrases));
        let chunks = chunk_limits(model, options)?;
        if options.batch_wordpieces == 0 {
            return Err(Error::InvalidOption { name: "batch_wordpieces", detail: "must be at least 1".into() });
        }
        if keyphrases {
            options.keyphrases.check()?;
        }
        let (wanted, slots) = wanted_outputs(model, entities, parse || triples || keyphrases, keyphrases);
        // Rows hold several chunks, unless an embedding pooled over whole rows is wanted.
        let layout = match model.packs {
            true => Layout::Segments { pack: slots.embedding.is_none() || slots.embedding_per_token },
            false => Layout::Plain,
        };
        let shapes = match model.network.plans_by_shape() {
            true => Shapes::Few,
            false => Shapes::Fitted,
        };
        // In context needs each wordpiece's vector from the sentence pass.
        let phrase_embedding = match options.keyphrases.embedding {
            PhraseEmbedding::InContext if slots.embedding_per_token => PhraseEmbedding::InContext,
            _ => PhraseEmbedding::Alone,
        };
        Ok(Self { entities, parse, triples, keyphrases, phrase_embedding, wanted, slots, chunks, layout, shapes })
    }
}

/// The tasks `options` ask for (every one the model can do, unless they
/// name some), each one the model can do.
fn checked_tasks(model: &Model, options: &Options) -> Result<Vec<Task>> {
    let available = model.tasks();
    let tasks = options.tasks.clone().unwrap_or_else(|| available.clone());
    match tasks.iter().find(|t| !available.contains(t)) {
        Some(t) => Err(Error::TaskUnavailable {
            task: t.as_str().into(),
            detail: format!(
                "the model {} provides {}",
                model.spec.name,
                available.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }),
        None => Ok(tasks),
    }
}

/// How `options` cut documents into chunks on `model`: chunks of the
/// model's length (special tokens off) unless the options ask for less,
/// packed as the model was trained unless they say otherwise.
fn chunk_limits(model: &Model, options: &Options) -> Result<ChunkLimits> {
    let specials = model.wordpiecer.prefix().len() + model.wordpiecer.suffix().len();
    let room = model.spec.max_wordpieces.saturating_sub(specials);
    let budget = options.chunk_wordpieces.unwrap_or(room);
    if budget == 0 || budget > room {
        return Err(Error::InvalidOption {
            name: "chunk_wordpieces",
            detail: format!("{budget} wordpieces; the model takes 1 to {room} per chunk"),
        });
    }
    // Packs as the model was trained: the manifest's size, special tokens off.
    let trained_pack = model.spec.pack_wordpieces.map(|w| w.saturating_sub(specials).max(1));
    let pack = match options.pack_sentences {
        None => trained_pack,
        Some(true) => Some(trained_pack.unwrap_or(budget)),
        Some(false) => None,
    };
    Ok(ChunkLimits { wordpieces: budget, overlap: options.chunk_overlap, pack_wordpieces: pack.map(|p| p.min(budget)) })
}

/// The graph outputs the tasks need, and which of them holds which head.
fn wanted_outputs(model: &Model, entities: bool, tree: bool, keyphrases: bool) -> (Vec<usize>, Slots) {
    let outs = &model.outputs;
    let mut wanted = Vec::new();
    let mut slot = |o: Option<usize>, on: bool| {
        o.filter(|_| on).map(|o| {
            wanted.push(o);
            wanted.len() - 1
        })
    };
    let slots = Slots {
        entities: slot(outs.entities, entities),
        upos: slot(outs.upos, tree),
        arcs: slot(outs.arcs, tree),
        deprels: slot(outs.deprels, tree && outs.arcs.is_some()),
        // Per wordpiece where the graph gives it, so that rows can hold several sequences.
        embedding: slot(outs.embedding_tokens.filter(|_| model.packs).or(outs.embedding), keyphrases),
        embedding_per_token: model.packs && outs.embedding_tokens.is_some(),
    };
    (wanted, slots)
}
