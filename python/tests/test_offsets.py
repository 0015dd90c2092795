"""Every span is exact in every offset unit, on text where the units differ."""

from __future__ import annotations

import pytest

from conftest import NON_ASCII


def spans(doc):
    """(text or None, start, end) of every span the extraction holds."""
    for e in doc.entities:
        yield e.text, e.start, e.end
    for k in doc.keyphrases:
        for o in k.occurrences:
            yield None, o.start, o.end
    for t in doc.triples:
        for part in [t.subject, t.relation, *([t.object] if t.object else []), *t.arguments]:
            yield part.text, part.start, part.end
            for piece in part.parts:
                yield None, piece.start, piece.end
    for w in doc.words:
        yield w.text, w.start, w.end
    for s in doc.sentences:
        yield None, s.start, s.end


def test_char_offsets_are_python_indices(engine):
    doc = engine.extract(NON_ASCII)
    assert doc.entities and doc.keyphrases and doc.triples
    found = list(spans(doc))
    for text, start, end in found:
        assert 0 <= start <= end <= len(NON_ASCII)
        if text is not None:
            assert NON_ASCII[start:end] == text
    # The hard cases are really among the spans.
    words = {t for t, _, _ in found if t}
    assert {"Zürich", "Kraków"} <= words
    assert any("\u0301" in w for w in words), "a word with a combining accent"
    assert any(ord(c) > 0xFFFF for w in words for c in w), "a word outside the BMP (emoji)"
    assert any("\u4e00" <= c <= "\u9fff" for w in words for c in w), "a CJK word"
    # A key phrase's text is exactly one of its occurrences.
    for k in doc.keyphrases:
        assert k.text in {NON_ASCII[o.start : o.end] for o in k.occurrences}


@pytest.mark.parametrize("unit,encoding,width", [("utf8", "utf-8", 1), ("utf16", "utf-16-le", 2)])
def test_other_units_index_the_encoded_text(engine, unit, encoding, width):
    encoded = NON_ASCII.encode(encoding)
    doc = engine.extract(NON_ASCII, offsets=unit)
    assert doc.offsets == unit
    chars = engine.extract(NON_ASCII)
    assert len(list(spans(doc))) == len(list(spans(chars)))
    for (text, start, end), (_, cstart, cend) in zip(spans(doc), spans(chars)):
        piece = encoded[start * width : end * width].decode(encoding)
        assert piece == NON_ASCII[cstart:cend]
        if text is not None:
            assert piece == text
    if unit == "utf16":  # what JavaScript's String.slice would index
        assert max(end for _, _, end in spans(doc)) > max(end for _, _, end in spans(chars))


def test_text_that_python_cannot_encode_is_refused(engine):
    # A lone surrogate is a valid Python str but not Unicode text.
    with pytest.raises(ValueError):
        engine.extract("Anna \ud800 Keller")
