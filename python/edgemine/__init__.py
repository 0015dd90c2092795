"""edgemine: named entities, key phrases and subject-relation-object triples,
each with its exact position in the text, from small ONNX models on small
CPUs. Offline: the default models ship inside this package.

    >>> import edgemine
    >>> engine = edgemine.Engine()
    >>> doc = engine.extract("Dr. Anna Keller inspected the Hamburg plant of Siemens.")
    >>> [(e.label, e.text) for e in doc.entities]

Offsets default to Python string indices: ``doc.text[e.start:e.end] == e.text``.
"""

from edgemine._edgemine import (
    Engine,
    Entity,
    Extraction,
    KeyPhrase,
    ModelError,
    Span,
    Triple,
    TripleArgument,
    Word,
    __version__,
)

__all__ = [
    "Engine",
    "Entity",
    "Extraction",
    "KeyPhrase",
    "ModelError",
    "Span",
    "Triple",
    "TripleArgument",
    "Word",
    "__version__",
]
