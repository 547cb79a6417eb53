"""``normalize_text`` / ``normalize_line`` fast paths give exactly what the straightforward versions give.

The references below are the implementations before the fast paths (empty / whitespace-only input, and text
whose only whitespace is single spaces and line feeds with no character any substitution touches), kept
verbatim so the property tests compare against them."""

from __future__ import annotations

import sys

import pytest

from core import textshape
from core.textshape import normalize_line, normalize_text

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def reference_normalize_text(text: str, collapse_spaces: bool = True) -> str:
    ascii_only = text.isascii()
    if not ascii_only or "\r" in text:
        text = textshape._LINE_SEPARATORS_RE.sub("\n", text)
    text = text.replace("\t", " ")
    if not ascii_only:
        text = textshape._ZERO_WIDTH_RE.sub("", text)
    text = textshape._CONTROL_RE.sub("", text)
    if collapse_spaces:
        lines = list(map(str.strip, textshape._INLINE_SPACE_TO_FIX_RE.sub(" ", text).split("\n")))
    else:
        lines = [line.rstrip() for line in text.split("\n")]
        lines = [line if line.strip() else "" for line in lines]
    return textshape._BLANK_RUN_RE.sub("\n\n", "\n".join(lines)).strip("\n")


def reference_normalize_line(line: str) -> str:
    return textshape._INLINE_SPACE_RE.sub(" ", line).strip()


# Every kind of character the rules treat specially, a few of each, and ordinary letters (ASCII and not).
ALPHABET = (
    " \t\r\n\x0b\x0c\x1c\x1f\x00\x07\x7f\x85\x9f\u00a0\u1680\u2000\u2009\u200a\u200b\u2028\u2029\u202f"
    "\u205f\u2060\u3000\ufeff\u00ad\u200d\ud7ff"
    "abcXYZ019.,-|é€’—漢ß"
)
texts = st.text(alphabet=ALPHABET, max_size=40)
# Mostly plain text (the fast paths' case) with now and then one special character.
plain_texts = st.lists(
    st.one_of(
        st.sampled_from(["word", "Wörd", "a", "—", "’", " ", "\n", "\n\n\n", "  "]), st.sampled_from(ALPHABET)
    ),
    max_size=30,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(texts, plain_texts), st.booleans())
def test_normalize_text_equals_reference(text: str, collapse: bool) -> None:
    assert normalize_text(text, collapse_spaces=collapse) == reference_normalize_text(text, collapse)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(texts, plain_texts))
def test_normalize_line_equals_reference(text: str) -> None:
    assert normalize_line(text) == reference_normalize_line(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\n",
        " \t\u00a0\u3000\n\x1c",
        "One line ",
        " Two\nlines\n\n\n\nhere ",
        "a  b",
        "a\x00b",
        "x\u200by",
    ],
)
def test_normalize_text_examples_equal_reference(text: str) -> None:
    for collapse in (True, False):
        assert normalize_text(text, collapse) == reference_normalize_text(text, collapse)


def test_printable_characters_are_untouched_by_every_substitution() -> None:
    """The fast paths' premise (``textshape._is_plain``), over every code point: a printable character other
    than " " is one no substitution of normalize_text/normalize_line matches, and one ``str.strip`` keeps."""
    patterns = (
        textshape._CONTROL_RE,
        textshape._LINE_SEPARATORS_RE,
        textshape._INLINE_SPACE_RE,
        textshape._ZERO_WIDTH_RE,
    )
    printable = "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isprintable() and ch != " ")
    for pattern in patterns:
        assert pattern.search(printable) is None, pattern.pattern
    assert "\t" not in printable and "\n" not in printable
    assert printable.strip() == printable and not any(ch.isspace() for ch in printable)
