"""``python -m pipeline train-domain-classifier RUN_DIR``: train the financial-vs-general fastText classifier.

Labels come from the source (the issue's definition): filings, press, news and social (finance subreddits,
financial tweets) are ``financial``; wikipedia, c4 and web are ``general``. A web page already moved to the
financial domain by an earlier classifier is left out: its label would be that classifier's own decision.

Split: per label, documents are ordered by ``sha1(seed:id)`` and the first ``holdout`` fraction is held out
(at least one document of each label when a label has two or more), so the split is deterministic and
stratified, and the chunks of one document never straddle it.

Training examples: each training document gives up to ``MAX_CHUNKS`` consecutive chunks of ``CHUNK_WORDS``
normalised words (see ``filters.domain.normalise``), so a corpus of a few dozen documents still yields a few
hundred examples and one 1-MB filing cannot outweigh everything else. The label with fewer examples is repeated
(round robin) until both labels have as many: fastText has no class weights. Evaluation scores each held-out
document the way the pipeline does (its first ``MAX_WORDS`` words) at threshold 0.5.

The model is saved quantised (``.ftz``, product quantisation of the input matrix) when the output name ends in
``.ftz``; the figures are those of the saved (quantised) model. A model card (``<out>.md``) records the data
(runs, documents per label and source), the parameters, the figures and the date.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from filters.domain import LABELS, MAX_WORDS, DomainClassifier, normalise
from pipeline.errors import ConfigError

FINANCIAL_SOURCES = frozenset({"filings", "press", "news", "social"})
GENERAL_SOURCES = frozenset({"wikipedia", "web", "c4"})
CHUNK_WORDS = 100
MAX_CHUNKS = 20
COLUMNS = ["id", "text", "source", "domain"]
MAX_ATTEMPTS = 5
MIN_TRAIN_PRECISION = 0.8


# fastText 0.9.3's DenseMatrix::uniform initialises the input matrix in 10 blocks but only runs `thread` of
# them (src/densematrix.cc, uniformThread): with thread=1, 90% of the weights are left as uninitialised memory
# and training ends in "Encountered NaN" in most runs here (8 of 10 with the default parameters). With 10
# threads every block is initialised (and all of the matrix when rows * dim is a multiple of 10, hence dim).
FASTTEXT_INIT_THREADS = 10


@dataclass(frozen=True)
class TrainParams:
    """fastText supervised parameters (small on purpose: the model ships in the package)."""

    dim: int = 30  # a multiple of 10: see FASTTEXT_INIT_THREADS
    epoch: int = 30
    lr: float = 0.1
    word_ngrams: int = 2
    min_count: int = 1
    bucket: int = 10_000
    seed: int = 1
    threshold: float = 0.5


@dataclass
class LabelledDoc:
    id: str
    text: str
    source: str
    label: str


@dataclass
class Figures:
    """Held-out figures for the financial class (plus accuracy and the confusion counts)."""

    precision: float
    recall: float
    f1: float
    accuracy: float
    tp: int
    fp: int
    fn: int
    tn: int
    by_source: dict[str, str] = field(default_factory=dict)  # source -> "correct/total"


def label_of(source: str, domain: str) -> str | None:
    """``financial`` / ``general`` from the source; None for rows we do not train on."""
    if source in FINANCIAL_SOURCES:
        return "financial"
    if source in GENERAL_SOURCES:
        return "general" if domain != "financial" else None
    return None


def read_run(run_dir: str) -> tuple[list[LabelledDoc], Counter]:
    """Labelled documents from a run's Parquet shards (``run_dir/data/**/*.parquet``); and skipped counts."""
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    pattern = FileSystems.join(run_dir, "data", "**", "*.parquet")
    paths = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    if not paths:
        raise ConfigError(f"no Parquet shards under {run_dir}/data/: pass the folder of a finished run")
    docs: list[LabelledDoc] = []
    skipped: Counter = Counter()
    for path in paths:
        with FileSystems.open(path) as f:
            table = pq.read_table(f, columns=COLUMNS)
        for row in table.to_pylist():
            label = label_of(row["source"], row["domain"])
            if label is None:
                skipped[f"{row['domain']}/{row['source']}"] += 1
                continue
            docs.append(LabelledDoc(row["id"], row["text"], row["source"], label))
    return docs, skipped


def split(docs: list[LabelledDoc], holdout: float, seed: int) -> tuple[list[LabelledDoc], list[LabelledDoc]]:
    """(train, held-out): stratified by label, ordered by a seeded hash of the id."""
    train, held = [], []
    for label in sorted({d.label for d in docs}):
        group = sorted(
            (d for d in docs if d.label == label),
            key=lambda d: hashlib.sha1(f"{seed}:{d.id}".encode()).hexdigest(),
        )
        n_held = round(holdout * len(group))
        if holdout > 0 and len(group) >= 2:
            n_held = min(max(n_held, 1), len(group) - 1)
        held += group[:n_held]
        train += group[n_held:]
    return train, held


def chunks(text: str) -> list[str]:
    """Up to MAX_CHUNKS lines of CHUNK_WORDS normalised words each."""
    words = normalise(text, CHUNK_WORDS * MAX_CHUNKS).split()
    return [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)]


def training_lines(docs: list[LabelledDoc]) -> list[str]:
    """fastText lines ``__label__x words...``, the smaller label repeated until the labels balance."""
    by_label: dict[str, list[str]] = {label: [] for label in LABELS}
    for d in docs:
        by_label[d.label] += [f"{LABELS[d.label]} {c}" for c in chunks(d.text)]
    target = max(len(v) for v in by_label.values())
    lines = []
    for examples in by_label.values():
        if examples:
            lines += [examples[i % len(examples)] for i in range(target)]
    return lines


def train(docs: list[LabelledDoc], out: str, params: TrainParams) -> None:
    """Train on ``docs`` and save the model to ``out`` (quantised when it ends in .ftz)."""
    labels = {d.label for d in docs}
    if labels != set(LABELS):
        raise ConfigError(
            f"training needs documents of both labels, got only {sorted(labels) or 'none'}: "
            "build a run with financial and general sources"
        )
    lines = training_lines(docs)
    fd, path = tempfile.mkstemp(suffix=".txt", prefix="domain-train-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        model = fit_checked(path, params)
        if out.endswith(".ftz"):
            model.quantize(input=path, qnorm=True, retrain=False, dsub=2)
    finally:
        os.unlink(path)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    model.save_model(out)


def fit_checked(path: str, params: TrainParams, attempts: int = MAX_ATTEMPTS) -> Any:
    """Train on the fastText file ``path``; retry with the next seed when a fit comes out broken.

    fastText 0.9.3 (the PyPI wheel used here) sometimes fails on small corpora: training stops with
    "Encountered NaN" even at low learning rates, or yields a model that inverts its labels (precision@1 on
    its own training lines near 0). A fit is accepted only if it reaches ``MIN_TRAIN_PRECISION`` on its
    training lines; otherwise the next seed is tried, up to ``attempts`` times, then a ConfigError says so.
    """
    import fasttext

    problems = []
    for attempt in range(attempts):
        seed = params.seed + attempt
        try:
            model = fasttext.train_supervised(
                input=path,
                dim=params.dim,
                epoch=params.epoch,
                lr=params.lr,
                # wordNgrams >= 2 (hash buckets): with 1, NaN failures are far more frequent.
                wordNgrams=params.word_ngrams,
                minCount=params.min_count,
                bucket=params.bucket,
                # fastText 0.9.3's softmax loss diverges ("Encountered NaN") in 7 of 10 seeds on small data here;
                # one-vs-all (a sigmoid per label) never did in the same check, and gives P(financial) directly.
                loss="ova",
                thread=FASTTEXT_INIT_THREADS,
                seed=seed,
                verbose=0,
            )
        except RuntimeError as exc:  # fastText's only signal of a failed run ("Encountered NaN.")
            problems.append(f"seed {seed}: {exc}")
            continue
        _, precision, _ = model.test(path)
        if precision >= MIN_TRAIN_PRECISION:
            return model
        problems.append(f"seed {seed}: precision {precision:.2f} on its own training lines")
    raise ConfigError(
        f"fastText training failed {attempts} times ({'; '.join(problems)}): use more data or a lower --lr"
    )


def evaluate(model_path: str, docs: list[LabelledDoc], threshold: float) -> Figures:
    """Precision/recall/F1 of the financial class on ``docs``, scored as the pipeline scores them."""
    scores = DomainClassifier(model_path).score_many([d.text for d in docs])
    tp = fp = fn = tn = 0
    per_source: dict[str, list[int]] = {}
    for d, s in zip(docs, scores, strict=True):
        predicted = "financial" if s >= threshold else "general"
        tp += predicted == "financial" and d.label == "financial"
        fp += predicted == "financial" and d.label == "general"
        fn += predicted == "general" and d.label == "financial"
        tn += predicted == "general" and d.label == "general"
        hits = per_source.setdefault(d.source, [0, 0])
        hits[0] += predicted == d.label
        hits[1] += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Figures(
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        accuracy=round((tp + tn) / len(docs), 4) if docs else 0.0,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        by_source={s: f"{c}/{n}" for s, (c, n) in sorted(per_source.items())},
    )


def model_card(
    *,
    out: str,
    run_dirs: list[str],
    train_docs: list[LabelledDoc],
    held_docs: list[LabelledDoc],
    skipped: Counter,
    params: TrainParams,
    holdout: float,
    figures: Figures,
) -> str:
    """The model card (markdown): data, parameters, figures, date."""

    def counts(docs: list[LabelledDoc]) -> Counter:
        return Counter((d.label, d.source) for d in docs)

    tr, he = counts(train_docs), counts(held_docs)
    lines = [
        f"# Domain classifier `{os.path.basename(out)}`",
        "",
        "fastText supervised classifier, `__label__financial` vs `__label__general`, used by the ClassifyDomain",
        "stage to pick financially relevant pages out of the general web (FinPile's *Web* category).",
        f"Trained with `python -m pipeline train-domain-classifier` on {datetime.now(UTC).date().isoformat()}"
        f" ({os.path.getsize(out):,} bytes).",
        "",
        "## Data",
        "",
        "Runs: " + ", ".join(f"`{r}`" for r in run_dirs),
        "",
        "Labels from the source: financial = filings, press, news, social; general = wikipedia, web, c4.",
        f"Held-out split: {holdout:.0%} of each label's documents by `sha1(seed:id)` (seed {params.seed}).",
        "",
        "| label | source | train docs | held-out docs |",
        "|---|---|---:|---:|",
    ]
    for key in sorted(set(tr) | set(he)):
        lines.append(f"| {key[0]} | {key[1]} | {tr[key]} | {he[key]} |")
    lines.append(f"| **total** | | {len(train_docs)} | {len(held_docs)} |")
    if skipped:
        lines.append("")
        lines.append("Not used (no label): " + ", ".join(f"{k}={n}" for k, n in sorted(skipped.items())))
    n_lines = len(training_lines(train_docs))
    lines += [
        "",
        f"Training examples: chunks of {CHUNK_WORDS} normalised words, at most {MAX_CHUNKS} per document, "
        f"the smaller label repeated to balance: {n_lines} lines.",
        "",
        "## Parameters",
        "",
        "| parameter | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in asdict(params).items()]
    lines += [
        "| loss | ova (one-vs-all) |",
        f"| quantised | {'yes (qnorm, dsub=2)' if out.endswith('.ftz') else 'no'} |",
        f"| words scored per document | first {MAX_WORDS} |",
        "",
        "## Held-out figures (financial = positive class)",
        "",
        "| precision | recall | F1 | accuracy | TP | FP | FN | TN |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {figures.precision:.3f} | {figures.recall:.3f} | {figures.f1:.3f} | {figures.accuracy:.3f} | "
        f"{figures.tp} | {figures.fp} | {figures.fn} | {figures.tn} |",
        "",
        "Correct per source (held-out): " + ", ".join(f"{s} {v}" for s, v in figures.by_source.items()),
        "",
        "## Limits",
        "",
        "The held-out split of a small run has a handful of documents: the figures above are a smoke test, not",
        "an estimate of accuracy on the open web. Retrain on a large run before relying on the threshold.",
        "",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline train-domain-classifier",
        description="Train the financial-vs-general fastText classifier from built runs; print held-out "
        "precision/recall/F1; write the model and a model card (<out>.md).",
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="folder(s) of finished runs")
    parser.add_argument("--out", default="pipeline/models/domain.ftz", help="model file (.ftz: quantised)")
    parser.add_argument("--holdout", type=float, default=0.2, help="held-out fraction per label (0..0.9)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the split and of fastText")
    parser.add_argument("--dim", type=int, default=TrainParams.dim)
    parser.add_argument("--epoch", type=int, default=TrainParams.epoch)
    parser.add_argument("--threshold", type=float, default=TrainParams.threshold)
    return parser


def train_from_runs(
    run_dirs: list[str], out: str, holdout: float = 0.2, params: TrainParams | None = None
) -> dict[str, Any]:
    """Read, split, train, evaluate, write model + card. Returns the figures and counts (also for tests)."""
    params = params or TrainParams()
    if not 0 <= holdout < 0.9:
        raise ConfigError(f"--holdout must be in [0, 0.9), got {holdout}")
    docs: list[LabelledDoc] = []
    skipped: Counter = Counter()
    for run_dir in run_dirs:
        got, skip = read_run(run_dir)
        docs += got
        skipped += skip
    train_docs, held_docs = split(docs, holdout, params.seed)
    train(train_docs, out, params)
    figures = evaluate(out, held_docs, params.threshold)
    card_path = os.path.splitext(out)[0] + ".md"
    card = model_card(
        out=out,
        run_dirs=run_dirs,
        train_docs=train_docs,
        held_docs=held_docs,
        skipped=skipped,
        params=params,
        holdout=holdout,
        figures=figures,
    )
    with open(card_path, "w", encoding="utf-8") as f:
        f.write(card)
    return {
        "model": out,
        "card": card_path,
        "train_docs": len(train_docs),
        "held_out_docs": len(held_docs),
        "figures": asdict(figures),
    }


def cmd_train_domain(argv: list[str]) -> int:
    """CLI entry point: train, print the held-out figures, write model and card."""
    args = _parser().parse_args(argv)
    params = TrainParams(dim=args.dim, epoch=args.epoch, seed=args.seed, threshold=args.threshold)
    result = train_from_runs(args.run_dirs, args.out, args.holdout, params)
    fig = result["figures"]
    print(
        f"held-out ({result['held_out_docs']} docs, financial = positive): precision {fig['precision']:.3f}  "
        f"recall {fig['recall']:.3f}  F1 {fig['f1']:.3f}  accuracy {fig['accuracy']:.3f}  "
        f"(TP {fig['tp']} FP {fig['fp']} FN {fig['fn']} TN {fig['tn']})"
    )
    print(f"model: {result['model']} ({os.path.getsize(result['model']):,} bytes)  card: {result['card']}")
    return 0
