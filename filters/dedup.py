"""Cores for exact and near (MinHash LSH) deduplication; the Beam transforms only group by these keys.

Exact: ``exact_key(text)`` is the SHA-1 (hex) of ``normalize_for_exact(text)``: Unicode NFKC, casefold,
punctuation deleted (every code point of Unicode category P*, not replaced by a space: ``don't`` ->
``dont``, ``U.S.`` -> ``us``, ``e-mail`` -> ``email``; symbols of category S* such as ``$``, ``+``, ``€``
stay, while ``%`` and ``#`` are punctuation and go), whitespace runs collapsed to one space, ends
stripped. Texts differing only in case, punctuation, spacing or compatibility forms (full-width digits,
ligatures) get the same key.

Near: MinHash over n-gram shingles of the normalized text, then LSH banding (Broder 1997; Leskovec et al.,
Mining of Massive Datasets, ch. 3), as in datasketch and in datatrove's MinHash pipeline (FineWeb: 5-gram
shingles, 112 hashes in 14 bands of 8 rows).

- ``shingles``: the word (or character) n-grams of the normalized text, each hashed to 32 bits from its
  UTF-8 bytes with ``hash="xxh32"`` (default, ``xxhash.xxh32_intdigest``, seed 0) or ``hash="sha1"``
  (datasketch's default ``sha1_hash32``: first 4 bytes of SHA-1, little endian). SHA-1 makes signatures
  interchangeable with a plain ``datasketch.MinHash``; xxh32 is ~10x cheaper per shingle, and shingle
  hashing is most of the cost. Text to signature, 1,000-word documents, one core: ~1,500/s with xxh32,
  ~620/s with sha1, where datasketch (``MinHash.update_batch`` on the same shingles) does ~580/s.
  A text with fewer than ``ngram`` units is one shingle (the whole normalized text; all empty texts
  share it).
- ``signature``: vectorised numpy MinHash that reproduces ``datasketch.MinHash(num_perm, seed,
  scheme=...)`` exactly, for datasketch's two schemes:

  * ``"affine32"`` (default; datasketch >= 2.0's default): hash pre-mixed with the MurmurHash3 32-bit
    finalizer, then ``a * h + b mod 2**32`` with odd ``a`` (a bijection: no collisions added).
  * ``"legacy"`` (datasketch < 2.0; ~2x slower): ``((a * h + b) mod 2**64 mod (2**61 - 1)) & (2**32 - 1)``,
    datasketch's uint64 wrap-around reproduced bit for bit.

  Permutation parameters come from ``np.random.RandomState(seed)`` exactly as in
  ``datasketch.MinHash._init_permutations``. Signatures are returned as uint64 in both schemes.
- ``band_keys``: bands and rows as ``datasketch.lsh._optimal_param(threshold, num_perm, 0.5, 0.5)`` chooses them
  (computed here without scipy; 0.8 and 128 permutations give 9 bands x 13 rows; the last 128 - 117 values are unused, as in
  datasketch). Band ``i`` uses ``sig[i*rows:(i+1)*rows]``; two documents are candidates when any band key
  is equal. For Jaccard ``s`` that happens with probability ``1 - (1 - s**rows)**bands``; with the
  defaults 0.93 at s = 0.9, 0.40 at 0.8, 0.08 at 0.7, 0.01 at 0.6.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import xxhash

UNITS = ("word", "char")
SCHEMES = ("affine32", "legacy")
HASHES = ("xxh32", "sha1")

_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH32 = np.uint64((1 << 32) - 1)
_CHUNK = 512  # shingles per block: bounds the (shingles x num_perm) temporary (256 KB: stays in cache)


# ---------------------------------------------------------------------------------------------------------
# Exact


# Unicode punctuation (category P*) lies below U+20000 (Unicode 14: the last one is U+1E95F); the tests check
# the table against every code point, so a newer ``unicodedata`` that adds one higher up is caught.
_PUNCTUATION_SCAN_END = 0x20000


@functools.cache
def _punctuation_mask() -> np.ndarray:
    """Boolean array over code points below ``_PUNCTUATION_SCAN_END``: True for Unicode punctuation (P*)."""
    mask = np.zeros(_PUNCTUATION_SCAN_END, dtype=bool)
    mask[[cp for cp in range(_PUNCTUATION_SCAN_END) if unicodedata.category(chr(cp))[0] == "P"]] = True
    return mask


_ASCII_PUNCTUATION = bytes(cp for cp in range(128) if unicodedata.category(chr(cp)).startswith("P"))


def delete_punctuation(text: str) -> str:
    """``text`` without its Unicode punctuation code points (category P*)."""
    if text.isascii():
        # bytes.translate deletes in one C loop.
        return text.encode("ascii").translate(None, _ASCII_PUNCTUATION).decode("ascii")
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    mask = _punctuation_mask()
    in_range = codes < len(mask)
    punct = np.zeros(len(codes), dtype=bool)
    punct[in_range] = mask[codes[in_range]]
    return codes[~punct].tobytes().decode("utf-32-le")


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``; an ASCII text is its own NFKC form (no check character by character),
    and so is a text that ``unicodedata.is_normalized`` says is in NFKC already (its quick check is ~20x cheaper
    than normalising; about half the non-ASCII documents of a web corpus are NFKC already, and most lines of
    the others)."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    # Line by line, normalising only the lines that need it (a few in a long filing: a "…" or a "™"). The
    # same result: a line feed is a starter that composes with nothing, so no normalisation reaches across
    # it (and no code point normalises to one; see ``normalize_lines``).
    return "\n".join(
        line
        if line.isascii() or unicodedata.is_normalized("NFKC", line)
        else unicodedata.normalize("NFKC", line)
        for line in text.split("\n")
    )


_PUNCT, _SPACE = 1, 2  # classes of ``_classes``; 0: any other code point


@functools.cache
def _classes() -> np.ndarray:
    """uint8 class per code point below ``_PUNCTUATION_SCAN_END``: ``_PUNCT`` for Unicode punctuation (P*),
    ``_SPACE`` for whitespace as ``str.split()`` sees it (``str.isspace``; all below U+3001, the tests check
    every code point), 0 otherwise."""
    classes = _punctuation_mask().astype(np.uint8)
    classes[[cp for cp in range(_PUNCTUATION_SCAN_END) if chr(cp).isspace()]] = _SPACE
    return classes


def _codes_and_spaces(folded: str) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``folded`` without its punctuation (uint32), and which of them are whitespace."""
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    table = _classes()  # its last entry (U+1FFFF, a noncharacter) is 0, the class of every code point above
    classes = table[np.minimum(codes, len(table) - 1)]
    kept = classes != _PUNCT
    return codes[kept], classes[kept] == _SPACE


def _decode(codes: np.ndarray) -> str:
    return codes.tobytes().decode("utf-32-le")


def _collapse(folded: str, keep_feeds: bool) -> str:
    """``folded`` without punctuation, each run of whitespace (other than line feeds when ``keep_feeds``) as one
    space, in a few numpy passes over the code points (for a non-ASCII text, where ``str.split`` and
    ``delete_punctuation``'s own UTF-32 pass cost more)."""
    codes, space = _codes_and_spaces(folded)
    if not len(codes):
        return ""
    if keep_feeds:
        space &= codes != 10
    after_space = np.empty_like(space)  # the code point before is whitespace
    after_space[0] = False
    after_space[1:] = space[:-1]
    keep = ~(space & after_space)  # the first of each whitespace run
    out = np.where(space, np.uint32(32), codes)[keep]
    if keep_feeds and len(out):  # a space (one per run now) at the start or end of a line goes
        feed = out == 10
        edge = np.empty(len(out), dtype=bool)
        edge[0] = True  # the start of the text or a line feed before ...
        edge[1:] = feed[:-1]
        edge[:-1] |= feed[1:]  # ... or a line feed or the end of the text after
        edge[-1] = True
        out = out[~((out == 32) & edge)]
    return _decode(out)


def _strip_ends(collapsed: str) -> str:
    """One space at either end of a collapsed text removed (there is at most one)."""
    start = 1 if collapsed.startswith(" ") else 0
    end = len(collapsed) - 1 if collapsed.endswith(" ") and len(collapsed) > start else len(collapsed)
    return collapsed[start:end]


def _collapse_spaces(folded: str) -> str:
    """``" ".join(delete_punctuation(folded).split())``."""
    return _strip_ends(_collapse(folded, keep_feeds=False))


def _collapse_line_spaces(folded: str) -> str:
    """``"\n".join(" ".join(line.split()) for line in delete_punctuation(folded).split("\n"))``."""
    return _collapse(folded, keep_feeds=True)


def normalize_for_exact(text: str) -> str:
    """NFKC, casefold, delete Unicode punctuation (P*), collapse whitespace to single spaces, strip."""
    folded = _nfkc(text).casefold()
    if folded.isascii():
        return " ".join(delete_punctuation(folded).split())
    return _collapse_spaces(folded)


def normalize_lines(text: str) -> list[str]:
    """``[normalize_for_exact(line) for line in text.split("\n")]``, normalising the whole text at once.

    NFKC, casefolding and deleting punctuation never create, remove or move a line feed (it is a starter
    that composes with nothing and no character decomposes or folds to one), so the normalised text splits
    into the normalised lines.
    """
    folded = _nfkc(text).casefold()
    if folded.isascii():
        return [" ".join(line.split()) for line in delete_punctuation(folded).split("\n")]
    return _collapse_line_spaces(folded).split("\n")


def exact_key(text: str, *, normalized: str | None = None) -> str:
    """Hex SHA-1 of ``normalize_for_exact(text)``: equal keys = duplicates up to case/punctuation/spacing.

    ``normalized``: that normalised text when the caller has it already (it is not recomputed).
    """
    norm = normalize_for_exact(text) if normalized is None else normalized
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# MinHash


@functools.cache
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """``datasketch.lsh._optimal_param(threshold, num_perm, 0.5, 0.5)`` without scipy.

    The (bands, rows) with ``bands * rows <= num_perm`` that minimise the mean of the false positive area
    (the integral of ``P(s) = 1 - (1 - s**rows)**bands`` over [0, threshold]) and the false negative area
    (of ``1 - P(s)`` over [threshold, 1]); the first such pair in datasketch's order on a tie. ``P`` is a
    polynomial of degree ``bands * rows <= num_perm``, so Gauss-Legendre quadrature with ``num_perm // 2 + 1``
    nodes integrates it exactly (up to rounding) where datasketch calls scipy's adaptive ``quad``: same pairs
    (test over a grid against datasketch), without importing scipy (~0.5 s) in every process that builds a
    config.
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    # nodes mapped from [-1, 1] to [0, t] and [t, 1]
    low = (nodes + 1.0) * (threshold / 2.0)
    high = threshold + (nodes + 1.0) * ((1.0 - threshold) / 2.0)
    low_w, high_w = weights * (threshold / 2.0), weights * ((1.0 - threshold) / 2.0)
    best, opt = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        rows = np.arange(1, num_perm // b + 1, dtype=np.float64)[:, None]  # every r for this b at once
        false_pos = (1.0 - (1.0 - low**rows) ** b) @ low_w
        false_neg = ((1.0 - high**rows) ** b) @ high_w
        errors = false_pos * 0.5 + false_neg * 0.5
        i = int(np.argmin(errors))  # the first minimum, as datasketch's strict "<" over increasing r
        if errors[i] < best:
            best, opt = float(errors[i]), (b, i + 1)
    return opt


@dataclass(frozen=True)
class MinHashConfig:
    """MinHash LSH parameters; ``bands``/``rows`` are derived, ``identity`` names the configuration."""

    ngram: int = 5
    num_perm: int = 128
    threshold: float = 0.8
    seed: int = 1
    unit: str = "word"
    scheme: str = "affine32"
    hash: str = "xxh32"
    bands: int = field(init=False)
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"MinHashConfig.unit must be one of {UNITS}, got {self.unit!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"MinHashConfig.scheme must be one of {SCHEMES}, got {self.scheme!r}")
        if self.hash not in HASHES:
            raise ValueError(f"MinHashConfig.hash must be one of {HASHES}, got {self.hash!r}")
        if self.ngram < 1 or self.num_perm < 1 or not 0.0 < self.threshold < 1.0:
            raise ValueError("MinHashConfig needs ngram >= 1, num_perm >= 1 and 0 < threshold < 1")
        bands, rows = _lsh_params(self.threshold, self.num_perm)
        object.__setattr__(self, "bands", bands)
        object.__setattr__(self, "rows", rows)

    @property
    def identity(self) -> str:
        """Stable name of everything that changes signatures or keys, e.g.
        ``minhash-v1:word5:p128:t0.8:b9r13:s1:affine32:xxh32``. Bump ``v1`` when normalization or hashing changes.
        """
        return (
            f"minhash-v1:{self.unit}{self.ngram}:p{self.num_perm}:t{self.threshold}"
            f":b{self.bands}r{self.rows}:s{self.seed}:{self.scheme}:{self.hash}"
        )


def ngrams(text: str, cfg: MinHashConfig, *, normalized: str | None = None) -> list[str]:
    """The shingles of ``text`` as strings (word n-grams joined by one space, or character n-grams)."""
    norm = normalize_for_exact(text) if normalized is None else normalized
    n = cfg.ngram
    if cfg.unit == "word":
        words = norm.split()
        if len(words) < n:
            return [norm]
        return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    if len(norm) < n:
        return [norm]
    return [norm[i : i + n] for i in range(len(norm) - n + 1)]


def _sha1_hash32(data: bytes) -> int:
    """datasketch's ``sha1_hash32``: the first 4 bytes of SHA-1, little endian."""
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "little")


def shingles(text: str, cfg: MinHashConfig, *, normalized: str | None = None) -> np.ndarray:
    """uint64 array: the 32-bit hash (``cfg.hash``) of each shingle's UTF-8 bytes.

    ``normalized``: ``normalize_for_exact(text)`` when the caller has it already (it is not recomputed).
    """
    if normalized is None:
        normalized = normalize_for_exact(text)
    # Always hash bytes: xxhash 4.x refuses str.
    hasher = xxhash.xxh32_intdigest if cfg.hash == "xxh32" else _sha1_hash32
    n = cfg.ngram
    if cfg.unit == "word":
        # Word n-grams as slices of the encoded normalized text (words are separated by exactly one space,
        # byte 0x20, which no UTF-8 multi-byte sequence contains): the same bytes as ``ngrams`` gives, without
        # building and encoding one string per n-gram (the dominant cost of a signature).
        data = normalized.encode("utf-8")
        spaces = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 32)
        if len(spaces) + 1 >= n:
            starts = [0, *(spaces + 1).tolist()][: len(spaces) + 2 - n]
            ends = [*spaces.tolist(), len(data)][n - 1 :]
            return np.fromiter(
                (hasher(data[s:e]) for s, e in zip(starts, ends, strict=True)),
                dtype=np.uint64,
                count=len(ends),
            )
    grams = ngrams(text, cfg, normalized=normalized)
    return np.fromiter((hasher(g.encode("utf-8")) for g in grams), dtype=np.uint64, count=len(grams))


@functools.cache
def _permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) exactly as ``datasketch.MinHash._init_permutations`` draws them."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = np.array(
            [
                (
                    gen.randint(1, _MERSENNE_PRIME, dtype=np.uint64),
                    gen.randint(0, _MERSENNE_PRIME, dtype=np.uint64),
                )
                for _ in range(num_perm)
            ],
            dtype=np.uint64,
        )
        return pairs[:, 0].copy(), pairs[:, 1].copy()
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix for the affine32 scheme)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signature(shingle_hashes: np.ndarray, cfg: MinHashConfig) -> np.ndarray:
    """MinHash signature, shape ``(num_perm,)``, uint64; equal to datasketch's ``hashvalues`` for the same input.

    An empty input gives datasketch's initial values (all ``2**32 - 1``).
    """
    a, b = _permutations(cfg.num_perm, cfg.seed, cfg.scheme)
    hashes = np.asarray(shingle_hashes, dtype=np.uint64)
    if cfg.scheme == "legacy":
        sig = np.full(cfg.num_perm, _MAX_HASH32, dtype=np.uint64)
        for start in range(0, len(hashes), _CHUNK):
            hv = hashes[start : start + _CHUNK, None]
            phv = ((hv * a + b) % _MERSENNE_PRIME) & _MAX_HASH32  # uint64 wraps, as in datasketch
            np.minimum(sig, phv.min(axis=0), out=sig)
        return sig
    sig32 = np.full(cfg.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    if (hashes > _MAX_HASH32).any():
        raise ValueError("affine32 MinHash takes 32-bit shingle hashes")
    mixed = _fmix32(hashes.astype(np.uint32))
    for start in range(0, len(mixed), _CHUNK):
        phv = mixed[start : start + _CHUNK, None] * a  # uint32 arithmetic wraps: mod 2**32
        phv += b
        np.minimum(sig32, phv.min(axis=0), out=sig32)
    return sig32.astype(np.uint64)


def band_keys(sig: np.ndarray, cfg: MinHashConfig) -> list[bytes]:
    """One key per band: 2-byte big-endian band index + first 16 bytes of SHA-1 of the band's rows (uint64 LE).

    Equal keys = equal band = LSH candidates. Keys from different configs must not be mixed.
    """
    if len(sig) != cfg.num_perm:
        raise ValueError(f"signature has {len(sig)} values, config expects {cfg.num_perm}")
    rows = np.asarray(sig, dtype="<u8")
    r = cfg.rows
    return [
        i.to_bytes(2, "big") + hashlib.sha1(rows[i * r : (i + 1) * r].tobytes()).digest()[:16]
        for i in range(cfg.bands)
    ]


def jaccard(a: set, b: set) -> float:
    """Exact Jaccard similarity ``|a & b| / |a | b|``; 1.0 for two empty sets."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of Jaccard similarity: the fraction of equal signature positions."""
    if len(sig_a) != len(sig_b):
        raise ValueError(f"signatures differ in length: {len(sig_a)} vs {len(sig_b)}")
    return float(np.count_nonzero(np.asarray(sig_a) == np.asarray(sig_b))) / len(sig_a)
