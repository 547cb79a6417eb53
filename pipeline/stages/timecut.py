"""The ``time`` stage: the ``--as_of`` cut, a thin Beam shell around ``core.timeinfo.cut``.

Documents available after ``time.as_of`` are rejected (``after_cutoff``); those of unknown time follow
``time.unknown`` (``keep``, ``drop`` as ``unknown_time``, or ``flag``). The time itself was resolved by Extract
(``core.timeinfo.assign_time``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.schema import Document, Rejected
from core.timeinfo import STAGE, TimeConfig, cut
from pipeline.stages.base import DocumentStage


class CutAtTime(DocumentStage):
    """The ``time`` stage: rejects documents available after ``as_of`` (``after_cutoff``); applies the
    unknown-time policy."""

    stage = STAGE

    def __init__(self, settings: Mapping[str, Any] | None):
        self._cfg = TimeConfig.from_settings(settings)

    def handle(self, doc: Document) -> Document | Rejected:
        return cut(doc, self._cfg)
