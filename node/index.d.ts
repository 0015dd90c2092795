// Types of the `edgemine` Node package: the Engine and the output schema
// every binding shares (DESIGN.md, "Output").

/** A task the engine can run. */
export type TaskName = 'entities' | 'parse' | 'keyphrases' | 'triples';

/** The unit of every offset: UTF-16 code units (JavaScript string indices, the default), code points, or UTF-8 bytes. */
export type OffsetUnit = 'utf16' | 'char' | 'utf8';

/** The `code` of every error edgemine throws or rejects with. Stable: branch on it, not on the message. */
export type ErrorCode =
  /** An argument of the wrong type (a TypeError). */
  | 'EDGEMINE_INVALID_ARGUMENT'
  /** A string with a lone surrogate (not well-formed UTF-16); `text.toWellFormed()` repairs it. */
  | 'EDGEMINE_INVALID_TEXT'
  /** The document is empty or only whitespace. */
  | 'EDGEMINE_EMPTY_DOCUMENT'
  /** The document is larger than `maxDocumentBytes` (UTF-8). */
  | 'EDGEMINE_DOCUMENT_TOO_LARGE'
  /** An unknown option, task or offset unit, or a value out of range. */
  | 'EDGEMINE_INVALID_OPTION'
  /** A task the loaded model cannot do. */
  | 'EDGEMINE_TASK_UNAVAILABLE'
  /** The model folder or one of its files does not exist. */
  | 'EDGEMINE_MODEL_NOT_FOUND'
  /** A model file is damaged: bad checksum, bad JSON, not ONNX. */
  | 'EDGEMINE_MODEL_CORRUPT'
  /** A model the engine cannot run (operators, inputs, outputs). */
  | 'EDGEMINE_MODEL_UNSUPPORTED'
  /** Inference failed on a loaded model. */
  | 'EDGEMINE_INFERENCE_FAILED'
  /** A bug in edgemine (a Rust panic); the engine is still usable. */
  | 'EDGEMINE_PANIC';

/** An Error from edgemine: the core's message (what, where, what to do) and a stable `code`. */
export interface EdgemineError extends Error {
  code: ErrorCode;
}

export interface EngineOptions {
  /** A model folder; by default the models inside this package, or `$EDGEMINE_MODELS` when set. */
  modelDir?: string;
  /** Worker threads; by default the CPUs this process may use (or `$EDGEMINE_THREADS`). */
  threads?: number;
  /** Optimized plans kept, one per batch shape (default 16). */
  maxPlans?: number;
}

export interface ExtractOptions {
  /** One task or several; by default every task the model can do. */
  tasks?: TaskName | TaskName[];
  /** The unit of every offset (default `'utf16'`, so `text.slice(start, end)` is each span's text). */
  offsets?: OffsetUnit;
  /** The text is already tokenized: words are the runs of non-whitespace. */
  pretokenized?: boolean;
  /** How a word's scores pool from its wordpieces, for models that score wordpieces (default `'first'`). */
  aggregation?: 'first' | 'average' | 'max';
  /** Most wordpieces per chunk, special tokens not counted (default: the model's maximum). */
  chunkWordpieces?: number;
  /** Wordpieces shared by neighbouring windows of a sentence that is cut (default 32). */
  chunkOverlap?: number;
  /** Pack consecutive short sentences into one chunk, or read each alone (default: as the model was trained). */
  packSentences?: boolean;
  /** How many key phrases (default 10). */
  topK?: number;
  /** Relevance against diversity when picking key phrases, in [0, 1] (default 0.9). */
  mmrLambda?: number;
  /** Longest key phrase, in words (default 5). */
  keyphraseMaxWords?: number;
  /** Key phrases of the form "X of Y" ("quality of service"; default true). */
  ofPhrases?: boolean;
  /** Words per section of a long document, each ranked against its own embedding (default 400). */
  sectionWords?: number;
  /** Key-phrase candidates embedded and fully ranked per document (default 100, at least `topK`). */
  shortlist?: number;
  /** Add each key phrase's ranking `features`. */
  explainKeyphrases?: boolean;
  /** Where key-phrase candidates' embeddings come from: `'alone'` (a second model pass, the default) or `'in-context'` (faster, ranks a little worse). */
  keyphraseEmbedding?: 'alone' | 'in-context';
  /** Documents over this many UTF-8 bytes are refused (default 32 MiB). */
  maxDocumentBytes?: number;
}

export interface BatchOptions extends ExtractOptions {
  /** Put a failed document's Error in its place instead of throwing the first one. */
  returnErrors?: boolean;
}

/** A span of the document: `text.slice(start, end)` in the chosen unit. */
export interface Span {
  /** Start offset. */
  start: number;
  /** End offset (exclusive). */
  end: number;
}

export interface Entity extends Span {
  /** The entity's text, exactly as in the document. */
  text: string;
  /** Its type: `PER`, `ORG` or `LOC` with the default models. */
  label: string;
  /** Probability, in [0, 1], that the words' labels spell exactly this span with this type (over the label sequences IOB2 allows). */
  score: number;
  /** Index of its sentence. */
  sentence: number;
}

/** The signals behind a key phrase's score (with `explainKeyphrases`). */
export interface KeyPhraseFeatures {
  document: number;
  section: number;
  frequency: number;
  first_word: number;
  words: number;
  termhood: number;
  nested: boolean;
  word_frequency: number;
  head_share: number;
}

export interface KeyPhrase {
  /** The phrase as the document most often writes it (of equally frequent forms, the one with the fewest capitals), exactly as at one of its occurrences. */
  text: string;
  /** How likely a reader would pick it as a key phrase, in [0, 1]. Phrases come in the order diversity (MMR) picks them, which can differ from the order of their scores. */
  score: number;
  /** Every occurrence, in document order, inside longer phrases too: each span's text normalizes to the phrase's normalized form (case, plurals and hyphens aside, the same words). */
  occurrences: Span[];
  /** The signals behind the score, when asked for (`explain`). */
  features?: KeyPhraseFeatures;
}

/** A part of a triple with its span. */
export interface TripleArgument extends Span {
  /** The text, exactly as in the document: `document[start..end]`. */
  text: string;
  /** The pieces, when the words of a relation leave gaps ("turn … off", "has … been found"): each piece's span. Absent when contiguous. */
  parts?: Span[];
}

export interface Triple {
  /** Who or what. */
  subject: TripleArgument;
  /** What it does or is: the span from the relation's first word to its last (see `parts` for its pieces). Empty, at the object's start, when the relation is implied (the "is" of an apposition). */
  relation: TripleArgument;
  /** The relation as a phrase: its words joined by single spaces, or the implied verb. What an edge of a graph or an Open IE scorer reads. */
  label: string;
  /** To whom or what. `null` for a clause without an object. */
  object: TripleArgument | null;
  /** Further arguments after the object: indirect objects, obliques and clausal complements not folded into the relation, in sentence order. Absent when none. */
  arguments?: TripleArgument[];
  /** Confidence in [0, 1]: how the triple was built, times the parser's confidence in the arcs it rests on. Ranks triples; not calibrated. */
  score: number;
  /** Index of its sentence. */
  sentence: number;
}

export interface Word extends Span {
  /** The word, exactly as in the document. */
  text: string;
  /** Universal part-of-speech tag. */
  upos?: string;
  /** Index of the head word within the sentence, 1-based; 0 for the root (as in CoNLL-U). */
  head?: number;
  /** Universal dependency relation to the head. */
  deprel?: string;
  /** Index of its sentence. */
  sentence: number;
}

/** What one document gave. A task that did not run leaves its key out; one that ran and found nothing gives `[]`. */
export interface Extraction {
  /** Named entities, in document order (task `entities`). */
  entities?: Entity[];
  /** Key phrases, best first (task `keyphrases`). */
  keyphrases?: KeyPhrase[];
  /** Subject–relation–object triples (task `triples`). */
  triples?: Triple[];
  /** Sentence spans, always present. */
  sentences: Span[];
  /** Words with part of speech and dependency parse (task `parse`). */
  words?: Word[];
  /** The unit of every offset in this extraction. */
  offsets: OffsetUnit;
}

/** What is loaded, from where (as `edgemine models` prints it). */
export interface EngineInfo {
  name: string;
  version: string;
  dir: string;
  /** How the folder was found; `'package'` for the models inside this package. */
  source: string;
  manifest: string;
  tasks: TaskName[];
  entity_labels: string[];
  max_wordpieces: number;
  /** For a model trained on packed sentences, the wordpieces of a pack. */
  pack_wordpieces: number | null;
  /** The ways of embedding key-phrase candidates the model has a fitted ranker for; others rank by similarity to the document. */
  keyphrase_rankers: ('alone' | 'in-context')[];
  threads: number;
  /** The library running the graph: `'tract'` or `'onnxruntime'` (`EDGEMINE_BACKEND`). */
  backend: string;
  /** What the graph computes in: `'fp32'` or `'int8'` (`EDGEMINE_PRECISION`). */
  precision: string;
  /** ONNX Runtime's sessions (`EDGEMINE_ONNXRUNTIME_SESSIONS`); `null` on tract. */
  onnxruntime_sessions: number | null;
  load_ms: number;
}

/** The extraction engine: load once, then call from anywhere, synchronously or with Promises. */
export declare class Engine {
  /** Loads the models (a fraction of a second). Throws an EdgemineError when they cannot be loaded. */
  constructor(options?: EngineOptions);
  /** Extracts from one document on this thread. */
  extract(text: string, options?: ExtractOptions): Extraction;
  /** Extracts from one document off the main thread; the event loop keeps running. */
  extractAsync(text: string, options?: ExtractOptions): Promise<Extraction>;
  /** Extracts from many documents at once (short documents share batches); throws the first failure, `document <i>: …`. */
  extractBatch(texts: string[], options?: BatchOptions & { returnErrors?: false }): Extraction[];
  /** With `returnErrors: true`, a failed document's Error stands in its place. */
  extractBatch(texts: string[], options: BatchOptions & { returnErrors: true }): Array<Extraction | EdgemineError>;
  extractBatch(texts: string[], options?: BatchOptions): Array<Extraction | EdgemineError>;
  /** `extractBatch` off the main thread. */
  extractBatchAsync(texts: string[], options?: BatchOptions & { returnErrors?: false }): Promise<Extraction[]>;
  extractBatchAsync(
    texts: string[],
    options: BatchOptions & { returnErrors: true },
  ): Promise<Array<Extraction | EdgemineError>>;
  extractBatchAsync(texts: string[], options?: BatchOptions): Promise<Array<Extraction | EdgemineError>>;
  /** What is loaded, from where. */
  info(): EngineInfo;
  /** The tasks the loaded model can do, in schema order. */
  readonly tasks: TaskName[];
  /** Worker threads of the engine's pool. */
  readonly threads: number;
  /** The model folder loaded. */
  readonly modelDir: string;
}

/** Every code an EdgemineError can carry. */
export declare const errorCodes: readonly ErrorCode[];

/** The package version (the Rust crate's). */
export declare const version: string;
