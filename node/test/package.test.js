'use strict';
// The installed package: its version, the models it ships, and the
// README's example, run as a newcomer would.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { REPO, engine } = require('./helpers');
const edgemine = require('edgemine');

test('the version is the package.json version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'node', 'package.json'), 'utf8'));
  assert.equal(edgemine.version, pkg.version);
  assert.match(edgemine.version, /^\d+\.\d+\.\d+/);
});

test('the default models are the ones inside the package', () => {
  const saved = process.env.EDGEMINE_MODELS;
  delete process.env.EDGEMINE_MODELS;
  try {
    const info = new edgemine.Engine({ threads: 1 }).info();
    assert.equal(info.source, 'package');
    assert.equal(info.dir, path.join(REPO, 'node', 'models', 'minilm-tagger'));
    assert.deepEqual(info.tasks, ['entities', 'parse', 'keyphrases', 'triples']);
    assert.deepEqual(info.entity_labels.sort(), ['B-LOC', 'B-ORG', 'B-PER', 'I-LOC', 'I-ORG', 'I-PER', 'O']);
  } finally {
    if (saved !== undefined) process.env.EDGEMINE_MODELS = saved;
  }
  assert.equal(engine().threads, 2);
  assert.deepEqual(engine().tasks, ['entities', 'parse', 'keyphrases', 'triples']);
});

test("the README's example prints what it says", () => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Node'));
  const example = section.match(/```js\n([\s\S]*?)```/)[1];
  // Run from the repository root, where `npm install ./node` put the package.
  const out = execFileSync(process.execPath, ['-e', example], { cwd: REPO, encoding: 'utf8' });
  assert.match(out, /PER/);
  assert.match(out, /Anna Keller/);
});
