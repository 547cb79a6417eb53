"""Standard evaluation sets: where they live, how to read them, and ``python -m pipeline fetch evalsets``.

    python -m pipeline fetch evalsets                      # the finance list (the default decontam sets)
    python -m pipeline fetch evalsets --profile medical    # PubMedQA, MedQA, MedMCQA
    python -m pipeline fetch evalsets phrasebank finqa --cache_dir ~/.cache/finpile

Each set is downloaded with the shared HTTP client (``sources.http``: retries with backoff, truncated bodies
retried, a declared User-Agent) into ``<cache_dir>/evalsets/<name>.<ext>`` (``RawCache``: written atomically),
parsed once to check its format and count its items, and recorded in ``<cache_dir>/evalsets/manifest.json``
(name, title, source URL, licence, split, rows, sha256, bytes, fetched_at). A set already in the cache whose
sha256 matches the manifest is not fetched again (``--refresh`` forces it); ``load_cached`` re-checks the
sha256 before a run uses the file, so a corrupted cache is an error, not a silent miss.

The URLs point at the sets' public homes: GitHub files pinned to a commit where the stored history names one,
Hugging Face dataset files (``resolve/main``, or the Hub's Parquet conversion ``refs/convert/parquet`` for
datasets published as a loading script). What is indexed for decontamination (``EvalItem.text``) is the part
of an item a model is judged on: the sentence or tweet for sentiment sets, the question (and the
answer, where it is free text) for QA sets. The source passages of FinQA/ConvFinQA/TAT-QA/FinanceBench are
pages of public SEC filings: they belong in a corpus, so they are not indexed (dropping every 10-K FinQA quotes
would remove the filings, not the benchmark). PubMedQA is different: its context *is* the test input (the
abstract without its conclusion, which is the long answer), each item has its own, and the 1,000 abstracts of
PQA-L are a negligible part of PubMed, so the contexts are indexed too: a PubMed citation or PMC article that
carries a PubMedQA context is dropped from a medical corpus.

Label mappings (used by ``export sft``):

- ``phrasebank``: the file's labels as written (negative / neutral / positive).
- ``fiqa_sentiment``: FiQA's continuous ``sentiment_score`` in [-1, 1], cut as FinGPT does
  (``fingpt/FinGPT_Benchmark/benchmarks/fiqa.py``): < -0.1 negative, [-0.1, 0.1) neutral, >= 0.1 positive.
- ``twitter_financial_news_sentiment``: 0 Bearish -> negative, 1 Bullish -> positive, 2 Neutral -> neutral
  (the dataset card; FinGPT's ``tfns.py`` uses the same map).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import logging
import os
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from core.argtypes import parse_args_or_config_error
from core.errors import ConfigError
from sources.http import FetchError, HttpClient, RawCache

_LOG = logging.getLogger(__name__)

NAMESPACE = "evalsets"
MANIFEST = "manifest.json"
CACHE_ENV = "FINPILE_CACHE_DIR"
DEFAULT_USER_AGENT = "FinPile-Builder evalsets fetch (https://github.com/finpile-builder)"


def default_cache_dir() -> str:
    """``$FINPILE_CACHE_DIR`` when set, else ``~/.cache/finpile`` (the cache of the fetch commands' downloads)."""
    return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "finpile")


@dataclass(frozen=True)
class EvalItem:
    """One evaluation item: the text to decontaminate against, and its label (labelled sets only)."""

    text: str
    label: str | None = None
    kind: str = "news"  # news | tweet: which FinGPT instruction an SFT example gets


class FormatError(ValueError):
    """A downloaded or configured evaluation file is not in the format its set expects."""


# ---------------------------------------------------------------------------------------------------------
# Parsers: bytes of the published file -> items. Each raises FormatError on a file of another shape.


def _decode(data: bytes) -> str:
    from filters.decontam import decode

    return decode(data)


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{what}: not JSON ({exc})") from None


def _jsonl(data: bytes, what: str) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(_decode(data).splitlines(), 1):
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FormatError(f"{what}: line {n} is not JSON ({exc})") from None
            if not isinstance(obj, dict):
                raise FormatError(f"{what}: line {n} is not a JSON object")
            yield obj


def _zip_member(data: bytes, suffix: str, what: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if n.endswith(suffix) and "__MACOSX" not in n]
            if not names:
                raise FormatError(f"{what}: no member ending in {suffix!r} in the zip")
            return zf.read(sorted(names, key=len)[0])
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{what}: not a zip file ({exc})") from None


def _parquet_rows(data: bytes, columns: list[str], what: str) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise FormatError(f"{what}: not a Parquet file ({exc})") from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise FormatError(f"{what}: no column {missing[0]!r}; columns: {table.column_names}")
    return table.select(columns).to_pylist()


def parse_phrasebank_zip(data: bytes) -> list[EvalItem]:
    """Financial PhraseBank v1.0 zip: ``Sentences_50Agree.txt``, one ``sentence@label`` per line, Latin-1."""
    text = _decode(_zip_member(data, "Sentences_50Agree.txt", "phrasebank"))
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        sentence, sep, label = line.rpartition("@")
        if not sep or label.strip() not in ("negative", "neutral", "positive"):
            raise FormatError(f"phrasebank: line {n} is not 'sentence@label'")
        items.append(EvalItem(sentence.strip(), label.strip()))
    return items


def fiqa_label(score: float) -> str:
    """FinGPT's cut of FiQA's sentiment score (see the module docstring)."""
    if score < -0.1:
        return "negative"
    if score < 0.1:
        return "neutral"
    return "positive"


def parse_fiqa_parquet(data: bytes) -> list[EvalItem]:
    """FiQA 2018 task 1 as published on the Hub: ``sentence``, ``sentiment_score``, ``format`` (headline/post)."""
    rows = _parquet_rows(data, ["sentence", "sentiment_score", "format"], "fiqa_sentiment")
    return [
        EvalItem(
            r["sentence"],
            fiqa_label(float(r["sentiment_score"])),
            "tweet" if r["format"] == "post" else "news",
        )
        for r in rows
        if r["sentence"]
    ]


TWITTER_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}  # Bearish, Bullish, Neutral


def parse_twitter_csv(data: bytes) -> list[EvalItem]:
    """zeroshot/twitter-financial-news-sentiment ``sent_valid.csv``: ``text,label`` with labels 0/1/2."""
    reader = csv.DictReader(io.StringIO(_decode(data)))
    if not {"text", "label"} <= set(reader.fieldnames or []):
        raise FormatError(f"twitter_financial_news_sentiment: columns {reader.fieldnames}, want text,label")
    items = []
    for row in reader:
        label = TWITTER_LABELS.get((row["label"] or "").strip())
        if label is None:
            raise FormatError(f"twitter_financial_news_sentiment: unknown label {row['label']!r}")
        if row["text"]:
            items.append(EvalItem(row["text"], label, "tweet"))
    return items


def _list_of_dicts(obj: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(obj, list) or not all(isinstance(e, dict) for e in obj):
        raise FormatError(f"{what}: expected a JSON list of objects")
    return obj


def parse_finqa_json(data: bytes) -> list[EvalItem]:
    """FinQA ``dataset/test.json``: a list of entries with ``qa.question`` (the filing page is not indexed)."""
    entries = _list_of_dicts(_json(data, "finqa"), "finqa")
    items = [EvalItem(e["qa"]["question"]) for e in entries if isinstance(e.get("qa"), dict)]
    if entries and not items:
        raise FormatError("finqa: no entry has qa.question")
    return [i for i in items if i.text]


def parse_convfinqa_zip(data: bytes) -> list[EvalItem]:
    """ConvFinQA ``data.zip`` -> ``dev.json`` (the split with answers): every turn of ``annotation.dialogue_break``."""
    entries = _list_of_dicts(_json(_zip_member(data, "dev.json", "convfinqa"), "convfinqa"), "convfinqa")
    items: list[EvalItem] = []
    for e in entries:
        turns = (e.get("annotation") or {}).get("dialogue_break") or []
        items.extend(EvalItem(t) for t in turns if isinstance(t, str) and t)
    if entries and not items:
        raise FormatError("convfinqa: no entry has annotation.dialogue_break")
    return items


def parse_tatqa_json(data: bytes) -> list[EvalItem]:
    """TAT-QA ``tatqa_dataset_test_gold.json``: ``questions[].question`` of every table-and-paragraphs entry."""
    entries = _list_of_dicts(_json(data, "tatqa"), "tatqa")
    items = [EvalItem(q["question"]) for e in entries for q in e.get("questions") or [] if q.get("question")]
    if entries and not items:
        raise FormatError("tatqa: no entry has questions[].question")
    return items


def parse_financebench_jsonl(data: bytes) -> list[EvalItem]:
    """FinanceBench ``financebench_open_source.jsonl``: each ``question`` and its free-text ``answer``."""
    items = []
    for obj in _jsonl(data, "financebench"):
        if not obj.get("question"):
            raise FormatError("financebench: a line has no 'question'")
        items.append(EvalItem(obj["question"]))
        if isinstance(obj.get("answer"), str) and obj["answer"]:
            items.append(EvalItem(obj["answer"]))
    return items


def parse_headline_parquet(data: bytes) -> list[EvalItem]:
    """FinGPT headline classification (gold-news headlines, Sinha & Khandait): the distinct ``input`` headlines
    (the file asks nine yes/no questions per headline)."""
    rows = _parquet_rows(data, ["input"], "headlines")
    seen: dict[str, None] = {}
    for r in rows:
        if r["input"]:
            seen.setdefault(r["input"], None)
    return [EvalItem(t) for t in seen]


def parse_pubmedqa_json(data: bytes) -> list[EvalItem]:
    """PubMedQA ``ori_pqal.json``: {pmid: {QUESTION, CONTEXTS, LONG_ANSWER, final_decision}}; the question, the
    long answer and the context (its paragraphs joined) are indexed, the label is ``final_decision`` (yes/no/maybe)."""
    obj = _json(data, "pubmedqa")
    if not isinstance(obj, dict) or not all(isinstance(v, dict) and "QUESTION" in v for v in obj.values()):
        raise FormatError("pubmedqa: expected {pmid: {QUESTION, CONTEXTS, LONG_ANSWER, ...}}")
    items = []
    for entry in obj.values():
        items.append(EvalItem(entry["QUESTION"], entry.get("final_decision")))
        if entry.get("LONG_ANSWER"):
            items.append(EvalItem(entry["LONG_ANSWER"]))
        contexts = entry.get("CONTEXTS")
        if isinstance(contexts, list) and contexts:
            items.append(EvalItem(" ".join(str(c) for c in contexts)))
    return items


def parse_medqa_parquet(data: bytes) -> list[EvalItem]:
    """MedQA (USMLE, 4 options) on the Hub: ``question`` (the vignette), label ``answer_idx``."""
    rows = _parquet_rows(data, ["question", "answer_idx"], "medqa")
    return [EvalItem(r["question"], str(r["answer_idx"])) for r in rows if r["question"]]


def parse_medmcqa_parquet(data: bytes) -> list[EvalItem]:
    """MedMCQA on the Hub: ``question``; label ``cop`` (the correct option, 0-3)."""
    rows = _parquet_rows(data, ["question", "cop"], "medmcqa")
    return [EvalItem(r["question"], str(r["cop"])) for r in rows if r["question"]]


# ---------------------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class EvalSetSource:
    """A standard evaluation set: its public home, licence, split, format and profile."""

    name: str
    title: str
    profile: str  # finance | medical
    url: str
    licence: str
    split: str
    parser: Callable[[bytes], list[EvalItem]] = field(compare=False, repr=False)
    labels: tuple[str, ...] = ()  # the label set, for labelled (sentiment) sets
    label_map: str = ""  # how the published labels become ``labels`` (the data card repeats it)

    @property
    def filename(self) -> str:
        ext = urlsplit(self.url).path.rsplit(".", 1)[-1]
        return f"{self.name}.{ext}"


SENTIMENT = ("negative", "neutral", "positive")
_HF = "https://huggingface.co/datasets"
_GH = "https://raw.githubusercontent.com"

REGISTRY: dict[str, EvalSetSource] = {
    s.name: s
    for s in (
        EvalSetSource(
            "phrasebank",
            "Financial PhraseBank (sentences_50agree)",
            "finance",
            f"{_HF}/takala/financial_phrasebank/resolve/main/data/FinancialPhraseBank-v1.0.zip",
            "CC BY-NC-SA 3.0",
            "all 4,846 sentences (no official split)",
            parse_phrasebank_zip,
            SENTIMENT,
            "labels as written: negative, neutral, positive",
        ),
        EvalSetSource(
            "fiqa_sentiment",
            "FiQA 2018 task 1 sentiment (headlines and microblogs)",
            "finance",
            f"{_HF}/pauri32/fiqa-2018/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet",
            "FiQA 2018 challenge data, research use (no licence file)",
            "test",
            parse_fiqa_parquet,
            SENTIMENT,
            "sentiment_score < -0.1 negative, < 0.1 neutral, else positive (FinGPT fiqa.py)",
        ),
        EvalSetSource(
            "twitter_financial_news_sentiment",
            "Twitter financial news sentiment (zeroshot)",
            "finance",
            f"{_HF}/zeroshot/twitter-financial-news-sentiment/resolve/main/sent_valid.csv",
            "MIT",
            "validation",
            parse_twitter_csv,
            SENTIMENT,
            "0 Bearish -> negative, 1 Bullish -> positive, 2 Neutral -> neutral",
        ),
        EvalSetSource(
            "finqa",
            "FinQA",
            "finance",
            f"{_GH}/czyssrs/FinQA/main/dataset/test.json",
            "MIT",
            "test",
            parse_finqa_json,
        ),
        EvalSetSource(
            "convfinqa",
            "ConvFinQA",
            "finance",
            "https://github.com/czyssrs/ConvFinQA/raw/main/data.zip",
            "MIT",
            "dev (test answers are withheld)",
            parse_convfinqa_zip,
        ),
        EvalSetSource(
            "tatqa",
            "TAT-QA",
            "finance",
            f"{_GH}/NExTplusplus/TAT-QA/12fd7c8bb474e8b45e9f54dbf7c281c178f1a510/dataset_raw/tatqa_dataset_test_gold.json",
            "CC BY 4.0",
            "test (gold)",
            parse_tatqa_json,
        ),
        EvalSetSource(
            "financebench",
            "FinanceBench (open-source sample)",
            "finance",
            f"{_GH}/patronus-ai/financebench/6e138b2f29670bc416456cd16258f9a48b93b76e/data/financebench_open_source.jsonl",
            "CC BY-NC 4.0",
            "open source (150 questions)",
            parse_financebench_jsonl,
        ),
        EvalSetSource(
            "headlines",
            "Gold-news headline classification (FinGPT headline)",
            "finance",
            f"{_HF}/FinGPT/fingpt-headline/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet",
            "see the dataset card (Sinha & Khandait 2021 gold news headlines)",
            "test",
            parse_headline_parquet,
        ),
        EvalSetSource(
            "pubmedqa",
            "PubMedQA (PQA-L, expert-labelled)",
            "medical",  # the profile the set serves (a profile name), not a domain
            f"{_GH}/pubmedqa/pubmedqa/1f00b98d5cc626844bf8c4ca513b6e62c40071ec/data/ori_pqal.json",
            "MIT",
            "PQA-L (1,000 questions)",
            parse_pubmedqa_json,
        ),
        EvalSetSource(
            "medqa",
            "MedQA (USMLE, 4 options)",
            "medical",  # the profile the set serves (a profile name), not a domain
            f"{_HF}/GBaker/MedQA-USMLE-4-options/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet",
            "MIT",
            "test",
            parse_medqa_parquet,
        ),
        EvalSetSource(
            "medmcqa",
            "MedMCQA",
            "medical",  # the profile the set serves (a profile name), not a domain
            f"{_HF}/openlifescienceai/medmcqa/resolve/refs%2Fconvert%2Fparquet/default/validation/0000.parquet",
            "MIT",
            "validation (test answers are withheld)",
            parse_medmcqa_parquet,
        ),
    )
}

PROFILES = ("finance", "medical")  # profile names, not a domain
FINANCE_SETS = tuple(n for n, s in REGISTRY.items() if s.profile == "finance")
MEDICAL_SETS = tuple(n for n, s in REGISTRY.items() if s.profile == "medical")  # a profile name, not a domain


def sets_of_profile(profile: str) -> tuple[str, ...]:
    return FINANCE_SETS if profile == "finance" else MEDICAL_SETS


def check_names(names: list[str], where: str) -> None:
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ConfigError(
            f"{where}: unknown evaluation set(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}"
        )


def map_label(like: str, raw: str) -> str:
    """A label of a configured file in the vocabulary of the standard set ``like`` (ValueError if unknown)."""
    raw = raw.strip()
    if like == "twitter_financial_news_sentiment":
        if raw in TWITTER_LABELS:
            return TWITTER_LABELS[raw]
    elif like == "fiqa_sentiment":
        try:
            return fiqa_label(float(raw))
        except ValueError:
            pass
    elif raw.lower() in SENTIMENT:
        return raw.lower()
    raise ValueError(f"label {raw!r} cannot be mapped like {like or 'a sentiment set'}")


# ---------------------------------------------------------------------------------------------------------
# The cache


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(cache_dir: str) -> dict[str, dict[str, Any]]:
    """``{name: entry}`` of ``<cache_dir>/evalsets/manifest.json`` ({} when absent)."""
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(cache_dir, NAMESPACE, MANIFEST)
    if not FileSystems.exists(path):
        return {}
    with FileSystems.open(path) as f:
        try:
            entries = json.loads(f.read())
        except json.JSONDecodeError:
            raise ConfigError(f"{path} is not valid JSON: delete it and run fetch evalsets again") from None
    return {e["name"]: e for e in entries.get("sets", [])}


def write_manifest(cache_dir: str, entries: dict[str, dict[str, Any]]) -> str:
    body = {"sets": [entries[n] for n in sorted(entries)]}
    return RawCache(cache_dir).put(NAMESPACE, MANIFEST, json.dumps(body, indent=2).encode())


def cached_names(cache_dir: str, names: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(names in the cache, names missing from it), in the order given."""
    manifest = read_manifest(cache_dir)
    cache = RawCache(cache_dir)
    present = [n for n in names if n in manifest and cache.has(NAMESPACE, manifest[n]["file"])]
    return present, [n for n in names if n not in present]


def load_cached(cache_dir: str, name: str) -> tuple[list[EvalItem], dict[str, Any]]:
    """The items of a cached set and its manifest entry; a sha256 mismatch is a ConfigError."""
    entry = read_manifest(cache_dir).get(name)
    cache = RawCache(cache_dir)
    data = cache.get(NAMESPACE, entry["file"]) if entry else None
    if entry is None or data is None:
        raise ConfigError(
            f"evaluation set {name} is not in {cache_dir}: run python -m pipeline fetch evalsets {name}"
        )
    if _sha256(data) != entry["sha256"]:
        raise ConfigError(
            f"evaluation set {name}: {cache.path(NAMESPACE, entry['file'])} does not match its sha256 in the "
            f"manifest (corrupted?): run python -m pipeline fetch evalsets {name} --refresh"
        )
    return REGISTRY[name].parser(data), entry


# ---------------------------------------------------------------------------------------------------------
# Fetching


def mirrored(url: str, mirror: str | None) -> str:
    """The URL on a mirror that keeps the original ``host/path`` layout (``mirror/<host>/<path>``)."""
    if not mirror:
        return url
    parts = urlsplit(url)
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path}"


@dataclass
class FetchOutcome:
    name: str
    status: str  # fetched | cached | failed
    rows: int = 0
    message: str = ""


def fetch_set(
    source: EvalSetSource,
    cache_dir: str,
    client: HttpClient,
    manifest: dict[str, dict[str, Any]],
    refresh: bool = False,
    mirror: str | None = None,
) -> FetchOutcome:
    """Download, check and store one set (its manifest entry is updated in ``manifest``)."""
    cache = RawCache(cache_dir)
    entry = manifest.get(source.name)
    if entry and not refresh:
        data = cache.get(NAMESPACE, entry["file"])
        if data is not None and _sha256(data) == entry["sha256"]:
            return FetchOutcome(source.name, "cached", entry["rows"])
    url = mirrored(source.url, mirror)
    try:
        data = client.get(url).content
    except FetchError as exc:
        return FetchOutcome(source.name, "failed", message=f"{exc.kind}: {exc}")
    try:
        items = source.parser(data)
    except FormatError as exc:
        return FetchOutcome(source.name, "failed", message=f"bad_format: {exc}")
    if not items:
        return FetchOutcome(source.name, "failed", message="bad_format: the file holds no items")
    digest = _sha256(data)
    cache.put(NAMESPACE, source.filename, data, meta={"url": source.url, "sha256": digest})
    manifest[source.name] = {
        "name": source.name,
        "title": source.title,
        "profile": source.profile,
        "source_url": source.url,
        "licence": source.licence,
        "split": source.split,
        "rows": len(items),
        "labels": dict(sorted(_count_labels(items).items())),
        "file": source.filename,
        "bytes": len(data),
        "sha256": digest,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return FetchOutcome(source.name, "fetched", len(items))


def _count_labels(items: list[EvalItem]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in items:
        if i.label is not None:
            counts[i.label] = counts.get(i.label, 0) + 1
    return counts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline fetch evalsets",
        description="Download standard evaluation sets from their public homes into the fetch cache "
        "(checksums and a manifest in CACHE_DIR/evalsets/manifest.json). Runs use the cached sets for "
        f"decontamination. Known sets: {', '.join(REGISTRY)}.",
    )
    parser.add_argument("names", nargs="*", help="sets to fetch (default: every set of --profile)")
    parser.add_argument("--profile", choices=PROFILES, default="finance", help="default finance")
    parser.add_argument(
        "--cache_dir", default=None, help=f"fetch cache (default ${CACHE_ENV} or ~/.cache/finpile)"
    )
    parser.add_argument("--refresh", action="store_true", help="download again even when cached")
    parser.add_argument("--user_agent", default=DEFAULT_USER_AGENT)
    parser.add_argument("--max_rps", type=float, default=2.0, help="requests/s per host (default 2)")
    parser.add_argument("--max_retries", type=int, default=5, help="retries per request (default 5)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    parser.add_argument(
        "--mirror",
        default=None,
        help="base URL of a mirror laid out as MIRROR/<host>/<path> (tests, proxies)",
    )
    return parser


def cmd_fetch_evalsets(argv: list[str]) -> int:
    """``fetch evalsets``: 0 when every requested set is cached afterwards, 1 when some failed."""
    args = parse_args_or_config_error(_parser(), argv)
    names = list(args.names) or list(sets_of_profile(args.profile))
    check_names(names, "fetch evalsets")
    if args.max_retries < 0 or args.max_rps <= 0 or args.timeout <= 0:
        raise ConfigError("fetch evalsets: --max_retries must be >= 0, --max_rps and --timeout > 0")
    cache_dir = args.cache_dir or default_cache_dir()
    client = HttpClient(args.user_agent, args.max_rps, max_retries=args.max_retries, timeout=args.timeout)
    manifest = read_manifest(cache_dir)
    outcomes = []
    for name in names:
        outcome = fetch_set(REGISTRY[name], cache_dir, client, manifest, args.refresh, args.mirror)
        outcomes.append(outcome)
        line = f"{name}: {outcome.status}"
        line += f" ({outcome.rows} rows)" if outcome.status != "failed" else f" -- {outcome.message}"
        print(line, file=sys.stderr)
    path = write_manifest(cache_dir, manifest)
    failed = [o.name for o in outcomes if o.status == "failed"]
    done = len(outcomes) - len(failed)
    print(
        f"evalsets: {done}/{len(outcomes)} in the cache ({path})"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0
