// A typed use of the package that must compile against index.d.ts (tsc -p
// node/test), and misuses that must not (each @ts-expect-error fails the
// check if the line compiles).

import { Engine, errorCodes, version } from 'edgemine';
import type { EdgemineError, Entity, ErrorCode, Extraction, KeyPhrase, Triple, Word } from 'edgemine';

const engine = new Engine({ threads: 2 });
const doc: Extraction = engine.extract('Anna Keller joined Siemens.', { tasks: ['entities', 'parse'], offsets: 'utf16' });
const entities: Entity[] = doc.entities ?? [];
const labels: string[] = entities.map((e) => `${e.label} ${e.text} ${e.start}-${e.end} ${e.score.toFixed(2)}`);
const words: Word[] = doc.words ?? [];
const heads: Array<number | undefined> = words.map((w) => w.head);
const phrases: KeyPhrase[] = engine.extract('x', { tasks: 'keyphrases', topK: 3, explainKeyphrases: true }).keyphrases ?? [];
const termhood: number | undefined = phrases[0]?.features?.termhood;
const triples: Triple[] = engine.extract('x').triples ?? [];
const objects: Array<string | null> = triples.map((t) => t.object?.text ?? null);

const all: Extraction[] = engine.extractBatch(['a', 'b'], { tasks: ['entities'] });
const mixed: Array<Extraction | EdgemineError> = engine.extractBatch(['a', ''], { returnErrors: true });
const codes: ErrorCode[] = mixed.flatMap((r) => (r instanceof Error ? [r.code] : []));

async function later(): Promise<number> {
  const one: Extraction = await engine.extractAsync('text', { offsets: 'char' });
  const many: Extraction[] = await engine.extractBatchAsync(['a']);
  const settled: Array<Extraction | EdgemineError> = await engine.extractBatchAsync(['a'], { returnErrors: true });
  return one.sentences.length + many.length + settled.length;
}

const known: readonly ErrorCode[] = errorCodes;
const threads: number = engine.threads;
const dir: string = engine.modelDir;
const source: string = engine.info().source;
const v: string = version;

// @ts-expect-error: not a task
engine.extract('x', { tasks: ['summaries'] });
// @ts-expect-error: not an offset unit
engine.extract('x', { offsets: 'lines' });
// @ts-expect-error: a typo of `offsets`
engine.extract('x', { offset: 'utf8' });
// @ts-expect-error: texts are strings
engine.extractBatch([1, 2]);
// @ts-expect-error: without returnErrors, a batch holds extractions only
const notMixed: Extraction[] = engine.extractBatch(['a'], { returnErrors: true });
// @ts-expect-error: read-only
engine.threads = 4;

export { labels, heads, termhood, objects, all, codes, later, known, threads, dir, source, v, notMixed };
