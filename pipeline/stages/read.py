"""ReadSources: expand each input's file patterns and stream every file through its connector.

Files are matched when the pipeline is built (so a missing input fails at once with one clear line), then
distributed over workers. A big file in a format that allows it (one-gzip-member-per-record WARC, plain WARC,
uncompressed JSON lines, multistream bz2 Wikipedia dumps: ``sources.ranges``) is cut into byte ranges of about
``range_bytes``, each read by whichever worker takes it, with the same records and ids as a whole-file read;
any other file is read whole by one worker. The run (``pipeline.run``) writes
the records into small spill parts as they are read and spreads the parts, not the records, over the workers
for extraction and everything after (``pipeline.flow``): one big file (a 1,000-page WARC, a Reddit or
Wikipedia dump) is extracted by every worker, and no shuffle holds raw payloads in memory.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from core.errors import ConfigError, RecordFailure
from core.schema import RawRecord, RecordError, Skipped
from pipeline import progress
from pipeline.config import InputBase
from pipeline.stages.base import ERRORS, Spread, counter
from sources import get_reader, swap_skip_sink
from sources.ranges import (
    DEFAULT_RANGE_BYTES,
    SPLIT_FACTOR,
    ByteRange,
    is_splittable,
    plan_ranges,
    split_format,
)

_LOG = logging.getLogger(__name__)

SKIPPED = "skipped"

# The source a whole-file failure is booked under, per reader kind (records carry their own source).
KIND_DEFAULT_SOURCE = {
    "edgar": "filings",
    "warc": "web",
    "rss": "news",
    "reddit": "social",
    "tweets": "social",
    "wikipedia": "wikipedia",
    "jsonl": "c4",
    "html": "web",
    "text": "c4",
    "news_cache": "news",
    "stocktwits": "social",
    "pubmed": "pubmed",
    "pmc": "pmc",
}


@dataclass(frozen=True)
class InputFile:
    """One file to read: which input named it, the reader kind, the path and the reader options."""

    input_name: str
    kind: str
    path: str
    size: int
    options: tuple[tuple[str, Any], ...] = ()
    byte_range: ByteRange | None = None  # only these bytes' records (a big file split over workers)

    @property
    def where(self) -> str:
        """The file, and the range read of it, for messages."""
        return f"{self.path} {self.byte_range}" if self.byte_range is not None else self.path

    @property
    def default_source(self) -> str:
        opts = dict(self.options)
        return str(opts.get("source") or KIND_DEFAULT_SOURCE.get(self.kind, "web"))


def list_input_files(inputs: Sequence[InputBase]) -> list[InputFile]:
    """Expand every input's paths/globs (local or gs://); a pattern that matches nothing is a ConfigError."""
    files: list[InputFile] = []
    for spec in inputs:
        for pattern in spec.paths:
            try:
                matched = FileSystems.match([pattern])[0].metadata_list
            except Exception as exc:  # Beam raises BeamIOError for unreachable schemes/buckets
                raise ConfigError(f"input '{spec.name}': cannot list {pattern}: {exc}") from None
            if not matched:
                raise ConfigError(
                    f"input '{spec.name}': no file matches {pattern} (check the path in your config or --input flag)"
                )
            for meta in sorted(matched, key=lambda m: m.path):
                files.append(
                    InputFile(
                        input_name=spec.name,
                        kind=spec.kind,
                        path=meta.path,
                        size=meta.size_in_bytes,
                        options=tuple(sorted(spec.reader_options().items())),
                    )
                )
    return files


def split_input_files(files: Sequence[InputFile], range_bytes: int = DEFAULT_RANGE_BYTES) -> list[InputFile]:
    """Each file over ``SPLIT_FACTOR * range_bytes`` whose format allows it -> one InputFile per byte range
    (``sources.ranges``); the others unchanged. ``range_bytes`` 0 splits nothing. A file that cannot be opened
    or probed is left whole (reading it reports the problem)."""
    out: list[InputFile] = []
    for f in files:
        fmt = split_format(f.kind, f.path)
        if not range_bytes or fmt is None or f.size <= SPLIT_FACTOR * range_bytes or f.byte_range is not None:
            out.append(f)
            continue
        try:
            with FileSystems.open(f.path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
                ranges = plan_ranges(fmt, stream, f.size, range_bytes) if is_splittable(fmt, stream) else []
        except (OSError, ValueError) as exc:
            _LOG.warning("cannot plan byte ranges of %s, reading it whole: %s", f.path, exc)
            ranges = []
        if len(ranges) < 2:
            out.append(f)
            continue
        _LOG.info("%s: %d byte ranges of about %d bytes (%s)", f.path, len(ranges), range_bytes, fmt)
        out.extend(dataclasses.replace(f, byte_range=r) for r in ranges)
    return out


def read_file(input_file: InputFile) -> Iterator[RawRecord | RecordError | Skipped]:
    """Stream one file through its connector: its records, its errors and the records it skipped on purpose.

    A reader never takes the run down: whatever it raises (a library bug on one odd record, a broken stream)
    becomes one error for the file, which says how many records were read before it, and the run goes on.
    An empty file is one ``empty_file`` error, whatever the reader (one rule for every kind).
    """
    if input_file.size == 0:
        yield RecordError(
            source=input_file.default_source,
            stage="read",
            kind="empty_file",
            message=f"{input_file.path} is empty (0 bytes): nothing to read",
            id=input_file.path,
            path=input_file.path,
        )
        return
    reader = get_reader(input_file.kind)
    sink: Counter = Counter()
    read = 0
    try:
        with FileSystems.open(input_file.path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            if input_file.byte_range is None:
                items = iter(reader(input_file.path, stream, dict(input_file.options)))
            else:
                # only the readers of splittable formats (sources.ranges.split_format) take a byte range
                items = iter(
                    reader(  # type: ignore[call-arg]
                        input_file.path, stream, dict(input_file.options), byte_range=input_file.byte_range
                    )
                )
            while True:
                previous = swap_skip_sink(sink)  # collect note_skipped() only while this reader runs
                try:
                    item = next(items)
                except StopIteration:
                    break
                finally:
                    swap_skip_sink(previous)
                if isinstance(item, RawRecord):
                    read += 1
                yield item
    except Exception as exc:  # noqa: BLE001 - the reader contract: nothing a reader raises may stop the run
        kind = exc.kind if isinstance(exc, RecordFailure) else type(exc).__name__
        where = f"after {read} records" if read else "before any record"
        if not isinstance(exc, RecordFailure | OSError | EOFError | ValueError | UnicodeError):
            _LOG.warning("reader %s failed on %s", input_file.kind, input_file.where, exc_info=True)
        rest = (
            "the rest of the file is lost"
            if input_file.byte_range is None
            else "the rest of the range is lost"
        )
        yield RecordError(
            source=input_file.default_source,
            stage="read",
            kind=kind,
            message=f"cannot read {input_file.where} {where}, {rest}: {exc}"[:1000],
            id=input_file.where,  # one error per range of a split file
            path=input_file.path,
        )
    for (source, reason), n in sorted(sink.items()):
        yield Skipped(source=source, reason=reason, count=n, path=input_file.path)


class _ReadFileFn(beam.DoFn):
    def process(self, input_file: InputFile):
        for item in read_file(input_file):
            if isinstance(item, Skipped):
                counter(f"read:skipped:{item.reason}").inc(item.count)
                yield pvalue.TaggedOutput(SKIPPED, item)
            elif isinstance(item, RecordError):
                counter(f"read:errors:{item.kind}").inc()
                _LOG.warning("read error in %s (%s): %s", input_file.where, item.kind, item.message)
                yield pvalue.TaggedOutput(ERRORS, item)
            else:
                item.input = input_file.input_name
                counter(f"read:{item.source}").inc()
                progress.tick("read")
                yield item

    def finish_bundle(self):
        progress.flush()


def input_bytes(item: InputFile) -> int:
    """Bytes a file (or its byte range) makes a worker read: ``Spread``'s weight."""
    if item.byte_range is not None:
        return item.byte_range.end - item.byte_range.start
    return item.size


class ReadSources(beam.PTransform):
    """All inputs of a run -> RawRecords (main), RecordErrors (``errors``) and, with ``with_skipped``, the
    counts of records readers left out on purpose (``Skipped``) as a third output."""

    def __init__(
        self,
        files: list[InputFile],
        with_skipped: bool = False,
        range_bytes: int = DEFAULT_RANGE_BYTES,
        workers: int | None = None,
    ):
        super().__init__()
        self._files = split_input_files(files, range_bytes)
        self._with_skipped = with_skipped
        self._workers = workers

    def expand(self, pbegin):
        outputs = (
            pbegin
            | "ListFiles" >> beam.Create(self._files)
            | "SpreadFiles" >> Spread(input_bytes, self._workers)
            | "ReadFiles" >> beam.ParDo(_ReadFileFn()).with_outputs(ERRORS, SKIPPED, main="records")
        )
        if self._with_skipped:
            return outputs.records, outputs[ERRORS], outputs[SKIPPED]
        return outputs.records, outputs[ERRORS]
