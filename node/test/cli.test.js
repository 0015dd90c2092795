'use strict';
// The Node package and the CLI give the same JSON for the same input.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { NON_ASCII, cliBinary, sampleText, engine } = require('./helpers');

function cliJson(...args) {
  const out = execFileSync(cliBinary(), ['extract', '--threads', '2', '--format', 'jsonl', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return out
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const { id, ...doc } = JSON.parse(line);
      return doc;
    });
}

function tempFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgemine-node-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, 'utf8');
  return file;
}

for (const offsets of ['utf16', 'char', 'utf8']) {
  test(`extract equals the CLI in ${offsets} offsets`, () => {
    const text = `${sampleText()}\n${NON_ASCII}`;
    const [expected] = cliJson(tempFile('doc.txt', text), '--offsets', offsets);
    const doc = engine().extract(text, { offsets });
    assert.deepEqual(doc, expected);
    assert.ok(doc.entities.length > 0 && doc.triples.length > 0 && doc.words.length > 0);
  });
}

test('offsets default to utf16, as the CLI gives them with --offsets utf16', () => {
  const [expected] = cliJson(tempFile('doc.txt', NON_ASCII), '--offsets', 'utf16');
  assert.deepEqual(engine().extract(NON_ASCII), expected);
});

test('extractBatch and extractBatchAsync equal the CLI on lines', async () => {
  const lines = `${sampleText()}\n${NON_ASCII}`.split('\n').filter((line) => line.trim());
  const expected = cliJson(
    tempFile('lines.txt', `${lines.join('\n')}\n`),
    '--input',
    'lines',
    '--offsets',
    'utf16',
    '--tasks',
    'entities,keyphrases,triples',
    '--top-k',
    '5',
  );
  const options = { tasks: ['entities', 'keyphrases', 'triples'], topK: 5 };
  assert.deepEqual(engine().extractBatch(lines, options), expected);
  assert.deepEqual(await engine().extractBatchAsync(lines, options), expected);
});

test('extractAsync and the key-phrase options equal the CLI flags', async () => {
  const text = sampleText();
  const [expected] = cliJson(
    tempFile('doc.txt', text),
    '--offsets',
    'utf16',
    '--tasks',
    'keyphrases',
    '--top-k',
    '4',
    '--mmr-lambda',
    '0.5',
    '--explain-keyphrases',
  );
  const doc = await engine().extractAsync(text, { tasks: 'keyphrases', topK: 4, mmrLambda: 0.5, explainKeyphrases: true });
  assert.deepEqual(doc, expected);
  assert.equal(doc.keyphrases.length, 4);
  assert.equal(typeof doc.keyphrases[0].features.termhood, 'number');
  assert.equal(doc.entities, undefined, 'a task that did not run leaves its key out');
});
