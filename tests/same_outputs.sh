#!/usr/bin/env bash
# Whether two builds of the CLI write the same bytes: the check a
# restructuring owes (#23: "byte-identical before and after"). Not part of
# ./test.sh, which has one build; run it by hand with two release builds:
#
#   git stash; cargo build --release -p edgemine-cli; cp target/release/edgemine /tmp/edgemine.before
#   git stash pop; cargo build --release -p edgemine-cli
#   tests/same_outputs.sh /tmp/edgemine.before target/release/edgemine
#
# Inputs: the sample, UD EWT dev sentences (one a line), the same sentences
# as 50 documents of 40, 600 of them pretokenized, 300 as JSON lines with
# emoji, and CaRB dev; through every format and the options that change
# how text is read, batched and ranked. Reads the shared data from
# ../shared/data beside the clone, or EDGEMINE_DATA. Exits 1 on the first
# difference, naming it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: tests/same_outputs.sh EDGEMINE_BEFORE EDGEMINE_AFTER" >&2; exit 2; }
before=$(realpath "$1") after=$(realpath "$2")
data=${EDGEMINE_DATA:-../shared/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

grep '^# text = ' "$data/ud_ewt/en_ewt-ud-dev.conllu" | sed 's/^# text = //' > "$work/dev.txt"
python3 - "$work" "$data" <<'PY'
import json, sys
work, data = sys.argv[1], sys.argv[2]
lines = open(f"{work}/dev.txt", encoding="utf-8").read().split("\n")[:-1]
with open(f"{work}/docs.txt", "w", encoding="utf-8") as f:
    for i in range(0, len(lines), 40):
        f.write(" ".join(lines[i : i + 40]) + "\n")
sentences, words = [], []
for line in open(f"{data}/ud_ewt/en_ewt-ud-dev.conllu", encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        if words:
            sentences.append(" ".join(words))
        words = []
    elif not line.startswith("#"):
        cols = line.split("\t")
        if "-" not in cols[0] and "." not in cols[0]:
            words.append(cols[1])
open(f"{work}/pretok.txt", "w", encoding="utf-8").write("\n".join(sentences[:600]) + "\n")
with open(f"{work}/ids.jsonl", "w", encoding="utf-8") as f:
    for i, line in enumerate(lines[:300]):
        f.write(json.dumps({"id": f"d{i}", "text": "Zoë 👩‍🔬 " + line}) + "\n")
PY

runs=(
    "sample.json|extract samples/sample.txt"
    "dev.jsonl|extract --input lines --format jsonl $work/dev.txt"
    "dev_in_context.jsonl|extract --input lines --format jsonl --offsets utf16 --keyphrase-embedding in-context --explain-keyphrases --batch-docs 7 $work/dev.txt"
    "docs.jsonl|extract --input lines --format jsonl $work/docs.txt"
    "docs_cut.jsonl|extract --input lines --format jsonl --chunk-wordpieces 24 --offsets utf8 $work/docs.txt"
    "docs_alone.jsonl|extract --input lines --format jsonl --pack-sentences=false --keyphrase-embedding in-context $work/docs.txt"
    "pretokenized.conllu|extract --input lines --format conllu --pretokenized $work/pretok.txt"
    "ids.jsonl|extract --input jsonl --format jsonl --offsets utf16 --tasks entities,triples $work/ids.jsonl"
    "carb.tsv|extract --input lines --format carb $data/carb/data/dev.txt"
    "keyphrases.jsonl|extract --input lines --format jsonl --batch-docs 1 --tasks keyphrases --top-k 3 --mmr-lambda 0.5 --keyphrase-max-words 2 --section-words 50 --shortlist 5 $work/docs.txt"
)
for run in "${runs[@]}"; do
    name=${run%%|*} args=${run#*|}
    # Same bytes and the same exit status (a run that fails in both
    # builds still has to fail alike).
    # shellcheck disable=SC2086  # the arguments are words on purpose
    before_status=0; "$before" $args > "$work/before.$name" || before_status=$?
    # shellcheck disable=SC2086
    after_status=0; "$after" $args > "$work/after.$name" || after_status=$?
    if [ "$before_status" = "$after_status" ] && cmp -s "$work/before.$name" "$work/after.$name"; then
        echo "same  $name ($(wc -c < "$work/after.$name") bytes, exit $after_status)"
    else
        echo "DIFFERENT  $name (exit $before_status, then $after_status): edgemine $args" >&2
        exit 1
    fi
done
