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
