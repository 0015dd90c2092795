#!/usr/bin/env bash
# Train, export and evaluate one recipe variant into WORK/variants/NAME, and
# record its dev scores in models/variants/NAME.json (committed: the model
# card's variant table is built from those records). Usage:
#   recipe/variant.sh NAME [train.py options...]
set -euo pipefail
cd "$(dirname "$0")"
WORK=${EDGEMINE_WORK:-$(cd .. && pwd)/work}
PY=${PY:-$WORK/venv/bin/python}
NAME=$1; shift
DIR=$WORK/variants/$NAME
mkdir -p "$DIR"
$PY train.py --out "$DIR" "$@" > "$DIR/train.log" 2>&1
$PY export_tagger.py --checkpoint "$DIR/checkpoint.pt" --out "$DIR/folder" >> "$DIR/train.log" 2>&1
$PY evaluate.py "$DIR/folder" --context 0 --json "$DIR/dev.sentences.json" > "$DIR/eval.txt"
for N in 64 128; do
  $PY evaluate.py "$DIR/folder" --context $N --json "$DIR/dev.context$N.json" >> "$DIR/eval.txt"
done
cat "$DIR/eval.txt"
$PY record_variant.py "$DIR"
