"""Property test: mutated real input files never take reading or extraction down, and the funnel balances.

Every kind of real file in ../shared/data (EDGAR submissions plain and gzipped, a standalone EDGAR document,
WARC gzipped and plain, WET, a Wikipedia dump plain and bz2, Reddit dumps plain and zstd, tweets as JSON lines
and CSV, generic JSONL, a text file, a web page, MEDLINE citations, a PMC JATS article) is cut to a small prefix at a line boundary, then mutated by
hypothesis: truncations, byte flips, insertions (random bytes, or a copy of another span), deletions. The
mutated file is read through ``pipeline.stages.read.read_file`` (what the Beam shell calls) and every record through
``pipeline.stages.extract.extract_outcome``. Properties:

- nothing raises;
- no read error comes from the last-resort guard in ``read_file``: each reader handles what it meets itself
  (an error kind named after a bare Python exception class, e.g. ``AttributeError``, means it did not);
- every record read ends as documents, one rejected record or one error (the extract funnel balances).

Bounded for CI: ``MAX_EXAMPLES`` examples, derandomised (the same cases on every run), about 20-30 s here.
"""

from __future__ import annotations

import bz2
import gzip
import io
import re
from pathlib import Path

import pytest
import zstandard

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.schema import RawRecord, RecordError, Skipped  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.stages.extract import extract_outcome  # noqa: E402
from pipeline.stages.read import InputFile, read_file  # noqa: E402

MAX_EXAMPLES = 500
PREFIX_BYTES = 48_000  # each base file is cut to about this many (decompressed) bytes at a line boundary

# Python exception classes a reader should never let reach read_file's last-resort guard.
BARE_EXCEPTIONS = {
    "AttributeError",
    "TypeError",
    "KeyError",
    "IndexError",
    "NameError",
    "AssertionError",
    "RecursionError",
    "ZeroDivisionError",
    "UnboundLocalError",
    "StopIteration",
    "RuntimeError",
    "MemoryError",
}


def _prefix(data: bytes, limit: int = PREFIX_BYTES) -> bytes:
    if len(data) <= limit:
        return data
    cut = data.rfind(b"\n", 0, limit)
    return data[: cut + 1 if cut > 0 else limit]


def _wiki_prefix(xml: bytes, limit: int = PREFIX_BYTES) -> bytes:
    """The dump's head and its smaller complete pages up to ~limit bytes, closed like a real dump."""
    first = xml.find(b"<page>")
    head, pages, size = xml[:first], [], 0
    for match in re.finditer(rb"[ \t]*<page>.*?</page>\n", xml, re.DOTALL):
        if len(match.group(0)) < limit // 4 and size < limit:
            pages.append(match.group(0))
            size += len(match.group(0))
    return head + b"".join(pages) + b"</mediawiki>\n"


def _warc_prefix(warc_gz: bytes, limit: int = PREFIX_BYTES) -> bytes:
    """The first gzip members of a per-record-gzipped WARC up to ~limit compressed bytes."""
    out, pos = [], 0
    while pos < len(warc_gz) and pos < limit:
        d = __import__("zlib").decompressobj(16 + 15)
        d.decompress(warc_gz[pos:])
        size = len(warc_gz) - pos - len(d.unused_data)
        out.append(warc_gz[pos : pos + size])
        pos += size
    return b"".join(out)


def base_files(data: Path) -> dict[str, tuple[str, bytes]]:
    """name -> (reader kind, bytes): one small real file per kind and format variant."""
    sub = data / "edgar" / "full-submission" / "0000092122-05-000042.txt"
    wiki = bz2.decompress(
        (
            data / "general" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.xml.bz2"
        ).read_bytes()
    )
    wiki_small = _wiki_prefix(wiki)
    example_warc = (data / "web" / "warc" / "example.warc.gz").read_bytes()
    reddit = _prefix((data / "social" / "reddit" / "RC_sample.ndjson").read_bytes())
    return {
        "submission.txt": ("edgar", _prefix(sub.read_bytes())),
        "submission.txt.gz": ("edgar", gzip.compress(_prefix(sub.read_bytes()), mtime=0)),
        "BuckleInc.8-K.html": ("edgar", (data / "edgar" / "8-K" / "BuckleInc.8-K.html").read_bytes()),
        "example.warc.gz": ("warc", example_warc),
        "example.warc": ("warc", gzip.decompress(example_warc)),
        "iana.warc.gz": ("warc", _warc_prefix((data / "web" / "warc" / "iana.warc.gz").read_bytes())),
        "whirlwind.warc.wet.gz": ("warc", (data / "web" / "warc" / "whirlwind.warc.wet.gz").read_bytes()),
        "enwiki.xml": ("wikipedia", wiki_small),
        "enwiki.xml.bz2": ("wikipedia", bz2.compress(wiki_small)),
        "RC_sample.ndjson": ("reddit", reddit),
        "RC_sample.ndjson.zst": ("reddit", zstandard.ZstdCompressor().compress(reddit)),
        "stocknet.jsonl": (
            "tweets",
            _prefix((data / "social" / "tweets" / "stocknet_raw_AAPL_2014-01-02.jsonl").read_bytes()),
        ),
        "tweets.csv": (
            "tweets",
            _prefix(
                (
                    data / "social" / "tweets" / "twitter_financial_news_sentiment_valid_subset.csv"
                ).read_bytes()
            ),
        ),
        "phrasebank.csv": (
            "tweets",
            _prefix((data / "labeled" / "financial_phrasebank_50agree_subset.csv").read_bytes(), 12_000),
        ),
        "comments.jsonl": ("jsonl", reddit),
        "lee_background.cor": ("text", _prefix((data / "general" / "lee_background.cor").read_bytes())),
        "page.html": ("html", (data / "web" / "html" / "salon.com.emissions.html").read_bytes()),
        "medline.xml.gz": ("pubmed", gzip.compress(_medline_prefix(data), mtime=0)),
        "article.nxml": ("pmc", (data / "medical" / "pmc" / "cc11003.nxml").read_bytes()),
    }


def _medline_prefix(data: Path, limit: int = PREFIX_BYTES) -> bytes:
    """The first complete citations of the real MEDLINE file up to ~limit bytes, closed like the file."""
    xml = gzip.decompress((data / "medical" / "medline" / "medline16n0902.xml.gz").read_bytes())
    end = xml.rfind(b"</MedlineCitation>", 0, limit) + len(b"</MedlineCitation>")
    return xml[:end] + b"\n</MedlineCitationSet>\n"


# Reader options a base file needs (as a config would give them).
READER_OPTIONS = {"phrasebank.csv": {"text_column": "news"}, "comments.jsonl": {"fields": {"text": "body"}}}

MUTATION = st.tuples(
    st.sampled_from(["truncate", "flip", "insert", "delete", "copy", "delete_line"]),
    st.floats(0, 1),  # where, as a fraction of the length
    st.integers(1, 400),  # how many bytes
    st.binary(min_size=1, max_size=64),  # bytes to insert / xor with
)


def mutate(data: bytes, mutations: list[tuple[str, float, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for op, where, n, payload in mutations:
        at = int(where * len(buf))
        if op == "truncate":
            del buf[at:]
        elif op == "flip":
            for i in range(at, min(at + n, len(buf))):
                buf[i] ^= payload[i % len(payload)] or 0xFF
        elif op == "insert":
            buf[at:at] = (payload * (n // len(payload) + 1))[:n]
        elif op == "delete":
            del buf[at : at + n]
        elif op == "delete_line":  # a header line gone (WARC-Target-URI, </page>, a CSV row's end ...)
            start = buf.rfind(b"\n", 0, at) + 1
            end = buf.find(b"\n", at)
            del buf[start : end + 1 if end >= 0 else len(buf)]
        elif op == "copy":  # a span of the file itself (a duplicated header, a repeated record)
            src = int(payload[0] / 255 * len(buf))
            buf[at:at] = buf[src : src + n]
    return bytes(buf)


def read_and_extract(path: Path, kind: str, source_domains: dict[str, str]) -> dict[str, int]:
    """Run one file through read_file and extract_outcome the way the Beam shell does; counts per outcome."""
    counts = {"read": 0, "read_errors": 0, "skipped": 0, "docs": 0, "derived": 0, "rejected": 0, "errors": 0}
    options = tuple(READER_OPTIONS.get(path.name, {}).items())
    input_file = InputFile("fuzz", kind, str(path), path.stat().st_size, options)
    for item in read_file(input_file):
        if isinstance(item, Skipped):
            counts["skipped"] += item.count
            continue
        if isinstance(item, RecordError):
            assert item.kind not in BARE_EXCEPTIONS, (
                f"{path.name}: a reader raised {item.kind}: {item.message}"
            )
            counts["read_errors"] += 1
            continue
        assert isinstance(item, RawRecord)
        counts["read"] += 1
        docs, rejected, error = extract_outcome(item, source_domains, dict(options))
        if error is not None:
            assert error.kind not in BARE_EXCEPTIONS - {
                "TypeError",
                "KeyError",
                "IndexError",
                "RecursionError",
            }, f"{path.name}: extraction raised {error.kind}: {error.message}"
        counts["docs"] += len(docs)
        counts["derived"] += max(len(docs) - 1, 0)
        counts["rejected"] += rejected is not None
        counts["errors"] += error is not None
    return counts


@pytest.fixture(scope="module")
def bases(shared_data: Path) -> dict[str, tuple[str, bytes]]:
    return base_files(shared_data)


@pytest.fixture(scope="module")
def source_domains() -> dict[str, str]:
    return dict(load_config(None).source_domains)


def test_unmutated_base_files_read_cleanly(bases, source_domains, tmp_path: Path) -> None:
    """The base files themselves give documents (so the mutations start from something real)."""
    for name, (kind, data) in bases.items():
        path = tmp_path / name
        path.write_bytes(data)
        counts = read_and_extract(path, kind, source_domains)
        assert counts["read"] > 0, name
        assert counts["read"] + counts["derived"] == counts["docs"] + counts["rejected"] + counts["errors"]


def test_mutated_inputs_never_raise_and_the_funnel_balances(bases, source_domains, tmp_path_factory) -> None:
    names = sorted(bases)
    folder = tmp_path_factory.mktemp("fuzz")

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(name=st.sampled_from(names), mutations=st.lists(MUTATION, min_size=1, max_size=3))
    def check(name: str, mutations: list) -> None:
        kind, data = bases[name]
        path = folder / name
        path.write_bytes(mutate(data, mutations))
        counts = read_and_extract(path, kind, source_domains)
        assert counts["read"] + counts["derived"] == counts["docs"] + counts["rejected"] + counts["errors"]

    check()


def test_mutate_applies_each_operation() -> None:
    data = bytes(range(100))
    assert mutate(data, [("truncate", 0.5, 1, b"x")]) == data[:50]
    assert mutate(data, [("delete", 0.0, 10, b"x")]) == data[10:]
    assert mutate(data, [("insert", 0.0, 3, b"ab")]) == b"aba" + data
    assert mutate(data, [("flip", 0.0, 1, b"\x01")])[0] == data[0] ^ 1
    assert len(mutate(data, [("copy", 0.0, 5, b"\x00")])) == 105
    assert mutate(b"a\nbc\nd", [("delete_line", 0.5, 1, b"x")]) == b"a\nd"
    assert io.BytesIO(mutate(data, [])).read() == data


def test_a_run_over_mutated_files_of_every_kind_finishes_balanced(bases, tmp_path: Path) -> None:
    """The Beam shell too: one run over a seeded mutation of each base file ends with a balanced funnel."""
    import random

    from pipeline.run import run

    rng = random.Random(16)
    inputs = []
    for name, (kind, data) in sorted(bases.items()):
        if name in READER_OPTIONS:  # --input cannot pass reader options
            continue
        ops = ["truncate", "flip", "insert", "delete", "copy", "delete_line"]
        mutations = [
            (rng.choice(ops), rng.random(), rng.randrange(1, 400), bytes([rng.randrange(1, 256)]) * 8)
            for _ in range(2)
        ]
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(mutate(data, mutations))
        inputs += ["--input", f"{kind}={path}"]
    manifest = run([*inputs, f"--output_root={tmp_path / 'out'}", "--run_name=fuzz", "--no_stats",
                    "--progress_interval=0"])  # fmt: skip
    totals = manifest["funnel"]["totals"]
    assert totals["balanced"] and totals["read"] > 0 and totals["kept"] > 0
    assert all(e["balanced"] for e in manifest["funnel"]["sources"].values())
