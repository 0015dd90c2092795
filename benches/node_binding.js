#!/usr/bin/env node
'use strict';
// What the Node package costs over the CLI, on the same documents.
//
//     cargo build --release -p edgemine-cli && npm install ./node
//     node benches/node_binding.js [--docs 200] [--threads N] [--tasks entities,parse,keyphrases,triples]
//
// Takes the first N documents of UD English-EWT dev (as
// benches/python_binding.py does; the data folder is EDGEMINE_DATA, default
// ../shared/data) and times, with the same threads and tasks:
// - the CLI: `edgemine extract DOCS.jsonl --input jsonl --format jsonl`, a
//   fresh process (model loading included);
// - Node: `new Engine()` plus one `extractBatch(texts)`;
// - Node: one `extract(text)` per document, as a loop would;
// - Node: one `extractAsync(text)` per document, all in flight at once;
// - Node: one `extractBatchAsync(texts)`.
// Prints seconds and words/s for each. The binary is EDGEMINE_BIN, default
// target/release/edgemine.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const ROOT = path.resolve(__dirname, '..');
const { Engine } = require(path.join(ROOT, 'node'));

/** The documents of UD English-EWT `split`, each its sentences' text joined (benches/keyphrase_lengths.py). */
function ewtDocuments(split) {
  const data = process.env.EDGEMINE_DATA || path.join(ROOT, '..', 'shared', 'data');
  const lines = fs.readFileSync(path.join(data, 'ud_ewt', `en_ewt-ud-${split}.conllu`), 'utf8').split('\n');
  const docs = [];
  let sentences = [];
  for (const line of lines) {
    if (line.startsWith('# newdoc') && sentences.length) {
      docs.push(sentences.join(' '));
      sentences = [];
    } else if (line.startsWith('# text = ')) {
      sentences.push(line.slice('# text = '.length).trim());
    }
  }
  if (sentences.length) docs.push(sentences.join(' '));
  return docs;
}

async function timed(label, words, work) {
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  console.log(`${label.padEnd(48)} ${seconds.toFixed(2).padStart(7)} s  ${(words / seconds).toFixed(0).padStart(8)} words/s`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      docs: { type: 'string', default: '200' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      tasks: { type: 'string', default: 'entities,parse,keyphrases,triples' },
    },
  });
  const threads = Number(values.threads);
  const tasks = values.tasks.split(',');
  const texts = ewtDocuments('dev').slice(0, Number(values.docs));
  const words = texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
  console.log(`${texts.length} documents, ${words} words, ${threads} threads, tasks ${values.tasks}`);

  const binary = process.env.EDGEMINE_BIN || path.join(ROOT, 'target', 'release', 'edgemine');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgemine-bench-'));
  const docs = path.join(dir, 'docs.jsonl');
  fs.writeFileSync(docs, texts.map((text, id) => `${JSON.stringify({ id, text })}\n`).join(''));
  const command = ['extract', docs, '--input', 'jsonl', '--format', 'jsonl', '--threads', String(threads), '--tasks', values.tasks];
  await timed('CLI, one process (load included)', words, () =>
    execFileSync(binary, command, { stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  fs.rmSync(dir, { recursive: true });

  await timed('Node, new Engine() + extractBatch', words, () => new Engine({ threads }).extractBatch(texts, { tasks }));
  const engine = new Engine({ threads });
  engine.extractBatch(texts.slice(0, 20), { tasks }); // warm the plans, as the CLI's run warmed its own
  await timed('Node, extract() per document', words, () => texts.map((t) => engine.extract(t, { tasks })));
  await timed('Node, extractAsync() per document, all at once', words, () =>
    Promise.all(texts.map((t) => engine.extractAsync(t, { tasks }))),
  );
  await timed('Node, extractBatchAsync', words, () => engine.extractBatchAsync(texts, { tasks }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
