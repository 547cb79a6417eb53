"""Financial statements as grids: align cells into columns and merge number fragments.

EDGAR's tables are laid out for print, not for reading: a number is split over three cells, spacer columns
sit between the numbers, headers span columns. This module turns such a table into a clean grid of cell
strings; rendering it is the text shape's job (``core.textshape.markdown_table`` / ``linearize_table``, the
renderers every extractor shares). Its input is a table as rows of ``Cell``s, each with a position
``[start, end)`` in the table's own column units: grid columns for an HTML table (a ``colspan`` widens ``end``),
character columns for a plain-text table (a 1990s filing's space-aligned ``<TABLE>``).
``layout_paragraphs(grid)`` is the text of a layout table (a table used to place text, not to tabulate it),
one paragraph per row; ``is_layout(grid)`` tells the two apart.

``align(rows)`` does the work that makes financial statements readable:

1. *Fragments are merged*: EDGAR's HTML splits "$ (1,234 )" over three cells; a currency sign or an opening
   parenthesis joins the next non-empty cell of its row, a closing parenthesis or ``%`` the previous one
   ("$(1,234)").
2. *Columns are found*: cells are grouped into logical columns by the positions they cover. Narrow cells are
   placed first; a wider cell (a header spanning a "$" column, the number column and a spacer column) merges
   the columns it covers unless that would put two cells of one row into one column (a "Three Months Ended"
   header spanning two quarters stays a header of both). Spacer columns, which no cell starts in, vanish.
3. *Header rows* are the leading rows whose first column is empty (column headings above the numbers);
   their cells are repeated over every column they span and stacked into one header row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

import lxml.etree

from core.textshape import is_numeric_cell

__all__ = [
    "Cell",
    "align",
    "html_rows",
    "is_layout",
    "layout_paragraphs",
]

LAYOUT_PROSE_CELL_CHARS = 250  # a <=2-column table holding a cell this long is page layout, not a table
MARKER_MAX_CHARS = 4


class Cell(NamedTuple):
    """One non-empty table cell: its text and the columns ``[start, end)`` it covers, in the table's units."""

    start: int
    end: int
    text: str


_PREFIX_FRAGMENTS = frozenset({"$", "€", "£", "¥", "(", "$(", "($", "US$", "C$", "A$", "Ps."})
_SUFFIX_FRAGMENTS = frozenset({")", "%", ")%", "%)", "pts", "bps", "bp"})
_MARKER_RE = re.compile(r"^(?:[•●◦▪■□◆♦·\-–—*o]|\(?[0-9a-zA-Z]{1,3}\)|\d{1,2}\.|[a-zA-Z]\.)$")


def _merge_fragments(row: list[Cell]) -> list[Cell]:
    """``$`` / ``(`` join the next cell, ``)`` / ``%`` the previous one (positions widened accordingly)."""
    merged: list[Cell] = []
    pending: Cell | None = None
    for cell in row:
        text = cell.text
        if text in _PREFIX_FRAGMENTS:
            pending = Cell(pending.start, cell.end, pending.text + text) if pending is not None else cell
            continue
        if (
            text in _SUFFIX_FRAGMENTS
            and merged
            and pending is None
            and (is_numeric_cell(merged[-1].text) or is_numeric_cell(merged[-1].text + text))
        ):
            last = merged[-1]
            merged[-1] = Cell(last.start, cell.end, last.text + text)
            continue
        if pending is not None:
            joiner = "" if pending.text.endswith(("$", "(", "€", "£", "¥")) else " "
            cell = Cell(pending.start, cell.end, pending.text + joiner + text)
            pending = None
        merged.append(cell)
    if pending is not None:
        merged.append(pending)
    return merged


def _tidy(cell: Cell) -> Cell:
    """A numeric cell without inner spaces ("$ (1,234 )" -> "$(1,234)"); other cells unchanged."""
    if " " in cell.text and is_numeric_cell(cell.text):
        return Cell(cell.start, cell.end, cell.text.replace(" ", ""))
    return cell


class _Columns:
    """Union-find over the table's position units, refusing merges that would join two cells of one row."""

    def __init__(self, width: int, row_masks: list[int]):
        self.parent = list(range(width))
        self.members = [1 << i for i in range(width)]  # bit mask of the positions in each root's column
        self.row_masks = row_masks  # per row: bits at the start position of each of its cells

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def try_merge(self, start: int, end: int) -> bool:
        roots = {self.find(i) for i in range(start, end)}
        if len(roots) < 2:
            return True
        mask = 0
        for root in roots:
            mask |= self.members[root]
        for row_mask in self.row_masks:
            both = row_mask & mask
            if both & (both - 1):  # two or more cells of this row would share the column
                return False
        first, *others = roots
        for root in others:
            self.parent[root] = first
            self.members[first] |= self.members[root]
        return True


def align(rows: Iterable[list[Cell]], header_rows: int | None = None) -> list[list[str]]:
    """A rectangular grid of cell texts (header rows first, see the module docstring); [] for no cells.

    Each input row lists its non-empty cells left to right. Rows without cells are dropped. Columns come from
    the body rows (the rows from the first one with a cell in the label position on); a header cell goes
    to the body column(s) its span overlaps, or, when an earlier header cell of its row took that column
    (a header row written without ``colspan``), to the next free column on its right. ``header_rows``
    overrides the detection of the header rows (a plain-text table's rule line under its headings says).
    """
    cell_rows = [[_tidy(cell) for cell in _merge_fragments(row)] for row in rows if row]
    cell_rows = [row for row in cell_rows if row]
    if not cell_rows:
        return []
    starts = [cell.start for row in cell_rows for cell in row]
    width = max(max([cell.end for row in cell_rows for cell in row]), max(starts) + 1)
    if header_rows is None:
        label_position = min(starts)
        header_rows = 0
        for row in cell_rows:
            if any(cell.start == label_position for cell in row):
                break
            header_rows += 1
    if header_rows >= len(cell_rows):
        header_rows = 0
    body = cell_rows[header_rows:]
    row_masks = []
    for row in body:
        mask = 0
        for cell in row:
            mask |= 1 << cell.start
        row_masks.append(mask)
    columns = _Columns(width, row_masks)
    spans = sorted(
        {(cell.start, max(cell.end, cell.start + 1)) for row in body for cell in row},
        key=lambda span: (span[1] - span[0], span[0]),
    )
    for span in spans:
        columns.try_merge(*span)
    root_at = {start: columns.find(start) for start in {cell.start for row in body for cell in row}}
    roots = sorted(set(root_at.values()), key=_lowest_bit_of(columns))
    index = {root: i for i, root in enumerate(roots)}
    column_at = {start: index[root] for start, root in root_at.items()}  # a body cell's column, by its start
    grid: list[list[str]] = []
    for row in cell_rows[:header_rows]:
        grid.append(_place_header_row(row, columns, roots))
    for row in body:
        out = [""] * len(roots)
        for cell in row:
            target = column_at[cell.start]
            out[target] = f"{out[target]} {cell.text}" if out[target] else cell.text
        grid.append(out)
    if header_rows > 1:
        stacked = [
            " ".join(cell for cell in column if cell) for column in zip(*grid[:header_rows], strict=True)
        ]
        grid = [stacked, *grid[header_rows:]]
    grid = _merge_continuation_rows(grid, has_header=header_rows > 0)
    if header_rows == 0 and any(is_numeric_cell(cell) and not _YEAR_RE.match(cell) for cell in grid[0]):
        grid = [[""] * len(grid[0]), *grid]  # the first row is data ("2.1 | Agreement ..."): no header
    return grid


def _place_header_row(row: list[Cell], columns: _Columns, roots: list[int]) -> list[str]:
    """One header row's cells in the body's columns (see ``align``)."""
    out = [""] * len(roots)
    masks = [columns.members[root] for root in roots]
    lowest = [(mask & -mask).bit_length() - 1 for mask in masks]
    taken: set[int] = set()
    for cell in row:
        end = max(cell.end, cell.start + 1)
        span_mask = ((1 << end) - 1) ^ ((1 << cell.start) - 1)
        covered = [i for i, mask in enumerate(masks) if mask & span_mask]
        if len(covered) > 1:
            targets = covered  # "Three Months Ended" over two quarters: a header of both
        else:
            if covered:
                target = covered[0]
            else:  # over a spacer: the nearest column on the right, else the last one
                target = next((i for i, low in enumerate(lowest) if low >= cell.start), len(roots) - 1)
            while target in taken and target + 1 < len(roots):
                target += 1
            targets = [target]
        for target in targets:
            taken.add(target)
            out[target] = f"{out[target]} {cell.text}" if out[target] else cell.text
    return out


_YEAR_RE = re.compile(r"^(?:19|20)\d\d$")


def _lowest_bit_of(columns: _Columns):
    def key(root: int) -> int:
        members = columns.members[root]
        return (members & -members).bit_length()

    return key


def _merge_continuation_rows(grid: list[list[str]], has_header: bool) -> list[list[str]]:
    """Join a wrapped text cell's continuation rows (one cell, no label, not numeric) to the row above."""
    out: list[list[str]] = []
    for row in grid:
        filled = [j for j, cell in enumerate(row) if cell]
        if (
            out
            and row[0][:1].islower()
            and not (has_header and len(out) == 1)
            and out[-1][0]
            and not any(out[-1][1:])
        ):
            # a wrapped row label: "Convertible preferred stock (liquidation preference" / "of $6,382,067):"
            row = [f"{out.pop()[0]} {row[0]}", *row[1:]]
        if (
            out
            and not (has_header and len(out) == 1)
            and len(filled) == 1
            and filled[0] > 0
            and out[-1][filled[0]]
            and out[-1][0]
            and not (is_numeric_cell(row[filled[0]]) and not _YEAR_RE.match(row[filled[0]]))
            and not is_numeric_cell(out[-1][filled[0]])
        ):
            out[-1][filled[0]] += " " + row[filled[0]]
            continue
        out.append(list(row))
    return out


_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def html_rows(table: Any) -> list[list[Cell]]:
    """The non-empty cells of an lxml ``<table>`` element's rows, positioned by grid column (``colspan``).

    Cell text is ``itertext()`` with whitespace collapsed (nested tables' text included); soft hyphens removed.
    """
    rows: list[list[Cell]] = []
    for tr in table.iter("tr"):
        column = 0
        cells: list[Cell] = []
        for td in tr.iterchildren("td", "th"):
            colspan = td.get("colspan")
            if colspan is None:
                span = 1
            else:
                try:
                    span = max(1, min(int(colspan or 1), 100))
                except ValueError:
                    span = 1
            # The text of the cell's subtree: a leaf's own text, else libxml2's concatenation of the subtree's
            # text nodes (what "".join(td.itertext()) gives, in C: a third of its CPU on EDGAR's tables).
            if len(td):
                text = _subtree_text(td)
            else:
                text = td.text
                if not text:  # a spacer cell
                    column += span
                    continue
            text = " ".join(text.split())  # str.split: every Unicode space, NBSP too
            if not text.isascii() and _INVISIBLE_RE.search(text):
                text = " ".join(_INVISIBLE_RE.sub("", text).split())
            if text:
                cells.append(Cell(column, column + span, text))
            column += span
        rows.append(cells)
    return rows


def _subtree_text(el: Any) -> str:
    """All text inside ``el`` (not its tail), as ``"".join(el.itertext())``."""
    return _tostring(el, method="text", encoding=str, with_tail=False)


_tostring = lxml.etree.tostring


def _row_lines(grid: list[list[str]]) -> str:
    """One line per row, its non-empty cells joined by " | " (markers glued to their text)."""
    lines = []
    for row in grid:
        cells = [cell for cell in row if cell]
        if cells and len(cells[0]) <= MARKER_MAX_CHARS and _MARKER_RE.match(cells[0]) and len(cells) > 1:
            cells = [f"{cells[0]} {cells[1]}", *cells[2:]]
        if cells:
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def is_layout(grid: list[list[str]]) -> bool:
    """A table used for layout: one column of text, a marker column plus text (a list), or prose in cells."""
    if not grid:
        return True
    width = len(grid[0])
    if width <= 1 or len(grid) == 1:
        return True
    cells = [cell for row in grid for cell in row if cell]
    if any(is_numeric_cell(cell) and not _MARKER_RE.match(cell) for cell in cells):
        return False
    first = [row[0] for row in grid if row[0]]
    if width == 2 and first and all(len(c) <= MARKER_MAX_CHARS and _MARKER_RE.match(c) for c in first):
        return True  # "•" | "text": a bulleted or numbered list laid out as a table
    return width <= 2 and any(len(cell) >= LAYOUT_PROSE_CELL_CHARS for cell in cells)


def layout_paragraphs(grid: list[list[str]]) -> list[str]:
    """The text of a layout table: one paragraph per row (markers spaced from their text)."""
    return [line for line in _row_lines(grid).replace(" | ", " ").split("\n") if line]
