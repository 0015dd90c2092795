"""Shared pieces of the model recipe: paths, labels, case classes, data readers.

Everything here is plain Python (no torch), so `evaluate.py` can use it with
onnxruntime alone.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

RECIPE = Path(__file__).resolve().parent
MODELS = RECIPE.parent
REPO = MODELS.parent
DATA = Path(os.environ.get("EDGEMINE_DATA", REPO.parent / "shared" / "data"))
WORK = Path(os.environ.get("EDGEMINE_WORK", MODELS / "work"))

ENTITY_TYPES = ["PER", "ORG", "LOC"]
ENTITY_LABELS = ["O"] + [f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I")]
UPOS_LABELS = [
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
]

# Case class of a word, added to each of its wordpieces. The rules are part
# of the model's contract (edgemine.json repeats them for the engine):
#   none  - no cased letter (digits, punctuation, CJK, special tokens, padding)
#   lower - every cased letter is lowercase
#   title - the first cased letter is uppercase, all others lowercase
#           (a lone capital such as "I" is title)
#   upper - every cased letter uppercase, at least two of them
#   mixed - anything else ("iPhone", "McDonald")
CASE_CLASSES = ["none", "lower", "title", "upper", "mixed"]


def cpu_name() -> str:
    """The CPU's model name, as model cards and benchmarks report it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def case_class(word: str) -> int:
    cased = [c for c in word if c.isupper() or c.islower()]
    if not cased:
        return 0
    if all(c.islower() for c in cased):
        return 1
    if cased[0].isupper() and all(c.islower() for c in cased[1:]):
        return 2
    if all(c.isupper() for c in cased) and len(cased) >= 2:
        return 3
    return 4


# WNUT-17's types mapped onto UNER's. creative-work and product have no UNER
# counterpart (UNER leaves them O), so they become O.
WNUT_TO_UNER = {"person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG"}


@dataclass
class Sentence:
    sent_id: str
    text: str
    words: list[str]
    entities: list[str] | None = None  # BIO per word
    upos: list[str] | None = None
    heads: list[int] | None = None  # 0 = root, k = word k (1-based)
    deprels: list[str] | None = None
    extra: dict = field(default_factory=dict)


def read_conllu(path: Path) -> list[Sentence]:
    """UD sentences as UD words: multiword-token ranges and empty nodes skipped."""
    out: list[Sentence] = []
    doc, sent_id, text, rows = "", "", "", []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if rows:
                out.append(
                    Sentence(
                        sent_id=sent_id,
                        text=text,
                        words=[r[1] for r in rows],
                        upos=[r[3] for r in rows],
                        heads=[int(r[6]) for r in rows],
                        deprels=[r[7] for r in rows],
                        extra={"doc": doc},
                    )
                )
            sent_id, text, rows = "", "", []
        elif line.startswith("# newdoc id = "):
            doc = line[len("# newdoc id = ") :].strip()
        elif line.startswith("# sent_id = "):
            sent_id = line[len("# sent_id = ") :].strip()
        elif line.startswith("# text = "):
            text = line[len("# text = ") :]
        elif not line.startswith("#"):
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            rows.append(cols)
    return out


def read_iob2(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """UNER: sent_id -> (words, BIO tags)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    sent_id, words, tags = "", [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if words:
                out[sent_id] = (words, tags)
            sent_id, words, tags = "", [], []
        elif line.startswith("# sent_id = "):
            sent_id = line[len("# sent_id = ") :].strip()
        elif not line.startswith("#"):
            cols = line.split("\t")
            words.append(cols[1])
            tags.append(cols[2])
    return out


def read_ewt(split: str) -> list[Sentence]:
    """EWT sentences carrying UD (UPOS, tree) and UNER (entities) labels together."""
    ud = read_conllu(DATA / "ud_ewt" / f"en_ewt-ud-{split}.conllu")
    ner = read_iob2(DATA / "uner_ewt" / f"en_ewt-ud-{split}.iob2")
    for s in ud:
        words_tags = ner.get(s.sent_id)
        if words_tags is None:
            continue
        words, tags = words_tags
        s.entities = tags if words == s.words else project_bio(words, tags, s.words)
    return ud


def project_bio(src_words: list[str], src_tags: list[str], dst_words: list[str]) -> list[str]:
    """Move IOB2 tags onto another tokenization of nearly the same characters
    (a few UNER sentences come from an older UD release: a word split
    differently, a sentence boundary moved). Characters are aligned with
    difflib; a destination word belongs to a span when its first character
    aligns inside the span."""
    import difflib

    def starts(words):
        out, pos = [], 0
        for w in words:
            out.append(pos)
            pos += len(w)
        return out + [pos]

    src_at, dst_at = starts(src_words), starts(dst_words)
    src_to_dst: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, "".join(src_words), "".join(dst_words), autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            src_to_dst[a + k] = b + k
    out = ["O"] * len(dst_words)
    for start, end, kind in sorted(bio_spans(src_tags)):
        chars = [src_to_dst[c] for c in range(src_at[start], src_at[end]) if c in src_to_dst]
        if not chars:
            continue
        lo, hi = min(chars), max(chars) + 1
        inside = [i for i in range(len(dst_words)) if lo <= dst_at[i] < hi]
        for n, i in enumerate(inside):
            out[i] = ("B-" if n == 0 else "I-") + kind
    return out


def read_wnut(path: Path) -> list[Sentence]:
    """WNUT-17 with its types mapped onto PER/ORG/LOC (entities only)."""
    out: list[Sentence] = []
    words, tags = [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        cols = line.split("\t")
        if not line.strip() or not cols[0].strip():
            if words:
                out.append(Sentence(f"wnut-{len(out)}", " ".join(words), words, entities=tags))
            words, tags = [], []
            continue
        word, tag = cols[0], cols[-1].strip()
        if tag != "O":
            prefix, kind = tag.split("-", 1)
            mapped = WNUT_TO_UNER.get(kind)
            tag = f"{prefix}-{mapped}" if mapped else "O"
        words.append(word)
        tags.append(tag)
    return out


def bio_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Exact spans (start, end exclusive, type) from IOB2 tags, conlleval style:
    an I- that does not continue a span of its type starts a new one."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, t = tag.partition("-")
        if start is not None and (prefix != "I" or t != kind):
            spans.add((start, i, kind))
            start, kind = None, None
        if prefix == "B" or (prefix == "I" and start is None):
            start, kind = i, t
    return spans


PHRASE_DEPRELS = {"amod", "compound", "flat", "nummod", "nmod:poss", "det:poss"}


def noun_phrases(s: Sentence) -> list[list[str]]:
    """Contiguous noun phrases from a UD tree: a NOUN/PROPN head with its
    adjacent modifier dependents (adjectives, compounds, flat names, numbers,
    possessives). These are the key-phrase candidates the embedding must
    serve, so they are what the student learns to embed like the teacher."""
    out = []
    for h in range(1, len(s.words) + 1):
        if s.upos[h - 1] not in ("NOUN", "PROPN"):
            continue
        start = h
        while start > 1 and s.heads[start - 2] == h and s.deprels[start - 2] in PHRASE_DEPRELS:
            start -= 1
        end = h
        while end < len(s.words) and s.heads[end] == h and s.deprels[end] in ("flat", "compound"):
            end += 1
        words = s.words[start - 1 : end]
        if any(w.isalpha() for w in words):
            out.append(words)
    return out


def join_sentences(sentences: list[Sentence]) -> Sentence:
    """Consecutive sentences of one document as one model input (a chunk, as
    the engine packs them). Heads are renumbered to chunk word positions (0
    stays ROOT); extra["sentence_of_word"] says which sentence each word is
    from, so arcs can be kept inside their sentence."""
    if len(sentences) == 1:
        return sentences[0]
    words, ents, upos, heads, deprels, owner = [], [], [], [], [], []
    for k, s in enumerate(sentences):
        offset = len(words)
        words += s.words
        owner += [k] * len(s.words)
        ents += s.entities or []
        if s.heads is not None:
            upos += s.upos
            heads += [h + offset if h else 0 for h in s.heads]
            deprels += s.deprels
    labelled = all(s.heads is not None for s in sentences)
    return Sentence(
        sent_id="+".join(s.sent_id for s in sentences),
        text=" ".join(s.text for s in sentences),
        words=words,
        entities=ents if all(s.entities is not None for s in sentences) else None,
        upos=upos if labelled else None,
        heads=heads if labelled else None,
        deprels=deprels if labelled else None,
        extra={"sentence_of_word": owner},
    )


def wordpiece_counts(tok, sentences: list[Sentence]) -> list[int]:
    """Wordpieces of each sentence, without [CLS] and [SEP]."""
    return [len(tok.encode(s.words, is_pretokenized=True).ids) - 2 for s in sentences]


def pack_documents(sentences: list[Sentence], wordpieces: list[int], budget: int, rng=None) -> list[list[int]]:
    """Group consecutive sentences of the same document into chunks of at most
    `budget` wordpieces ([CLS] and [SEP] included). With `rng`, each chunk
    gets a random target size in [1, budget], so training sees single
    sentences and full chunks alike. Returns lists of sentence indices."""
    chunks, current, used, target = [], [], 2, budget
    for i, s in enumerate(sentences):
        same_doc = current and sentences[current[-1]].extra.get("doc") == s.extra.get("doc") and s.extra.get("doc")
        if current and (not same_doc or used + wordpieces[i] > target):
            chunks.append(current)
            current, used = [], 2
        if not current and rng is not None:
            target = rng.randint(1, budget)
        current.append(i)
        used += wordpieces[i]
    if current:
        chunks.append(current)
    return chunks


def load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


@dataclass
class Encoded:
    """One sentence as model input: wordpieces, their case classes, and the
    position of each word's first wordpiece."""

    input_ids: list[int]
    case_ids: list[int]
    word_index: list[int]


def encode_words(tok, words: list[str], max_len: int) -> Encoded | None:
    """Wordpieces of pretokenized words, with [CLS] ... [SEP]. None if longer
    than max_len (the recipe skips those few training sentences; evaluation
    cuts them, as the engine does)."""
    enc = tok.encode(words, is_pretokenized=True)
    if len(enc.ids) > max_len:
        return None
    case_of_word = [case_class(w) for w in words]
    case_ids, word_index = [], [0] * len(words)
    seen = set()
    for pos, wid in enumerate(enc.word_ids):
        if wid is None:
            case_ids.append(0)
            continue
        case_ids.append(case_of_word[wid])
        if wid not in seen:
            seen.add(wid)
            word_index[wid] = pos
    # A word that yields no wordpiece (the normalizer drops control and
    # zero-width characters) reads the wordpiece just before it.
    last = 0
    for wid in range(len(words)):
        if wid in seen:
            last = word_index[wid]
        else:
            word_index[wid] = last
    return Encoded(list(enc.ids), case_ids, word_index)
