'use strict';
// The Promise calls run off the main thread: the event loop keeps turning
// while they work, and concurrent calls give what serial calls give.

const test = require('node:test');
const assert = require('node:assert/strict');

const { NON_ASCII, sampleText, engine } = require('./helpers');

/** Counts the ticks of a 5 ms timer while `work` runs. */
async function ticksDuring(work) {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const started = performance.now();
  try {
    const result = await work();
    return { result, ticks, ms: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

const documents = () => {
  const lines = `${sampleText()}\n${NON_ASCII}`.split('\n').filter((line) => line.trim());
  return Array.from({ length: 3 }, () => lines).flat();
};

test('extractBatchAsync lets a timer on the event loop tick while it works', async (t) => {
  const texts = documents();
  const sync = await ticksDuring(async () => engine().extractBatch(texts));
  const async_ = await ticksDuring(() => engine().extractBatchAsync(texts));
  // The synchronous call holds the loop: the timer cannot fire until it returns.
  assert.ok(sync.ticks <= 1, `sync: ${sync.ticks} ticks in ${sync.ms.toFixed(0)} ms`);
  // The Promise call leaves it free: the timer fires most of its 5 ms slots
  // (at least a quarter, against none), and the results are the same.
  const slots = async_.ms / 5;
  t.diagnostic(`${texts.length} documents: sync ${sync.ms.toFixed(0)} ms, ${sync.ticks} ticks; async ${async_.ms.toFixed(0)} ms, ${async_.ticks} ticks`);
  assert.ok(async_.ms > 100, `the batch is long enough to measure (${async_.ms.toFixed(0)} ms)`);
  assert.ok(async_.ticks >= slots / 4, `async: ${async_.ticks} ticks of ${slots.toFixed(0)} slots`);
  assert.deepEqual(async_.result, sync.result);
});

test('extractAsync calls in flight together equal the same calls made one by one', async () => {
  const texts = documents().slice(0, 8);
  const serial = texts.map((text) => engine().extract(text));
  const { result, ticks } = await ticksDuring(() => Promise.all(texts.map((text) => engine().extractAsync(text))));
  assert.deepEqual(result, serial);
  assert.ok(ticks > 0, 'the timer ran while the calls were in flight');
});
