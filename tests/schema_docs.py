"""The output schema's docs are written once, on the core's types
(core/src/extraction.rs); every binding's field doc must begin with the
first paragraph of the core's, after which it may add what only that
binding has to say (C's empty strings, Python's None). Later paragraphs of
a core doc are the JSON's own (`null`, absent keys).

    python -m pytest tests/schema_docs.py

Checks the C library (ffi/src/result.rs, from which include/edgemine.h is
generated), the Python package (python/src/results.rs) and the Node
package's declarations (node/index.d.ts). A field a binding leaves out, or
shapes its own way (C's counts and flags), is not compared.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def plain(doc: str) -> str:
    """A doc comment as prose: rustdoc links to their text, no backticks, one space."""
    doc = re.sub(r"\[`?([^\]`]+)`?\]\([^)]*\)", r"\1", doc)
    doc = re.sub(r"\[`([^\]`]+)`\]", r"\1", doc)
    return " ".join(doc.replace("`", "").split())


def rust_field_docs(path: Path, struct: str) -> dict[tuple[str, str], str]:
    """(struct, field) → the first paragraph of the doc of each `pub field:`
    of each struct matching `struct`."""
    out, current, doc = {}, None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if (m := re.match(struct, s)) and s.endswith("{"):
            current, doc = m.group(1), []
        elif current is None:
            continue
        elif s == "}":
            current = None
        elif s.startswith("///"):
            doc.append(s[3:].strip())
        elif m := re.match(r"pub (\w+):", s):
            first = doc.index("") if "" in doc else len(doc)
            out[(current, m.group(1))] = plain(" ".join(doc[:first]))
            doc = []
        elif not s.startswith("#"):
            doc = []
    return out


def python_getter_docs(path: Path) -> dict[tuple[str, str], str]:
    """(class, getter) → doc, for the getters of each `#[pyclass(... name = "X")]`."""
    out, current, doc = {}, None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if m := re.search(r'#\[pyclass\(.*name = "(\w+)"', s):
            current = m.group(1)
        elif s.startswith("///"):
            doc.append(s[3:].strip())
        elif current and (m := re.match(r"fn (\w+)\(&self\)", s)):
            out[(current, m.group(1))] = plain(" ".join(doc))
            doc = []
        elif not s.startswith("#"):
            doc = []
    return out


def typescript_docs(path: Path) -> dict[tuple[str, str], str]:
    """(interface, property) → its `/** doc */`, for each exported interface."""
    out, current, doc = {}, None, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if m := re.match(r"export interface (\w+)", s):
            current, doc = m.group(1), ""
        elif current is None:
            continue
        elif s == "}":
            current = None
        elif m := re.match(r"/\*\*(.*)\*/$", s):
            doc = m.group(1)
        elif m := re.match(r"(\w+)\??:", s):
            out[(current, m.group(1))] = plain(doc)
            doc = ""
    return out


CORE = rust_field_docs(ROOT / "core/src/extraction.rs", r"pub struct (\w+)")
C_NAMES = {"entity": "Entity", "word": "Word", "triple": "Triple", "argument": "TripleArgument",
           "keyphrase": "KeyPhrase", "span": "Span"}
BINDINGS = {
    "C (ffi/src/result.rs)": {
        (C_NAMES[s], f): d
        for (s, f), d in rust_field_docs(ROOT / "ffi/src/result.rs", r"pub struct edgemine_(\w+)").items()
        if s in C_NAMES
    },
    "Python (python/src/results.rs)": python_getter_docs(ROOT / "python/src/results.rs"),
    "Node (node/index.d.ts)": typescript_docs(ROOT / "node/index.d.ts"),
}


def test_the_core_documents_every_field():
    assert len(CORE) > 30, "the parser found too few of the core's fields"
    assert all(CORE.values()), [k for k, v in CORE.items() if not v]


@pytest.mark.parametrize("binding", sorted(BINDINGS))
def test_each_binding_begins_with_the_cores_doc(binding: str):
    docs = BINDINGS[binding]
    shared = sorted(set(docs) & set(CORE))
    assert len(shared) > 20, f"{binding}: the parser matched only {len(shared)} of the core's fields"
    wrong = [
        f"{s}.{f}: core says {CORE[(s, f)]!r}, {binding} says {docs[(s, f)]!r}"
        for s, f in shared
        if not docs[(s, f)].startswith(CORE[(s, f)].removesuffix("."))
    ]
    assert not wrong, "\n".join(wrong)
