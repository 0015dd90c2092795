#!/usr/bin/env bash
# Run every test suite of the project. Expects the environment .ci/run builds
# (a .venv with models/tests/requirements.txt, tests/requirements.txt and
# containers/tests/requirements.txt; cc, make and pkg-config for the C ABI;
# Node.js 18+ with npm; Java 17+ and Maven for the test Kafka broker);
# set PYTHON to use another. A Kafka broker named by EDGEMINE_KAFKA_BROKERS
# is used as it is; without one, this starts containers/kafka/broker.sh's.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-.venv/bin/python}
# Each step's header carries the time since the start, so a slow CI run shows where it went.
step() { echo "== [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }
# The Kafka worker's tests (containers/tests/kafka.rs) need a broker; they are
# #[ignore]d for a plain `cargo test` and run here with --include-ignored, in
# the same cargo run (a separate run would resolve other features and
# rebuild every dependency).
if [ -z "${EDGEMINE_KAFKA_BROKERS:-}" ]; then
    containers/kafka/broker.sh start
    trap 'containers/kafka/broker.sh stop' EXIT
    export EDGEMINE_KAFKA_BROKERS=127.0.0.1:${EDGEMINE_KAFKA_PORT:-19092}
fi
# The ONNX Runtime backend's tests (core/tests/engine.rs, cli/tests/dev_scores.rs)
# load the libonnxruntime that the onnxruntime wheel of the venv ships.
export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$("$PYTHON" -c 'import onnxruntime, pathlib; print(min((pathlib.Path(onnxruntime.__file__).parent / "capi").glob("libonnxruntime.so.*")))')}
# One build of the dependencies serves the whole suite. The tests build in
# the release profile, the one the packages below (pip, make, npm, the
# image's build step) build in, so those compile only their own crate. Two
# settings differ from a shipped release, here only: no LTO (it made
# entities+parse over UD EWT dev 5-10% faster in three runs, and costs a
# minute's link a package; the code is the same) and a debug build's
# checks (assertions, overflow), so the tests check what they checked in
# the dev profile.
export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
# The CLI that cargo test builds, wherever cargo puts its builds.
export EDGEMINE_BIN=${EDGEMINE_BIN:-${CARGO_TARGET_DIR:-target}/release/edgemine}
step "Rust: formatting (cargo fmt --check)"
cargo fmt --all --check
step "Rust: cargo test --release --workspace with clippy's lints denied, the Kafka worker against a real broker among them"
# Clippy lints the workspace's crates as this build compiles them: clippy-driver
# as cargo's workspace wrapper with CLIPPY_ARGS, which is how `cargo clippy`
# itself runs it. A separate `cargo clippy --workspace --all-targets` would
# check every dependency again (10 min on 2 cores); this costs next to nothing.
# No function may run over 80 lines of code (clippy.toml).
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver" \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__-D__CLIPPY_HACKERY__clippy::too_many_lines__CLIPPY_HACKERY__" \
    cargo test --release --workspace --locked -- --include-ignored
step "Rust: documentation (cargo doc with rustdoc's warnings denied)"
# The core's API as its users read it: no broken link, none into a private item.
RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --locked --quiet -p edgemine
# Every crate's docs, private items included (the bindings are read from
# their source). edgemine-ffi's library is named edgemine too: on its own.
private_docs="-D warnings --document-private-items -A rustdoc::private-intra-doc-links"
RUSTDOCFLAGS=$private_docs cargo doc --release --no-deps --locked --quiet --workspace --exclude edgemine-ffi
RUSTDOCFLAGS=$private_docs cargo doc --release --no-deps --locked --quiet -p edgemine-ffi
step "Rust: the core as a user's build compiles it (without the benches' internals), lints denied"
# The workspace build above turns on every feature a member asks for; a
# crate that depends on edgemine alone gets none of them.
cargo clippy --release --locked --quiet -p edgemine -- -D warnings
step "Python: models/tests"
"$PYTHON" -m pytest -q models/tests
step "End to end: tests (CaRB dev, key phrases with the CLI cargo test built; the bindings' schema docs)"
"$PYTHON" -m pytest -q -s tests/carb_dev.py tests/keyphrase_dev.py tests/schema_docs.py
step "Python package: pip install ./python (as README says), then python/tests"
"$PYTHON" -m pip install -q ./python
"$PYTHON" -m pytest -q python/tests
step "C ABI: make -C ffi install, examples/c/extract.c, C tests under ASan/LSan/UBSan"
ffi/tests/c/run.sh
step "Node package: npm install ./node (as README says), then node/test"
npm install ./node
node --test node/test/*.test.js
step "Node package: index.d.ts type-checks node/test/types.ts (TypeScript from npm, kept out of the package)"
npm install --no-save --no-package-lock --no-audit --no-fund --prefix target/typescript typescript@5.9.3
target/typescript/node_modules/.bin/tsc -p node/test
step "Service: Dockerfile lint, its build step on the host, Kubernetes manifests"
PYTHON="$PYTHON" containers/tests/image_and_manifests.sh
step "done"
