"""Boilerplate cores: paragraph keys (normalised, min_chars) and paragraph removal."""

from __future__ import annotations

import pytest

from filters.boilerplate import (
    DEFAULT_SOURCES,
    BoilerplateConfig,
    paragraph_key,
    paragraph_keys,
    remove_paragraphs,
)

DISCLAIMER = (
    "This press release contains forward-looking statements within the meaning of the Private Securities "
    "Litigation Reform Act of 1995."
)


def test_paragraph_keys_normalise_and_skip_short_lines():
    text = f"Advertisement\n\n{DISCLAIMER}\nRevenue rose 12 percent in the quarter to $1.4 billion, the company said."
    keys = paragraph_keys(text)
    assert [p for _, p in keys] == [DISCLAIMER, text.split("\n")[-1]]  # "Advertisement" is under 40 chars
    # Case, punctuation and spacing do not change the key.
    assert paragraph_key(DISCLAIMER.upper().replace(",", "") + "  ") == keys[0][0]
    assert len(keys[0][0]) == 16
    assert paragraph_keys("Advertisement", min_chars=0) == [
        (paragraph_key("Advertisement", 0), "Advertisement")
    ]
    assert paragraph_keys("") == []


def test_remove_paragraphs():
    body = "Revenue rose 12 percent in the quarter to $1.4 billion, the company said."
    text = f"{body}\n\n{DISCLAIMER}\n\nSecond paragraph of real content, long enough to count here."
    key = paragraph_key(DISCLAIMER)
    new, removed = remove_paragraphs(text, {key})
    assert removed == 1
    assert new == f"{body}\n\nSecond paragraph of real content, long enough to count here."
    assert remove_paragraphs(text, set()) == (text, 0)
    assert remove_paragraphs(text, {"0" * 16}) == (text, 0)
    assert remove_paragraphs(DISCLAIMER + "\n\n", {key}) == ("", 1)


def test_config():
    cfg = BoilerplateConfig.from_settings(None)
    assert (cfg.min_docs, cfg.min_chars) == (10, 40)
    assert "wikipedia" not in cfg.sources and "press" in cfg.sources and cfg.sources == DEFAULT_SOURCES
    assert BoilerplateConfig.from_settings({"min_docs": 3, "sources": ["news"]}).sources == ("news",)
    with pytest.raises(ValueError):
        BoilerplateConfig(min_docs=1)


# ---------------------------------------------------------------------------------------------------------
# The carried keys (``LineKeys``, computed once in SpillDocsFn) against the straightforward per-line path.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.schema import Document, Rejected  # noqa: E402
from filters.boilerplate import int_keys, line_key_array, remove_lines  # noqa: E402
from pipeline.stages.boilerplate import strip_carried, strip_document  # noqa: E402

# letters, case, punctuation, whitespace that is not a line feed, compatibility forms and combining marks
_ALPHABET = "abcAB .,'-\t\xa0\u2028\u3000ﬁÄäe\u0301１２%$"
_LINE = st.text(alphabet=_ALPHABET, max_size=60)


def _reference_keys(text: str, min_chars: int) -> list[str | None]:
    return [paragraph_key(line, min_chars) for line in text.split("\n")]


def _reference_remove(text: str, keys_to_remove: set[str], min_chars: int) -> tuple[str, int]:
    """``remove_paragraphs`` as it was before the carried keys: one ``paragraph_key`` per line."""
    if not keys_to_remove:
        return text, 0
    kept: list[str] = []
    removed = 0
    for key, line in zip(_reference_keys(text, min_chars), text.split("\n"), strict=True):
        if key is not None and key in keys_to_remove:
            removed += 1
            continue
        if not line.strip() and (not kept or not kept[-1].strip()):
            continue
        kept.append(line)
    if not removed:
        return text, 0
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept), removed


@st.composite
def _texts_and_removals(draw):
    pool = draw(st.lists(_LINE, min_size=1, max_size=6))  # few distinct lines: repeats, as boilerplate
    lines = draw(st.lists(st.sampled_from([*pool, "", "  "]), max_size=25))
    text = "\n".join(lines)
    min_chars = draw(st.sampled_from([0, 1, 5, 12]))
    keys = sorted({k for k in _reference_keys(text, min_chars) if k is not None})
    remove = set(draw(st.lists(st.sampled_from(keys), unique=True))) if keys else set()
    if draw(st.booleans()):
        remove.add("0123456789abcdef")  # a boilerplate key the document does not carry
    return text, min_chars, remove


@settings(max_examples=400, deadline=None)
@given(_texts_and_removals())
def test_carried_line_keys_match_per_line_keys_and_strip_the_same(case):
    text, min_chars, remove = case
    reference = _reference_keys(text, min_chars)
    carried = line_key_array(text, min_chars)
    assert carried.lines.tolist() == [i for i, k in enumerate(reference) if k is not None]
    assert [f"{k:016x}" for k in carried.keys.tolist()] == [k for k in reference if k is not None]
    assert carried.distinct() == sorted({k for k in reference if k is not None})
    expected = _reference_remove(text, remove, min_chars)
    assert remove_paragraphs(text, remove, min_chars) == expected
    assert remove_lines(text, carried.lines_with(int_keys(remove))) == expected

    def doc():
        return Document(id="d", text=text, source="news")

    by_keys = strip_document(doc(), remove, min_chars) if remove else doc()
    carried_doc = strip_carried(doc(), carried, int_keys(remove))
    assert type(by_keys) is type(carried_doc)
    if isinstance(by_keys, Rejected):
        by_keys, carried_doc = by_keys.document, carried_doc.document
    assert (carried_doc.text, carried_doc.n_chars, carried_doc.metadata) == (
        by_keys.text,
        by_keys.n_chars,
        by_keys.metadata,
    )


def test_carried_keys_strip_a_disclaimer():
    body = "Revenue rose 12 percent in the quarter to $1.4 billion, the company said."
    text = f"{DISCLAIMER}\n\n{body}\n\n{DISCLAIMER.upper()}"
    carried = line_key_array(text)
    assert carried.lines.tolist() == [0, 2, 4] and carried.keys.dtype.name == "uint64"
    out = strip_carried(
        Document(id="d", text=text, source="press"), carried, int_keys({paragraph_key(DISCLAIMER)})
    )
    assert (out.text, out.metadata["boilerplate_removed"]) == (body, "2")
