"""Cores for corpus-level boilerplate removal (C4-style span dedup, per source, with a minimum document count).

A *paragraph* is one non-blank line of a document's text: every extractor here (trafilatura, the EDGAR and
wikitext converters) writes one paragraph per line. Its key is the first 8 bytes (hex) of the SHA-1 of
``normalize_for_exact(paragraph)`` (NFKC, casefold, punctuation deleted, whitespace collapsed), so the same
disclaimer with different quotes, case or spacing gets one key.

The Beam shell (``pipeline.stages.boilerplate.RemoveBoilerplate``) counts, per (source, key), the documents that
carry the paragraph and removes every paragraph whose count reaches ``min_docs`` from every document of that
source that carries it. Defaults, and why:

- ``min_docs = 10``. C4 (Raffel et al. 2020, sec. 2.2) drops any three-sentence span seen more than once and
  keeps one copy; we remove the paragraph from *all* documents that carry it, so the bar is higher. Real
  boilerplate (forward-looking-statement disclaimers, cookie banners, newsletter footers) repeats in hundreds
  or thousands of documents of a source; a paragraph repeated 2-9 times is more often content (a quote in a
  few articles on the same event, a syndicated wire paragraph), and whole copies are near-dedup's job.
- ``min_chars = 40`` (normalised characters). Short repeated lines are mostly structure that a reader needs
  ("Results of Operations", "Item 2.02", table captions); stripping them breaks documents for little gain.
  Short junk such as "Advertisement" is left to the quality filters.
- ``sources``: all but ``wikipedia``, whose repeated lines (infobox fields, "See also") are article structure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from core.schema import SOURCES
from filters.dedup import normalize_for_exact, normalize_lines

DEFAULT_MIN_DOCS = 10
DEFAULT_MIN_CHARS = 40
DEFAULT_SOURCES = tuple(s for s in SOURCES if s != "wikipedia")


@dataclass(frozen=True)
class BoilerplateConfig:
    """Settings of the boilerplate stage (config section ``boilerplate``)."""

    min_docs: int = DEFAULT_MIN_DOCS
    min_chars: int = DEFAULT_MIN_CHARS
    sources: tuple[str, ...] = field(default=DEFAULT_SOURCES)

    def __post_init__(self) -> None:
        if self.min_docs < 2:
            raise ValueError(f"boilerplate.min_docs must be >= 2, got {self.min_docs}")
        if self.min_chars < 0:
            raise ValueError(f"boilerplate.min_chars must be >= 0, got {self.min_chars}")

    @classmethod
    def from_settings(cls, settings: dict | None) -> BoilerplateConfig:
        """From the ``boilerplate`` config section; missing keys take the defaults."""
        settings = settings or {}
        sources = settings.get("sources")
        return cls(
            min_docs=int(settings.get("min_docs", DEFAULT_MIN_DOCS)),
            min_chars=int(settings.get("min_chars", DEFAULT_MIN_CHARS)),
            sources=DEFAULT_SOURCES if sources is None else tuple(sources),
        )


def paragraph_key(paragraph: str, min_chars: int = DEFAULT_MIN_CHARS) -> str | None:
    """The key of one paragraph, or None when its normalised form is shorter than ``min_chars``."""
    return _key_of_normalised(normalize_for_exact(paragraph), min_chars)


def _key_of_normalised(norm: str, min_chars: int) -> str | None:
    if not norm or len(norm) < min_chars:
        return None
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()[:16]


def line_keys(text: str, min_chars: int = DEFAULT_MIN_CHARS) -> list[str | None]:
    """``[paragraph_key(line, min_chars) for line in text.split("\n")]``, normalising the text once."""
    return [_key_of_normalised(norm, min_chars) for norm in normalize_lines(text)]


def paragraph_keys(text: str, min_chars: int = DEFAULT_MIN_CHARS) -> list[tuple[str, str]]:
    """(key, paragraph) for every non-blank line of ``text`` long enough to be considered, in order."""
    return [
        (key, line)
        for key, line in zip(line_keys(text, min_chars), text.split("\n"), strict=True)
        if key is not None
    ]


def remove_paragraphs(
    text: str, keys_to_remove: Collection[str], min_chars: int = DEFAULT_MIN_CHARS
) -> tuple[str, int]:
    """``text`` without the lines whose key is in ``keys_to_remove``; returns (new text, lines removed).

    Other lines are kept verbatim; blank-line runs left behind collapse to one blank line, ends are stripped
    of blank lines. With nothing to remove the text is returned unchanged.
    """
    if not keys_to_remove:
        return text, 0
    drop = [
        i for i, key in enumerate(line_keys(text, min_chars)) if key is not None and key in keys_to_remove
    ]
    return remove_lines(text, drop)


def remove_lines(text: str, drop: Collection[int]) -> tuple[str, int]:
    """``text`` without its lines (``text.split("\n")``) numbered in ``drop``; returns (new text, lines removed).

    The removal of ``remove_paragraphs`` once the lines to remove are known: other lines kept verbatim, blank-line
    runs left behind collapsed to one blank line, blank lines stripped from the ends; with nothing to remove the
    text is returned unchanged.
    """
    if not drop:
        return text, 0
    drop = drop if isinstance(drop, (set, frozenset)) else set(drop)
    kept: list[str] = []
    removed = 0
    for i, line in enumerate(text.split("\n")):
        if i in drop:
            removed += 1
            continue
        if not line.strip() and (not kept or not kept[-1].strip()):
            continue  # no blank line at the start, none after another blank line
        kept.append(line)
    if not removed:
        return text, 0
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept), removed


class LineKeys(NamedTuple):
    """A text's paragraph keys, computed once and carried with the document (``pipeline.flow.SpillDocsFn`` to
    ``KeysFn``) so that removal only looks them up: ``lines[i]`` is the number of a line (in ``text.split("\n")``)
    that has a key, ``keys[i]`` that key as a uint64 (the 16 hex digits of ``paragraph_key``, big endian).
    12 bytes per keyed line."""

    lines: np.ndarray  # uint32
    keys: np.ndarray  # uint64

    def distinct(self) -> list[str]:
        """The distinct keys as ``paragraph_key`` spells them (16 hex digits), sorted."""
        return [f"{k:016x}" for k in sorted(set(self.keys.tolist()))]

    def lines_with(self, keys: Collection[int]) -> list[int]:
        """The numbers of the lines whose key (as an int) is in ``keys``."""
        return [i for i, k in zip(self.lines.tolist(), self.keys.tolist(), strict=True) if k in keys]


def line_key_array(text: str, min_chars: int = DEFAULT_MIN_CHARS) -> LineKeys:
    """``LineKeys`` of ``text``: the lines of ``line_keys(text, min_chars)`` that have a key, and their keys."""
    lines: list[int] = []
    keys: list[int] = []
    for i, norm in enumerate(normalize_lines(text)):
        if norm and len(norm) >= min_chars:
            lines.append(i)
            keys.append(int.from_bytes(hashlib.sha1(norm.encode("utf-8")).digest()[:8], "big"))
    return LineKeys(np.array(lines, dtype=np.uint32), np.array(keys, dtype=np.uint64))


def int_keys(keys: Collection[str]) -> frozenset[int]:
    """Paragraph keys (16 hex digits) as the ints ``LineKeys`` carries."""
    return frozenset(int(k, 16) for k in keys)
