"""The shared expected extractions (tests/cases.json) and what must hold of
each, for the Python runners: the Python package's (python/tests/test_cases.py)
and the C ABI's through ctypes (ffi/tests/c/cases.py). tests/cases.rs holds the
same rules for the Rust suites, node/test/cases.test.js for Node."""

from __future__ import annotations

import json
import pathlib

CASES = json.loads((pathlib.Path(__file__).parent / "cases.json").read_text(encoding="utf-8"))["cases"]
TASK_FIELDS = {"entities": "entities", "parse": "words", "keyphrases": "keyphrases", "triples": "triples"}


def sliced(text: str, unit: str, start: int, end: int) -> str:
    """`text[start:end]` with the offsets in `unit`."""
    if unit == "utf8":
        return text.encode("utf-8")[start:end].decode("utf-8")
    if unit == "utf16":
        return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")
    return text[start:end]


def spans(extraction: dict):
    """Every (text, start, end) the extraction holds."""
    for entity in extraction.get("entities") or []:
        yield entity["text"], entity["start"], entity["end"]
    for word in extraction.get("words") or []:
        yield word["text"], word["start"], word["end"]
    for triple in extraction.get("triples") or []:
        for argument in [triple["subject"], triple["relation"], triple.get("object"), *triple.get("arguments", [])]:
            if argument:
                yield argument["text"], argument["start"], argument["end"]


def check(case: dict, extraction: dict) -> None:
    """What tests/cases.json says must hold of a case's extraction."""
    text, unit = case["text"], case["options"]["offsets"]
    assert extraction["offsets"] == unit
    asked = case["options"].get("tasks", list(TASK_FIELDS))
    for task, field in TASK_FIELDS.items():
        assert (extraction.get(field) is not None) == (task in asked), field
    for got, start, end in spans(extraction):
        assert sliced(text, unit, start, end) == got
    for phrase in extraction.get("keyphrases") or []:
        # Each occurrence is a written form of the phrase: whole characters, not empty.
        assert all(sliced(text, unit, o["start"], o["end"]).strip() for o in phrase["occurrences"])
    entities = [[e["label"], e["text"]] for e in extraction.get("entities") or []]
    assert all(e in entities for e in case.get("entities", [])), entities
    triples = [
        [t["subject"]["text"], t["relation"]["text"], (t.get("object") or {}).get("text")]
        for t in extraction.get("triples") or []
    ]
    assert all(t in triples for t in case.get("triples", [])), triples
    words = [[w["text"], w["upos"], w["head"]] for w in extraction.get("words") or []]
    assert all(w in words for w in case.get("words", [])), words
    phrases = [k["text"] for k in extraction.get("keyphrases") or []]
    assert phrases[: len(case.get("keyphrases", []))] == case.get("keyphrases", []), phrases
    assert case.get("keyphrase_count", len(phrases)) == len(phrases), phrases
    assert not set(case.get("keyphrases_exclude", [])) & set(phrases), phrases
    explained = case["options"].get("explain_keyphrases", False)
    assert all((k.get("features") is not None) == explained for k in extraction.get("keyphrases") or [])
