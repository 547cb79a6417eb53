"""RemoveBoilerplate: paragraphs repeated across many documents of a source are removed from all of them.

Steps (cores in ``filters.boilerplate``; defaults and their reasons are documented there):

1. ``ParagraphKeys``: every in-scope document emits ((source, key), 1) once per distinct paragraph key.
2. ``CountDocs``: ``CombinePerKey`` counts documents per (source, key) (combiner-lifted: partial counts are
   summed before the shuffle); ``SelectBoilerplate`` keeps the keys with count >= ``min_docs`` and
   ``BoilerplateKeys`` gathers them into one {source: keys} mapping.
3. ``Strip``: each document, with that mapping as a side input, loses the paragraphs whose key is boilerplate
   for its source (its keys are recomputed only when its source has boilerplate at all).

Only 8-byte keys and counts are shuffled; documents are never shuffled here. The boilerplate key set goes to
every worker as a side input: about 100 bytes per key, so a million distinct boilerplate paragraphs cost
~100 MB per worker. Documents of sources outside ``sources`` skip the stage. Counters:
``boilerplate:paragraphs_removed``, ``boilerplate:docs_changed``, ``boilerplate:keys`` (distinct boilerplate
paragraphs). A document left empty goes to rejected/ with reason ``boilerplate:empty``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from core.schema import Document, Rejected
from filters.boilerplate import BoilerplateConfig, LineKeys, paragraph_keys, remove_lines, remove_paragraphs
from pipeline.stages.base import REJECTED, counter

STAGE = "boilerplate"
EMPTY_REASON = "boilerplate:empty"


def doc_paragraph_keys(doc: Document, min_chars: int) -> Iterator[tuple[tuple[str, str], int]]:
    """((source, key), 1) once per distinct paragraph key of ``doc``."""
    for key in sorted({key for key, _ in paragraph_keys(doc.text, min_chars)}):
        yield (doc.source, key), 1


def _is_boilerplate(element: tuple[tuple[str, str], int], min_docs: int) -> bool:
    if element[1] < min_docs:
        return False
    counter(f"{STAGE}:keys").inc()
    return True


class _KeysBySource(beam.CombineFn):
    """((source, key), count) elements -> {source: frozenset of keys} (one mapping for the side input)."""

    def create_accumulator(self) -> dict[str, set[str]]:
        return {}

    def add_input(
        self, acc: dict[str, set[str]], element: tuple[tuple[str, str], int]
    ) -> dict[str, set[str]]:
        (source, key), _ = element
        acc.setdefault(source, set()).add(key)
        return acc

    def merge_accumulators(self, accs: Iterable[dict[str, set[str]]]) -> dict[str, set[str]]:
        merged: dict[str, set[str]] = {}
        for acc in accs:
            for source, keys in acc.items():
                merged.setdefault(source, set()).update(keys)
        return merged

    def extract_output(self, acc: dict[str, set[str]]) -> dict[str, frozenset[str]]:
        return {source: frozenset(keys) for source, keys in acc.items()}


def strip_document(doc: Document, keys: set[str], min_chars: int) -> Document | Rejected:
    """The pure core of the last step: ``doc`` without its boilerplate paragraphs, or Rejected when empty."""
    return _stripped(doc, *remove_paragraphs(doc.text, keys, min_chars))


def strip_carried(doc: Document, line_keys: LineKeys, keys: frozenset[int]) -> Document | Rejected:
    """``strip_document`` with the document's paragraph keys computed before (``line_keys``, carried with it
    through the spill) and the boilerplate keys as ints (``filters.boilerplate.int_keys``): no normalisation."""
    return _stripped(doc, *remove_lines(doc.text, line_keys.lines_with(keys)))


def _stripped(doc: Document, text: str, removed: int) -> Document | Rejected:
    if not removed:
        return doc
    counter(f"{STAGE}:paragraphs_removed").inc(removed)
    counter(f"{STAGE}:docs_changed").inc()
    doc.text = text
    doc.n_chars = len(text)
    doc.metadata["boilerplate_removed"] = str(removed)
    if not text.strip():
        counter(f"{STAGE}:dropped:{EMPTY_REASON}").inc()
        return Rejected(stage=STAGE, reason=EMPTY_REASON, document=doc)
    return doc


def _strip(doc: Document, keys_by_source: dict[str, frozenset[str]], min_chars: int) -> Iterator[Any]:
    keys = keys_by_source.get(doc.source)
    result = strip_document(doc, keys, min_chars) if keys else doc
    if isinstance(result, Rejected):
        yield pvalue.TaggedOutput(REJECTED, result)
    else:
        yield result


class RemoveBoilerplate(beam.PTransform):
    """C4-style removal of paragraphs repeated in >= ``min_docs`` documents of a source; returns (docs, rejected)."""

    def __init__(self, settings: dict[str, Any] | BoilerplateConfig | None = None):
        super().__init__()
        self._cfg = (
            settings if isinstance(settings, BoilerplateConfig) else BoilerplateConfig.from_settings(settings)
        )

    def expand(self, docs):
        cfg = self._cfg
        sources = frozenset(cfg.sources)
        in_scope, passthrough = docs | "Scope" >> beam.Partition(
            lambda d, _n: 0 if d.source in sources else 1, 2
        )
        keys_by_source = (
            in_scope
            | "ParagraphKeys" >> beam.FlatMap(doc_paragraph_keys, cfg.min_chars)
            | "CountDocs" >> beam.CombinePerKey(sum)
            | "SelectBoilerplate" >> beam.Filter(_is_boilerplate, cfg.min_docs)
            | "BoilerplateKeys" >> beam.CombineGlobally(_KeysBySource())
        )
        out = in_scope | "Strip" >> beam.FlatMap(
            _strip, beam.pvalue.AsSingleton(keys_by_source), cfg.min_chars
        ).with_outputs(REJECTED, main="kept")
        kept = (out.kept, passthrough) | "Merge" >> beam.Flatten()
        return kept, out[REJECTED]
