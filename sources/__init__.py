"""Source connectors. Each reader turns one input file into RawRecords (or RecordErrors for broken records).

Reader contract: ``read(path: str, stream: BinaryIO, options: Mapping[str, Any]) -> Iterator[RawRecord | RecordError]``.
``stream`` is the file's raw bytes as stored (the reader decompresses by itself, by the path's extension),
opened through Beam's FileSystems so that local paths and gs:// read the same. A reader never raises for a
bad record: it yields a ``RecordError`` (stage ``read``) and goes on with the next record; it raises
``RecordFailure`` only when the whole file is unreadable (then the file counts as one error). Anything else
a reader raises is caught by ``pipeline.stages.read.read_file`` and becomes one error for the file (the run goes on).
A record left out on purpose (not an article, a subreddit outside the allow-list) is reported with
``note_skipped(source, reason)``: ``read_file`` turns the notes into counted ``Skipped`` entries of the funnel.
"""

from __future__ import annotations

import importlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

from core.schema import RawRecord, RecordError

Reader = Callable[[str, BinaryIO, Mapping[str, Any]], Iterator[RawRecord | RecordError]]

# kind -> "module:function"; imported lazily so that a run only imports the connectors it uses.
READERS: dict[str, str] = {
    "edgar": "sources.edgar:read_records",
    "warc": "sources.web:read_warc",
    "rss": "sources.web:read_feed",
    "news_cache": "sources.feeds_fetch:read_news_cache",
    "reddit": "sources.social:read_reddit",
    "tweets": "sources.social:read_tweets",
    "stocktwits": "sources.stocktwits:read_stocktwits",
    "wikipedia": "sources.general:read_wikipedia",
    "jsonl": "sources.general:read_jsonl",
    "html": "sources.files:read_html_file",
    "text": "sources.files:read_text_file",
    "pubmed": "sources.medical:read_pubmed",
    "pmc": "sources.medical:read_pmc",
}


def get_reader(kind: str) -> Reader:
    """The reader function for an input kind (raises KeyError for an unknown kind)."""
    module_name, func_name = READERS[kind].split(":")
    return getattr(importlib.import_module(module_name), func_name)


_SKIPS = threading.local()


def note_skipped(source: str, reason: str, n: int = 1) -> None:
    """Record that a reader left ``n`` records of ``source`` out on purpose, for ``reason``.

    Collected by ``pipeline.stages.read.read_file`` for the file being read (per thread); a no-op outside it, e.g.
    when a test calls a reader directly.
    """
    sink = getattr(_SKIPS, "sink", None)
    if sink is not None:
        sink[(source, reason)] += n


def swap_skip_sink(sink: Counter | None) -> Counter | None:
    """Make ``sink`` the current thread's collector of ``note_skipped`` calls; returns the previous one."""
    previous = getattr(_SKIPS, "sink", None)
    _SKIPS.sink = sink
    return previous
