"""The faster quality cores (issue 21) against the straightforward code they replace (kept here as the reference)."""

from __future__ import annotations

import re
import unicodedata

from datatrove.utils.text import split_into_sentences
from hypothesis import given, settings
from hypothesis import strategies as st

import filters.quality as quality_module
from filters.quality import (
    _C4_POLICY_SUBSTRINGS,
    _CITATION,
    _FINEWEB_STOP_CHARS,
    C4Thresholds,
    ChunkTokenizer,
    FineWebThresholds,
    _c4_clean,
    _find_duplicates,
    _fineweb_signals,
    _split_line_runs,
    split_table_lines,
    table_line_mask,
    word_tokenizer,
)


def _reference_find_duplicates(items):
    seen = set()
    dup_items = dup_chars = 0
    for item in items:
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_items, dup_chars


def _reference_fineweb_signals(text, t):
    lines = [line for line in text.split("\n") if line.strip() != ""]
    if not lines:
        return {"fw_empty": 1.0}
    stop_chars = tuple(t.stop_chars) if t.stop_chars is not None else _FINEWEB_STOP_CHARS
    return {
        "fw_empty": 0.0,
        "fw_line_punct_ratio": sum(1 for line in lines if line.endswith(stop_chars)) / len(lines),
        "fw_short_line_ratio": sum(1 for line in lines if len(line) <= t.short_line_length) / len(lines),
        "fw_char_dup_ratio": _reference_find_duplicates(lines)[1] / len(text.replace("\n", "")),
        "fw_list_ratio": text.count("\n") / max(len(_reference_words(text)), 1),
    }


def _reference_words(text):
    return [t for chunk in text.split() for t in word_tokenizer().tokens(chunk)]


def _reference_c4_clean(text, t):
    """``_c4_clean`` before the whole-text phrase check (every line lower-cased and searched)."""
    tokenizer = word_tokenizer()
    lines = text.splitlines() if t.split_paragraph else split_into_sentences(split_table_lines(text)[0])
    in_table = table_line_mask(lines) if "|" in text and t.split_paragraph else [False] * len(lines)
    kept, tables_at = [], []
    n_lines = n_sentences = 0
    fatal = None
    for raw, is_table in zip(lines, in_table, strict=True):
        if is_table:
            tables_at.append((len(kept), raw.strip()))
            continue
        n_lines += 1
        line = raw.strip()
        words = line.split()
        if (
            t.max_word_length != -1
            and len(line) > t.max_word_length
            and max(map(len, words)) > t.max_word_length
        ):
            continue
        if t.remove_citations and "[" in line:
            line = _CITATION.sub("", line)
        if t.filter_no_terminal_punct and (
            not line.endswith((".", "?", "!", '"', "'")) or line.endswith("...")
        ):
            continue
        if len(words) < t.min_words_per_line:
            continue
        lower = line.lower()
        if t.filter_lorem_ipsum and "lorem ipsum" in lower:
            fatal = "lorem_ipsum"
            break
        if t.filter_javascript and "javascript" in lower:
            continue
        if t.filter_curly_bracket and "{" in line:
            fatal = "curly_bracket"
            break
        if t.filter_policy and any(p in lower for p in _C4_POLICY_SUBSTRINGS):
            continue
        if t.min_num_sentences != -1:
            n_sentences += tokenizer.count_sentences(line) if t.split_paragraph else 1
        kept.append(line)
    signals = {
        "c4_lines_removed_frac": (1.0 - len(kept) / n_lines) if n_lines else 0.0,
        "c4_sentences": float(n_sentences),
        "c4_lorem_ipsum": float(fatal == "lorem_ipsum"),
        "c4_curly_bracket": float(fatal == "curly_bracket"),
    }
    prose = ("\n" if t.split_paragraph else " ").join(kept).strip()
    if not tables_at:
        return prose, signals, fatal, prose
    merged, previous = [], 0
    for position, table_line in tables_at:
        merged.extend(kept[previous:position])
        merged.append(table_line)
        previous = position
    merged.extend(kept[previous:])
    return "\n".join(merged).strip(), signals, fatal, prose


_LINE_PIECES = st.sampled_from(["\n", "\n\n", "\r\n", "a", "bb", " ", "\t", "\u2028", "x y", "\x0c"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE_PIECES, max_size=30))
def test_split_line_runs_is_the_regex_split(pieces):
    text = "".join(pieces)
    assert _split_line_runs(text) == re.split("\n+", text)


@settings(max_examples=600, deadline=None)
@given(st.lists(_LINE_PIECES, max_size=30))
def test_split_paragraphs_is_the_regex_split_of_a_stripped_text(pieces):
    text = "".join(pieces).strip()  # compute_signals splits the stripped text
    assert quality_module._split_paragraphs(text) == re.split(r"\n{2,}", text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["", "a", "ab", "b", " ", "abc", "é", "\t"]), max_size=40))
def test_find_duplicates_equals_the_loop(items):
    assert _find_duplicates(items) == _reference_find_duplicates(items)


_FINEWEB_PIECES = st.sampled_from(
    ["\n", "\n\n", " ", "\t\n", "Yes.", "no", "end!", "a" * 29, "b" * 30, "c" * 31, "”", "…", "x y z", "Hi?"]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_FINEWEB_PIECES, max_size=30),
    st.sampled_from([None, (".",), ("!", "?")]),
    st.sampled_from([30, 0, 5, 31]),
)
def test_fineweb_signals_equal_the_reference(pieces, stop_chars, short_line_length):
    t = FineWebThresholds(stop_chars=stop_chars, short_line_length=short_line_length)
    text = "".join(pieces)
    assert _fineweb_signals(text, t) == _reference_fineweb_signals(text, t)


# Pieces for C4 texts: the phrases C4 looks for, whole and split by a citation or a line break, in any case,
# citations, curly brackets, table lines, the line separators of ``str.splitlines``, a final sigma.
_C4_PIECES = st.sampled_from(
    [
        "\n",
        "\n",
        "\r",
        "\u2028",
        "\x1c",
        " ",
        "  ",
        "The cat sat.",
        "on the mat",
        "Dr. Who said so!",
        "word",
        "JavaScript",
        "java[1]script",
        "java\nscript",
        "Lorem Ipsum",
        "lorem [edit]ipsum",
        "lorem\u2028ipsum",
        "{",
        "}",
        "[",
        "]",
        "[12]",
        "[citation needed]",
        "uses cookies",
        "Privacy[3] Policy",
        "TERMS OF USE",
        "terms of\nuse",
        "use of cookies.",
        "ΣΑΣ",
        "| a | b |",
        "| --- | --- |",
        "x" * 12,
        "İ",
        "\u212a",
    ]
)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(_C4_PIECES, max_size=40),
    st.booleans(),
    st.booleans(),
    st.sampled_from([1000, 10, -1]),
)
def test_c4_clean_equals_the_line_by_line_reference(
    pieces, split_paragraph, remove_citations, max_word_length
):
    t = C4Thresholds(
        split_paragraph=split_paragraph, remove_citations=remove_citations, max_word_length=max_word_length
    )
    text = " ".join(pieces)
    assert _c4_clean(text, t) == _reference_c4_clean(text, t)
    off = C4Thresholds(filter_lorem_ipsum=False, filter_javascript=False, filter_policy=False)
    assert _c4_clean(text, off) == _reference_c4_clean(text, off)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["cannot", "U.S.", "$4.1", "word", "end.", "“Hi”", "1,234", "a-b", "é"]), max_size=30
    )
)
def test_count_words_is_the_number_of_tokens(chunks):
    text = " ".join(chunks)
    assert word_tokenizer().count_words(text) == len(_reference_words(text))


def test_chunk_stats_across_a_new_generation_equal_a_fresh_memo(monkeypatch):
    """chunk_stats looks up only the chunks without counts; when a generation starts mid-text, all are refilled."""
    texts = [" ".join(f"w{i}{j}, x{j}." for j in range(40)) for i in range(30)]
    fresh = [ChunkTokenizer(max_entries=10**6).chunk_stats(t.split()) for t in texts]
    small = ChunkTokenizer(max_entries=50)  # a new generation on nearly every text
    for _ in range(2):
        assert [small.chunk_stats(t.split()) for t in texts] == fresh
        assert [small.chunk_words(t.split()) for t in texts] == [
            ChunkTokenizer().chunk_words(t.split()) for t in texts
        ]
    assert len(small) <= 2 * 50 + 80


_BOILERPLATE_ANYWHERE = re.compile(
    r"javascript|terms of (?:use|service)|privacy policy|cookie|all rights reserved|copyright ©"
)


def _reference_count_boilerplate_lines(text):
    lower = text.lower()
    starts = {m.start() for m in quality_module._BOILERPLATE_START.finditer(lower)}
    starts.update(lower.rfind("\n", 0, m.start()) + 1 for m in _BOILERPLATE_ANYWHERE.finditer(lower))
    return len(starts)


_BOILERPLATE_PIECES = st.sampled_from(
    [
        "\n",
        "\n",
        " ",
        "word",
        "JavaScript",
        "cookiecookie",
        "cookie",
        "terms of use",
        "Terms of Service",
        "terms of ",
        "privacy policy",
        "all rights reserved",
        "Copyright ©",
        "copyright",
        "©",
        "javascriptcookie",
        "12",
        "page 3",
        "Read more",
        "cook",
        "ie",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_BOILERPLATE_PIECES, max_size=40))
def test_boilerplate_lines_equal_the_regex_reference(pieces):
    text = "".join(pieces)
    assert quality_module._count_boilerplate_lines(text) == _reference_count_boilerplate_lines(text)


def _reference_pack_chunk_stats(chunk, tokens):
    fb = quality_module._FIELD_BITS
    if chunk.isalpha():
        n = len(tokens)
        return n | (n << fb) | (n << (2 * fb)) | (len(chunk) << (3 * fb))
    content = [t for t in tokens if not quality_module.PUNCTUATION_SET.issuperset(t)]
    values = (
        len(tokens),
        sum(1 for t in tokens if t.isalpha() or any(c.isalpha() for c in t)),
        len(content),
        sum(map(len, content)),
        int(any(c.isdigit() for c in chunk) and not any(c.isalpha() for c in chunk)),
        int(quality_module._URL_TOKEN.match(chunk) is not None),
        int(quality_module._CASHTAG_TOKEN.match(chunk) is not None),
        len(quality_module._SYMBOL_CHAR.findall(chunk)),
        len(quality_module._EMOJI_CHAR.findall(chunk)),
    )
    packed = 0
    for i, v in enumerate(values):
        packed |= v << (fb * i)
    return packed


# ASCII letters, digits and punctuation, and non-ASCII letters, digits and numbers that are neither
# ("²", "½", "٣", "Ⅻ"), punctuation, symbols and emoji
_CHUNK_CHARS = st.sampled_from(
    list("aZ09$(),.-%_'#/:\\") + ['"', "é", "²", "½", "٣", "Ⅻ", "—", "“", "€", "😀", "ß"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_CHUNK_CHARS, min_size=1, max_size=12))
def test_packed_chunk_counts_equal_the_reference(chars):
    chunk = "".join(chars)
    tokens = word_tokenizer().tokens(chunk)
    assert quality_module._pack_chunk_stats(chunk, tokens) == _reference_pack_chunk_stats(chunk, tokens)
    for t in tokens:
        assert quality_module._is_punct(t) == all(unicodedata.category(c).startswith("P") for c in t)


def test_is_punct_of_every_ascii_character():
    for c in map(chr, range(128)):
        assert quality_module._is_punct(c) == unicodedata.category(c).startswith("P")
