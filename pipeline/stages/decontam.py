"""Decontaminate: drop (or flag) documents that share an n-gram with an evaluation item. On by default.

Config (``decontam:``)::

    decontam:
      sets: [phrasebank, fiqa_sentiment, ...]  # standard sets, read from the fetch cache (the finance list
                                               # by default; see sources/evalsets.py)
      cache_dir: null                 # default $FINPILE_CACHE_DIR, else ~/.cache/finpile
      eval_sets:                      # more files: CSV/TSV (column) or JSONL (key)
        - {name: my_fpb, path: data/fpb.csv, field: news, label_field: label, like: phrasebank}
      ngram: 13                       # GPT-3's 13-gram overlap test (Brown et al. 2020, appendix C)
      min_words: 8                    # shorter items: whole-document match only (filters/decontam.py)
      mode: drop                      # drop: reject as decontam:<set>; flag: keep, metadata["contaminated"]

Standard sets that are in the cache are used; the missing ones are named in one warning line when the pipeline
is built (with the ``fetch evalsets`` command that gets them) and in the manifest's ``decontam.missing``, so
a run without them is never silently undecontaminated. ``label_field`` and ``like`` (a standard set whose
label mapping the file follows) matter only to ``export sft``.

The index (``filters.decontam.DecontamIndex``: hashed n-grams and set masks, no texts) is built once per run,
on the machine that builds the pipeline, and reaches the workers as a Beam side input (about 16 MB per million
n-grams; the finance list is well under a million). Counters: ``decontam:hits:<set>`` per matching document.
With ``mode: drop`` a document is rejected for the set with most hits (ties: by name), reason
``decontam:<set>``; every matching set is listed in ``metadata["contaminated"]``. Per set the manifest reports
documents *dropped* (rejected for that set) and *flagged* (matched it but kept, in flag mode, or rejected for
another set).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from core.errors import ConfigError
from core.schema import Document, Rejected
from filters.decontam import DEFAULT_NGRAM, MIN_WORDS, DecontamIndex, EvalSet
from pipeline.config import DecontamSettings
from pipeline.stages.base import ERRORS, REJECTED, DocumentStage, counter

STAGE = "decontam"
MODES = ("drop", "flag")
KEY = "decontam"  # first element of the per-set count keys (run.py)

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSetSpec:
    """An evaluation file named in ``decontam.eval_sets``."""

    name: str
    path: str
    field: str
    label_field: str = ""
    like: str = ""  # a standard set whose label mapping this file follows (export sft)


@dataclass(frozen=True)
class DecontamConfig:
    """The ``decontam:`` config section, validated."""

    eval_sets: tuple[EvalSetSpec, ...] = ()
    sets: tuple[str, ...] = ()
    cache_dir: str = ""
    ngram: int = DEFAULT_NGRAM
    mode: str = "drop"
    min_words: int = MIN_WORDS

    @classmethod
    def from_settings(cls, settings: DecontamSettings | dict[str, Any] | None) -> DecontamConfig:
        """From the typed ``decontam`` section (a plain mapping is validated by the config schema first)."""
        from sources.evalsets import check_names

        settings = DecontamSettings.of(settings).model_dump()
        mode = settings.get("mode", "drop")
        if mode not in MODES:
            raise ConfigError(f"decontam.mode must be one of {', '.join(MODES)}, got {mode!r}")
        ngram = settings.get("ngram", DEFAULT_NGRAM)
        min_words = settings.get("min_words", MIN_WORDS)
        for key, value in (("ngram", ngram), ("min_words", min_words)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"decontam.{key} must be a positive integer, got {value!r}")
        sets = settings.get("sets") or []
        if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
            raise ConfigError(
                "decontam.sets must be a list of evaluation set names (see fetch evalsets --help)"
            )
        check_names(sets, "decontam.sets")
        cache_dir = settings.get("cache_dir") or ""
        if not isinstance(cache_dir, str):
            raise ConfigError(f"decontam.cache_dir must be a path, got {cache_dir!r}")
        specs = []
        for i, entry in enumerate(settings.get("eval_sets") or []):
            if not isinstance(entry, dict) or not entry.get("name") or not entry.get("path"):
                raise ConfigError(
                    f"decontam.eval_sets[{i}] needs name and path (and field: the text column/key)"
                )
            like = str(entry.get("like") or "")
            if like:
                check_names([like], f"decontam.eval_sets[{i}].like")
            specs.append(
                EvalSetSpec(
                    str(entry["name"]),
                    str(entry["path"]),
                    str(entry.get("field", "text")),
                    str(entry.get("label_field") or ""),
                    like,
                )
            )
        names = [s.name for s in specs] + list(sets)
        if len(set(names)) != len(names):
            raise ConfigError(
                f"decontam: set names must be unique across sets and eval_sets, got {names} "
                "(rename the eval_sets entry or drop the name from decontam.sets)"
            )
        return cls(
            eval_sets=tuple(specs),
            sets=tuple(sets),
            cache_dir=cache_dir,
            ngram=ngram,
            mode=mode,
            min_words=min_words,
        )

    @property
    def resolved_cache_dir(self) -> str:
        from sources.evalsets import default_cache_dir

        return os.path.expanduser(self.cache_dir) if self.cache_dir else default_cache_dir()

    def check_files(self) -> None:
        """Fail at once, with one clear line, on an evaluation file that is not there."""
        from apache_beam.io.filesystems import FileSystems

        for spec in self.eval_sets:
            if not FileSystems.exists(spec.path):
                raise ConfigError(
                    f"decontam.eval_sets {spec.name}: file not found: {spec.path} (fix the path or remove the entry)"
                )

    def fetch_command(self, names: list[str]) -> str:
        cmd = "python -m pipeline fetch evalsets " + " ".join(names)
        return cmd + (f" --cache_dir {self.cache_dir}" if self.cache_dir else "")

    def resolve(self) -> tuple[list[EvalSet], dict[str, Any]]:
        """The evaluation sets to use and the manifest's ``decontam`` section (counts filled in later)."""
        from sources.evalsets import REGISTRY, cached_names, load_cached

        self.check_files()
        cache_dir = self.resolved_cache_dir
        present, missing = cached_names(cache_dir, self.sets)
        eval_sets: list[EvalSet] = []
        rows: list[dict[str, Any]] = []
        for name in present:
            items, entry = load_cached(cache_dir, name)
            eval_sets.append(EvalSet(name, [i.text for i in items], path=entry["file"]))
            rows.append(
                {
                    "name": name,
                    "title": entry["title"],
                    "status": "used",
                    "source_url": entry["source_url"],
                    "licence": entry["licence"],
                    "split": entry["split"],
                    "rows": entry["rows"],
                    "sha256": entry["sha256"],
                }
            )
        for spec in self.eval_sets:
            try:
                es = EvalSet.load(spec.name, spec.path, spec.field)
            except ValueError as exc:
                raise ConfigError(f"decontam.eval_sets {spec.name}: {exc}") from None
            eval_sets.append(es)
            like = REGISTRY.get(spec.like)
            rows.append(
                {
                    "name": spec.name,
                    "title": like.title if like else spec.name,
                    "status": "used",
                    "path": spec.path,
                    "licence": like.licence if like else "",
                    "rows": len(es.texts),
                }
            )
        for name in missing:
            src = REGISTRY[name]
            rows.append(
                {
                    "name": name,
                    "title": src.title,
                    "status": "missing",
                    "source_url": src.url,
                    "licence": src.licence,
                }
            )
        section = {
            "mode": self.mode,
            "cache_dir": cache_dir,
            "sets": rows,
            "missing": missing,
            "fetch_command": self.fetch_command(missing) if missing else "",
        }
        return eval_sets, section


def decontam_decision(doc: Document, hits: dict[str, int], mode: str) -> Document | Rejected:
    """Flag the document with the matching sets; in drop mode reject it for the set with most hits."""
    if not hits:
        return doc
    doc.metadata["contaminated"] = ",".join(sorted(hits))
    if mode == "flag":
        return doc
    worst = min(hits, key=lambda name: (-hits[name], name))
    return Rejected(stage=STAGE, reason=f"decontam:{worst}", document=doc)


def count_keys(item: Document | Rejected) -> list[tuple[str, str, str]]:
    """``(KEY, set, dropped|flagged)`` for a document leaving the stage (nothing for a clean one)."""
    doc = item.document if isinstance(item, Rejected) else item
    names = [n for n in (doc.metadata.get("contaminated") or "").split(",") if n]
    dropped = ""
    if isinstance(item, Rejected) and item.stage == STAGE:
        dropped = item.reason.split(":", 1)[1]
    return [(KEY, name, "dropped" if name == dropped else "flagged") for name in names]


def per_set_counts(rows: list[tuple[tuple, int]]) -> dict[str, dict[str, int]]:
    """``{set: {"dropped": n, "flagged": m}}`` from the counted keys."""
    out: dict[str, dict[str, int]] = {}
    for key, n in rows:
        if key[0] == KEY:
            entry = out.setdefault(key[1], {"dropped": 0, "flagged": 0})
            entry[key[2]] += n
    return out


def finish_section(section: dict[str, Any], counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The manifest's ``decontam`` section with per-set counts and report lines."""
    lines = []
    for row in section.get("sets", []):
        c = counts.get(row["name"], {"dropped": 0, "flagged": 0})
        if row["status"] == "used":
            row.update(c)
            lines.append(f"{row['title']}: {c['dropped']} documents dropped, {c['flagged']} flagged")
    if section.get("missing"):
        lines.append(
            f"not checked (not in the cache): {', '.join(section['missing'])}; fetch: {section['fetch_command']}"
        )
    section["totals"] = {
        "dropped": sum(c["dropped"] for c in counts.values()),
        "flagged": sum(c["flagged"] for c in counts.values()),
    }
    section["lines"] = lines
    return section


class _DecontaminateFn(DocumentStage):
    stage = STAGE

    def __init__(self, mode: str):
        self._mode = mode
        self._index: DecontamIndex | None = None

    def process(self, doc: Document, index: DecontamIndex):  # type: ignore[override]
        self._index = index  # the side input: one deserialised copy per worker, reused across bundles
        yield from super().process(doc)

    def handle(self, doc: Document) -> Document | Rejected:
        assert self._index is not None
        hits = self._index.check(doc.text)
        for name in hits:
            counter(f"{STAGE}:hits:{name}").inc()
        return decontam_decision(doc, hits, self._mode)


class Decontaminate(beam.PTransform):
    """Drop (or flag) documents sharing an n-gram with an evaluation set (main, rejected, errors).

    The index is built here, once, from the cached standard sets and the configured files; ``report`` is
    the manifest's ``decontam`` section before counting. With no set available the stage passes through.
    """

    def __init__(self, settings: DecontamSettings | dict[str, Any] | None = None, warn: bool = True):
        super().__init__()
        self.config = DecontamConfig.from_settings(settings)
        eval_sets, section = self.config.resolve()
        if warn and section["missing"]:
            _LOG.warning(
                "decontam: %d evaluation set(s) not in the cache %s, documents are NOT checked against them: "
                "%s; fetch them with: %s",
                len(section["missing"]),
                section["cache_dir"],
                ", ".join(section["missing"]),
                section["fetch_command"],
            )
        try:
            index = DecontamIndex.build(eval_sets, n=self.config.ngram, min_words=self.config.min_words)
        except ValueError as exc:
            raise ConfigError(f"decontam: {exc}") from None
        for row in section["sets"]:
            if row["status"] == "used":
                row["items_indexed"] = index.items.get(row["name"], 0)
                row["whole_doc_only"] = index.whole_doc_only.get(row["name"], 0)
        section["index"] = index.describe()
        self.index = index
        self.report = section

    def expand(self, docs):
        index = docs.pipeline | "DecontamIndex" >> beam.Create([self.index])
        outputs = docs | "CheckEvalOverlap" >> beam.ParDo(
            _DecontaminateFn(self.config.mode), index=pvalue.AsSingleton(index)
        ).with_outputs(REJECTED, ERRORS, main="kept")
        return outputs.kept, outputs[REJECTED], outputs[ERRORS]
