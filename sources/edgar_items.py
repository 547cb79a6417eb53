"""10-K / 10-Q items as separate documents (the EDGAR input option ``split_items_as_documents``).

``sources.edgar.extract_filing`` stores the item sections of a periodic report in ``metadata["items"]``
(JSON: ``[{"item", "title", "start", "end"}, ...]``, character offsets into the text, see
``sources.edgar.split_items``). ``split_item_documents`` turns one such filing into one ``Document`` per
item, so that a corpus can weight, deduplicate or filter Item 1A (risk factors) apart from Item 8 (financial
statements). The text before the first item (cover page, table of contents) becomes an item ``cover`` so
that nothing disappears silently; later stages judge it like any other document. The labelled sections that
``split_items`` finds after the items (``signatures``, ``exhibit_index``, ``auditor_report``,
``financial_statements``, ``schedules``) become documents of their own too.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from core.schema import Document
from sources.edgar import SECTION_TITLES

__all__ = ["SPLIT_OPTION", "item_label", "split_if_requested", "split_item_documents"]

SPLIT_OPTION = "split_items_as_documents"  # the input option, and the record metadata flag carrying it
COVER_ITEM = "cover"


def item_label(item: str) -> str:
    """A readable item name: ``1A`` -> ``Item 1A``, ``part2_item1a`` -> ``Part II Item 1A``, ``signatures`` ->
    ``Signatures`` (the labelled sections of ``sources.edgar.SECTION_TITLES``; a repeat ``signatures_2``
    -> ``Signatures 2``)."""
    if item.startswith("part") and "_item" in item:
        part, number = item[4:].split("_item", 1)
        return f"Part {'I' * int(part)} Item {number.upper()}"
    if item == COVER_ITEM:
        return "Cover page"
    base, _, repeat = item.rpartition("_") if item.rpartition("_")[2].isdigit() else (item, "", "")
    if base in SECTION_TITLES:
        return SECTION_TITLES[base] + (f" {repeat}" if repeat else "")
    return f"Item {item}"


def _is_numbered(item: str) -> bool:
    """An "Item N" section (its label does not already say what it is), not the cover or a labelled section."""
    return item != COVER_ITEM and item.rstrip("_0123456789") not in SECTION_TITLES


def _items(doc: Document) -> list[dict[str, Any]]:
    try:
        items = json.loads(doc.metadata.get("items") or "[]")
    except json.JSONDecodeError:
        return []
    return [i for i in items if isinstance(i, dict) and {"item", "start", "end"} <= i.keys()]


def split_item_documents(doc: Document) -> list[Document]:
    """One Document per item of a 10-K/10-Q (``[doc]`` unchanged when it has no items).

    Each part keeps the filing's fields and metadata, with ``id = doc.id + ":" + item``, ``metadata``
    ``item``, ``item_title``, ``item_start``/``item_end`` (offsets in the filing text) and ``parent_id``;
    ``metadata["items"]`` is dropped from the parts. Empty sections are skipped.
    """
    items = _items(doc)
    if not items:
        return [doc]
    sections: list[dict[str, Any]] = []
    first_start = min(int(i["start"]) for i in items)
    if doc.text[:first_start].strip():
        sections.append({"item": COVER_ITEM, "title": "Cover page", "start": 0, "end": first_start})
    sections += sorted(items, key=lambda i: int(i["start"]))
    metadata = {k: v for k, v in doc.metadata.items() if k != "items"}
    parts = []
    for section in sections:
        start, end = int(section["start"]), int(section["end"])
        text = doc.text[start:end].strip()
        if not text:
            continue
        item = str(section["item"])
        title = str(section.get("title", ""))
        parts.append(
            dataclasses.replace(
                doc,
                id=f"{doc.id}:{item}",
                text=text,
                title=" ".join(
                    p for p in (doc.title, item_label(item), title if _is_numbered(item) else "") if p
                ),
                n_chars=len(text),
                n_tokens=0,
                quality_signals=dict(doc.quality_signals),
                metadata=metadata
                | {
                    "item": item,
                    "item_title": title,
                    "item_start": str(start),
                    "item_end": str(end),
                    "parent_id": doc.id,
                },
            )
        )
    return parts


def split_if_requested(doc: Document) -> list[Document]:
    """``split_item_documents`` when the record carried ``metadata[SPLIT_OPTION]`` true, else ``[doc]``."""
    flag = str(doc.metadata.get(SPLIT_OPTION, "")).strip().lower()
    if flag not in ("1", "true", "yes", "on"):
        return [doc]
    parts = split_item_documents(doc)
    for part in parts:
        part.metadata = {k: v for k, v in part.metadata.items() if k != SPLIT_OPTION}
    return parts
