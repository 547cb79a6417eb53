"""Training token files: Megatron-LM's indexed dataset (``.bin`` + ``.idx``) and a numpy memmap with a JSON index.

Pure functions from sequences (one per document repetition) to file bytes, and readers for both formats.

Megatron-LM indexed dataset (``megatron/core/datasets/indexed_dataset.py``, the "MMIDIDX" layout also written
by NeMo and by datatrove's ``MegatronDocumentTokenizer``), all little-endian:

``.bin``: the tokens of every sequence, back to back, in the dtype below.
``.idx``::

    9 bytes   magic b"MMIDIDX\\x00\\x00"
    8 bytes   version, uint64 = 1
    1 byte    dtype code (1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 float64, 7 float32, 8 uint16)
    8 bytes   sequence count S, uint64
    8 bytes   document count D, uint64 (= S + 1 here: one sequence per document)
    S x int32 sequence lengths in tokens
    S x int64 sequence pointers: byte offset of each sequence in .bin
    D x int64 document indices: 0, then the index one past each document's last sequence (0, 1, ..., S)

dtype: ``uint16`` when every id fits (vocabulary size < 65,536), else ``int32`` for Megatron (its dtype table has
no uint32; ids stay far below 2^31) and ``uint32`` for the numpy format. Megatron's own ``preprocess_data.py``
switches at 65,500; any vocabulary below 65,536 fits ``uint16`` exactly.

numpy format (nanoGPT / dolma style): ``<name>.bin`` is the raw token array, readable with
``np.memmap(path, dtype=index["dtype"], mode="r")``; ``<name>.json`` holds ``format``, ``version``, ``dtype``,
``tokens``, ``sequences``, ``offsets`` (S + 1 token offsets: sequence i is ``tokens[offsets[i]:offsets[i+1]]``)
and ``ids`` (the source document of each sequence).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence

import numpy as np

MEGATRON = "megatron"
NUMPY = "numpy"
FORMATS = (MEGATRON, NUMPY)
MEGATRON_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
MEGATRON_DTYPE_CODES = {
    np.dtype(np.uint8): 1,
    np.dtype(np.int8): 2,
    np.dtype(np.int16): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int64): 5,
    np.dtype(np.float64): 6,
    np.dtype(np.float32): 7,
    np.dtype(np.uint16): 8,
}
NUMPY_FORMAT = "finpile-tokens-numpy"
UINT16_VOCAB_LIMIT = 65_536


def token_dtype(vocab_size: int, fmt: str) -> np.dtype:
    """uint16 when every id fits, else int32 (Megatron) or uint32 (numpy); see the module docstring."""
    if vocab_size < UINT16_VOCAB_LIMIT:
        return np.dtype(np.uint16)
    return np.dtype(np.int32) if fmt == MEGATRON else np.dtype(np.uint32)


def file_suffixes(fmt: str) -> tuple[str, str]:
    """(data file suffix, index file suffix)."""
    return (".bin", ".idx") if fmt == MEGATRON else (".bin", ".json")


def megatron_index(lengths: Sequence[int], dtype: np.dtype) -> bytes:
    """The ``.idx`` bytes for sequences of these lengths (one document per sequence)."""
    lengths_arr = np.asarray(lengths, dtype=np.int64)
    n = len(lengths_arr)
    pointers = np.zeros(n, dtype=np.int64)
    if n:
        pointers[1:] = np.cumsum(lengths_arr[:-1] * dtype.itemsize)
    header = (
        MEGATRON_MAGIC
        + struct.pack("<Q", MEGATRON_VERSION)
        + struct.pack("<B", MEGATRON_DTYPE_CODES[dtype])
        + struct.pack("<Q", n)
        + struct.pack("<Q", n + 1)
    )
    return b"".join(
        [
            header,
            lengths_arr.astype("<i4").tobytes(),
            pointers.astype("<i8").tobytes(),
            np.arange(n + 1, dtype="<i8").tobytes(),
        ]
    )


def numpy_index(lengths: Sequence[int], dtype: np.dtype, ids: Sequence[str]) -> bytes:
    """The JSON index of the numpy format."""
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + int(n))
    index = {
        "format": NUMPY_FORMAT,
        "version": 1,
        "dtype": dtype.name,
        "tokens": offsets[-1],
        "sequences": len(lengths),
        "offsets": offsets,
        "ids": list(ids),
    }
    return json.dumps(index, separators=(",", ":")).encode()


def encode_file(
    sequences: Sequence[bytes], dtype: np.dtype, fmt: str, ids: Sequence[str]
) -> tuple[bytes, bytes]:
    """(data bytes, index bytes) of one output file; each sequence is already in ``dtype`` (little-endian)."""
    lengths = [len(s) // dtype.itemsize for s in sequences]
    data = b"".join(sequences)
    index = megatron_index(lengths, dtype) if fmt == MEGATRON else numpy_index(lengths, dtype, ids)
    return data, index


def read_megatron(bin_bytes: bytes, idx_bytes: bytes) -> list[np.ndarray]:
    """Sequences of a Megatron ``.bin``/``.idx`` pair (checks the header)."""
    if idx_bytes[:9] != MEGATRON_MAGIC:
        raise ValueError("not a Megatron MMIDIDX index")
    (version,) = struct.unpack_from("<Q", idx_bytes, 9)
    if version != MEGATRON_VERSION:
        raise ValueError(f"unsupported MMIDIDX version {version}")
    code = idx_bytes[17]
    dtype = next(d for d, c in MEGATRON_DTYPE_CODES.items() if c == code)
    n, _ = struct.unpack_from("<QQ", idx_bytes, 18)
    lengths = np.frombuffer(idx_bytes, dtype="<i4", count=n, offset=34)
    pointers = np.frombuffer(idx_bytes, dtype="<i8", count=n, offset=34 + 4 * n)
    return [
        np.frombuffer(bin_bytes, dtype=dtype.newbyteorder("<"), count=int(ln), offset=int(p))
        for ln, p in zip(lengths, pointers, strict=True)
    ]


def read_numpy(bin_bytes: bytes, index_bytes: bytes) -> list[np.ndarray]:
    """Sequences of a numpy-format ``.bin`` + ``.json`` pair."""
    index = json.loads(index_bytes)
    tokens = np.frombuffer(bin_bytes, dtype=np.dtype(index["dtype"]).newbyteorder("<"))
    offsets = index["offsets"]
    return [tokens[offsets[i] : offsets[i + 1]] for i in range(index["sequences"])]


def read_file(fmt: str, data: bytes, index: bytes) -> list[np.ndarray]:
    return read_megatron(data, index) if fmt == MEGATRON else read_numpy(data, index)
