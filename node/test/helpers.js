'use strict';
// Shared by the node:test files: the package under test (as installed by
// `npm install ./node`), one engine, the CLI to compare against, and text
// whose UTF-16 units, code points and UTF-8 bytes all differ.

const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');

// Emoji outside the BMP (two UTF-16 units, some joined by ZWJ), CJK,
// combining marks, right-to-left script: the same text as the Python tests.
const NON_ASCII =
  'Dr. Zoë Müller 👩🏽‍🔬 met Siemens engineers in Zürich on Monday. ' +
  '北京的 Huawei team sent 🚀 rockets to São Paulo and Kraków. ' +
  'The cafe\u0301 owner, Jose\u0301 Garci\u0301a, thanked Microsoft for the 🇩🇪 flags. ' +
  'مرحبا Anna Keller visited the Tōkyō plant of Toyota, and Ω-Systems GmbH bought it.';

/** EDGEMINE_BIN, else the workspace's release build, else its debug build (as tests/locations.py). */
function cliBinary() {
  if (process.env.EDGEMINE_BIN) return path.resolve(REPO, process.env.EDGEMINE_BIN);
  for (const profile of ['release', 'debug']) {
    const bin = path.join(REPO, 'target', profile, 'edgemine');
    if (fs.existsSync(bin)) return bin;
  }
  throw new Error('no edgemine binary: run `cargo build --release -p edgemine-cli` or set EDGEMINE_BIN');
}

function sampleText() {
  return fs.readFileSync(path.join(REPO, 'samples', 'sample.txt'), 'utf8');
}

/** [text or null, start, end] of every span an extraction holds. */
function* spans(doc) {
  for (const e of doc.entities ?? []) yield [e.text, e.start, e.end];
  for (const k of doc.keyphrases ?? []) for (const o of k.occurrences) yield [null, o.start, o.end];
  for (const t of doc.triples ?? []) {
    for (const part of [t.subject, t.relation, ...(t.object ? [t.object] : []), ...(t.arguments ?? [])]) {
      yield [part.text, part.start, part.end];
      for (const piece of part.parts ?? []) yield [null, piece.start, piece.end];
    }
  }
  for (const w of doc.words ?? []) yield [w.text, w.start, w.end];
  for (const s of doc.sentences) yield [null, s.start, s.end];
}

let shared;
/** One engine for a test file, with the CLI's thread count so both batch alike. */
function engine() {
  const { Engine } = require('edgemine');
  shared ??= new Engine({ threads: 2 });
  return shared;
}

module.exports = { REPO, NON_ASCII, cliBinary, sampleText, spans, engine };
