"""``python -m pipeline train-domain-classifier``: train the financial-vs-general fastText classifier.

Training data, read from where it lies (nothing is copied into the project):

- built runs (``RUN_DIR``...): labels come from the source. filings, press, news and social (finance
  subreddits, financial tweets) are ``financial``; wikipedia, c4 and web are ``general``. A document whose
  domain a classifier decided is left out: a web page already moved to the financial domain, a post from a
  subreddit outside the finance allow-list (``metadata["domain_hint"] == "unknown"``);
- ``--ag_news CSV``: AG News (Zhang, Zhao & LeCun 2015; rows ``class,title,description``): class 3 (Business)
  is ``financial``, World, Sports and Sci/Tech are ``general``;
- ``--phrasebank CSV``: Financial PhraseBank (Malo et al. 2014; ``label,news``): every sentence ``financial``;
- ``--lines LABEL=FILE``: a plain-text file, one document per line, all of one label.

Split: a document is held out when ``sha1(seed:id)``, read as a number in [0, 1), is below ``holdout`` (at least
one document of each label on each side when a label has two or more), so the split is deterministic, the same
for a file whatever else is trained on, and the chunks of one document never straddle it.

Training examples: each training document gives up to ``MAX_CHUNKS`` consecutive chunks of ``CHUNK_WORDS``
normalised words (see ``filters.domain.normalise``), so one 1-MB filing cannot outweigh everything else. The label
with fewer examples is repeated (round robin) until both labels have as many (fastText has no class weights), and
the lines are shuffled with the seed (fastText reads its file in order: blocks of one label would skew SGD).

Reproducible: the same data, parameters and seed give the same model bytes and figures. fastText trains with one
thread (several threads update the weights in a racy order), and its input matrix is initialised from a vectors
file we write from the seed (fastText 0.9.3 allocates the matrix uninitialised and, with one thread, fills only
the first tenth of it: the rest is whatever was in memory, hence runs that differ or end in "Encountered NaN").
So that every row comes from that file, training uses word unigrams (no hashed n-gram buckets).

The model is saved quantised (``.ftz``: product quantisation, ``dsub=2``, the ``cutoff`` words of largest norm
kept) when the output name ends in ``.ftz``; the figures are those of the saved model. Without ``--out`` the model
goes to ``./models/domain.ftz`` (never into the installed package); a model card (``<out>.md``) records the data,
parameters and held-out figures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import os
import random
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from core.errors import ConfigError
from core.schema import entries_to_dict
from filters.domain import MAX_WORDS, DomainClassifier, normalise
from pipeline.profiles import DEFAULT_DOMAIN, FINANCE, load_profile

GENERAL_SOURCES = frozenset({"wikipedia", "web", "c4"})
CHUNK_WORDS = 40
MAX_CHUNKS = 25
COLUMNS = ["id", "text", "source", "domain", "metadata"]
DEFAULT_OUT = os.path.join("models", "domain.ftz")
AG_NEWS_BUSINESS = "3"
LONG_DOC_WORDS = 200  # held-out documents at least this long are the "full-length" figures
MIN_QUANTISE_ROWS = 256  # fastText's product quantiser needs at least this many rows
SWEEP = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class TrainParams:
    """fastText supervised parameters (small on purpose: the model ships in the package)."""

    dim: int = 64
    epoch: int = 10
    lr: float = 0.1
    min_count: int = 2
    cutoff: int = 40_000  # words kept by quantisation (.ftz)
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


def label_of(
    source: str, domain: str, metadata: dict[str, str] | None = None, profile: dict[str, Any] | None = None
) -> str | None:
    """The profile's domain (``financial`` for finance, ``medical`` ...) or ``general`` from the source; None for
    rows we do not train on. The profile's ``domain_sources`` give its domain; wikipedia, c4 and web general."""
    profile = profile or FINANCE
    positive = profile["domain"]
    if (metadata or {}).get("domain_hint") == "unknown":
        return None  # e.g. a post from a subreddit outside the finance allow-list: its source does not say
    if source in set(profile["domain_sources"]):
        return positive
    if source in GENERAL_SOURCES:
        return "general" if domain != positive else None
    return None


def read_run(run_dir: str, profile: dict[str, Any] | None = None) -> tuple[list[LabelledDoc], Counter]:
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
            metadata = entries_to_dict(row.get("metadata"))
            label = label_of(row["source"], row["domain"], metadata, profile)
            if label is None:
                skipped[f"{row['domain']}/{row['source']}"] += 1
                continue
            docs.append(LabelledDoc(row["id"], row["text"], row["source"], label))
    return docs, skipped


_AG_ENTITY = re.compile(r"(?<!&)#(\d{2,5});")


def ag_news_text(title: str, description: str) -> str:
    """AG News text as published: its ``#36;``-style entities decoded, its ``\\`` line breaks as spaces."""
    text = f"{title}. {description}".replace("\\", " ")
    return html.unescape(_AG_ENTITY.sub(r"&#\1;", text))


def _open_csv(path: str) -> list[list[str]]:
    if not os.path.isfile(path):
        raise ConfigError(f"file not found: {path}")
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        return list(csv.reader(f))


def read_ag_news(path: str, positive: str = DEFAULT_DOMAIN) -> list[LabelledDoc]:
    """AG News rows ``class,title,description`` (no header): Business is financial, the rest general. For another
    profile (``positive`` not ``financial``) the Business rows are left out and the rest is general."""
    docs = []
    for lineno, row in enumerate(_open_csv(path), 1):
        if len(row) != 3 or row[0] not in {"1", "2", "3", "4"}:
            raise ConfigError(f"{path}:{lineno}: not an AG News row (class 1-4, title, description)")
        if row[0] == AG_NEWS_BUSINESS and positive != DEFAULT_DOMAIN:
            continue
        label = positive if row[0] == AG_NEWS_BUSINESS else "general"
        docs.append(LabelledDoc(f"ag_news:{lineno}", ag_news_text(row[1], row[2]), "ag_news", label))
    return docs


def read_phrasebank(path: str) -> list[LabelledDoc]:
    """Financial PhraseBank (``label,news`` with a header, or ``label,news`` rows without): all financial."""
    rows = _open_csv(path)
    if rows and [c.lower() for c in rows[0]] == ["label", "news"]:
        rows = rows[1:]
    docs = []
    for lineno, row in enumerate(rows, 2):
        if len(row) != 2:
            raise ConfigError(f"{path}:{lineno}: not a PhraseBank row (label, sentence)")
        docs.append(LabelledDoc(f"phrasebank:{lineno}", row[1], "phrasebank", DEFAULT_DOMAIN))
    return docs


def read_lines(spec: str, positive: str = DEFAULT_DOMAIN) -> list[LabelledDoc]:
    """``LABEL=FILE``: one document per non-empty line, all labelled LABEL (the profile's domain or general)."""
    label, sep, path = spec.partition("=")
    if not sep or label not in (positive, "general"):
        raise ConfigError(f"--lines wants LABEL=FILE with LABEL one of {[positive, 'general']}, got {spec!r}")
    if not os.path.isfile(path):
        raise ConfigError(f"file not found: {path}")
    name = os.path.basename(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        return [
            LabelledDoc(f"{name}:{i}", line.strip(), name, label)
            for i, line in enumerate(f, 1)
            if line.strip()
        ]


def held_out_rank(doc_id: str, seed: int) -> float:
    """A document's place in [0, 1) from ``sha1(seed:id)``: it is held out when below the hold-out fraction."""
    return int(hashlib.sha1(f"{seed}:{doc_id}".encode()).hexdigest()[:12], 16) / 16**12


def split(docs: list[LabelledDoc], holdout: float, seed: int) -> tuple[list[LabelledDoc], list[LabelledDoc]]:
    """(train, held-out): a document is held out when ``held_out_rank(id) < holdout``, so its side never
    depends on what else is in the data (a benchmark can rebuild the held-out part of one file alone). Each
    label with two or more documents keeps at least one on each side (its lowest / highest rank)."""
    train, held = [], []
    for label in sorted({d.label for d in docs}):
        group = sorted((d for d in docs if d.label == label), key=lambda d: (held_out_rank(d.id, seed), d.id))
        n_held = sum(held_out_rank(d.id, seed) < holdout for d in group)
        if holdout > 0 and len(group) >= 2:
            n_held = min(max(n_held, 1), len(group) - 1)
        held += group[:n_held]
        train += group[n_held:]
    return train, held


def chunks(text: str) -> list[str]:
    """Up to MAX_CHUNKS lines of CHUNK_WORDS normalised words each."""
    words = normalise(text, CHUNK_WORDS * MAX_CHUNKS).split()
    return [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)]


def training_lines(
    docs: list[LabelledDoc], seed: int | None = None, positive: str = DEFAULT_DOMAIN
) -> list[str]:
    """fastText lines ``__label__x words...``, the smaller label repeated until the labels balance; shuffled with
    ``seed`` (None: label blocks in order)."""
    by_label: dict[str, list[str]] = {label: [] for label in (positive, "general")}
    for d in docs:
        by_label[d.label] += [f"__label__{d.label} {c}" for c in chunks(d.text)]
    target = max(len(v) for v in by_label.values())
    lines = []
    for examples in by_label.values():
        if examples:
            lines += [examples[i % len(examples)] for i in range(target)]
    if seed is not None:
        random.Random(seed).shuffle(lines)
    return lines


def write_init_vectors(train_file: str, path: str, dim: int, seed: int) -> int:
    """A ``.vec`` file with a seeded uniform(-1/dim, 1/dim) vector (fastText's own init range) for every word of
    ``train_file`` and for ``</s>``: fastText then starts from these instead of uninitialised memory."""
    import numpy as np

    words: set[str] = set()
    with open(train_file, encoding="utf-8") as f:
        for line in f:
            words.update(w for w in line.split() if not w.startswith("__label__"))
    vocab = [*sorted(words), "</s>"]
    vectors = np.random.default_rng(seed).uniform(-1.0 / dim, 1.0 / dim, size=(len(vocab), dim))
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(vocab)} {dim}\n")
        for word, vec in zip(vocab, vectors, strict=True):
            f.write(word + " " + " ".join(f"{x:.6f}" for x in vec) + "\n")
    return len(vocab)


def fit(train_file: str, params: TrainParams) -> Any:
    """Train on the fastText file ``train_file`` (one thread, seeded init: deterministic)."""
    import fasttext

    fd, vec_path = tempfile.mkstemp(suffix=".vec", prefix="domain-init-")
    os.close(fd)
    try:
        write_init_vectors(train_file, vec_path, params.dim, params.seed)
        try:
            return fasttext.train_supervised(
                input=train_file,
                dim=params.dim,
                epoch=params.epoch,
                lr=params.lr,
                wordNgrams=1,  # every input row then comes from the init file (no hashed buckets)
                minCount=params.min_count,
                # one-vs-all (a sigmoid per label) gives P(financial) directly, whatever the other label says.
                loss="ova",
                thread=1,
                seed=params.seed,
                pretrainedVectors=vec_path,
                verbose=0,
            )
        except RuntimeError as exc:  # fastText's only signal of a failed run ("Encountered NaN.")
            raise ConfigError(f"fastText training failed ({exc}): use more data or a lower --lr") from exc
    finally:
        os.unlink(vec_path)


def train(docs: list[LabelledDoc], out: str, params: TrainParams, positive: str = DEFAULT_DOMAIN) -> int:
    """Train on ``docs`` and save the model to ``out`` (quantised when it ends in .ftz); returns the line count."""
    labels = {d.label for d in docs}
    if labels != {positive, "general"}:
        raise ConfigError(
            f"training needs documents of both labels, got only {sorted(labels) or 'none'}: "
            f"add {positive} and general sources (runs, --ag_news, --phrasebank, --lines)"
        )
    lines = training_lines(docs, params.seed, positive)
    fd, path = tempfile.mkstemp(suffix=".txt", prefix="domain-train-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        model = fit(path, params)
        # fastText cannot quantise fewer than 256 input rows (a toy vocabulary): such a model is saved as is.
        if out.endswith(".ftz") and len(model.words) >= MIN_QUANTISE_ROWS:
            model.quantize(input=path, qnorm=True, retrain=False, dsub=2, cutoff=params.cutoff)
    finally:
        os.unlink(path)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    model.save_model(out)
    return len(lines)


def figures_at(
    scores: list[float], docs: list[LabelledDoc], threshold: float, positive: str = DEFAULT_DOMAIN
) -> Figures:
    """Precision/recall/F1 of the positive class (the profile's domain) for given scores at ``threshold``."""
    tp = fp = fn = tn = 0
    per_source: dict[str, list[int]] = {}
    for d, s in zip(docs, scores, strict=True):
        predicted = positive if s >= threshold else "general"
        tp += predicted == positive and d.label == positive
        fp += predicted == positive and d.label == "general"
        fn += predicted == "general" and d.label == positive
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


def evaluate(
    model_path: str, docs: list[LabelledDoc], threshold: float, positive: str = DEFAULT_DOMAIN
) -> Figures:
    """Precision/recall/F1 of the positive class on ``docs``, scored as the pipeline scores them."""
    scores = DomainClassifier(model_path, label=positive).score_many([d.text for d in docs])
    return figures_at(scores, docs, threshold, positive)


def _is_quantised(path: str, positive: str = DEFAULT_DOMAIN) -> bool:
    return bool(DomainClassifier(path, label=positive)._model.is_quantized())


def _figures_row(name: str, f: Figures) -> str:
    return (
        f"| {name} | {f.precision:.3f} | {f.recall:.3f} | {f.f1:.3f} | {f.accuracy:.3f} | "
        f"{f.tp} | {f.fp} | {f.fn} | {f.tn} |"
    )


def model_card(
    *,
    out: str,
    command: str,
    inputs: list[str],
    train_docs: list[LabelledDoc],
    held_docs: list[LabelledDoc],
    skipped: Counter,
    params: TrainParams,
    holdout: float,
    n_lines: int,
    evaluation: dict[str, Any],
    profile: dict[str, Any] | None = None,
) -> str:
    """The model card (markdown): data, parameters, figures. No date, so a rerun writes the same card."""
    profile = profile or FINANCE
    positive = profile["domain"]

    def counts(docs: list[LabelledDoc]) -> Counter:
        return Counter((d.label, d.source) for d in docs)

    tr, he = counts(train_docs), counts(held_docs)
    lines = [
        f"# Domain classifier `{os.path.basename(out)}`",
        "",
        *(
            [
                "fastText supervised classifier, `__label__financial` vs `__label__general`, used by the ClassifyDomain",
                "stage to pick financially relevant documents out of general sources (FinPile's *Web* category).",
            ]
            if positive == DEFAULT_DOMAIN
            else [
                f"fastText supervised classifier, `__label__{positive}` vs `__label__general` (profile "
                f"`{profile['name']}`), used by",
                f"the ClassifyDomain stage to pick {positive} documents out of general sources.",
            ]
        ),
        f"Size: {os.path.getsize(out):,} bytes.",
        "",
        "Built with:",
        "",
        "```sh",
        command,
        "```",
        "",
        "## Data",
        "",
        "Inputs: " + ", ".join(f"`{i}`" for i in inputs),
        "",
        *(
            [
                "Labels: runs by source (financial = filings, press, news, social from finance subreddits/tweets; general",
                "= wikipedia, web, c4); AG News Business = financial, World/Sports/Sci-Tech = general; PhraseBank =",
            ]
            if positive == DEFAULT_DOMAIN
            else [
                f"Labels: runs by source ({positive} = {', '.join(profile['domain_sources'])}; general = wikipedia, web, "
                "c4); AG News World/Sports/Sci-Tech = general (Business left out); `--lines` files as labelled.",
            ]
        ),
        f"{DEFAULT_DOMAIN + '. ' if positive == DEFAULT_DOMAIN else ''}Held-out: documents whose `sha1(seed:id)` falls below "
        f"{holdout:.0%} (seed {params.seed}).",
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
    lines += [
        "",
        f"Training examples: chunks of {CHUNK_WORDS} normalised words, at most {MAX_CHUNKS} per document, "
        f"the smaller label repeated to balance, shuffled with the seed: {n_lines} lines.",
        "",
        "## Parameters",
        "",
        "| parameter | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in asdict(params).items()]
    lines += [
        "| loss | ova (one-vs-all) |",
        "| word n-grams | 1 (every input row from the seeded init file) |",
        "| threads | 1 |",
        f"| quantised | {'yes (qnorm, dsub=2, cutoff)' if _is_quantised(out, positive) else 'no'} |",
        f"| words scored per document | first {MAX_WORDS} (normalised) |",
        "",
        f"## Held-out figures at threshold {params.threshold} ({positive} = positive class)",
        "",
        "| documents | precision | recall | F1 | accuracy | TP | FP | FN | TN |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        _figures_row(f"all held-out ({len(held_docs)})", evaluation["all"]),
        _figures_row(f"full-length, >= {LONG_DOC_WORDS} words ({evaluation['n_long']})", evaluation["long"]),
        _figures_row(f"short, < {LONG_DOC_WORDS} words ({evaluation['n_short']})", evaluation["short"]),
        "",
        "Correct per source (held-out): "
        + ", ".join(f"{s} {v}" for s, v in evaluation["all"].by_source.items()),
        "",
        "Threshold sweep (all held-out documents):",
        "",
        "| threshold | precision | recall | F1 | accuracy | TP | FP | FN | TN |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_figures_row(str(t), f) for t, f in evaluation["sweep"].items()]
    lines.append("")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline train-domain-classifier",
        description="Train the domain-vs-general fastText classifier of a profile (finance: financial vs general; "
        "medical: medical vs general) from built runs and labelled files; print held-out precision/recall/F1; "
        "write the model and a model card (<out>.md).",
    )
    parser.add_argument(
        "--profile",
        default="finance",
        help="whose classifier: the profile's domain is the positive label, its domain sources label run rows "
        "(default finance)",
    )
    parser.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", help="folder(s) of finished runs")
    parser.add_argument(
        "--ag_news", action="append", default=[], metavar="CSV", help="AG News CSV (repeatable)"
    )
    parser.add_argument(
        "--phrasebank",
        action="append",
        default=[],
        metavar="CSV",
        help="Financial PhraseBank CSV (repeatable)",
    )
    parser.add_argument(
        "--lines",
        action="append",
        default=[],
        metavar="LABEL=FILE",
        help="one document per line (repeatable)",
    )
    parser.add_argument("--out", default=None, help=f"model file (.ftz: quantised; default ./{DEFAULT_OUT})")
    parser.add_argument("--holdout", type=float, default=0.2, help="held-out fraction per label (0..0.9)")
    parser.add_argument(
        "--seed", type=int, default=TrainParams.seed, help="seed of the split, init and order"
    )
    parser.add_argument("--dim", type=int, default=TrainParams.dim)
    parser.add_argument("--epoch", type=int, default=TrainParams.epoch)
    parser.add_argument("--lr", type=float, default=TrainParams.lr)
    parser.add_argument("--min_count", type=int, default=TrainParams.min_count)
    parser.add_argument("--cutoff", type=int, default=TrainParams.cutoff, help="words kept when quantising")
    parser.add_argument("--threshold", type=float, default=TrainParams.threshold)
    return parser


def load_inputs(
    run_dirs: list[str],
    ag_news: list[str],
    phrasebank: list[str],
    lines: list[str],
    profile: dict[str, Any] | None = None,
) -> tuple[list[LabelledDoc], Counter]:
    """Every labelled document of the given inputs, and the run rows skipped for want of a label."""
    profile = profile or FINANCE
    positive = profile["domain"]
    if phrasebank and positive != DEFAULT_DOMAIN:
        raise ConfigError(f"--phrasebank is financial text: it has no label in the {profile['name']} profile")
    docs: list[LabelledDoc] = []
    skipped: Counter = Counter()
    for run_dir in run_dirs:
        got, skip = read_run(run_dir, profile)
        docs += got
        skipped += skip
    for path in ag_news:
        docs += read_ag_news(path, positive)
    for path in phrasebank:
        docs += read_phrasebank(path)
    for spec in lines:
        docs += read_lines(spec, positive)
    if not docs:
        raise ConfigError("no training data: give RUN_DIRs and/or --ag_news / --phrasebank / --lines files")
    return docs, skipped


def evaluate_held_out(
    out: str, held: list[LabelledDoc], threshold: float, positive: str = DEFAULT_DOMAIN
) -> dict[str, Any]:
    """Figures on all held-out documents, on the full-length and the short ones, and a threshold sweep."""
    scores = DomainClassifier(out, label=positive).score_many([d.text for d in held])
    long_idx = [
        i for i, d in enumerate(held) if len(normalise(d.text, LONG_DOC_WORDS).split()) >= LONG_DOC_WORDS
    ]
    long_set = set(long_idx)
    short_idx = [i for i in range(len(held)) if i not in long_set]

    def subset(idx: list[int]) -> Figures:
        return figures_at([scores[i] for i in idx], [held[i] for i in idx], threshold, positive)

    return {
        "all": figures_at(scores, held, threshold, positive),
        "long": subset(long_idx),
        "short": subset(short_idx),
        "n_long": len(long_idx),
        "n_short": len(short_idx),
        "sweep": {t: figures_at(scores, held, t, positive) for t in SWEEP},
    }


def train_from_inputs(
    run_dirs: list[str],
    out: str | None = None,
    holdout: float = 0.2,
    params: TrainParams | None = None,
    *,
    ag_news: list[str] | None = None,
    phrasebank: list[str] | None = None,
    lines: list[str] | None = None,
    command: str = "",
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Read, split, train, evaluate, write model + card. Returns the figures and counts (also for tests).
    ``profile`` (default finance) names the positive label and which run sources carry it."""
    params = params or TrainParams()
    profile = profile or FINANCE
    positive = profile["domain"]
    out = out or DEFAULT_OUT
    if not 0 <= holdout < 0.9:
        raise ConfigError(f"--holdout must be in [0, 0.9), got {holdout}")
    docs, skipped = load_inputs(run_dirs, ag_news or [], phrasebank or [], lines or [], profile)
    train_docs, held_docs = split(docs, holdout, params.seed)
    n_lines = train(train_docs, out, params, positive)
    evaluation = evaluate_held_out(out, held_docs, params.threshold, positive)
    card_path = os.path.splitext(out)[0] + ".md"
    card = model_card(
        out=out,
        command=command or "python -m pipeline train-domain-classifier " + " ".join(run_dirs),
        inputs=[*run_dirs, *(ag_news or []), *(phrasebank or []), *(lines or [])],
        train_docs=train_docs,
        held_docs=held_docs,
        skipped=skipped,
        params=params,
        holdout=holdout,
        n_lines=n_lines,
        evaluation=evaluation,
        profile=profile,
    )
    with open(card_path, "w", encoding="utf-8") as f:
        f.write(card)
    return {
        "model": out,
        "card": card_path,
        "train_docs": len(train_docs),
        "held_out_docs": len(held_docs),
        "figures": asdict(evaluation["all"]),
        "figures_long": asdict(evaluation["long"]),
        "positive": positive,
    }


def cmd_train_domain(argv: list[str]) -> int:
    """CLI entry point: train, print the held-out figures, write model and card, say where."""
    args = _parser().parse_args(argv)
    params = TrainParams(
        dim=args.dim,
        epoch=args.epoch,
        lr=args.lr,
        min_count=args.min_count,
        cutoff=args.cutoff,
        seed=args.seed,
        threshold=args.threshold,
    )
    command = "python -m pipeline train-domain-classifier " + " ".join(argv)
    result = train_from_inputs(
        args.run_dirs,
        args.out,
        args.holdout,
        params,
        ag_news=args.ag_news,
        phrasebank=args.phrasebank,
        lines=args.lines,
        command=command,
        profile=load_profile(args.profile),
    )
    for name, key in (("held-out", "figures"), (f"held-out >= {LONG_DOC_WORDS} words", "figures_long")):
        fig = result[key]
        n = fig["tp"] + fig["fp"] + fig["fn"] + fig["tn"]
        print(
            f"{name} ({n} docs, {result['positive']} = positive): precision {fig['precision']:.3f}  "
            f"recall {fig['recall']:.3f}  F1 {fig['f1']:.3f}  accuracy {fig['accuracy']:.3f}  "
            f"(TP {fig['tp']} FP {fig['fp']} FN {fig['fn']} TN {fig['tn']})"
        )
    model = os.path.abspath(result["model"])
    print(
        f"model written to {model} ({os.path.getsize(model):,} bytes); card: {os.path.abspath(result['card'])}"
    )
    return 0
