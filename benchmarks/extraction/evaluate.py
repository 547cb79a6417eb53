"""Score HTML-to-text extraction against trafilatura's evaluation snippets.

For each page of ``shared/data/web/trafilatura_evaldata_subset.json`` (``{url: {"file", "with", "without"}}``)
every extractor's text is checked the way trafilatura's own benchmark (``tests/comparison.py``,
``evaluate_result``) does it: a ``with`` snippet found is a true positive, missing a false negative; a
``without`` snippet found is a false positive, absent a true negative; an extractor that returns nothing
scores every ``with`` as a false negative and every ``without`` as a true negative. Snippets are matched
as exact substrings, so a dropped space or changed quote counts as a miss, exactly as in trafilatura's table.

Extractors (all given the same page; ours get the raw bytes and decode them as the pipeline does, the others
get the text our decoder produced, so decoding is not what is compared):

- ``ours``            ``sources.html.extract_html`` with the pipeline defaults (trafilatura, metadata on,
                      tables as Markdown, text in the text shape: blank lines between blocks)
- ``ours_precision``  the same with ``favor_precision=True``
- ``ours_recall``     the same with ``favor_recall=True``
- ``ours_no_tables``  the same with ``tables=drop`` (the pipeline default before tables were kept)
- ``trafilatura``     ``trafilatura.extract`` with its own defaults (tables on, ``deduplicate=False``)
- ``trafilatura_precision``  the same with ``favor_precision=True``
- ``resiliparse``     Resiliparse ``extract_plain_text(main_content=True)`` (if installed)
- ``justext``         jusText paragraphs not marked boilerplate (union of all stop lists, as trafilatura does)
- ``full_page``       trafilatura ``html2txt``: all visible text, a recall ceiling and precision floor

Throughput is pages per second, one core, in the same run, best of ``--repeat`` passes.

    python benchmarks/extraction/evaluate.py            # all pages, 3 passes
    python benchmarks/extraction/evaluate.py --smoke    # 6 pages, 1 pass (< 30 s)
    python benchmarks/extraction/evaluate.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from core.schema import RawRecord  # noqa: E402
from sources.html import decode_html, extract_html  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "web"
SMOKE_PAGES = 6

Extractor = Callable[[bytes, str, str], str]  # (raw bytes, decoded text, url) -> extracted text


@dataclass
class Score:
    """Confusion counts of one extractor, over one page or many."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.tn += other.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fn + self.fp + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def score_text(text: str | None, with_snippets: list[str], without_snippets: list[str]) -> Score:
    """trafilatura's ``evaluate_result``: substring checks of the must / must-not snippets."""
    if not text:
        return Score(fn=len(with_snippets), tn=len(without_snippets))
    tp = sum(s in text for s in with_snippets)
    fp = sum(s in text for s in without_snippets)
    return Score(tp=tp, fn=len(with_snippets) - tp, fp=fp, tn=len(without_snippets) - fp)


# --------------------------------------------------------------------------------------------------
# Extractors
# --------------------------------------------------------------------------------------------------


def _ours(options: dict[str, bool]) -> Extractor:
    def extract(raw: bytes, _text: str, url: str) -> str:
        record = RawRecord(source="web", id=url, url=url, content=raw, content_type="html")
        return extract_html(record, options).text

    return extract


def _trafilatura(**options: bool) -> Extractor:
    import trafilatura

    def extract(_raw: bytes, text: str, url: str) -> str:
        return trafilatura.extract(text, url=url, deduplicate=False, **options) or ""

    return extract


def _resiliparse() -> Extractor | None:
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree
    except ImportError:
        return None

    def extract(_raw: bytes, text: str, _url: str) -> str:
        return extract_plain_text(HTMLTree.parse(text), main_content=True)

    return extract


def _justext() -> Extractor | None:
    try:
        import justext
    except ImportError:
        return None
    stoplist: frozenset[str] = frozenset().union(
        *(justext.get_stoplist(lang) for lang in justext.get_stoplists())
    )

    def extract(_raw: bytes, text: str, _url: str) -> str:
        paragraphs = justext.justext(text, stoplist)
        return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)

    return extract


def _full_page() -> Extractor:
    import trafilatura

    def extract(_raw: bytes, text: str, _url: str) -> str:
        return trafilatura.html2txt(text) or ""

    return extract


def extractors() -> dict[str, Extractor]:
    """Name -> extractor, for the ones installed."""
    found: dict[str, Extractor | None] = {
        "ours": _ours({}),
        "ours_precision": _ours({"favor_precision": True}),
        "ours_recall": _ours({"favor_recall": True}),
        "ours_no_tables": _ours({"tables": "drop"}),
        "ours_no_fallback": _ours({"fallback": False}),
        "trafilatura": _trafilatura(),
        "trafilatura_precision": _trafilatura(favor_precision=True),
        "resiliparse": _resiliparse(),
        "justext": _justext(),
        "full_page": _full_page(),
    }
    return {name: fn for name, fn in found.items() if fn is not None}


# --------------------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------------------


@dataclass
class Page:
    url: str
    file: str
    raw: bytes
    text: str
    with_snippets: list[str]
    without_snippets: list[str]


@dataclass
class Result:
    name: str
    total: Score = field(default_factory=Score)
    pages: dict[str, Score] = field(default_factory=dict)
    seconds: float = float("inf")

    @property
    def docs_per_s(self) -> float:
        return len(self.pages) / self.seconds if self.seconds else 0.0


def load_pages(data_dir: Path, limit: int | None) -> list[Page]:
    evaldata = json.loads((data_dir / "trafilatura_evaldata_subset.json").read_text(encoding="utf-8"))
    pages = []
    for url, entry in sorted(evaldata.items(), key=lambda item: item[1]["file"]):
        raw = (data_dir / "html" / entry["file"]).read_bytes()
        text, _ = decode_html(raw)
        pages.append(Page(url, entry["file"], raw, text, list(entry["with"]), list(entry["without"])))
    return pages[:limit] if limit else pages


def evaluate(name: str, extract: Extractor, pages: list[Page], repeat: int) -> Result:
    """Score one extractor on every page; time ``repeat`` full passes and keep the fastest."""
    result = Result(name)
    for run in range(repeat):
        started = time.process_time()
        outputs = [extract(p.raw, p.text, p.url) for p in pages]
        result.seconds = min(result.seconds, time.process_time() - started)
        if run == 0:
            for page, text in zip(pages, outputs, strict=True):
                score = score_text(text, page.with_snippets, page.without_snippets)
                result.pages[page.file] = score
                result.total.add(score)
    return result


def print_tables(results: list[Result], pages: list[Page]) -> None:
    names = [r.name for r in results]
    width = max(len(p.file) for p in pages)
    print("Per page: with-snippets found / total, without-snippets found / total (lower is better)\n")
    print(f"{'page':<{width}}  " + "  ".join(f"{n:>22}" for n in names))
    for page in pages:
        cells = []
        for result in results:
            s = result.pages[page.file]
            cells.append(f"{s.tp}/{s.tp + s.fn} {s.fp}/{s.fp + s.tn}".rjust(22))
        print(f"{page.file:<{width}}  " + "  ".join(cells))
    print(f"\nTotals over {len(pages)} pages\n")
    print(
        f"{'extractor':<22} {'tp':>4} {'fn':>4} {'fp':>4} {'tn':>4} "
        f"{'precision':>9} {'recall':>7} {'F1':>6} {'accuracy':>8} {'docs/s':>8}"
    )
    for r in results:
        t = r.total
        print(
            f"{r.name:<22} {t.tp:>4} {t.fn:>4} {t.fp:>4} {t.tn:>4} "
            f"{t.precision:>9.3f} {t.recall:>7.3f} {t.f1:>6.3f} {t.accuracy:>8.3f} {r.docs_per_s:>8.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="directory with html/ and the JSON")
    parser.add_argument("--smoke", action="store_true", help=f"first {SMOKE_PAGES} pages, one pass")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per extractor (best one kept)")
    parser.add_argument("--only", default="", help="comma-separated extractor names")
    parser.add_argument("--json", type=Path, help="also write the totals here")
    args = parser.parse_args(argv)
    if not (args.data / "trafilatura_evaldata_subset.json").is_file():
        print(f"error: no trafilatura_evaldata_subset.json in {args.data} (use --data)", file=sys.stderr)
        return 2
    pages = load_pages(args.data, SMOKE_PAGES if args.smoke else None)
    repeat = 1 if args.smoke else max(1, args.repeat)
    chosen = extractors()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(wanted) - set(chosen))
        if unknown:
            print(
                f"error: unknown or uninstalled extractor(s) {unknown}; have {sorted(chosen)}",
                file=sys.stderr,
            )
            return 2
        chosen = {n: chosen[n] for n in wanted}
    for fn in chosen.values():  # warm-up: imports and lazy initialisation are not throughput
        fn(pages[0].raw, pages[0].text, pages[0].url)
    results = [evaluate(name, fn, pages, repeat) for name, fn in chosen.items()]
    print_tables(results, pages)
    if args.json:
        totals = {
            r.name: {
                **vars(r.total),
                "precision": r.total.precision,
                "recall": r.total.recall,
                "f1": r.total.f1,
                "accuracy": r.total.accuracy,
                "docs_per_s": r.docs_per_s,
            }
            for r in results
        }
        args.json.write_text(json.dumps({"pages": len(pages), "extractors": totals}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
