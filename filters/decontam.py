"""Decontamination: find documents that share a long word n-gram with an evaluation example.

The 13-gram test follows GPT-3 (Brown et al. 2020, appendix C) and the Llama/Pythia practice: a training
document that shares any 13 consecutive words with an evaluation example is contaminated. Words are compared
normalised: lower-cased, and every run of characters other than letters and digits is a word break, so
punctuation and tokenisation differences do not hide a copy (Financial PhraseBank writes "company 's" and
"20 % -40 %"; a web page writes "company's" and "20%-40%": both give ``company s`` and ``20 40``).

Short examples. Most Financial PhraseBank sentences are shorter than 13 words, and a 13-gram test can never
find them. Our choice: an example of ``MIN_WORDS`` (8) to n-1 words is matched as a whole (its full normalised
word sequence must appear in the document, i.e. n = its length); an example shorter than ``MIN_WORDS`` is not
checked at all and is counted in ``EvalSet.skipped_short``. Eight words is where a verbatim match stops being
a common phrase ("operating profit rose to EUR 13.1 mn" has 7 normalised words and occurs in many unrelated
reports); longer examples are checked with every one of their n-grams.

N-grams are hashed to 64 bits with xxh64 (stable across processes, so a set built on one worker means the
same on another); a false match needs a 64-bit collision.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import xxhash

DEFAULT_NGRAM = 13
MIN_WORDS = 8
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # latin-1 decodes any byte: the last resort never fails

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Normalised words: lower-cased runs of letters and digits (punctuation and ``_`` are breaks)."""
    return _WORD.findall(text.lower())


def _hash(ws: list[str]) -> int:
    return xxhash.xxh64_intdigest(" ".join(ws))


def ngram_hashes(ws: list[str], n: int) -> Iterator[int]:
    """Hashes of every n-gram of ``ws`` (nothing when ``ws`` is shorter than n)."""
    for i in range(len(ws) - n + 1):
        yield _hash(ws[i : i + n])


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
    """An evaluation set: a name and the texts of its examples."""

    name: str
    texts: list[str]
    path: str = ""
    skipped_short: int = 0  # filled by Decontaminator: examples under MIN_WORDS words, not checked

    @classmethod
    def load(cls, name: str, path: str, field: str = "text") -> EvalSet:
        """Read the ``field`` column of a CSV/TSV file or the ``field`` key of a JSONL file (by extension)."""
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path) as f:
            text = decode(f.read())
        lower = path.lower()
        if lower.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
            texts = list(_jsonl_field(text, field, path))
        elif lower.endswith((".csv", ".tsv")):
            texts = list(_csv_field(text, field, path, "\t" if lower.endswith(".tsv") else ","))
        else:
            raise ValueError(f"evaluation set {name}: {path} is neither .csv/.tsv nor .jsonl")
        return cls(name=name, texts=texts, path=path)

    @classmethod
    def from_texts(cls, name: str, texts: Iterable[str]) -> EvalSet:
        return cls(name=name, texts=list(texts))


def _csv_field(text: str, field: str, path: str, delimiter: str) -> Iterator[str]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if field not in (reader.fieldnames or []):
        raise ValueError(f"{path}: no column {field!r}; columns: {reader.fieldnames}")
    for row in reader:
        if row.get(field):
            yield row[field]


def _jsonl_field(text: str, field: str, path: str) -> Iterator[str]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line).get(field)
        except (json.JSONDecodeError, AttributeError) as exc:
            raise ValueError(f"{path}: line {n} is not a JSON object: {exc}") from None
        if isinstance(value, str) and value:
            yield value


@dataclass
class Decontaminator:
    """Hashed n-grams of every evaluation example; ``check(text)`` counts a document's hits per evaluation set."""

    eval_sets: list[EvalSet]
    n: int = DEFAULT_NGRAM
    min_words: int = MIN_WORDS
    # n-gram length -> hash -> names of the evaluation sets that contain it
    _index: dict[int, dict[int, set[str]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.n < 1 or self.min_words < 1:
            raise ValueError(f"ngram ({self.n}) and min_words ({self.min_words}) must be positive")
        for es in self.eval_sets:
            es.skipped_short = 0
            for text in es.texts:
                ws = words(text)
                if len(ws) < min(self.min_words, self.n):
                    es.skipped_short += 1
                    continue
                size = min(self.n, len(ws))
                bucket = self._index.setdefault(size, {})
                for h in ngram_hashes(ws, size):
                    bucket.setdefault(h, set()).add(es.name)

    @property
    def n_grams(self) -> int:
        """How many distinct hashed n-grams are indexed (all lengths)."""
        return sum(len(b) for b in self._index.values())

    def check(self, text: str) -> dict[str, int]:
        """``{eval set name: number of the document's n-grams found in it}``, only sets with hits."""
        if not self._index:
            return {}
        ws = words(text)
        hits: dict[str, int] = {}
        for size, bucket in self._index.items():
            for h in ngram_hashes(ws, size):
                names = bucket.get(h)
                if names:
                    for name in names:
                        hits[name] = hits.get(name, 0) + 1
        return dict(sorted(hits.items()))
