'use strict';
// Every span is exact in every offset unit, on text where the units differ.

const test = require('node:test');
const assert = require('node:assert/strict');

const { NON_ASCII, spans, engine } = require('./helpers');

test('default offsets are JavaScript string indices: text.slice(start, end) is every span', () => {
  const doc = engine().extract(NON_ASCII);
  assert.equal(doc.offsets, 'utf16');
  assert.ok(doc.entities.length && doc.keyphrases.length && doc.triples.length);
  const found = [...spans(doc)];
  for (const [text, start, end] of found) {
    assert.ok(start >= 0 && start <= end && end <= NON_ASCII.length, `${start}..${end}`);
    if (text !== null) assert.equal(NON_ASCII.slice(start, end), text);
  }
  // The hard cases are really among the spans.
  const words = found.map(([text]) => text).filter(Boolean);
  assert.ok(words.includes('Zürich') && words.includes('Kraków'));
  assert.ok(words.some((w) => w.includes('\u0301')), 'a word with a combining accent');
  assert.ok(words.some((w) => [...w].some((c) => c.codePointAt(0) > 0xffff)), 'a word outside the BMP (emoji)');
  assert.ok(words.some((w) => /[\u4e00-\u9fff]/.test(w)), 'a CJK word');
  for (const k of doc.keyphrases) {
    assert.ok(k.occurrences.some((o) => NON_ASCII.slice(o.start, o.end) === k.text), k.text);
  }
});

test('char offsets index code points and utf8 offsets index bytes', () => {
  const units = [...spans(engine().extract(NON_ASCII))];
  const codePoints = Array.from(NON_ASCII);
  const bytes = Buffer.from(NON_ASCII, 'utf8');
  for (const [unit, slice] of [
    ['char', (s, e) => codePoints.slice(s, e).join('')],
    ['utf8', (s, e) => bytes.subarray(s, e).toString('utf8')],
  ]) {
    const doc = engine().extract(NON_ASCII, { offsets: unit });
    assert.equal(doc.offsets, unit);
    const found = [...spans(doc)];
    assert.equal(found.length, units.length);
    found.forEach(([text, start, end], i) => {
      const [, s16, e16] = units[i];
      assert.equal(slice(start, end), NON_ASCII.slice(s16, e16), `${unit} ${start}..${end}`);
      if (text !== null) assert.equal(slice(start, end), text);
    });
    // The units really differ on this text.
    assert.notDeepEqual(found.map(([, , end]) => end), units.map(([, , end]) => end));
  }
});

test('an emoji at the very start and end of a document keeps every later offset exact', () => {
  const text = '🚀 Anna Keller works for Siemens in Berlin. 🇩🇪';
  const doc = engine().extract(text, { tasks: ['entities', 'parse'] });
  const labels = Object.fromEntries(doc.entities.map((e) => [text.slice(e.start, e.end), e.label]));
  assert.equal(labels['Anna Keller'], 'PER');
  for (const [t, start, end] of spans(doc)) if (t !== null) assert.equal(text.slice(start, end), t);
});
