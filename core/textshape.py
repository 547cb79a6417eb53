"""The one text shape every extractor produces (README "Text shape", DESIGN "Text shape (every source)").

- Blocks (paragraphs, headings, lists, tables) are separated by exactly one blank line.
- A heading is a block of its own, one line, without markup (no ``#``), kept whatever its length.
- A list is a block whose items are each on their own line (``- `` for unordered, ``1. `` for ordered items).
- A table is a block: a Markdown table (``| a | b |`` rows, a ``| --- |`` line under the header row), a
  linearised form (one line per row) or nothing, per the input's ``tables`` option; its caption is a line of
  its own right above it, and goes with it when the table is dropped.
- Inside a block, lines are separated by single newlines (a ``<br>`` in a paragraph, a poem, an address).
- No control characters (other than the newline), no trailing spaces, no whitespace-only lines, no runs of
  more than one blank line, no leading/trailing blank lines.

``normalize_text`` enforces the character-level rules on any text; ``join_blocks`` builds a text from
blocks; ``markdown_table`` / ``linearize_table`` render a table given as rows of cell strings (shared with
any extractor that finds tables: HTML pages, filings).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

TABLE_MODES = ("markdown", "linearize", "drop")
DEFAULT_TABLE_MODE = "markdown"
UNITS_LINE_MAX_CHARS = (
    120  # a table's units line right above it, "(In millions)", counts as part of the table
)

# A number, amount, percentage, dash (zero) or "n/a" as tables (financial statements above all) write them.
_NUMERIC_CELL_RE = re.compile(
    r"^[(\[]?\s*[-–—+]?\s*(?:US|C|A)?[$€£¥]?\s*[(]?\s*[-–—+]?\d[\d,]*(?:\.\d+)?\s*[)%]*\s*(?:%|pts|bps|x)?\s*"
    r"[)\]]?\s*\*?$|^[-–—]+\s*%?$|^[$€£¥%]$|^n/?[am]\.?$|^nm$|^\(\d+\)$",
    re.IGNORECASE,
)

# C0/C1 control characters except tab and newline (a tab becomes a space), and the Unicode line/paragraph
# separators, which are line breaks to a reader but not to ``str.split("\n")``.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_SEPARATORS_RE = re.compile("\r\n|[\r\u2028\u2029\x85]")
_INLINE_SPACE = r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
_INLINE_SPACE_RE = re.compile(_INLINE_SPACE + "+")
# The runs of inline space that are not already one plain space (what _INLINE_SPACE_RE changes): replacing only
# these gives the same text without a replacement at every gap between two words.
_INLINE_SPACE_TO_FIX_RE = re.compile(rf"{_INLINE_SPACE}(?:{_INLINE_SPACE}+|(?<! ))")
_ZERO_WIDTH_RE = re.compile("[\u200b\u2060\ufeff]")
_BLANK_RUN_RE = re.compile(r"\n{3,}")


def normalize_line(line: str) -> str:
    """One line with runs of spaces/tabs as one space and no spaces at its ends."""
    if line.isprintable() and "  " not in line:
        return line.strip()  # its only inline space is single " "s, which the substitution keeps
    return _INLINE_SPACE_RE.sub(" ", line).strip()


def _is_plain(text: str, collapse_spaces: bool) -> bool:
    """True when none of ``normalize_text``'s substitutions can change ``text``: no character but letters,
    digits, punctuation, symbols, " " and line feeds, and (when collapsing spaces) no two spaces in a row.

    ``str.isprintable`` is False for every character those substitutions touch (controls, tab, carriage
    return, the line/paragraph separators, the zero-width characters, every inline space but " ") and for the
    line feed; tests/core/test_textshape_fastpath.py checks it over every code point.
    """
    if collapse_spaces and "  " in text:
        return False
    return text.isprintable() or ("\n" in text and text.replace("\n", "").isprintable())


def normalize_text(text: str, collapse_spaces: bool = True) -> str:
    """``text`` in the text shape's character rules (see module docstring); blocks are left as they are.

    ``collapse_spaces`` also turns runs of spaces inside a line into one space (off for texts whose inner
    spacing is content, e.g. code).
    """
    if not text or text.isspace():
        return ""  # (most calls, from the gaps between an HTML page's blocks) every line strips to nothing
    if not _is_plain(text, collapse_spaces):
        # ASCII: then the only line separator to look for is "\r", and no zero-width space
        ascii_only = text.isascii()
        if not ascii_only or "\r" in text:
            text = _LINE_SEPARATORS_RE.sub("\n", text)
        text = text.replace("\t", " ")
        if not ascii_only:
            text = _ZERO_WIDTH_RE.sub("", text)
        text = _CONTROL_RE.sub("", text)
        if collapse_spaces:
            # normalize_line on every line: runs of inline space never span a line feed, so one pass
            text = _INLINE_SPACE_TO_FIX_RE.sub(" ", text)
    if collapse_spaces:
        if "\n" not in text:
            return text.strip()  # one line: no blank line to collapse, no line feed to strip
        lines = list(map(str.strip, text.split("\n")))
    else:
        lines = [line.rstrip() for line in text.split("\n")]
        lines = [line if line.strip() else "" for line in lines]
    text = "\n".join(lines)
    if "\n\n\n" in text:  # what _BLANK_RUN_RE matches; the test is much cheaper than the search
        text = _BLANK_RUN_RE.sub("\n\n", text)
    return text.strip("\n")


def join_blocks(blocks: Iterable[str]) -> str:
    """The blocks as one text, one blank line between them (empty blocks skipped)."""
    return "\n\n".join(b for b in (block.strip("\n") for block in blocks) if b.strip())


def _cell(text: str) -> str:
    """A cell as one Markdown-safe line: inner whitespace collapsed, ``|`` escaped."""
    return normalize_line(text.replace("\n", " ")).replace("|", "\\|")


def clean_rows(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """Rows padded to one width, with empty rows and columns that are empty in every row removed."""
    rows = [[normalize_line(c.replace("\n", " ")) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    keep = [j for j in range(width) if any(row[j] for row in rows)]
    return [[row[j] for j in keep] for row in rows]


def is_numeric_cell(text: str) -> bool:
    """A number, amount, percentage, dash (zero) or "n/a" as statements write them."""
    return bool(_NUMERIC_CELL_RE.match(text))


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table, the one renderer of every extractor (pages, filings, JATS articles):
    the first row is the header row; columns whose body cells are mostly numbers are right-aligned (``---:``).
    ``""`` for a table without text."""
    rows = clean_rows(rows)
    if not rows:
        return ""
    rule = []
    for j in range(len(rows[0])):
        body = [row[j] for row in rows[1:] if row[j]]
        rule.append("---:" if body and sum(map(is_numeric_cell, body)) * 2 > len(body) else "---")
    lines = [_markdown_row(rows[0]), "|" + "|".join(f" {r} " for r in rule) + "|"]
    lines += [_markdown_row(row) for row in rows[1:]]
    return "\n".join(lines)


def _markdown_row(cells: Sequence[str]) -> str:
    return "|" + "|".join(f" {_cell(c)} " if c else " " for c in cells) + "|"


def linearize_table(rows: Sequence[Sequence[str]], header: bool = True) -> str:
    """One line per row. With a header row, each later row reads ``first cell: header: value; ...``;
    without one, the cells of a row are joined with ``; ``."""
    rows = clean_rows(rows)
    if not rows:
        return ""
    if not header or len(rows) < 2:
        return "\n".join("; ".join(c for c in row if c) for row in rows)
    head, body = rows[0], rows[1:]
    lines = []
    for row in body:
        label, pairs = row[0], []
        for name, value in zip(head[1:], row[1:], strict=True):
            if value:
                pairs.append(f"{name}: {value}" if name else value)
        lines.append(f"{label}: " + "; ".join(pairs) if label and pairs else label or "; ".join(pairs))
    return "\n".join(line for line in lines if line)


def is_markdown_table_line(line: str) -> bool:
    """True for a row or the header rule of a Markdown table (``| ... |``)."""
    stripped = line.strip()
    return len(stripped) >= 2 and stripped.startswith("|") and stripped.endswith("|")


def table_line_mask(lines: list[str]) -> list[bool]:
    """For each line: whether it belongs to a Markdown table.

    A table is its ``|`` lines and the units line right above it (a short parenthesised line such as
    "(In millions, except per-share amounts)", at most one blank line away): repeated from table to table,
    it belongs to the tables, not to the prose (the blank line between them goes with it).
    """
    mask = [is_markdown_table_line(line) for line in lines]
    for i, is_table in enumerate(mask):
        if not is_table or (i and mask[i - 1]):
            continue
        j = i - 1
        if j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0:
            line = lines[j].strip()
            if line.startswith("(") and line.endswith(")") and len(line) <= UNITS_LINE_MAX_CHARS:
                for k in range(j, i):
                    mask[k] = True
    return mask


def split_table_lines(text: str) -> tuple[str, int]:
    """``text`` without its Markdown tables (see ``table_line_mask``), and the number of characters they held
    (newlines included)."""
    if "|" not in text:
        return text, 0
    lines = text.split("\n")
    mask = table_line_mask(lines)
    if not any(mask):
        return text, 0
    kept = [line for line, is_table in zip(lines, mask, strict=True) if not is_table]
    table_chars = sum(len(line) + 1 for line, is_table in zip(lines, mask, strict=True) if is_table)
    return "\n".join(kept), table_chars


def table_line_share(text: str) -> float:
    """Share of ``text``'s characters (newlines included) on Markdown table lines; 0.0 for an empty text."""
    if not text:
        return 0.0
    return min(1.0, split_table_lines(text)[1] / len(text))


def has_layout_residue(text: str) -> list[str]:
    """The text-shape rules ``text`` breaks, as short names (``[]`` when it is in shape); for tests/tools."""
    problems = []
    if _BLANK_RUN_RE.search(text):
        problems.append("blank_line_run")
    if text != text.strip("\n") or text != text.strip():
        problems.append("edge_whitespace")
    if any(line != line.rstrip() for line in text.split("\n")):
        problems.append("trailing_space")
    if any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in text):
        problems.append("control_char")
    return problems


__all__ = [
    "DEFAULT_TABLE_MODE",
    "TABLE_MODES",
    "clean_rows",
    "has_layout_residue",
    "is_markdown_table_line",
    "is_numeric_cell",
    "join_blocks",
    "linearize_table",
    "markdown_table",
    "normalize_line",
    "normalize_text",
    "split_table_lines",
    "table_line_mask",
    "table_line_share",
]
