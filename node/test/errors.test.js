'use strict';
// Bad input throws (or rejects with) the documented Error and code, and
// harms nothing else: a bad document fails alone in its batch.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { REPO, engine } = require('./helpers');
const { Engine, errorCodes } = require('edgemine');

const GOOD = ['Anna Keller joined Siemens in Munich.', 'Toyota opened a plant in Kraków.', 'Zoë flew to Tokyo.'];

/** An assert.throws/rejects matcher: the code, an Error instance, and words the message must hold. */
const failure = (code, ...words) => (error) => {
  assert.ok(error instanceof Error, `${error} is an Error`);
  assert.equal(error.code, code, error.message);
  for (const word of words) assert.ok(error.message.includes(word), `"${error.message}" names ${word}`);
  return true;
};

test('errorCodes lists every documented code', () => {
  const declared = fs.readFileSync(path.join(REPO, 'node', 'index.d.ts'), 'utf8');
  const documented = [...declared.matchAll(/\| '(EDGEMINE_[A-Z_]+)'/g)].map((m) => m[1]);
  assert.deepEqual([...errorCodes].sort(), [...documented].sort());
});

test('texts of the wrong type are TypeErrors', () => {
  assert.throws(() => engine().extract(42), failure('EDGEMINE_INVALID_ARGUMENT', 'text', 'a number'));
  assert.throws(() => engine().extract(), failure('EDGEMINE_INVALID_ARGUMENT', 'undefined'));
  assert.throws(() => engine().extractBatch('one text'), failure('EDGEMINE_INVALID_ARGUMENT', 'array'));
  assert.throws(() => engine().extractBatch(['ok', null]), failure('EDGEMINE_INVALID_ARGUMENT', 'texts[1]'));
  assert.throws(() => engine().extract(42), TypeError);
});

test('empty, oversized and malformed documents', () => {
  assert.throws(() => engine().extract(' \n\t'), failure('EDGEMINE_EMPTY_DOCUMENT'));
  assert.throws(
    () => engine().extract('Anna Keller joined Siemens.', { maxDocumentBytes: 10 }),
    failure('EDGEMINE_DOCUMENT_TOO_LARGE', '10'),
  );
  assert.throws(
    () => engine().extract('Anna \ud800 Keller'),
    failure('EDGEMINE_INVALID_TEXT', 'lone surrogate', 'index 5', 'toWellFormed'),
  );
});

test('bad options name themselves', () => {
  const text = GOOD[0];
  assert.throws(() => engine().extract(text, { offsets: 'lines' }), failure('EDGEMINE_INVALID_OPTION', 'lines'));
  assert.throws(() => engine().extract(text, { tasks: ['summaries'] }), failure('EDGEMINE_INVALID_OPTION', 'summaries'));
  assert.throws(() => engine().extract(text, { topK: -1 }), failure('EDGEMINE_INVALID_OPTION', 'topK'));
  assert.throws(() => engine().extract(text, { topK: 1.5 }), failure('EDGEMINE_INVALID_OPTION', 'topK'));
  assert.throws(() => engine().extract(text, { offset: 'utf8' }), failure('EDGEMINE_INVALID_OPTION', '`offset`', 'offsets'));
  assert.throws(() => engine().extract(text, { tasks: 7 }), failure('EDGEMINE_INVALID_ARGUMENT', 'tasks'));
  assert.throws(() => engine().extract(text, { topK: '3' }), failure('EDGEMINE_INVALID_ARGUMENT', 'topK'));
  assert.throws(() => engine().extract(text, 'entities'), failure('EDGEMINE_INVALID_ARGUMENT', 'object'));
  // null and undefined mean the default.
  assert.deepEqual(engine().extract(text, { topK: null, offsets: undefined }), engine().extract(text));
});

test("every option of the core's is an option here, in camelCase", () => {
  const addon = require(path.join(path.dirname(require.resolve('edgemine')), 'edgemine.node'));
  const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
  const text = GOOD[0];
  for (const name of addon.documentOptionNames().map(camel)) {
    assert.deepEqual(engine().extract(text, { [name]: undefined }), engine().extract(text), name);
  }
  assert.throws(() => engine().extract(text, { keyphraseEmbedding: 'context' }), failure('EDGEMINE_INVALID_OPTION', 'context'));
  assert.throws(() => engine().extract(text, { aggregation: 'median' }), failure('EDGEMINE_INVALID_OPTION', 'median'));
  assert.throws(() => engine().extract(text, { ofPhrases: 'no' }), failure('EDGEMINE_INVALID_ARGUMENT', 'ofPhrases'));
  assert.throws(() => engine().extract(text, { chunkWordpieces: 0 }), failure('EDGEMINE_INVALID_OPTION', 'chunk_wordpieces'));
  const quality = 'The quality of service fell. Customers noticed the quality of service.';
  const phrases = (options) => engine().extract(quality, { tasks: 'keyphrases', ...options }).keyphrases.map((k) => k.text);
  assert.ok(phrases({}).includes('quality of service'), phrases({}).join('; '));
  assert.ok(phrases({ ofPhrases: false }).every((t) => !t.includes(' of ')), phrases({ ofPhrases: false }).join('; '));
  assert.ok(phrases({ keyphraseMaxWords: 1 }).every((t) => !t.includes(' ')));
});

test('async calls reject with the same errors', async () => {
  await assert.rejects(engine().extractAsync(''), failure('EDGEMINE_EMPTY_DOCUMENT'));
  await assert.rejects(engine().extractAsync('Anna \udfff'), failure('EDGEMINE_INVALID_TEXT'));
  await assert.rejects(engine().extractAsync('ok', { offsets: 'x' }), failure('EDGEMINE_INVALID_OPTION'));
  await assert.rejects(engine().extractAsync(null), failure('EDGEMINE_INVALID_ARGUMENT'));
  await assert.rejects(engine().extractBatchAsync([GOOD[0], '']), failure('EDGEMINE_EMPTY_DOCUMENT', 'document 1:'));
});

test('a bad document fails alone in its batch', async () => {
  const texts = [GOOD[0], '', GOOD[1], 'lone \ud800 surrogate', GOOD[2]];
  const good = engine().extractBatch(GOOD);
  for (const results of [
    engine().extractBatch(texts, { returnErrors: true }),
    await engine().extractBatchAsync(texts, { returnErrors: true }),
  ]) {
    assert.equal(results.length, 5);
    assert.deepEqual([results[0], results[2], results[4]], good);
    failure('EDGEMINE_EMPTY_DOCUMENT', 'document 1:')(results[1]);
    failure('EDGEMINE_INVALID_TEXT', 'document 3:')(results[3]);
  }
  // By default the first failure is thrown, naming its document.
  assert.throws(() => engine().extractBatch(texts), failure('EDGEMINE_EMPTY_DOCUMENT', 'document 1:'));
  assert.deepEqual(engine().extractBatch([]), []);
});

test('models that are missing or damaged', () => {
  assert.throws(
    () => new Engine({ modelDir: path.join(os.tmpdir(), 'no-such-edgemine-model') }),
    failure('EDGEMINE_MODEL_NOT_FOUND', 'no-such-edgemine-model', 'EDGEMINE_MODELS'),
  );
  // A copy of the shipped model with one byte of its graph changed: the checksum catches it.
  const shipped = path.join(REPO, 'models', 'minilm-tagger');
  const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'edgemine-broken-'));
  for (const file of fs.readdirSync(shipped)) fs.copyFileSync(path.join(shipped, file), path.join(broken, file));
  const onnx = path.join(broken, 'model.onnx');
  const bytes = fs.readFileSync(onnx);
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(onnx, bytes);
  assert.throws(() => new Engine({ modelDir: broken }), failure('EDGEMINE_MODEL_CORRUPT', 'model.onnx'));
  fs.writeFileSync(path.join(broken, 'edgemine.json'), '{ not json');
  assert.throws(() => new Engine({ modelDir: broken }), failure('EDGEMINE_MODEL_CORRUPT', 'edgemine.json'));
  fs.rmSync(broken, { recursive: true });
  assert.throws(() => new Engine({ threads: -2 }), failure('EDGEMINE_INVALID_OPTION', 'threads'));
  assert.throws(() => new Engine({ modelDirectory: shipped }), failure('EDGEMINE_INVALID_OPTION', 'modelDirectory'));
  // The engine that was loaded before keeps working.
  assert.equal(engine().extract(GOOD[0], { tasks: 'entities' }).entities[0].text, 'Anna Keller');
});
