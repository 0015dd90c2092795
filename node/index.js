'use strict';
// edgemine for Node.js: the public `Engine` over the native addon.
//
// Glue only: this file checks argument types (so a mistake gets a clear
// TypeError instead of a conversion failure deep in N-API), finds the
// models shipped in the package, and parses the JSON each extraction
// comes back as. Everything about text happens in the Rust core.

const fs = require('node:fs');
const path = require('node:path');

const native = loadAddon();

/** Every `code` an edgemine error can carry (see index.d.ts for their meaning). */
const errorCodes = Object.freeze(native.errorCodes());

const ENGINE_OPTIONS = ['modelDir', 'threads', 'maxPlans'];
/**
 * The options of every extraction call and the type each takes: the core's
 * document options (the HTTP API's `options`, Python's keyword arguments)
 * in camelCase, and `maxDocumentBytes`. `tasks` takes a name or an array.
 */
const OPTION_TYPES = {
  tasks: 'tasks',
  offsets: 'string',
  pretokenized: 'boolean',
  aggregation: 'string',
  chunkWordpieces: 'number',
  chunkOverlap: 'number',
  packSentences: 'boolean',
  topK: 'number',
  mmrLambda: 'number',
  keyphraseMaxWords: 'number',
  ofPhrases: 'boolean',
  sectionWords: 'number',
  shortlist: 'number',
  explainKeyphrases: 'boolean',
  keyphraseEmbedding: 'string',
  maxDocumentBytes: 'number',
};
const CALL_OPTIONS = Object.keys(OPTION_TYPES);
const BATCH_OPTIONS = [...CALL_OPTIONS, 'returnErrors'];

/** The extraction engine: load once, then call from anywhere, synchronously or with Promises. */
class Engine {
  #native;

  /**
   * @param {{modelDir?: string, threads?: number, maxPlans?: number}} [options]
   */
  constructor(options) {
    options ??= {};
    checkOptions(options, ENGINE_OPTIONS, 'new Engine()');
    const { modelDir, threads, maxPlans } = options;
    checkType(modelDir, 'string', 'modelDir');
    checkType(threads, 'number', 'threads');
    checkType(maxPlans, 'number', 'maxPlans');
    // The core looks for the default models in the package after $EDGEMINE_MODELS.
    const packageModels = path.join(__dirname, 'models');
    const [dir, count, plans] = [modelDir ?? undefined, threads ?? undefined, maxPlans ?? undefined];
    this.#native = new native.NativeEngine(dir, packageModels, count, plans);
  }

  /** Extracts from one document on this thread. */
  extract(text, options) {
    checkText(text, 'text');
    return JSON.parse(this.#native.extract(text, callOptions(options, CALL_OPTIONS, 'extract')));
  }

  /** Extracts from one document off the main thread; the event loop keeps running. */
  async extractAsync(text, options) {
    checkText(text, 'text');
    return JSON.parse(await this.#native.extractAsync(text, callOptions(options, CALL_OPTIONS, 'extractAsync')));
  }

  /**
   * Extracts from many documents at once (short documents share batches).
   * A bad document fails alone: with `returnErrors: true` its place holds
   * its Error; by default the first failure is thrown, its message
   * starting `document <index>:`.
   */
  extractBatch(texts, options) {
    checkTexts(texts);
    const items = this.#native.extractBatch(texts, callOptions(options, BATCH_OPTIONS, 'extractBatch'));
    return settle(items, options?.returnErrors === true);
  }

  /** `extractBatch` off the main thread. */
  async extractBatchAsync(texts, options) {
    checkTexts(texts);
    const items = await this.#native.extractBatchAsync(texts, callOptions(options, BATCH_OPTIONS, 'extractBatchAsync'));
    return settle(items, options?.returnErrors === true);
  }

  /** What is loaded, from where, as `edgemine models` prints it (`source: "package"` for the models in this package). */
  info() {
    return JSON.parse(this.#native.info());
  }

  /** The tasks the loaded model can do, in schema order. */
  get tasks() {
    return this.info().tasks;
  }

  /** Worker threads of the engine's pool. */
  get threads() {
    return this.#native.threads;
  }

  /** The model folder loaded. */
  get modelDir() {
    return this.info().dir;
  }
}

/** The addon that `npm install` built next to this file. */
function loadAddon() {
  const file = path.join(__dirname, 'edgemine.node');
  if (!fs.existsSync(file)) {
    const error = new Error(
      `edgemine's native addon is missing (${file}). It is built when the package is installed: ` +
        'run `npm install ./node` from the edgemine repository (needs Rust\'s cargo), or `npm run build` in node/',
    );
    error.code = 'EDGEMINE_ADDON_NOT_BUILT';
    throw error;
  }
  return require(file);
}

function settle(items, returnErrors) {
  return items.map((item) => {
    if (typeof item === 'string') return JSON.parse(item);
    if (returnErrors) return item;
    throw item;
  });
}

function invalidArgument(message) {
  const error = new TypeError(message);
  error.code = 'EDGEMINE_INVALID_ARGUMENT';
  return error;
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function checkText(text, name) {
  if (typeof text !== 'string') throw invalidArgument(`${name} must be a string, not ${describe(text)}`);
}

function checkTexts(texts) {
  if (!Array.isArray(texts)) throw invalidArgument(`texts must be an array of strings, not ${describe(texts)}`);
  texts.forEach((text, i) => checkText(text, `texts[${i}]`));
}

/** `undefined` and `null` both mean the default. */
function checkType(value, type, name) {
  if (value != null && typeof value !== type) {
    throw invalidArgument(`${name} must be a ${type}, not ${describe(value)}`);
  }
}

function checkOptions(options, known, where) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgument(`the options of ${where} must be an object, not ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const error = new TypeError(`unknown option \`${key}\` of ${where}; the options are ${known.join(', ')}`);
      error.code = 'EDGEMINE_INVALID_OPTION';
      throw error;
    }
  }
}

/** The options as the addon takes them: `tasks` always a list, types checked, `returnErrors` left here. */
function callOptions(options, known, where) {
  options ??= {};
  checkOptions(options, known, where);
  const { tasks } = options;
  const taskList = typeof tasks === 'string' ? [tasks] : (tasks ?? undefined);
  if (taskList !== undefined && (!Array.isArray(taskList) || taskList.some((t) => typeof t !== 'string'))) {
    throw invalidArgument(
      `tasks must be a task name or an array of them (entities, parse, keyphrases, triples), not ${describe(tasks)}`,
    );
  }
  checkType(options.returnErrors, 'boolean', 'returnErrors');
  // The addon takes a missing option as `undefined` only.
  const call = { tasks: taskList };
  for (const [name, type] of Object.entries(OPTION_TYPES)) {
    if (name === 'tasks') continue;
    checkType(options[name], type, name);
    call[name] = options[name] ?? undefined;
  }
  return call;
}

module.exports = { Engine, errorCodes, version: native.version() };
