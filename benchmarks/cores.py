#!/usr/bin/env python
"""CPU of the per-document cores (issue 21), outside Beam, and a digest of everything they produce.

    .venv/bin/python benchmarks/cores.py                         # the 2k corpus of benchmarks/scale.py
    .venv/bin/python benchmarks/cores.py --digest /tmp/a.json    # per-document outputs, to compare two trees
    .venv/bin/python benchmarks/cores.py --compare /tmp/a.json /tmp/b.json

The records of a ``benchmarks/scale.py`` corpus (generated there, once) are read with the run's readers and
pushed through the pure cores in the pipeline's order: extract, language, quality (score and decide), PII,
boilerplate paragraph keys (computed once per document, as ``SpillDocsFn`` does; the key set counted over the
corpus, then removed by looking up each document's keys, as ``KeysFn`` does), and the keys phase (exact key,
shingles, MinHash signature and band keys, domain score, token count). Decontamination is left out (it checks
nothing until evaluation sets are fetched). Each core's CPU seconds (``time.process_time``, this process, one
core) are printed; ``--repeat N`` runs the whole chain N times in one process and reports the fastest pass of
each core (the first pass also fills the per-process caches, e.g. spaCy's chunk tokens). The code measured is
the tree on ``PYTHONPATH`` (printed).

``--digest`` writes, per document, a SHA-1 of every output (text after each stage, language result, quality
signals and decision, PII counts, paragraph keys, exact key, shingle hashes, signature, band keys, domain
score, token count): two trees produce equal digests when their cores give the same output on this corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STAGES = (
    "read",
    "extract",
    "language",
    "quality",
    "pii",
    "bp_keys",
    "bp_strip",
    "dedup_keys",
    "domain",
    "tokens",
)


def _h(*parts: Any) -> str:
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def load_records(corpus: Path) -> tuple[Any, list[Any], float]:
    """The corpus config and its raw records (with the run's readers), and the CPU seconds reading took."""
    from core.schema import RawRecord
    from pipeline.options import FinPileOptions
    from pipeline.run import make_plan
    from pipeline.stages.read import read_file

    opts = FinPileOptions(["--config", str(corpus / "finpile.yaml")])
    plan = make_plan(opts, [])
    records = []
    start = time.process_time()
    for f in plan.files:
        for item in read_file(f):
            if isinstance(item, RawRecord):
                item.input = f.input_name
                records.append(item)
    return plan.config, records, time.process_time() - start


def run_chain(cfg: Any, records: list[Any]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """One pass of the cores over ``records``: CPU seconds per core, digest lines per document id."""
    import copy

    from core.schema import Rejected
    from filters.boilerplate import int_keys, line_key_array
    from filters.dedup import band_keys, exact_key, normalize_for_exact, shingles, signature
    from filters.domain import DomainClassifier
    from filters.pii import PiiRedactor
    from filters.quality import QualityScorer
    from pipeline.stages.boilerplate import strip_carried
    from pipeline.stages.domain import DomainConfig, n_words, needs_score
    from pipeline.stages.extract import extract_outcome
    from pipeline.stages.language import LanguageConfig, identify_language
    from pipeline.stages.mix import add_token_count
    from pipeline.stages.pii import redact_document
    from pipeline.stages.quality import quality_config

    cpu: dict[str, float] = defaultdict(float)
    digest: dict[str, list[str]] = defaultdict(list)
    clock = time.process_time

    lang_cfg = LanguageConfig.from_settings(cfg.language)
    lid = lang_cfg.identifier()
    lid.setup()
    scorer = QualityScorer(quality_config(cfg.quality))
    scorer.setup()
    redactor = PiiRedactor(cfg.pii.policy())
    bp = cfg.boilerplate.config()
    domain_cfg = DomainConfig.from_settings(cfg.domain, cfg.profile.domain)
    classifier = DomainClassifier(domain_cfg.model_path, label=domain_cfg.label)
    classifier.setup()
    domain_sources = frozenset(domain_cfg.sources)
    minhash = cfg.dedup.minhash()
    options = {spec.name: spec.reader_options() for spec in cfg.inputs}

    docs = []
    for raw in records:
        raw = copy.deepcopy(raw)
        t = clock()
        parts, rejected, err = extract_outcome(raw, cfg.source_domains, options.get(raw.input, {}))
        cpu["extract"] += clock() - t
        cpu[f"extract:{raw.content_type}"] += clock() - t
        key = f"{raw.source}:{raw.id}"
        if err is not None:
            digest[key].append(_h("error", err.kind, err.message))
            continue
        if rejected is not None:
            digest[key].append(_h("rejected", rejected.reason, rejected.document.text))
            continue
        for doc in parts:
            digest[doc.id].append(_h("extract", doc.text, doc.title, doc.metadata))
            t = clock()
            out = identify_language(lid, lang_cfg, doc)
            cpu["language"] += clock() - t
            digest[doc.id].append(_h("language", doc.lang, doc.lang_score, doc.metadata))
            if isinstance(out, Rejected):
                continue
            t = clock()
            doc = scorer.score(doc)
            keep, reason = scorer.decide(doc)
            cpu["quality"] += clock() - t
            digest[doc.id].append(
                _h("quality", doc.quality_signals, doc.quality_score, keep, reason, doc.text)
            )
            if not keep:
                continue
            t = clock()
            doc, found = redact_document(redactor, doc)
            cpu["pii"] += clock() - t
            digest[doc.id].append(_h("pii", found, doc.text))
            docs.append(doc)

    # As pipeline.flow: SpillDocsFn computes each in-scope document's paragraph keys once (carried with it),
    # KeysFn strips by looking them up.
    counts: Counter = Counter()
    carried: dict[int, Any] = {}
    for i, doc in enumerate(docs):
        if doc.source in bp.sources:
            t = clock()
            line_keys = line_key_array(doc.text, bp.min_chars)
            keys = [((doc.source, key), 1) for key in line_keys.distinct()]
            cpu["bp_keys"] += clock() - t
            carried[i] = line_keys
            digest[doc.id].append(_h("bp_keys", keys))
            counts.update(k for k, _ in keys)
    by_source: dict[str, set[str]] = defaultdict(set)
    for (source, key), n in counts.items():
        if n >= bp.min_docs:
            by_source[source].add(key)
    int_by_source = {source: int_keys(keys) for source, keys in by_source.items()}

    for i, doc in enumerate(docs):
        keys = int_by_source.get(doc.source) if doc.source in bp.sources else None
        if keys:
            t = clock()
            result = strip_carried(doc, carried[i], keys)
            cpu["bp_strip"] += clock() - t
            digest[doc.id].append(_h("bp_strip", isinstance(result, Rejected), doc.text))
            if isinstance(result, Rejected):
                continue
        t = clock()
        norm = normalize_for_exact(doc.text)
        ekey = exact_key(doc.text, normalized=norm)
        hashes = shingles(doc.text, minhash, normalized=norm)
        bands = band_keys(signature(hashes, minhash), minhash)
        cpu["dedup_keys"] += clock() - t
        digest[doc.id].append(_h("dedup", ekey, hashes.tobytes(), bands))
        if needs_score(doc, domain_sources):
            t = clock()
            score = classifier.score(doc.text)
            short = n_words(doc.text, domain_cfg.min_words)
            cpu["domain"] += clock() - t
            digest[doc.id].append(_h("domain", score, short))
        t = clock()
        add_token_count(doc)
        cpu["tokens"] += clock() - t
        digest[doc.id].append(_h("tokens", doc.n_tokens))
    return cpu, digest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--corpus-root", type=Path, default=Path("/tmp/finpile-scale"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--digest", type=Path, help="write the per-document output digests here (JSON)")
    ap.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"), help="compare two digest files")
    args = ap.parse_args(argv)
    if args.compare:
        a, b = (json.loads(p.read_text()) for p in args.compare)
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        print(f"{len(a)} / {len(b)} documents, {len(differ)} differ" + (f": {differ[:10]}" if differ else ""))
        return 1 if differ else 0

    sys.path.insert(0, str(HERE))
    import scale

    import pipeline

    print(f"code: {Path(pipeline.__file__).parent.parent}", file=sys.stderr)
    corpus = scale.corpus_dir(args.corpus_root, args.docs, scale.DEFAULT_MIX, "many")
    cfg, records, read_s = load_records(corpus)
    best: dict[str, float] = {"read": read_s}
    digest: dict[str, list[str]] = {}
    for i in range(args.repeat):
        cpu, digest = run_chain(cfg, records)
        print(f"pass {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()), file=sys.stderr)
        for k, v in cpu.items():
            best[k] = min(best.get(k, v), v)
    print(f"| core | CPU s ({len(records):,} records, best of {args.repeat}) |\n|---|---:|")
    for k in sorted(best, key=lambda k: (STAGES.index(k.split(":")[0]), k)):
        print(f"| {k} | {best[k]:.2f} |")
    print(f"| total | {sum(v for k, v in best.items() if ':' not in k):.2f} |")
    if args.digest:
        args.digest.write_text(json.dumps({k: _h(*v) for k, v in sorted(digest.items())}, indent=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
