"""ReadSources: expand each input's file patterns and stream every file through its connector.

Files are matched when the pipeline is built (so a missing input fails at once with one clear line), then
distributed over workers: one file is the unit of parallelism for reading and extraction. The extracted
documents (a tenth of a filing's bytes) are spread over all workers after Extract (``pipeline.run``), not the
raw records: a shuffle of raw payloads held ~4.6x the input bytes in memory on the DirectRunner.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline import progress
from pipeline.config import InputSpec
from pipeline.errors import ConfigError, RecordFailure
from pipeline.schema import RawRecord, RecordError
from pipeline.stage import ERRORS, counter
from sources import get_reader

_LOG = logging.getLogger(__name__)

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

    @property
    def default_source(self) -> str:
        opts = dict(self.options)
        return str(opts.get("source") or KIND_DEFAULT_SOURCE.get(self.kind, "web"))


def list_input_files(inputs: list[InputSpec]) -> list[InputFile]:
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
                        options=tuple(sorted(spec.options.items())),
                    )
                )
    return files


def read_file(input_file: InputFile) -> Iterator[RawRecord | RecordError]:
    """Stream one file through its connector; an unreadable file becomes one RecordError."""
    reader = get_reader(input_file.kind)
    try:
        with FileSystems.open(input_file.path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            yield from reader(input_file.path, stream, dict(input_file.options))
    except (RecordFailure, OSError, EOFError, ValueError, UnicodeError) as exc:
        kind = exc.kind if isinstance(exc, RecordFailure) else type(exc).__name__
        yield RecordError(
            source=input_file.default_source,
            stage="read",
            kind=kind,
            message=f"cannot read {input_file.path}: {exc}",
            id=input_file.path,
            path=input_file.path,
        )


class _ReadFileFn(beam.DoFn):
    def process(self, input_file: InputFile):
        for item in read_file(input_file):
            if isinstance(item, RecordError):
                counter(f"read:errors:{item.kind}").inc()
                _LOG.warning("read error in %s (%s): %s", input_file.path, item.kind, item.message)
                yield pvalue.TaggedOutput(ERRORS, item)
            else:
                item.input = input_file.input_name
                counter(f"read:{item.source}").inc()
                progress.tick("read")
                yield item

    def finish_bundle(self):
        progress.flush()


class ReadSources(beam.PTransform):
    """All inputs of a run -> RawRecords (main) and RecordErrors (``errors``)."""

    def __init__(self, files: list[InputFile]):
        super().__init__()
        self._files = files

    def expand(self, pbegin):
        outputs = (
            pbegin
            | "ListFiles" >> beam.Create(self._files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "ReadFiles" >> beam.ParDo(_ReadFileFn()).with_outputs(ERRORS, main="records")
        )
        return outputs.records, outputs[ERRORS]
