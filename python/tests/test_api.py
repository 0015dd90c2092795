"""The Python API as the README shows it: types, attributes, tasks, options."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import edgemine
from conftest import REPO


def test_version_is_the_crates():
    cargo = (REPO / "Cargo.toml").read_text(encoding="utf-8")
    assert edgemine.__version__ == re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)


def test_default_models_are_package_data(engine):
    # Loaded from inside the installed package, not from the source tree.
    package = Path(edgemine.__file__).resolve().parent
    assert Path(engine.model_dir).resolve().parent.parent == package
    info = engine.info()
    assert info["source"] == "package"
    assert info["tasks"] == ["entities", "parse", "keyphrases", "triples"] == engine.tasks
    assert engine.threads == info["threads"] == 2


def test_readme_example_runs_as_written():
    """The README's three-line example, run in a fresh interpreter."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(example.strip().splitlines()) == 3
    out = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, check=True).stdout
    assert "Anna Keller" in out and "PER" in out


def test_every_result_is_typed(engine, sample_text):
    doc = engine.extract(sample_text)
    assert isinstance(doc, edgemine.Extraction)
    assert doc.text == sample_text and doc.offsets == "char"
    assert doc.entities and all(isinstance(e, edgemine.Entity) for e in doc.entities)
    assert doc.keyphrases and all(isinstance(k, edgemine.KeyPhrase) for k in doc.keyphrases)
    assert doc.triples and all(isinstance(t, edgemine.Triple) for t in doc.triples)
    assert doc.words and all(isinstance(w, edgemine.Word) for w in doc.words)
    assert doc.sentences and all(isinstance(s, edgemine.Span) for s in doc.sentences)
    t = doc.triples[0]
    assert isinstance(t.subject, edgemine.TripleArgument) and isinstance(t.relation, edgemine.TripleArgument)
    assert all(isinstance(o, edgemine.Span) for k in doc.keyphrases for o in k.occurrences)
    assert {e.label for e in doc.entities} <= {"PER", "ORG", "LOC"}
    assert all(0.0 <= e.score <= 1.0 for e in doc.entities)
    assert [k.score for k in doc.keyphrases][:1] == [max(k.score for k in doc.keyphrases[:1])]


def test_items_match_their_dicts(engine, sample_text):
    doc = engine.extract(sample_text)
    data = doc.to_dict()
    assert [e.to_dict() for e in doc.entities] == data["entities"]
    assert [k.to_dict() for k in doc.keyphrases] == data["keyphrases"]
    assert [t.to_dict() for t in doc.triples] == data["triples"]
    assert [w.to_dict() for w in doc.words] == data["words"]
    assert [s.to_dict() for s in doc.sentences] == data["sentences"]
    for entity, as_dict in zip(doc.entities, data["entities"]):
        assert (entity.text, entity.label, entity.start, entity.end, entity.score, entity.sentence) == (
            as_dict["text"], as_dict["label"], as_dict["start"], as_dict["end"], as_dict["score"], as_dict["sentence"]
        )
    for word, as_dict in zip(doc.words, data["words"]):
        assert (word.upos, word.head, word.deprel) == (as_dict["upos"], as_dict["head"], as_dict["deprel"])
    assert doc.to_json().startswith("{") and doc == engine.extract(sample_text)
    assert doc.entities[0] == doc.entities[0] and doc.entities[0] != doc.entities[-1]


def test_tasks_select_what_runs(engine):
    text = "Anna Keller visited the Siemens plant in Berlin."
    only = engine.extract(text, tasks="entities")
    assert only.entities and only.keyphrases is None and only.triples is None and only.words is None
    assert "keyphrases" not in only.to_dict() and "words" not in only.to_dict()
    two = engine.extract(text, tasks=["parse", "triples"])
    assert two.entities is None and two.words and two.triples is not None
    assert engine.extract(text, tasks=("keyphrases",)).keyphrases
    assert engine.extract(text, tasks=[]).sentences  # nothing but sentences


def test_keyphrase_options(engine, sample_text):
    top3 = engine.extract(sample_text, tasks="keyphrases", top_k=3)
    assert len(top3.keyphrases) == 3 and top3.keyphrases[0].features is None
    explained = engine.extract(sample_text, tasks="keyphrases", top_k=3, explain_keyphrases=True)
    assert set(explained.keyphrases[0].features) >= {"document", "section", "frequency", "termhood"}
    by_score = engine.extract(sample_text, tasks="keyphrases", mmr_lambda=1.0)
    scores = [k.score for k in by_score.keyphrases]
    assert scores == sorted(scores, reverse=True)
    # Every option of the core is a keyword argument; None keeps the default.
    one_word = engine.extract(sample_text, tasks="keyphrases", keyphrase_max_words=1, top_k=None)
    assert len(one_word.keyphrases) == 10 and all(" " not in k.text for k in one_word.keyphrases)
    text = "The quality of service fell. Customers noticed the quality of service."
    assert "quality of service" in [k.text for k in engine.extract(text, tasks="keyphrases").keyphrases]
    without = engine.extract(text, tasks="keyphrases", of_phrases=False).keyphrases
    assert without and all(" of " not in k.text for k in without)
    in_context = engine.extract(sample_text, tasks="keyphrases", keyphrase_embedding="in-context")
    assert in_context.keyphrases and in_context.to_dict() != engine.extract(sample_text, tasks="keyphrases").to_dict()


def test_extract_file_reads_bytes_as_they_are(engine, tmp_path):
    path = tmp_path / "crlf.txt"
    text = "Anna Keller works at Siemens.\r\nShe lives in Berlin.\r\n"
    path.write_bytes(text.encode("utf-8"))
    doc = engine.extract_file(path, tasks="entities")
    assert doc.text == text  # no newline translation: offsets index the file's text
    assert {e.text for e in doc.entities} >= {"Anna Keller", "Berlin"}
    assert all(text[e.start : e.end] == e.text for e in doc.entities)
    assert engine.extract_file(str(path), tasks="entities") == doc


def test_batch_returns_one_result_per_text_in_order(engine):
    texts = ["Anna Keller lives in Berlin.", "Siemens builds trains.", "Paris is in France."]
    docs = engine.extract_batch(texts, tasks="entities")
    assert [d.text for d in docs] == texts
    assert docs == [engine.extract(t, tasks="entities") for t in texts]
    assert engine.extract_batch(iter(texts), tasks="entities") == docs  # any iterable
    assert engine.extract_batch([]) == []


def test_pretokenized_keeps_the_given_words(engine):
    doc = engine.extract("New York-based Acme Corp. hired Ann .", tasks="parse", pretokenized=True)
    assert [w.text for w in doc.words] == ["New", "York-based", "Acme", "Corp.", "hired", "Ann", "."]


def test_reprs_name_the_values(engine):
    doc = engine.extract("Anna Keller lives in Berlin.")
    assert repr(doc).startswith("Extraction(sentences=1, entities=")
    assert "Anna Keller" in repr(doc.entities[0]) and "PER" in repr(doc.entities[0])
    assert repr(engine).startswith("Engine(model=")


def test_public_names_have_docstrings_and_stubs():
    stub = (Path(edgemine.__file__).parent / "_edgemine.pyi").read_text(encoding="utf-8")
    assert (Path(edgemine.__file__).parent / "py.typed").exists()
    for name in edgemine.__all__:
        value = getattr(edgemine, name)
        if name == "__version__":
            continue
        assert value.__doc__, f"edgemine.{name} has no docstring"
        assert re.search(rf"^class {name}\b", stub, re.M), f"edgemine.{name} is not in the stub"
        if isinstance(value, type) and not issubclass(value, Exception):
            public = {a for a in vars(value) if not a.startswith("_")}
            body = re.search(rf"^class {name}\b.*?(?=^class |\Z)", stub, re.M | re.S).group(0)
            stubbed = set(re.findall(r"def ([a-z]\w*)\(", body))
            assert public == stubbed, f"edgemine.{name}: runtime {sorted(public)} vs stub {sorted(stubbed)}"
            for attr in public:
                assert getattr(value, attr).__doc__, f"edgemine.{name}.{attr} has no docstring"


def test_stubs_agree_with_the_module():
    """mypy's stubtest: every name, signature and default of the .pyi against the runtime."""
    pytest.importorskip("mypy")
    run = subprocess.run([sys.executable, "-m", "mypy.stubtest", "edgemine"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
