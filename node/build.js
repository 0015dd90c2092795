#!/usr/bin/env node
'use strict';
// Builds the native addon from source, as `npm install` runs it:
// `cargo build --release -p edgemine-node` in the workspace this folder
// belongs to, then the library copied to edgemine.node beside index.js.
// A plain cargo build (no --target) shares the release build of the rest
// of the workspace, so tract compiles once for the CLI, C and Node.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const CRATE = 'edgemine-node';
const LIBRARY = 'edgemine_node';

function fail(message) {
  console.error(`edgemine: ${message}`);
  process.exit(1);
}

const cargo = process.env.CARGO || 'cargo';
const args = ['build', '--locked', '--release', '-p', CRATE, '--message-format=json-render-diagnostics'];
console.error(`edgemine: building the native addon: ${cargo} ${args.join(' ')} (a few minutes the first time)`);
const build = spawnSync(cargo, args, {
  cwd: __dirname,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
  maxBuffer: 1 << 28,
});
if (build.error) {
  fail(
    build.error.code === 'ENOENT'
      ? `\`${cargo}\` was not found. Building edgemine needs Rust 1.85 or later (https://rustup.rs), then run npm install again`
      : `could not run ${cargo}: ${build.error.message}`,
  );
}
if (build.status !== 0) fail(`${cargo} build failed (exit ${build.status}); its errors are above`);

// cargo reports each artifact it built: take our cdylib's path from there
// rather than guessing the target folder and the platform's file name.
const library = build.stdout
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line))
  .filter((m) => m.reason === 'compiler-artifact' && m.target.name === LIBRARY)
  .flatMap((m) => m.filenames)
  .find((f) => /\.(so|dylib|dll)$/.test(f));
if (!library) fail(`${cargo} built no ${LIBRARY} library; is this folder still inside the edgemine repository?`);

// Copy then rename, so an interrupted build never leaves half an addon.
const addon = path.join(__dirname, 'edgemine.node');
fs.copyFileSync(library, `${addon}.tmp`);
fs.renameSync(`${addon}.tmp`, addon);
console.error(`edgemine: built ${addon}`);
