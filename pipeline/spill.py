"""Spill files: what keeps whole records and documents out of the runner's shuffles and buffers.

The DirectRunner (FnApiRunner) holds in memory every PCollection that crosses a fused stage (a GroupByKey, a
side input, a multi-input Flatten), so a pipeline that moves documents between stages needs memory in
proportion to the corpus. Here, records and documents are written to spill files under the run's ``_work/``
folder by the stage that made them, and only the file's path (plus small keys) crosses into the next stage,
which reads the file back. Memory per worker is then one spill part, whatever the corpus size; on Dataflow the
same design keeps the shuffle to keys and ids (what a batch job pays for).

Format: a part is a sequence of length-prefixed zstd frames (level 1) of about 1 MB of pickled objects each
(``RawRecord``s, ``Document``s or small tuples, one pickle after another), written through ``FileSystems`` (local or ``gs://``) under a temporary name and renamed when
complete. Pickle round-trips a ``Document`` exactly (Parquet would round its float32 columns and drop sub-second
times, and is ~2x dearer to encode from Python objects); the final shards are Parquet as always.

``WriteLines`` writes the rejected/ and errors/ JSON lines from the stage that produced them (one file per
bundle and writer), instead of flattening every stage's rejected documents into one collection (a Flatten of
PCollections from different fused stages is materialised by the FnApiRunner).

``shuffled(n)`` counts bytes that a corpus-level stage sends through a shuffle (``shuffle:bytes`` counter,
reported per document in the manifest's ``shuffle`` section).
"""

from __future__ import annotations

import io
import pickle
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import zstandard
from apache_beam.io.filesystems import FileSystems

from pipeline.stages.base import counter

FRAME_BYTES = 1 << 20  # pickled bytes per zstd frame (a frame is what a reader holds at once)
DEFAULT_PART_BYTES = 64 << 20  # roll to a new part after this many (uncompressed, pickled) bytes
DEFAULT_PART_OBJECTS = 2000  # ... or this many objects: enough parts to spread over the workers
SHUFFLE_COUNTER = "shuffle:bytes"
ALONE_COUNTER = "shuffle:decided_alone"  # documents decided in place (pipeline.flow.TriageFn)
CANDIDATES_COUNTER = "shuffle:candidates"  # documents whose keys went on to the dedup shuffles


def shuffled(element: Any) -> Any:
    """Count the pickled size of ``element`` as shuffled bytes (``shuffle:bytes``) and return it unchanged."""
    counter(SHUFFLE_COUNTER).inc(len(pickle.dumps(element, protocol=pickle.HIGHEST_PROTOCOL)))
    return element


class SpillWriter:
    """Writes objects into rolling spill parts ``<folder>/<prefix>-<uuid>-<n>.spill``; returns their paths.

    ``add`` returns the path of a part it just completed (or None); ``close`` completes the last one.
    Objects are pickled one by one into frames of ``FRAME_BYTES`` (compressed as soon as full); a part rolls
    at ``max_bytes`` (pickled) or ``max_objects``, so memory stays at one compressed part. A reader holds one
    decompressed frame: parts read many at once (the pieces of a shard merge) use smaller ``frame_bytes``.
    """

    def __init__(
        self,
        folder: str,
        prefix: str,
        max_bytes: int = DEFAULT_PART_BYTES,
        max_objects: int = DEFAULT_PART_OBJECTS,
        frame_bytes: int = FRAME_BYTES,
    ):
        self._folder, self._prefix = folder, prefix
        self._frame_bytes = frame_bytes
        self._max_bytes, self._max_objects = max_bytes, max_objects
        self._tag = uuid.uuid4().hex[:12]
        self._n = 0
        self._frames: list[bytes] = []
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._bytes = 0
        self._objects = 0
        self._compressor = zstandard.ZstdCompressor(level=1)

    def next_name(self) -> str:
        """The name (no folder, no ``.spill``) of the part the next ``add`` goes into."""
        return f"{self._prefix}-{self._tag}-{self._n:05d}"

    def add(self, obj: Any) -> str | None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self._pending.append(data)
        self._pending_bytes += len(data)
        self._bytes += len(data)
        self._objects += 1
        if self._pending_bytes >= self._frame_bytes:
            self._frame()
        if self._bytes >= self._max_bytes or self._objects >= self._max_objects:
            return self.close()
        return None

    def _frame(self) -> None:
        if self._pending:
            self._frames.append(self._compressor.compress(b"".join(self._pending)))
            self._pending, self._pending_bytes = [], 0

    def close(self) -> str | None:
        """Write the current part (if it holds anything); returns its path."""
        self._frame()
        if not self._frames:
            return None
        path = part_path(self._folder, self.next_name())
        self._n += 1
        tmp = path + ".tmp"
        with FileSystems.create(tmp) as f:
            for frame in self._frames:
                f.write(len(frame).to_bytes(8, "little"))
                f.write(frame)
        FileSystems.rename([tmp], [path])
        self._frames, self._bytes, self._objects = [], 0, 0
        return path


def part_path(folder: str, name: str) -> str:
    """The path of the spill part ``name`` (as ``SpillWriter.next_name`` gives it) in ``folder``."""
    return FileSystems.join(folder, f"{name}.spill")


def read_spill(path: str) -> Iterator[Any]:
    """The objects of one spill part, in the order they were added."""
    decompressor = zstandard.ZstdDecompressor()
    with FileSystems.open(path) as f:
        while True:
            head = f.read(8)
            if not head:
                return
            frame = io.BytesIO(decompressor.decompress(f.read(int.from_bytes(head, "little"))))
            end = len(frame.getbuffer())
            while frame.tell() < end:
                yield pickle.load(frame)  # a fresh unpickler per object: each pickle has its own memo


def spill_bytes(path: str) -> int:
    """Bytes of a spill part on disk (the work ``Spread`` balances); 0 when it cannot be listed."""
    try:  # the file system's size, not ``match``: an output folder's name may hold glob characters
        return int(FileSystems.get_filesystem(path).size(path))
    except Exception:  # noqa: BLE001 - a weight only: a part that cannot be listed is read (and fails) later
        return 0


def delete_spill(paths: Iterable[str]) -> None:
    """Remove spill parts that have been read (best effort: the run's ``_work`` folder goes at the end)."""
    paths = list(paths)
    if paths:
        try:
            FileSystems.delete(paths)
        except Exception:  # noqa: BLE001 - a left-over part is removed with _work/ at the end of the run
            pass


class WriteLines(beam.DoFn):
    """Elements -> JSON lines in ``<folder>/<prefix>-<uuid>.jsonl``, one file per bundle (none when empty).

    Written to a temporary name and renamed in ``finish_bundle``, so a retried bundle leaves no partial
    ``.jsonl`` behind. Emits nothing.
    """

    def __init__(self, folder: str, prefix: str, to_line):
        self._folder, self._prefix, self._to_line = folder, prefix, to_line

    def start_bundle(self):
        self._file = None
        self._path = ""

    def process(self, element: Any) -> Iterator[Any]:
        if self._file is None:
            self._path = FileSystems.join(self._folder, f"{self._prefix}-{uuid.uuid4().hex[:12]}.jsonl")
            self._file = FileSystems.create(self._path + ".tmp")
        self._file.write((self._to_line(element) + "\n").encode("utf-8"))
        return iter(())

    def finish_bundle(self):
        if self._file is not None:
            self._file.close()
            FileSystems.rename([self._path + ".tmp"], [self._path])
            self._file = None
