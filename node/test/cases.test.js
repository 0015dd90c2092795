'use strict';
// The shared expected extractions (tests/cases.json) through the Node
// package, options in camelCase; the same rules as tests/cases.rs and
// python/tests/test_cases.py.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { REPO, engine } = require('./helpers');

const { cases } = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'cases.json'), 'utf8'));
const TASK_FIELDS = { entities: 'entities', parse: 'words', keyphrases: 'keyphrases', triples: 'triples' };

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** `text[start:end]` with the offsets in `unit`; undefined off a character boundary. */
function sliced(text, unit, start, end) {
  if (unit === 'utf16') return text.slice(start, end);
  if (unit === 'char') return [...text].slice(start, end).join('');
  const bytes = Buffer.from(text, 'utf8').subarray(start, end);
  const decoded = new TextDecoder('utf-8', { fatal: true });
  try {
    return decoded.decode(bytes);
  } catch {
    return undefined;
  }
}

function spans(x) {
  const out = [...(x.entities ?? []), ...(x.words ?? [])];
  for (const t of x.triples ?? []) out.push(t.subject, t.relation, ...(t.object ? [t.object] : []), ...(t.arguments ?? []));
  return out;
}

function check(c, x) {
  const unit = c.options.offsets;
  assert.equal(x.offsets, unit);
  const asked = c.options.tasks ?? Object.keys(TASK_FIELDS);
  for (const [task, field] of Object.entries(TASK_FIELDS)) assert.equal(x[field] != null, asked.includes(task), field);
  for (const s of spans(x)) assert.equal(sliced(c.text, unit, s.start, s.end), s.text);
  for (const k of x.keyphrases ?? []) {
    for (const o of k.occurrences) assert.ok(sliced(c.text, unit, o.start, o.end)?.trim(), k.text);
    assert.equal(k.features != null, c.options.explain_keyphrases === true, k.text);
  }
  const has = (rows, want) => rows.some((row) => JSON.stringify(row) === JSON.stringify(want));
  const entities = (x.entities ?? []).map((e) => [e.label, e.text]);
  const triples = (x.triples ?? []).map((t) => [t.subject.text, t.relation.text, t.object?.text]);
  const words = (x.words ?? []).map((w) => [w.text, w.upos, w.head]);
  for (const e of c.entities ?? []) assert.ok(has(entities, e), `${e} among ${JSON.stringify(entities)}`);
  for (const t of c.triples ?? []) assert.ok(has(triples, t), `${t} among ${JSON.stringify(triples)}`);
  for (const w of c.words ?? []) assert.ok(has(words, w), `${w} among ${JSON.stringify(words)}`);
  const phrases = (x.keyphrases ?? []).map((k) => k.text);
  assert.deepEqual(phrases.slice(0, (c.keyphrases ?? []).length), c.keyphrases ?? []);
  if (c.keyphrase_count !== undefined) assert.equal(phrases.length, c.keyphrase_count);
  for (const p of c.keyphrases_exclude ?? []) assert.ok(!phrases.includes(p), `${p} among ${phrases}`);
}

for (const c of cases) {
  test(c.name, () => {
    const options = Object.fromEntries(Object.entries(c.options).map(([name, value]) => [camel(name), value]));
    if (c.error) {
      assert.throws(() => engine().extract(c.text, options), (error) => error.code === `EDGEMINE_${c.error}`);
    } else {
      check(c, engine().extract(c.text, options));
    }
  });
}
