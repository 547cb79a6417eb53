"""Domain classifier benchmark: a model's figures on held-out AG News and on the 36 labelled real web pages.

    python benchmarks/domain/evaluate.py [--model PATH ...] [--threshold 0.5] [--data ../shared/data]

- AG News: the held-out part of ``domain/ag_news_test.csv`` as ``train-domain-classifier`` splits it (same seed
  and hold-out fraction: ``sha1(seed:id)`` below the fraction), Business = financial. Short texts (title and
  description, ~40 words).
- Web pages: every page of ``web/html/`` extracted by the pipeline's own HTML extractor (trafilatura), scored
  on its text, compared with our labels in ``web_pages_labels.csv`` (written by hand, one reason each; never
  trained on). Figures for the English pages (what reaches ClassifyDomain: the others are dropped by language
  ID) and for all pages; and whether every clearly financial English page is above the threshold.

Each model gives one block of markdown on stdout. No model given: the shipped default.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from core.schema import RawRecord  # noqa: E402
from filters.domain import DomainClassifier  # noqa: E402
from pipeline.stages.domain import default_model_path  # noqa: E402
from pipeline.train_domain import LabelledDoc, TrainParams, figures_at, read_ag_news, split  # noqa: E402
from sources.html import extract_html  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS_FILE = os.path.join(HERE, "web_pages_labels.csv")


def page_docs(data: str) -> list[tuple[LabelledDoc, dict[str, str]]]:
    """The labelled pages, extracted as the pipeline extracts them."""
    out = []
    with open(LABELS_FILE, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            path = os.path.join(data, "web", "html", row["file"])
            with open(path, "rb") as page:
                raw = RawRecord(
                    source="web",
                    id=row["file"],
                    url="",
                    content=page.read(),
                    content_type="html",
                    fetched_at="",
                )
            doc = extract_html(raw)
            out.append((LabelledDoc(row["file"], doc.text, "web", row["label"]), row))
    return out


def row(name: str, f) -> str:
    return f"| {name} | {f.precision:.3f} | {f.recall:.3f} | {f.f1:.3f} | {f.accuracy:.3f} | {f.tp} | {f.fp} | {f.fn} | {f.tn} |"


def report(model: str, threshold: float, ag_held: list[LabelledDoc], pages) -> str:
    clf = DomainClassifier(model, label="financial")  # this benchmark scores the finance profile's model
    lines = [f"### `{os.path.basename(model)}` ({os.path.getsize(model):,} bytes), threshold {threshold}", ""]
    lines += [
        "| set | precision | recall | F1 | accuracy | TP | FP | FN | TN |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ag_scores = clf.score_many([d.text for d in ag_held])
    lines.append(row(f"AG News held-out ({len(ag_held)})", figures_at(ag_scores, ag_held, threshold)))
    docs = [d for d, _ in pages]
    scores = clf.score_many([d.text for d in docs])
    en = [i for i, (_, r) in enumerate(pages) if r["lang"] == "en"]
    lines.append(
        row(
            f"web pages, English ({len(en)})",
            figures_at([scores[i] for i in en], [docs[i] for i in en], threshold),
        )
    )
    lines.append(row(f"web pages, all ({len(docs)})", figures_at(scores, docs, threshold)))
    clear = [i for i in en if pages[i][1]["label"] == "financial" and pages[i][1]["clear"] == "yes"]
    above = [i for i in clear if scores[i] >= threshold]
    lines += ["", f"Clearly financial English pages above the threshold: {len(above)} of {len(clear)}.", ""]
    lines += ["| page | lang | label | clear | score | decision |", "|---|---|---|---|---:|---|"]
    for (d, r), s in zip(pages, scores, strict=True):
        decided = "financial" if s >= threshold else "general"
        mark = "" if decided == d.label else " **wrong**"
        lines.append(f"| {r['file']} | {r['lang']} | {d.label} | {r['clear']} | {s:.3f} | {decided}{mark} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", action="append", default=[], help="model file(s); default: the shipped one"
    )
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--data", default=os.environ.get("FINPILE_SHARED_DATA", "../shared/data"))
    parser.add_argument("--seed", type=int, default=TrainParams.seed, help="the training run's seed")
    parser.add_argument("--holdout", type=float, default=0.2, help="the training run's hold-out fraction")
    args = parser.parse_args(argv)
    _, ag_held = split(
        read_ag_news(os.path.join(args.data, "domain", "ag_news_test.csv")), args.holdout, args.seed
    )
    pages = page_docs(args.data)
    for model in args.model or [default_model_path()]:
        print(report(model, args.threshold, ag_held, pages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
