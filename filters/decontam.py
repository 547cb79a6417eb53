"""Decontamination: find documents that share a long word n-gram with an evaluation item.

The 13-gram test follows GPT-3 (Brown et al. 2020, appendix C) and the Llama/Pythia practice: a training
document that shares any 13 consecutive words with an evaluation item is contaminated. Words are compared
normalised (``normalize``, the one normalisation of the project: the pretraining run and ``export sft`` both
use it): Unicode NFKC, case-folded, and every run of characters other than letters and digits is a word
break, so case, punctuation and tokenisation differences do not hide a copy (Financial PhraseBank writes
"company 's" and "20 % -40 %"; a web page writes "Company's" and "20%-40%": both give ``company s`` and
``20 40``).

Short items. Most Financial PhraseBank sentences and tweet headlines are shorter than 13 words, and a 13-gram
test can never find them. We handle them in two tiers:

- an item of ``MIN_WORDS`` (8) to n-1 words is matched *whole*: its full normalised word sequence must
  appear anywhere in the document (i.e. n = its own length). A 9-word headline inside a long page is caught.
- an item shorter than ``MIN_WORDS`` is matched only against a *whole document*: a document whose entire
  normalised text equals the item (a tweet or a headline stored on its own) is caught; the same words inside
  a longer text are not, because 7 words ("operating profit rose to EUR 13 mn") occur in many unrelated
  reports. ``EvalSet.whole_doc_only`` counts these items.

The index (``DecontamIndex``) holds hashes, never texts: every word is hashed with xxh64, an n-gram's hash is
a polynomial of its word hashes modulo 2^64 (computed vectorised with numpy, identical on every machine), and
each indexed hash carries a 64-bit mask of the evaluation sets that contain it. Per distinct n-gram that is
16 bytes (hash + mask) in sorted numpy arrays: about 16 MB per million n-grams, looked up by binary search.
A false match needs a 64-bit collision.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import xxhash

DEFAULT_NGRAM = 13
MIN_WORDS = 8
MAX_SETS = 64  # one bit per evaluation set in the index masks
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # latin-1 decodes any byte: the last resort never fails
BYTES_PER_NGRAM = 16  # uint64 hash + uint64 set mask

_WORD = re.compile(r"[^\W_]+")
_PRIME = np.uint64(1099511628211)  # FNV-64 prime: odd, so the polynomial hash is a bijection per position


def words(text: str) -> list[str]:
    """Normalised words: NFKC, case-folded runs of letters and digits (punctuation and ``_`` are breaks)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize(text: str) -> str:
    """The project's one text normalisation: the normalised words joined by single spaces.

    Two texts are "the same" for decontamination and for the SFT export's split and duplicate checks exactly
    when their ``normalize`` values are equal.
    """
    return " ".join(words(text))


def word_hashes(ws: list[str]) -> np.ndarray:
    """xxh64 of every word, as uint64."""
    return np.fromiter((xxhash.xxh64_intdigest(w) for w in ws), dtype=np.uint64, count=len(ws))


def ngram_hashes_np(wh: np.ndarray, n: int) -> np.ndarray:
    """Hashes of every n-gram of the word hashes ``wh`` (empty when there are fewer than n words)."""
    count = len(wh) - n + 1
    if count <= 0 or n <= 0:
        return np.empty(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        out = wh[:count].copy()
        for k in range(1, n):
            out = out * _PRIME + wh[k : k + count]
    return out


def text_hash(text: str) -> int:
    """Hash of a whole normalised text (what a whole-document match compares)."""
    wh = word_hashes(words(text))
    if len(wh) == 0:
        return 0
    return int(ngram_hashes_np(wh, len(wh))[0])


def decode(data: bytes) -> str:
    """Text of an evaluation file: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    for encoding in ENCODINGS:
        try:
            return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("unreachable: latin-1 decodes every byte")


@dataclass
class EvalSet:
    """An evaluation set: a name and the texts of its items (labels, when it has them, are not needed here)."""

    name: str
    texts: list[str]
    path: str = ""
    whole_doc_only: int = 0  # filled by DecontamIndex.build: items under MIN_WORDS words

    @classmethod
    def load(cls, name: str, path: str, field: str = "text") -> EvalSet:
        """Read the ``field`` column of a CSV/TSV file or the ``field`` key of a JSONL file (by extension)."""
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path) as f:
            text = decode(f.read())
        return cls(name=name, texts=[r[field] for r in read_rows(text, path, [field])], path=path)

    @classmethod
    def from_texts(cls, name: str, texts: Iterable[str]) -> EvalSet:
        return cls(name=name, texts=list(texts))


def read_rows(text: str, path: str, fields: list[str]) -> list[dict[str, str]]:
    """Rows of a CSV/TSV (columns) or JSONL (keys) file that have a non-empty first field; all ``fields``
    must exist (a missing column is a ValueError naming the columns there are)."""
    lower = path.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return list(_jsonl_rows(text, fields, path))
    if lower.endswith((".csv", ".tsv")):
        return list(_csv_rows(text, fields, path, "\t" if lower.endswith(".tsv") else ","))
    raise ValueError(f"{path} is neither .csv/.tsv nor .jsonl")


def _csv_rows(text: str, fields: list[str], path: str, delimiter: str) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    missing = [f for f in fields if f not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r}; columns: {reader.fieldnames}")
    for row in reader:
        if row.get(fields[0]):
            yield {f: row[f] or "" for f in fields}


def _jsonl_rows(text: str, fields: list[str], path: str) -> Iterator[dict[str, str]]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            value = obj.get(fields[0])
        except (json.JSONDecodeError, AttributeError) as exc:
            raise ValueError(f"{path}: line {n} is not a JSON object: {exc}") from None
        if isinstance(value, str) and value:
            yield {f: "" if obj.get(f) is None else str(obj.get(f)) for f in fields}


@dataclass
class DecontamIndex:
    """Hashed n-grams of evaluation sets (no texts): ``check(text)`` counts a document's hits per set.

    ``grams``: n-gram length -> (sorted unique hashes, set masks); ``whole``: whole-text hashes of the items
    shorter than ``min_words`` (matched only against a whole document). Plain numpy arrays: it pickles
    compactly and travels to the workers as a Beam side input.
    """

    names: tuple[str, ...]
    n: int = DEFAULT_NGRAM
    min_words: int = MIN_WORDS
    grams: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    whole: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.empty(0, np.uint64), np.empty(0, np.uint64))
    )
    items: dict[str, int] = field(default_factory=dict)  # items indexed per set
    whole_doc_only: dict[str, int] = field(default_factory=dict)  # of which matched only as whole documents

    @classmethod
    def build(
        cls, eval_sets: list[EvalSet], n: int = DEFAULT_NGRAM, min_words: int = MIN_WORDS
    ) -> DecontamIndex:
        """Hash every item of every set (see the module docstring for the short-item rules)."""
        if n < 1 or min_words < 1:
            raise ValueError(f"ngram ({n}) and min_words ({min_words}) must be positive")
        if len(eval_sets) > MAX_SETS:
            raise ValueError(f"at most {MAX_SETS} evaluation sets, got {len(eval_sets)}")
        names = tuple(es.name for es in eval_sets)
        if len(set(names)) != len(names):
            raise ValueError(f"evaluation set names must be unique, got {list(names)}")
        parts: dict[int, list[tuple[np.ndarray, int]]] = {}
        whole: list[tuple[int, int]] = []
        index = cls(names=names, n=n, min_words=min_words)
        for bit, es in enumerate(eval_sets):
            mask = 1 << bit
            es.whole_doc_only = 0
            count = 0
            for text in es.texts:
                wh = word_hashes(words(text))
                if len(wh) == 0:
                    continue
                count += 1
                if len(wh) < min(min_words, n):
                    es.whole_doc_only += 1
                    whole.append((int(ngram_hashes_np(wh, len(wh))[0]), mask))
                    continue
                size = min(n, len(wh))
                parts.setdefault(size, []).append((ngram_hashes_np(wh, size), mask))
            index.items[es.name] = count
            index.whole_doc_only[es.name] = es.whole_doc_only
        for size, chunks in parts.items():
            hashes = np.concatenate([h for h, _ in chunks])
            masks = np.concatenate([np.full(len(h), m, dtype=np.uint64) for h, m in chunks])
            index.grams[size] = _merge(hashes, masks)
        if whole:
            index.whole = _merge(
                np.array([h for h, _ in whole], dtype=np.uint64),
                np.array([m for _, m in whole], dtype=np.uint64),
            )
        return index

    @property
    def n_grams(self) -> int:
        """How many distinct hashed n-grams are indexed (all lengths, whole-document hashes included)."""
        return sum(len(h) for h, _ in self.grams.values()) + len(self.whole[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by the index arrays."""
        return sum(h.nbytes + m.nbytes for h, m in [*self.grams.values(), self.whole])

    def check(self, text: str) -> dict[str, int]:
        """``{set name: number of the document's n-grams found in it}``, only sets with hits."""
        if not self.names:
            return {}
        wh = word_hashes(words(text))
        found: list[np.ndarray] = []
        for size, (hashes, masks) in self.grams.items():
            found.append(_lookup(ngram_hashes_np(wh, size), hashes, masks))
        if 0 < len(wh) < self.min_words and len(self.whole[0]):
            found.append(_lookup(ngram_hashes_np(wh, len(wh)), *self.whole))
        hits: dict[str, int] = {}
        if not found:
            return hits
        matched = np.concatenate(found)
        if not len(matched):
            return hits
        for bit, name in enumerate(self.names):
            k = int(np.count_nonzero(matched & np.uint64(1 << bit)))
            if k:
                hits[name] = k
        return dict(sorted(hits.items()))

    def describe(self) -> dict[str, object]:
        """Size figures for the manifest."""
        return {
            "ngram": self.n,
            "min_words": self.min_words,
            "n_grams": self.n_grams,
            "bytes": self.nbytes,
            "bytes_per_million_ngrams": BYTES_PER_NGRAM * 1_000_000,
        }


def _merge(hashes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique hashes with the OR of the masks of their duplicates."""
    unique, inverse = np.unique(hashes, return_inverse=True)
    merged = np.zeros(len(unique), dtype=np.uint64)
    np.bitwise_or.at(merged, inverse, masks)
    return unique, merged


def _lookup(query: np.ndarray, hashes: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Masks of the query hashes present in the sorted ``hashes`` (one entry per present query hash)."""
    if not len(query) or not len(hashes):
        return np.empty(0, dtype=np.uint64)
    query = np.sort(query)  # sorted probes walk the index in order: about 2x faster than random ones
    pos = np.searchsorted(hashes, query)
    pos[pos == len(hashes)] = 0
    present = hashes[pos] == query
    return masks[pos[present]]


class Decontaminator:
    """Compatibility wrapper: builds a ``DecontamIndex`` from evaluation sets and checks texts against it."""

    def __init__(self, eval_sets: list[EvalSet], n: int = DEFAULT_NGRAM, min_words: int = MIN_WORDS):
        self.eval_sets = eval_sets
        self.index = DecontamIndex.build(eval_sets, n=n, min_words=min_words)

    @property
    def n_grams(self) -> int:
        return self.index.n_grams

    def check(self, text: str) -> dict[str, int]:
        return self.index.check(text)
