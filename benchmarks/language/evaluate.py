"""Language ID before and after issue 14, on the real labelled files in ``../shared/data``.

    python benchmarks/language/evaluate.py                 # tables on stdout (~40 s, most of it reading filings)
    python benchmarks/language/evaluate.py --sweep         # + kept share per threshold, to choose min_score
    python benchmarks/language/evaluate.py --misses 20     # + the first English documents the new rule drops

``before`` is the rule this project shipped until issue 14, re-implemented here as it was: fastText lid.176 on
the first 2,000 characters with whitespace collapsed, kept when the top label is ``en`` with probability >= 0.65.
``after`` is the pipeline's pure core (``pipeline.stages.language.identify_language``) with the default config
(``pipeline/profiles/finance.yaml``). The sets and their labels: ``data.py``; method and figures: README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.language import data as sets_module  # noqa: E402
from core.schema import Rejected  # noqa: E402
from filters.language import LanguageIdentifier  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.stages.language import LanguageConfig, identify_language  # noqa: E402

OLD_MAX_CHARS = 2000
OLD_MIN_SCORE = 0.65
_WS = re.compile(r"\s+")

SHORT_ENGLISH = ("phrasebank", "tweets_csv", "stocknet")
LONG_ENGLISH = ("web_pages", "filings", "wikipedia")
NON_ENGLISH = ("tweets_csv", "web_pages", "web_sentences", "warc_wiki")


def before(lid: LanguageIdentifier, items) -> list[tuple[bool, str]]:
    """The old rule: first 2,000 characters, top label en with p >= 0.65."""
    lines = [_WS.sub(" ", i.doc.text[: OLD_MAX_CHARS * 2]).strip()[:OLD_MAX_CHARS] for i in items]
    labels, probs = lid._model.predict(lines, k=1)
    out = []
    for label, prob in zip(labels, probs, strict=True):
        code, p = label[0].removeprefix("__label__"), float(prob[0])
        reason = (
            "" if code == "en" and p >= OLD_MIN_SCORE else ("low_confidence" if p < OLD_MIN_SCORE else code)
        )
        out.append((not reason, reason))
    return out


def after(lid: LanguageIdentifier, cfg: LanguageConfig, items) -> list[tuple[bool, str]]:
    out = []
    for item in items:
        result = identify_language(lid, cfg, item.doc)
        out.append((not isinstance(result, Rejected), result.reason if isinstance(result, Rejected) else ""))
    return out


def _row(name: str, gold_en: bool, items, decisions) -> str:
    pairs = [(i, d) for i, d in zip(items, decisions, strict=True) if (i.gold == "en") == gold_en]
    if not pairs:
        return ""
    kept = sum(keep for _, (keep, _) in pairs)
    reasons = Counter(reason.removeprefix("language:") for _, (keep, reason) in pairs if not keep)
    top = ", ".join(f"{r} {n}" for r, n in reasons.most_common(4))
    return f"| {name} | {len(pairs)} | {kept} | {kept / len(pairs):.2%} | {top} |"


def table(title: str, sets, results, gold_en: bool, names) -> list[str]:
    head = "kept (recall)" if gold_en else "kept as English (false keeps)"
    lines = [
        f"### {title}",
        "",
        f"| set | documents | {head} | share | dropped, by reason |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        row = _row(name, gold_en, sets[name], results[name])
        if row:
            lines.append(row)
    return lines + [""]


def sweep(lid, cfg, sets) -> list[str]:
    """Kept share per threshold, from the scores the new identification gives (priors included)."""
    thresholds = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8]
    lines = ["### Kept share by threshold (after cleaning, windows and priors)", ""]
    lines.append("| set | gold | " + " | ".join(f"{t:g}" for t in thresholds) + " |")
    lines.append("|---|---|" + "---|" * len(thresholds))
    for name, items in sets.items():
        for gold_en in (True, False):
            chosen = [i for i in items if (i.gold == "en") == gold_en]
            if not chosen:
                continue
            results = lid.identify_many(
                [i.doc.text for i in chosen], [i.doc.metadata.get("declared_lang", "") for i in chosen]
            )
            cells = []
            for t in thresholds:
                kept = sum(
                    1
                    for r in results
                    if not r.too_little
                    and r.lang in cfg.allowed
                    and r.score >= t
                    and r.share >= cfg.min_share
                )
                cells.append(f"{kept / len(chosen):.2%}")
            lines.append(f"| {name} | {'en' if gold_en else 'other'} | " + " | ".join(cells) + " |")
    return lines + [""]


def mixtures(sets) -> list[tuple[str, str, str]]:
    """Long documents built from real texts: (name, expected decision, text). English: the longest filing."""
    english = max((i.doc.text for i in sets["filings"]), key=len)
    german = "\n\n".join(i.doc.text for i in sets["web_pages"] if i.gold == "de")
    while len(german) < len(english):
        german += "\n\n" + german
    n = len(english)
    return [
        (
            "English filing + German exhibit (~15% of the text)",
            "kept",
            english + "\n\n" + german[: n * 15 // 85],
        ),
        ("German cover page (3,000 chars) + English filing", "kept", german[:3000] + "\n\n" + english),
        (
            "English cover page (3,000 chars) + German report",
            "language:de",
            english[:3000] + "\n\n" + german[:n],
        ),
        (
            "Bilingual page, 60% English / 40% German",
            "kept",
            english[: n * 6 // 10] + "\n\n" + german[: n * 4 // 10],
        ),
        (
            "Bilingual page, 40% English / 60% German",
            "language:de",
            english[: n * 4 // 10] + "\n\n" + german[: n * 6 // 10],
        ),
    ]


def mixture_table(lid, cfg, sets) -> list[str]:
    from core.schema import Document

    lines = ["### Constructed long documents (real texts joined)", ""]
    lines += [
        "| document | expected | before | after | after: windows (language:score) |",
        "|---|---|---|---|---|",
    ]
    for name, expected, text in mixtures(sets):
        doc = Document(id=name, text=text, source="filings", metadata={"declared_lang": "en"})
        ((keep_old, reason_old),) = before(lid, [sets_module.Item(doc, "en")])
        result = identify_language(lid, cfg, doc)
        got = result.reason if isinstance(result, Rejected) else "kept"
        old = "kept" if keep_old else f"language:{reason_old}"
        lines.append(
            f"| {name} | {expected} | {old} | {got} (share {doc.metadata.get('lang_share', '1')}) | {doc.metadata.get('lang_windows', '')} |"
        )
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", default=os.environ.get("FINPILE_SHARED_DATA", str(REPO.parent / "shared" / "data"))
    )
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--misses", type=int, default=0)
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"no data at {data}: set FINPILE_SHARED_DATA or --data", file=sys.stderr)
        return 2
    start = time.perf_counter()
    sets, skipped = sets_module.load(data)
    load_s = time.perf_counter() - start
    cfg = LanguageConfig.from_settings(load_config(None).language)
    lid = cfg.identifier()
    lid.setup()
    old = {name: before(lid, items) for name, items in sets.items()}
    start = time.perf_counter()
    new = {name: after(lid, cfg, items) for name, items in sets.items()}
    after_s = time.perf_counter() - start
    n_docs = sum(len(v) for v in sets.values())
    out = [
        f"Config: {cfg}",
        f"Left out before language ID (reader/extract drops): {dict(sorted(skipped.items()))}",
        "",
    ]
    for label, results in (("before", old), ("after", new)):
        out += table(f"{label}: English documents", sets, results, True, SHORT_ENGLISH + LONG_ENGLISH)
        out += table(f"{label}: non-English documents", sets, results, False, NON_ENGLISH)
    out += mixture_table(lid, cfg, sets)
    if args.sweep:
        out += sweep(lid, cfg, sets)
    if args.misses:
        out.append("### English documents dropped after")
        for name in SHORT_ENGLISH + LONG_ENGLISH:
            for item, (keep, reason) in zip(sets[name], new[name], strict=True):
                if item.gold == "en" and not keep and args.misses > 0:
                    args.misses -= 1
                    out.append(
                        f"- {name} {item.name}: {reason} {item.doc.lang}:{item.doc.lang_score:.2f} {item.doc.text[:90]!r}"
                    )
        out.append("")
    out.append(
        f"{n_docs} documents; loading {load_s:.1f} s; new language ID {after_s:.2f} s ({n_docs / after_s:,.0f} docs/s, one core)"
    )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
