#!/usr/bin/env bash
# Builds edgemine-server in release and lays out the runtime image's files
# under DEST: the binary in usr/local/bin, the default models in
# opt/edgemine/models (EDGEMINE_MODELS points there). The Dockerfile's
# build step; CI runs it on the host and starts what it staged.
#   containers/stage.sh DEST
set -euo pipefail
dest=${1:?usage: containers/stage.sh DEST}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --locked -p edgemine-server
rm -rf "$dest/usr/local/bin/edgemine-server" "$dest/opt/edgemine"
install -D -m 0755 "${CARGO_TARGET_DIR:-target}/release/edgemine-server" "$dest/usr/local/bin/edgemine-server"
mkdir -p "$dest/opt/edgemine/models/minilm-tagger"
# The files the manifest lists, and its card: not the recipe's work files.
cp models/minilm-tagger/{model.onnx,tokenizer.json,edgemine.json,MODEL_CARD.md} "$dest/opt/edgemine/models/minilm-tagger/"
echo "stage.sh: $(du -sh "$dest" | cut -f1) staged in $dest"
