"""Bad input raises the documented exception with the core's message, and
harms nothing else."""

from __future__ import annotations

import shutil

import pytest

import edgemine


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"text": ""}, "the document is empty"),
        ({"text": " \n\t "}, "the document is empty"),
        ({"text": "x", "tasks": "summaries"}, "unknown task `summaries`"),
        ({"text": "x", "tasks": ["entities", "nope"]}, "unknown task `nope`"),
        ({"text": "x", "offsets": "bytes16"}, "invalid option `offsets`"),
        ({"text": "x" * 100, "max_document_bytes": 10}, "100 bytes, over the limit of 10"),
        ({"text": "Some text.", "tasks": "keyphrases", "top_k": 0}, "invalid option `top_k`"),
        ({"text": "Some text.", "tasks": "keyphrases", "top_k": -2}, "invalid option `top_k`"),
        ({"text": "Some text.", "tasks": "keyphrases", "mmr_lambda": 1.5}, "invalid option `mmr_lambda`"),
        ({"text": "Some text.", "keyphrase_embedding": "context"}, "invalid option `keyphrase_embedding`"),
        ({"text": "Some text.", "chunk_wordpieces": 0}, "invalid option `chunk_wordpieces`"),
        ({"text": "Some text.", "pack_sentences": "yes"}, "invalid option `pack_sentences`"),
    ],
)
def test_bad_input_raises_value_error(engine, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("`", ".")):
        engine.extract(**kwargs)


@pytest.mark.parametrize(
    "kwargs,kind,code",
    [
        ({"text": ""}, ValueError, "EMPTY_DOCUMENT"),
        ({"text": "x" * 100, "max_document_bytes": 10}, ValueError, "DOCUMENT_TOO_LARGE"),
        ({"text": "x", "tasks": "nope"}, ValueError, "INVALID_OPTION"),
        ({"text": "x", "top_k": -2}, ValueError, "INVALID_OPTION"),
        ({"text": "x", "offset": "utf8"}, TypeError, "INVALID_ARGUMENT"),
        ({"text": "x", "tasks": [1]}, TypeError, "INVALID_ARGUMENT"),
    ],
)
def test_exceptions_carry_the_cores_code(engine, kwargs, kind, code):
    with pytest.raises(kind) as raised:
        engine.extract(**kwargs)
    assert raised.value.code == code


def test_a_missing_model_carries_its_code(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        edgemine.Engine(tmp_path / "nothing here")
    assert raised.value.code == "MODEL_NOT_FOUND"


def test_an_unknown_keyword_is_a_type_error_that_lists_the_options(engine):
    with pytest.raises(TypeError, match="unexpected keyword argument 'offset'; the options are tasks, offsets"):
        engine.extract("Anna Keller lives in Berlin.", offset="utf16")
    with pytest.raises(TypeError, match="top_k cannot be a <class 'object'>"):
        engine.extract("Anna Keller lives in Berlin.", top_k=object())


@pytest.mark.parametrize("text,tasks", [(b"bytes", None), (None, None), (42, None), ("x", [1])])
def test_wrong_types_raise_type_error(engine, text, tasks):
    with pytest.raises(TypeError):
        engine.extract(text, tasks=tasks)


def test_one_bad_document_fails_alone(engine):
    texts = ["Anna Keller lives in Berlin.", "", "Siemens builds trains.", "bad \ud800 text", "Paris is big."]
    results = engine.extract_batch(texts, tasks="entities", return_exceptions=True)
    assert [type(r).__name__ for r in results] == [
        "Extraction", "ValueError", "Extraction", "UnicodeEncodeError", "Extraction"
    ]
    assert str(results[1]).startswith("document 1: the document is empty")
    good = [t for i, t in enumerate(texts) if i in (0, 2, 4)]
    assert [r for r in results if isinstance(r, edgemine.Extraction)] == engine.extract_batch(good, tasks="entities")
    with pytest.raises(ValueError, match="^document 1: the document is empty"):
        engine.extract_batch(texts, tasks="entities")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        engine.extract_batch(["fine", 3])


def test_files(engine, tmp_path):
    with pytest.raises(FileNotFoundError) as missing:
        engine.extract_file(tmp_path / "absent.txt")
    assert missing.value.filename == str(tmp_path / "absent.txt")
    with pytest.raises(IsADirectoryError):
        engine.extract_file(tmp_path)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Zürich liegt am See.".encode("latin-1"))
    with pytest.raises(ValueError, match="not valid UTF-8 .first bad byte at offset 1"):
        engine.extract_file(latin1)


def test_missing_models_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="model not found"):
        edgemine.Engine(tmp_path / "nowhere")


def test_broken_models_raise_model_error(engine, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(engine.model_dir, broken)
    data = bytearray((broken / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(edgemine.ModelError, match="corrupt model file .*model.onnx"):
        edgemine.Engine(broken)
    (broken / "edgemine.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(edgemine.ModelError, match="edgemine.json"):
        edgemine.Engine(broken)
    assert issubclass(edgemine.ModelError, Exception) and not issubclass(edgemine.ModelError, ValueError)


@pytest.mark.parametrize("kwargs", [{"threads": 0}, {"threads": -1}, {"max_plans": 0}])
def test_bad_engine_settings_raise_value_error(kwargs):
    with pytest.raises(ValueError, match="invalid option"):
        edgemine.Engine(**kwargs)
