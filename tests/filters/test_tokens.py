"""Token counts: cl100k_base ids, special-token strings, the offline load and the exact chunked path."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from filters import tokens
from filters.tokens import TOKENIZER_NAME, count_tokens, get_encoding

REPO = Path(__file__).resolve().parents[2]


def test_known_cl100k_counts_and_ids():
    enc = get_encoding()
    assert enc.n_vocab == 100277  # cl100k_base, not gpt2 (50257) or o200k
    assert enc.encode_ordinary("hello world") == [15339, 1917]
    assert count_tokens("hello world") == 2
    assert count_tokens("The quick brown fox") == 4
    assert count_tokens("") == 0
    assert TOKENIZER_NAME == "cl100k_base (tiktoken)"


def test_special_token_text_is_counted_not_rejected():
    # tiktoken's encode() raises on "<|endoftext|>"; encode_ordinary counts its characters as text.
    assert count_tokens("hello <|endoftext|> world") == 8


def test_encoding_loads_without_network():
    code = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled in this test")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from filters.tokens import count_tokens
        print(count_tokens("hello world"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"


@pytest.mark.parametrize(
    "text",
    [
        "Revenue rose.\nNet income fell.\n\n  Indented line\n123,456\n$ 7.8\n" * 40,
        "Total\t\n\n\nassets   \nx" * 60,
        "word " * 500 + "\n" + "Ünïcödé, 数字 and emoji 🚀.\n" * 30,
    ],
)
def test_chunked_count_is_exact(monkeypatch, text):
    expected = len(get_encoding().encode_ordinary(text))
    monkeypatch.setattr(tokens, "CHUNK_CHARS", 37)
    pieces = tokens._chunks(text, 37)
    assert len(pieces) > 3 and "".join(pieces) == text
    assert count_tokens(text) == expected


def test_chunks_without_safe_cut_stay_whole():
    text = "x" * 100  # no newline at all: one piece
    assert tokens._chunks(text, 10) == [text]
