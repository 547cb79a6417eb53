"""Tests of the shared table helper (sources/tables.py)."""

from __future__ import annotations

import re

import lxml.html

from core.textshape import (
    is_numeric_cell,
    linearize_table,
    markdown_table,
    split_table_lines,
    table_line_share,
)
from sources.tables import Cell, align, html_rows, is_layout, layout_paragraphs


def _rows(markup: str) -> list[list[Cell]]:
    return html_rows(lxml.html.fromstring(markup))


def test_fragments_merge_and_spacer_columns_vanish():
    rows = [
        [Cell(2, 5, "2024")],
        [Cell(0, 1, "Net loss"), Cell(2, 3, "$"), Cell(3, 4, "(1,234"), Cell(4, 5, ")")],
        [Cell(0, 1, "Margin"), Cell(3, 4, "12.5"), Cell(4, 5, "%")],
    ]
    assert align(rows) == [["", "2024"], ["Net loss", "$(1,234)"], ["Margin", "12.5%"]]


def test_spanning_header_is_repeated_over_its_columns_and_header_rows_stack():
    markup = (
        "<table><tr><td></td><td colspan='4'>Three Months Ended</td></tr>"
        "<tr><td></td><td colspan='2'>June 28, 2025</td><td colspan='2'>June 29, 2024</td></tr>"
        "<tr><td>Net sales</td><td>$</td><td>94,036</td><td>$</td><td>85,777</td></tr></table>"
    )
    grid = align(_rows(markup))
    assert grid == [
        ["", "Three Months Ended June 28, 2025", "Three Months Ended June 29, 2024"],
        ["Net sales", "$94,036", "$85,777"],
    ]
    assert markdown_table(grid) == (
        "| | Three Months Ended June 28, 2025 | Three Months Ended June 29, 2024 |\n"
        "| --- | ---: | ---: |\n| Net sales | $94,036 | $85,777 |"
    )


def test_header_written_without_colspan_takes_the_next_free_column():
    rows = [
        [Cell(1, 2, "2024"), Cell(2, 3, "2023")],
        [Cell(0, 1, "Sales"), Cell(1, 2, "$"), Cell(2, 3, "10"), Cell(3, 4, "$"), Cell(4, 5, "9")],
    ]
    assert align(rows) == [["", "2024", "2023"], ["Sales", "$10", "$9"]]


def test_plain_text_columns_by_character_position():
    lines = [
        "                                    1998        1997",
        "Net sales                        $ 1,234     $ 1,100",
        "Net income                           120          98",
    ]
    rows = [[Cell(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", ln)] for ln in lines]
    assert align(rows) == [
        ["", "1998", "1997"],
        ["Net sales", "$1,234", "$1,100"],
        ["Net income", "120", "98"],
    ]


def test_wrapped_rows_are_joined():
    rows = [
        [Cell(0, 10, "Exhibit"), Cell(12, 40, "Description")],
        [Cell(0, 10, "2.1"), Cell(12, 40, "Agreement and Plan of Merger")],
        [Cell(12, 40, "dated August 3, 1998")],
        [Cell(0, 30, "Convertible preferred stock (liquidation")],
        [Cell(0, 30, "preference of $6,382,067)"), Cell(31, 40, "566,495")],
    ]
    assert align(rows)[1:] == [
        ["2.1", "Agreement and Plan of Merger dated August 3, 1998"],
        ["Convertible preferred stock (liquidation preference of $6,382,067)", "566,495"],
    ]


def test_first_row_of_data_gets_an_empty_header():
    grid = align(
        [[Cell(0, 1, "99.1"), Cell(1, 2, "Press release")], [Cell(0, 1, "99.2"), Cell(1, 2, "Data")]]
    )
    assert grid[0] == ["", ""] and grid[1] == ["99.1", "Press release"]


def test_layout_detection_and_unwrapping():
    assert is_layout([["•", "Revenue rose."], ["•", "Costs fell."]])
    assert layout_paragraphs([["•", "Revenue rose."], ["•", "Costs fell."]]) == [
        "• Revenue rose.",
        "• Costs fell.",
    ]
    assert is_layout([["Only one column"], ["of text"]])
    assert is_layout([["Note", "x" * 300], ["", "more"]])
    assert not is_layout([["Name", "Position"], ["Jane Roe", "Chief Executive Officer"]])
    assert not is_layout([["", "2024"], ["Sales", "$10"]])


def test_numeric_cells_and_pipes():
    for cell in ("$331,495", "(1,234)", "$(17,607)", "46.2%", "—", "n/a", "(3)"):
        assert is_numeric_cell(cell), cell
    assert not is_numeric_cell("Total assets")
    assert markdown_table([["a|b", "c"], ["1", "2"]]).startswith("| a\\|b | c |")
    assert linearize_table([["", "2024"], ["Sales", "$10"]]) == "Sales: 2024: $10"
    # one renderer for every extractor: numeric columns right-aligned, pipes escaped
    assert (
        markdown_table([["", "2024"], ["Sales", "$10"], ["Costs", "(4)"]]).split("\n")[1] == "| --- | ---: |"
    )


def test_table_line_share():
    text = "Caption\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\nProse."
    prose, chars = split_table_lines(text)
    assert prose == "Caption\n\n\nProse." and chars == 10 + 14 + 10  # lines and their newlines
    assert table_line_share(text) == chars / len(text)
    assert table_line_share("no tables | here") == 0.0 and table_line_share("") == 0.0


def test_html_rows_cell_text_is_the_text_of_the_cells_whole_subtree():
    """A cell's text is all the text inside it (nested inline elements, their tails, a nested table's cells;
    not comments, not the cell's own tail), whitespace collapsed, soft hyphens and zero-width spaces removed;
    spacer cells take their columns and give no cell."""
    markup = (
        "<table><tr>"
        "<td>Net <b>in<i>co</i>me</b><!-- note --> (loss)\u00ad</td>tail of a cell"
        '<td colspan="2"> </td>'
        '<td colspan="x"><p>1,2<span>34</span></p>\n</td>'
        '<th colspan="0">\u200b</th>'
        "<td><table><tr><td>inner</td><td>cell</td></tr></table>after</td>"
        "</tr><tr><td></td><td>\u00a0only\u00a0</td></tr></table>"
    )
    table = lxml.html.fromstring(markup)
    rows = html_rows(table)
    assert rows[0] == [
        Cell(0, 1, "Net income (loss)"),
        Cell(3, 4, "1,234"),
        Cell(5, 6, "innercellafter"),
    ]
    # the nested table's row is a row of the table too (``iter("tr")``, document order)
    assert rows[1:] == [[Cell(0, 1, "inner"), Cell(1, 2, "cell")], [Cell(1, 2, "only")]]
