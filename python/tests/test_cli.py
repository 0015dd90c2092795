"""The Python package and the CLI give the same JSON for the same input."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import NON_ASCII


def cli_json(cli, *args) -> list[dict]:
    out = subprocess.run(
        [str(cli), "extract", "--threads", "2", "--format", "jsonl", *map(str, args)],
        capture_output=True, text=True, check=True,
    ).stdout
    docs = [json.loads(line) for line in out.splitlines() if line.strip()]
    for doc in docs:
        doc.pop("id")
    return docs


@pytest.mark.parametrize("offsets", ["char", "utf8", "utf16"])
def test_file_equals_cli(engine, cli, tmp_path, sample_text, offsets):
    path = tmp_path / "doc.txt"
    path.write_bytes((sample_text + "\n" + NON_ASCII).encode("utf-8"))
    [expected] = cli_json(cli, path, "--offsets", offsets)
    assert engine.extract_file(path, offsets=offsets).to_dict() == expected
    assert engine.extract(path.read_bytes().decode("utf-8"), offsets=offsets).to_dict() == expected


def test_batch_equals_cli_lines(engine, cli, tmp_path, sample_text):
    lines = [line for line in (sample_text + "\n" + NON_ASCII).splitlines() if line.strip()]
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = cli_json(cli, path, "--input", "lines", "--tasks", "entities,keyphrases,triples", "--top-k", "5")
    docs = engine.extract_batch(lines, tasks=["entities", "keyphrases", "triples"], top_k=5)
    assert [d.to_dict() for d in docs] == expected


def test_options_equal_cli_flags(engine, cli, tmp_path, sample_text):
    path = tmp_path / "doc.txt"
    path.write_text(sample_text, encoding="utf-8")
    [expected] = cli_json(
        cli, path, "--tasks", "keyphrases", "--top-k", "4", "--mmr-lambda", "0.5", "--explain-keyphrases"
    )
    doc = engine.extract(sample_text, tasks="keyphrases", top_k=4, mmr_lambda=0.5, explain_keyphrases=True)
    assert doc.to_dict() == expected
