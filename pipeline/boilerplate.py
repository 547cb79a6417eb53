"""RemoveBoilerplate: paragraphs repeated across many documents of a source are removed from all of them.

Steps (cores in ``filters.boilerplate``; defaults and their reasons are documented there):

1. ``ParagraphKeys``: every in-scope document emits ((source, key), doc id) once per distinct paragraph key.
2. ``CountDocs``: ``CombinePerKey`` counts documents per (source, key) (combiner-lifted: partial counts are
   summed before the shuffle); keys with count >= ``min_docs`` are boilerplate.
3. ``JoinKeys``: (source, key) -> doc ids joined with the counts; for each boilerplate key, (doc id, key).
4. ``JoinDocs``: documents keyed by id joined with their boilerplate keys; the paragraphs are removed.

Only ids and 8-byte keys are shuffled in steps 1-3; each document is shuffled once, in step 4. Documents of
sources outside ``sources`` skip the stage. Counters: ``boilerplate:paragraphs_removed``,
``boilerplate:docs_changed``, ``boilerplate:keys`` (distinct boilerplate paragraphs). A document left
empty goes to rejected/ with reason ``boilerplate:empty``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from filters.boilerplate import BoilerplateConfig, paragraph_keys, remove_paragraphs
from pipeline.schema import Document, Rejected
from pipeline.stage import REJECTED, counter

STAGE = "boilerplate"
EMPTY_REASON = "boilerplate:empty"


def doc_paragraph_keys(doc: Document, min_chars: int) -> Iterator[tuple[tuple[str, str], str]]:
    """((source, key), doc id) once per distinct paragraph key of ``doc``."""
    for key in sorted({key for key, _ in paragraph_keys(doc.text, min_chars)}):
        yield (doc.source, key), doc.id


def boilerplate_assignments(
    element: tuple[tuple[str, str], dict[str, list[Any]]], min_docs: int
) -> Iterator[tuple[str, str]]:
    """For one (source, key): (doc id, key) for every carrier when the key is boilerplate."""
    (_, key), grouped = element
    counts = grouped["count"]
    if not counts or counts[0] < min_docs:
        return
    counter(f"{STAGE}:keys").inc()
    for doc_id in grouped["doc_id"]:
        yield doc_id, key


def strip_document(doc: Document, keys: set[str], min_chars: int) -> Document | Rejected:
    """The pure core of the last step: ``doc`` without its boilerplate paragraphs, or Rejected when empty."""
    text, removed = remove_paragraphs(doc.text, keys, min_chars)
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


def _strip(element: tuple[str, dict[str, list[Any]]], min_chars: int) -> Iterator[Any]:
    _, grouped = element
    keys = set(grouped["key"])
    for doc in grouped["doc"]:
        result = strip_document(doc, keys, min_chars)
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
        carriers = in_scope | "ParagraphKeys" >> beam.FlatMap(doc_paragraph_keys, cfg.min_chars)
        doc_counts = (
            carriers | "Ones" >> beam.Map(lambda kv: (kv[0], 1)) | "CountDocs" >> beam.CombinePerKey(sum)
        )
        assignments = (
            {"doc_id": carriers, "count": doc_counts}
            | "JoinKeys" >> beam.CoGroupByKey()
            | "SelectBoilerplate" >> beam.FlatMap(boilerplate_assignments, cfg.min_docs)
        )
        by_id = in_scope | "KeyById" >> beam.Map(lambda d: (d.id, d))
        out = (
            {"doc": by_id, "key": assignments}
            | "JoinDocs" >> beam.CoGroupByKey()
            | "Strip" >> beam.FlatMap(_strip, cfg.min_chars).with_outputs(REJECTED, main="kept")
        )
        kept = (out.kept, passthrough) | "Merge" >> beam.Flatten()
        return kept, out[REJECTED]
