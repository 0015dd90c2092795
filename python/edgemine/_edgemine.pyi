"""Type stubs of the native module; `edgemine` re-exports every public name."""

import os
import pathlib
from collections.abc import Iterable
from typing import Any, Literal, Optional, TypedDict, Union, final

from typing_extensions import Unpack

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
__version__: str

_TaskName = Literal["entities", "parse", "keyphrases", "triples"]
_OffsetName = Literal["char", "utf8", "utf16"]
_Tasks = Union[_TaskName, Iterable[_TaskName], None]

class _Options(TypedDict, total=False):
    """The core's document options, the keyword arguments of every
    extraction call (the HTTP API's `options`, the CLI's flags); `None`
    keeps an option's default."""

    pretokenized: Optional[bool]
    aggregation: Optional[Literal["first", "average", "max"]]
    chunk_wordpieces: Optional[int]
    chunk_overlap: Optional[int]
    pack_sentences: Optional[bool]
    top_k: Optional[int]
    mmr_lambda: Optional[float]
    keyphrase_max_words: Optional[int]
    of_phrases: Optional[bool]
    section_words: Optional[int]
    shortlist: Optional[int]
    explain_keyphrases: Optional[bool]
    keyphrase_embedding: Optional[Literal["alone", "in-context"]]

class ModelError(Exception):
    """A model folder that exists but cannot be used: a bad checksum, a file
    that is not ONNX or JSON, an operator or output the engine does not
    support, or a failure while running it."""

@final
class Engine:
    """The extraction engine: load once, then call from any number of
    threads; calls release the GIL."""

    def __new__(
        cls,
        model_dir: Union[str, os.PathLike[str], None] = None,
        threads: Optional[int] = None,
        *,
        max_plans: Optional[int] = None,
    ) -> Engine: ...
    def extract(
        self,
        text: str,
        tasks: _Tasks = None,
        offsets: _OffsetName = "char",
        *,
        max_document_bytes: Optional[int] = None,
        **options: Unpack[_Options],
    ) -> Extraction:
        """Extracts from one document."""
    def extract_batch(
        self,
        texts: Iterable[str],
        tasks: _Tasks = None,
        offsets: _OffsetName = "char",
        *,
        max_document_bytes: Optional[int] = None,
        return_exceptions: bool = False,
        **options: Unpack[_Options],
    ) -> list[Union[Extraction, Exception]]:
        """Extracts from many documents at once, in parallel; one result per
        text, in order (an exception in place of a failed document with
        `return_exceptions=True`)."""
    def extract_file(
        self,
        path: Union[str, os.PathLike[str]],
        tasks: _Tasks = None,
        offsets: _OffsetName = "char",
        *,
        max_document_bytes: Optional[int] = None,
        **options: Unpack[_Options],
    ) -> Extraction:
        """Extracts from a UTF-8 text file, read as it is."""
    def info(self) -> dict[str, Any]:
        """What is loaded, from where."""
    @property
    def tasks(self) -> list[_TaskName]:
        """The tasks the loaded model can do, in schema order."""
    @property
    def threads(self) -> int:
        """Worker threads of the engine's pool."""
    @property
    def model_dir(self) -> pathlib.Path:
        """The model folder loaded."""

@final
class Extraction:
    """Everything extracted from one document; a task that did not run
    leaves its attribute `None`."""

    @property
    def text(self) -> str:
        """The document the offsets point into."""
    @property
    def entities(self) -> Optional[list[Entity]]:
        """Named entities in document order."""
    @property
    def keyphrases(self) -> Optional[list[KeyPhrase]]:
        """Key phrases, best first."""
    @property
    def triples(self) -> Optional[list[Triple]]:
        """Subject-relation-object triples."""
    @property
    def sentences(self) -> list[Span]:
        """Sentence spans."""
    @property
    def words(self) -> Optional[list[Word]]:
        """Words with part of speech and dependency parse."""
    @property
    def offsets(self) -> _OffsetName:
        """The unit of every offset."""
    def to_dict(self) -> dict[str, Any]:
        """The output schema as dicts and lists, equal to the CLI's JSON."""
    def to_json(self) -> str:
        """The output schema as a JSON string, as the CLI writes it."""

@final
class Span:
    """A span of the document: `start` to `end` (exclusive)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Entity:
    """A named entity: `text == document[start:end]`."""

    @property
    def text(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def sentence(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class KeyPhrase:
    """A key phrase and every place it occurs."""

    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def occurrences(self) -> list[Span]: ...
    @property
    def features(self) -> Optional[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class TripleArgument:
    """A part of a triple: its text, span, and pieces when its words leave gaps."""

    @property
    def text(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def parts(self) -> list[Span]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Triple:
    """A subject-relation-object triple."""

    @property
    def subject(self) -> TripleArgument: ...
    @property
    def relation(self) -> TripleArgument: ...
    @property
    def label(self) -> str: ...
    @property
    def object(self) -> Optional[TripleArgument]: ...
    @property
    def arguments(self) -> list[TripleArgument]: ...
    @property
    def score(self) -> float: ...
    @property
    def sentence(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Word:
    """A word with its part of speech and place in the dependency tree."""

    @property
    def text(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def upos(self) -> Optional[str]: ...
    @property
    def head(self) -> Optional[int]: ...
    @property
    def deprel(self) -> Optional[str]: ...
    @property
    def sentence(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
