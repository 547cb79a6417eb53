#!/usr/bin/env python
"""FinPile benchmark: stage cores, the whole Beam pipeline, datatrove and the extraction-only ceiling.

    .venv/bin/python benchmarks/run.py --docs 1000 [--docs 10000 ...]   # figures -> benchmarks/results/<size>.{md,json}
    .venv/bin/python benchmarks/run.py --smoke                          # ~50 documents, every part, < 60 s (quick check)

For each size, on one generated corpus (``benchmarks/corpus.py``, cached under ``--corpus-root``), every part
runs in its own subprocess, one after the other, on one core:

- ``pure``: every stage's pure core, no Beam, in pipeline order: setup (models), read (the connectors),
  extract, language ID, quality, PII, decontamination, boilerplate, exact dedup, near dedup (signatures, band
  keys, union-find), domain, mix (token counts, weights), write (Parquet shards, rejected/ lines); each stage
  gets what the previous one kept;
- ``beam``: the whole pipeline, ``pipeline.run.run([...])`` on the DirectRunner (FnApiRunner, in_memory,
  1 worker) into a temp folder, stats report off (``--no_stats``);
- ``ceiling``: ``trafilatura.extract`` alone on every HTML document of the corpus (web, news and the filings'
  HTML), called as datatrove's extractor calls it (favor_precision, no comments) with ``deduplicate=False``;
  in the same process, the filings: our filings extractor vs trafilatura, filing by filing;
- ``datatrove``: datatrove 0.10.1's ``LocalPipelineExecutor`` (tasks=1, workers=1) over the same input:
  ``WarcReader`` on the same .warc.gz files, ``JsonlReader`` of the filings' primary documents (the raw HTML
  our EDGAR connector hands to extraction: datatrove has no EDGAR reader), ``Trafilatura(deduplicate=False,
  timeout=600)``, then ``JsonlReader`` of the social posts' text (as our connectors give it: no extraction on
  either side), ``LanguageFilter`` (lid.176.ftz from ``filters.language.default_model_path()``, see
  ``LocalFT176``), ``GopherRepetitionFilter``, ``GopherQualityFilter``, ``C4QualityFilter``,
  ``FineWebQualityFilter``, ``MinhashDedupSignature`` (16 x 8 = 128 hashes, 5-grams, like ours).

Times: CPU seconds of the subprocess and its reaped children (``os.wait4``), so "docs/s per core" is
documents / CPU-seconds (robust on a machine shared with other jobs); wall seconds are reported too. The same
work still costs a varying number of CPU seconds on a shared virtual machine (we saw +-10% between back-to-back
runs): ``--repeat N`` runs the parts N times, round-robin, and keeps each part's cheapest run (all CPU figures
are in the JSON, ``cpu_of_runs``).
Peak RSS: ``ru_maxrss`` of the subprocess (for datatrove, the largest of the worker and its extraction
subprocess). The JSON next to each table holds every number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_MIX = "web=0.5,filings=0.05,social=0.35,news=0.1"
PARTS = ("pure", "beam", "ceiling", "datatrove")
HTML_TYPES = ("html", "sgml")
TARGET_VS_DATATROVE = 2.0
TARGET_VS_CEILING = 0.8
TARGET_OVERHEAD = 0.25


# ================================================================================================
# helpers shared by the workers
# ================================================================================================


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def load_records(corpus: Path) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """(RawRecords, RecordErrors, info) read with the project's connectors, in config order."""
    from pipeline.config import load_config
    from pipeline.stages.read import list_input_files
    from sources import get_reader

    cfg = load_config(str(corpus / "finpile.yaml"))
    options = {spec.name: spec.reader_options() for spec in cfg.inputs}
    records, errors = [], []
    for f in list_input_files(cfg.inputs):
        with open(f.path, "rb") as stream:
            for item in get_reader(f.kind)(
                f.path, stream, {**dict(f.options), **options.get(f.input_name, {})}
            ):
                if type(item).__name__ == "RawRecord":
                    item.input = f.input_name
                    records.append(item)
                else:
                    errors.append(item)
    return records, errors, {"config": cfg, "options": options}


def _nbytes(content: Any) -> int:
    return len(content) if isinstance(content, bytes) else len(content.encode("utf-8"))


# ================================================================================================
# workers (run in a subprocess each)
# ================================================================================================


def worker_pure(corpus: Path) -> dict[str, Any]:
    """Every stage of the pipeline as its pure core, in pipeline order, no Beam.

    The same cores the Beam stages call, on the same documents; each stage gets what the previous one kept.
    The corpus-level stages run on one machine's dicts instead of shuffles: boilerplate (paragraph keys,
    document counts per key, removal), exact dedup (key, best document per key), near dedup (signature,
    band keys, union-find over the buckets, best document per component). ``setup`` is the models and
    tables every run loads once (Beam loads them in the DoFns' ``setup()``, inside its time).
    """
    import shutil
    from collections import Counter, defaultdict

    from core.schema import Rejected
    from filters.boilerplate import paragraph_keys
    from filters.dedup import band_keys, exact_key, normalize_for_exact, shingles, signature
    from filters.domain import DomainClassifier
    from filters.pii import PiiRedactor
    from filters.quality import QualityScorer
    from filters.tokens import count_tokens
    from pipeline.config import load_config
    from pipeline.stages.boilerplate import strip_document
    from pipeline.stages.decontam import DecontamConfig, Decontaminate, decontam_decision
    from pipeline.stages.dedup import minhash_config, rank, union_find_labels
    from pipeline.stages.domain import DomainConfig, classify
    from pipeline.stages.extract import extract, split_documents
    from pipeline.stages.language import LanguageConfig, identify_language
    from pipeline.stages.mix import add_token_count, assign_weight, compute_mixture, tokens_key
    from pipeline.stages.pii import redact_document
    from pipeline.stages.quality import quality_config
    from pipeline.stages.write import encode_shard, rejected_to_line, shard_bucket, write_bytes_atomically

    stages: list[dict[str, Any]] = []
    rejected: list[Any] = []

    def record(name: str, n: int, nbytes: int, start: tuple[float, float], kept: int) -> None:
        wall, cpu = _since(start)
        stages.append({"stage": name, "docs": n, "bytes": nbytes, "wall": wall, "cpu": cpu, "kept": kept})

    def text_bytes(docs: list[Any]) -> int:
        return sum(len(d.text.encode("utf-8")) for d in docs)

    cfg = load_config(str(corpus / "finpile.yaml"))
    start = _clock()
    language_cfg = LanguageConfig.from_settings(cfg.language)
    lid = language_cfg.identifier()
    lid.predict("warm up the model")
    scorer = QualityScorer(quality_config(cfg.quality))
    scorer.setup()
    redactor = PiiRedactor(cfg.pii.policy())
    decontam_cfg = DecontamConfig.from_settings(cfg.decontam)
    decontaminator = Decontaminate(cfg.decontam, warn=False).index  # the index the pipeline builds
    boilerplate_cfg = cfg.boilerplate.config()
    mh = minhash_config(cfg.dedup)
    exact_key("warm up")  # the punctuation table
    domain_cfg = DomainConfig.from_settings(cfg.domain)
    domain_classifier = DomainClassifier(domain_cfg.model_path, label=domain_cfg.label)
    domain_classifier.setup()
    count_tokens("warm up")
    priority = list(cfg.dedup.priority)
    record("setup", 0, 0, start, 0)

    start = _clock()
    records, read_errors, info = load_records(corpus)
    record(
        "read",
        len(records) + len(read_errors),
        sum(os.path.getsize(p) for p in _corpus_files(corpus)),
        start,
        len(records),
    )

    docs = []
    start = _clock()
    nbytes = 0
    extract_errors = 0
    for raw in records:
        nbytes += _nbytes(raw.content)
        try:
            result = extract(raw, cfg.source_domains, info["options"].get(raw.input, {}))
        except Exception:  # counted, like the pipeline's errors output
            extract_errors += 1
            continue
        if isinstance(result, Rejected):
            rejected.append(result)
        else:
            docs.extend(split_documents(result, info["options"].get(raw.input, {})))
    record("extract", len(records), nbytes, start, len(docs))

    def run_stage(name: str, docs: list[Any], handle: Any) -> list[Any]:
        kept = []
        nbytes = text_bytes(docs)
        start = _clock()
        for doc in docs:
            result = handle(doc)
            if isinstance(result, Rejected):
                rejected.append(result)
            else:
                kept.append(result)
        record(name, len(docs), nbytes, start, len(kept))
        return kept

    def language(doc: Any) -> Any:
        return identify_language(lid, language_cfg, doc)

    def quality(doc: Any) -> Any:
        keep, reason = scorer.decide(scorer.score(doc))
        return doc if keep else Rejected(stage="quality", reason=reason, document=doc)

    def pii(doc: Any) -> Any:
        redact_document(redactor, doc)
        return doc

    def decontam(doc: Any) -> Any:
        return decontam_decision(doc, decontaminator.check(doc.text), decontam_cfg.mode)

    docs = run_stage("language", docs, language)
    docs = run_stage("quality", docs, quality)
    docs = run_stage("pii", docs, pii)
    docs = run_stage("decontam", docs, decontam)

    # boilerplate: documents per (source, paragraph key); keys in >= min_docs documents leave every carrier
    nbytes, start = text_bytes(docs), _clock()
    in_scope = set(boilerplate_cfg.sources)
    keys_of = {
        d.id: {k for k, _ in paragraph_keys(d.text, boilerplate_cfg.min_chars)}
        for d in docs
        if d.source in in_scope
    }
    carriers = Counter((d.source, k) for d in docs if d.id in keys_of for k in keys_of[d.id])
    kept = []
    for doc in docs:
        remove = {k for k in keys_of.get(doc.id, ()) if carriers[(doc.source, k)] >= boilerplate_cfg.min_docs}
        result = strip_document(doc, remove, boilerplate_cfg.min_chars) if remove else doc
        (rejected if isinstance(result, Rejected) else kept).append(result)
    record("boilerplate", len(docs), nbytes, start, len(kept))
    docs = kept

    # exact dedup: the best-ranked document per normalised-text key
    nbytes, start = text_bytes(docs), _clock()
    best: dict[str, Any] = {}
    normalized = {}
    for doc in docs:
        normalized[doc.id] = norm = normalize_for_exact(doc.text)  # once for both halves, as in the pipeline
        key = exact_key(doc.text, normalized=norm)
        if key not in best or rank(doc, priority) < rank(best[key], priority):
            best[key] = doc
    kept_ids = {d.id for d in best.values()}
    kept = [d for d in docs if d.id in kept_ids]
    rejected.extend(
        Rejected(stage="exact_dedup", reason="exact_duplicate", document=d)
        for d in docs
        if d.id not in kept_ids
    )
    record("exact_dedup", len(docs), nbytes, start, len(kept))
    docs = kept

    # near dedup: band keys -> buckets -> connected components (union-find) -> best-ranked document of each
    nbytes, start = text_bytes(docs), _clock()
    buckets: dict[bytes, list[Any]] = defaultdict(list)
    nodes = {}
    for doc in docs:
        node = (rank(doc, priority), doc.id)
        nodes[doc.id] = node
        for key in band_keys(signature(shingles(doc.text, mh, normalized=normalized[doc.id]), mh), mh):
            buckets[key].append(node)
    edges = []
    for members in buckets.values():
        best = min(members)  # a star from the bucket's best member, as bucket_edges builds it
        edges.extend((best, n) for n in members if n != best)
    labels = union_find_labels(edges)
    kept = [d for d in docs if labels.get(nodes[d.id], nodes[d.id]) == nodes[d.id]]
    rejected.extend(
        Rejected(stage="near_dedup", reason="near_duplicate", document=d)
        for d in docs
        if labels.get(nodes[d.id], nodes[d.id]) != nodes[d.id]
    )
    record("near_dedup", len(docs), nbytes, start, len(kept))
    docs = kept

    domain_sources = set(domain_cfg.sources)

    def domain(doc: Any) -> Any:
        if doc.source in domain_sources:
            classify(doc, domain_classifier.score(doc.text), domain_cfg.threshold)
        return doc

    docs = run_stage("domain", docs, domain)

    # mix: token counts, totals per (domain, source), weights
    nbytes, start = text_bytes(docs), _clock()
    domain_of = dict(cfg.source_domains)
    totals: Counter = Counter()
    for doc in docs:
        doc.domain = doc.domain or domain_of.get(doc.source, "general")
        add_token_count(doc)
        pair, tokens = tokens_key(doc)
        totals[pair] += tokens
    mixture = compute_mixture(dict(totals), domain_of, cfg.mix)
    for doc in docs:
        assign_weight(doc, mixture)
    record("mix", len(docs), nbytes, start, len(docs))
    tokens = sum(d.n_tokens for d in docs)

    # write: Parquet shards (zstd) per (domain, source, bucket), rejected/ as JSONL
    out = tempfile.mkdtemp(prefix="finpile-bench-pure-")
    nbytes, start = text_bytes(docs), _clock()
    max_rows = cfg.shards.max_rows
    sizes = Counter((d.domain, d.source) for d in docs)
    groups: dict[tuple[str, str, int], list[Any]] = defaultdict(list)
    for doc in docs:
        n_shards = -(-sizes[(doc.domain, doc.source)] // max_rows)
        groups[(doc.domain, doc.source, shard_bucket(doc.id, n_shards))].append(doc)
    for (dom, source, bucket), members in sorted(groups.items()):
        write_bytes_atomically(
            os.path.join(out, f"{dom}-{source}-{bucket:05d}.parquet"), encode_shard(members)
        )
    lines = "".join(rejected_to_line(r) + "\n" for r in rejected)
    write_bytes_atomically(os.path.join(out, "rejected.jsonl"), lines.encode("utf-8"))
    record("write", len(docs), nbytes, start, len(docs))
    shutil.rmtree(out, ignore_errors=True)
    return {
        "stages": stages,
        "read_errors": len(read_errors),
        "extract_errors": extract_errors,
        "tokens": tokens,
    }


def _corpus_files(corpus: Path) -> list[str]:
    return [
        str(p)
        for sub in ("web", "edgar", "social", "general")
        for p in sorted((corpus / sub).glob("*"))
        if p.is_file()
    ]


def worker_beam(corpus: Path) -> dict[str, Any]:
    """The whole pipeline on the DirectRunner (FnApiRunner, in_memory, 1 worker)."""
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    from pipeline.run import run

    out = tempfile.mkdtemp(prefix="finpile-bench-beam-")
    start = _clock()
    manifest = run(
        [
            "--config",
            str(corpus / "finpile.yaml"),
            "--output_root",
            out,
            "--run_name",
            "bench",
            "--overwrite",
            "--no_stats",
            "--progress_interval",
            "0",
            "--runner",
            "DirectRunner",
            "--direct_running_mode",
            "in_memory",
            "--direct_num_workers",
            "1",
        ]
    )
    wall, cpu = _since(start)
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    totals = manifest["funnel"]["totals"] if manifest else {}
    return {"wall": wall, "cpu": cpu, "funnel": totals, "runner": manifest.get("runner") if manifest else ""}


def _traf_extract(text: str) -> str | None:
    import trafilatura

    # what datatrove's Trafilatura extractor calls, with deduplicate=False (FACTS: True is order-dependent)
    return trafilatura.extract(text, favor_precision=True, include_comments=False, deduplicate=False)


def _as_text(content: Any) -> str:
    return content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content


def worker_ceiling(corpus: Path) -> dict[str, Any]:
    """trafilatura alone on every HTML document; and the filings: our extractor vs trafilatura."""
    from pipeline.stages.extract import extract

    records, _, info = load_records(corpus)
    cfg = info["config"]
    _traf_extract("<html><body><p>warm up the extractor with a short paragraph of text.</p></body></html>")
    per_source: dict[str, dict[str, float]] = {}
    empty = 0
    start_all = _clock()
    for raw in records:
        if raw.content_type not in HTML_TYPES:
            continue
        text = _as_text(raw.content)
        t = time.process_time()
        out = _traf_extract(text)
        entry = per_source.setdefault(raw.source, {"docs": 0, "bytes": 0, "cpu": 0.0})
        entry["docs"] += 1
        entry["bytes"] += len(text.encode("utf-8"))
        entry["cpu"] += time.process_time() - t
        empty += not out
    wall, cpu = _since(start_all)
    filings = [r for r in records if r.content_type == "sgml"]
    start = _clock()
    ours_empty = ours_errors = 0
    for raw in filings:
        try:
            result = extract(raw, cfg.source_domains, info["options"].get(raw.input, {}))
        except Exception:  # counted, as the pipeline routes it to errors/
            ours_errors += 1
            continue
        ours_empty += type(result).__name__ == "Rejected"
    ours_wall, ours_cpu = _since(start)
    traf = {k: v for k, v in per_source.items() if k in ("filings", "press")}
    return {
        "wall": wall,
        "cpu": cpu,
        "docs_total": len(records),
        "html_docs": sum(v["docs"] for v in per_source.values()),
        "empty": empty,
        "per_source": per_source,
        "filings": {
            "docs": len(filings),
            "bytes": sum(_nbytes(r.content) for r in filings),
            "ours_cpu": ours_cpu,
            "ours_wall": ours_wall,
            "ours_empty": ours_empty,
            "ours_errors": ours_errors,
            "trafilatura_cpu": sum(v["cpu"] for v in traf.values()),
        },
    }


def _local_lid_class():
    """datatrove's FT176LID with the model loaded from our local lid.176.ftz.

    Honest workaround, two changes only: (1) datatrove's ``LanguageFilter`` refuses to build unless the
    ``fasttext-numpy2-wheel`` distribution is installed (we relax that class attribute to the ``fasteners``
    check only: the ``fasttext`` module itself is installed, from the ``fasttext`` distribution), and its model
    downloads lid.176.bin on first use; we load ``filters.language.default_model_path()``
    (lid.176.ftz, the model our pipeline uses) with the ``fasttext`` module we have; (2) with numpy 2,
    ``fasttext`` 0.9.3's ``predict("one string")`` raises, so we pass a one-element list (same result).
    Scoring (all 176 labels, k=-1) and the keep rule are datatrove's.
    """
    from datatrove.utils.lid import FT176LID

    from filters.language import default_model_path

    class LocalFT176(FT176LID):
        @property
        def model(self):
            if self._model is None:
                import fasttext

                self._model = fasttext.load_model(default_model_path())
            return self._model

        def predict(self, doc):
            labels, scores = self.model.predict([doc.text.replace("\n", " ")], k=self.k)
            pairs = {lab.split("__")[2]: float(s) for lab, s in zip(labels[0], scores[0], strict=True)}
            best = max(pairs.items(), key=lambda x: x[1])
            return best, (
                {lang: pairs.get(lang, 0.0) for lang in self.languages} if self.languages else pairs
            )

    return LocalFT176


def worker_datatrove(corpus: Path) -> dict[str, Any]:
    """datatrove's LocalPipelineExecutor over the same input and the same stage set."""
    import logging

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.readers import JsonlReader, WarcReader

    logging.getLogger().setLevel(logging.WARNING)
    try:
        from loguru import logger

        logger.remove()
        logger.add(sys.stderr, level="WARNING")
    except ImportError:
        pass
    tmp = Path(tempfile.mkdtemp(prefix="finpile-bench-dt-"))
    # inputs datatrove has no reader for: prepared before the clock starts (an advantage for datatrove)
    records, _, _ = load_records(corpus)
    (tmp / "html").mkdir()
    (tmp / "text").mkdir()
    n_html = n_text = 0
    with (
        open(tmp / "html" / "filings.jsonl", "w", encoding="utf-8") as h,
        open(tmp / "text" / "posts.jsonl", "w", encoding="utf-8") as t,
    ):
        for raw in records:
            if raw.content_type == "sgml":
                h.write(json.dumps({"id": raw.id, "text": _as_text(raw.content)}) + "\n")
                n_html += 1
            elif raw.content_type in ("text", "json", "wikitext"):
                t.write(json.dumps({"id": raw.id, "text": _as_text(raw.content)}) + "\n")
                n_text += 1
    n_warc = sum(1 for r in records if r.content_type == "html")
    import fasttext  # noqa: F401  (the module is installed, from the `fasttext` distribution, not `fasttext-numpy2-wheel`)

    LanguageFilter._requires_dependencies = [
        "fasteners"
    ]  # its check asks for the fasttext-numpy2-wheel distribution
    lang = LanguageFilter(languages=["en"], language_threshold=0.65)
    lang.model = _local_lid_class()(["en"])
    steps = []
    if list((corpus / "web").glob("*.warc.gz")):
        steps.append(WarcReader(str(corpus / "web"), glob_pattern="*.warc.gz"))
    if n_html:
        steps.append(JsonlReader(str(tmp / "html")))
    steps.append(Trafilatura(deduplicate=False, timeout=600.0))
    if n_text:
        steps.append(JsonlReader(str(tmp / "text")))
    steps += [
        lang,
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(),
        FineWebQualityFilter(),
        MinhashDedupSignature(
            output_folder=str(tmp / "signatures"),
            config=MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8),
        ),
    ]
    executor = LocalPipelineExecutor(pipeline=steps, tasks=1, workers=1, logging_dir=str(tmp / "logs"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = _clock()
    executor.run()
    wall, cpu = _since(start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_children = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    stats = json.loads((tmp / "logs" / "stats.json").read_text())
    blocks = []
    for step in stats:
        name = step.get("name", "?")
        total = (step.get("time_stats") or {}).get("total", 0.0)
        st = step.get("stats", {})
        blocks.append(
            {
                "block": name,
                "seconds": total,
                "forwarded": st.get("forwarded", 0),
                "dropped": st.get("dropped", 0),
                "documents": st.get("documents", {}).get("total", 0)
                if isinstance(st.get("documents"), dict)
                else st.get("documents", 0),
            }
        )
    # the last block's timer wraps its loop over the upstream generator: its own time is the rest
    if len(blocks) > 1:
        blocks[-1]["timer_seconds"] = blocks[-1]["seconds"]
        blocks[-1]["seconds"] = max(0.0, blocks[-1]["seconds"] - sum(b["seconds"] for b in blocks[:-1]))
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "wall": wall,
        "cpu_self": cpu,
        "cpu_children": cpu_children,
        "cpu": cpu + cpu_children,
        "blocks": blocks,
        "inputs": {"warc_html": n_warc, "filings_html": n_html, "text": n_text},
    }


WORKERS = {"pure": worker_pure, "beam": worker_beam, "ceiling": worker_ceiling, "datatrove": worker_datatrove}


# ================================================================================================
# driver
# ================================================================================================


def run_part(part: str, corpus: Path, timeout: float) -> dict[str, Any]:
    """Run one worker in a subprocess; add its CPU time and peak RSS from ``os.wait4``."""
    out = Path(tempfile.mkstemp(prefix=f"finpile-bench-{part}-", suffix=".json")[1])
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        part,
        "--corpus",
        str(corpus),
        "--json",
        str(out),
    ]
    env = dict(
        os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1"
    )
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=str(REPO))
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            raise RuntimeError(f"part {part} timed out after {timeout:.0f} s")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"part {part} failed with exit code {proc.returncode}")
    result = json.loads(out.read_text())
    out.unlink()
    result["process"] = {
        "wall_total": time.perf_counter() - started,
        "cpu_total": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
    if part == "datatrove":
        # the extraction subprocess is reaped by the worker: its CPU is in the worker's children (and in "cpu")
        result["process"]["note"] = "cpu (executor.run only) includes the extraction subprocess"
    return result


def _part_cpu(result: dict[str, Any]) -> float:
    """The CPU seconds a part is judged by (for ``pure``, the sum of its stages)."""
    if "stages" in result:
        return sum(s["cpu"] for s in result["stages"])
    return float(result["cpu"])


def ensure_corpus(root: Path, docs: int, mix: str, seed: int) -> Path:
    from benchmarks.corpus import generate

    tag = mix.replace("=", "").replace(",", "_").replace(".", "")
    path = root / f"{docs}-{tag}-s{seed}"
    meta = path / "corpus.json"
    if meta.exists():
        info = json.loads(meta.read_text())
        if info.get("docs") == docs and info.get("mix") == mix and info.get("seed") == seed:
            return path
    t = time.perf_counter()
    generate(docs, mix, path, seed)
    print(f"[bench] generated {docs} documents in {time.perf_counter() - t:.0f} s: {path}", file=sys.stderr)
    return path


def _rate(n: float, s: float) -> float:
    return n / s if s > 0 else float("nan")


def summarize(docs: int, corpus: Path, parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    info = json.loads((corpus / "corpus.json").read_text())
    corpus_bytes = sum(info["bytes"].values())
    summary: dict[str, Any] = {"docs": docs, "corpus": info, "corpus_mb": corpus_bytes / 1e6, "parts": parts}
    if "pure" in parts:
        stages = parts["pure"]["stages"]
        total_cpu = sum(s["cpu"] for s in stages)
        for s in stages:
            s["docs_per_s"] = _rate(s["docs"], s["cpu"])
            s["mb_per_s"] = _rate(s["bytes"] / 1e6, s["cpu"])
            s["share"] = s["cpu"] / total_cpu if total_cpu else 0
        summary["pure_cpu"] = total_cpu
        summary["pure_docs_per_s"] = _rate(docs, total_cpu)
    if "beam" in parts:
        b = parts["beam"]
        summary["beam_docs_per_s"] = _rate(docs, b["cpu"])
        summary["beam_docs_per_s_wall"] = _rate(docs, b["wall"])
        summary["beam_mb_per_s"] = _rate(corpus_bytes / 1e6, b["cpu"])
        summary["beam_peak_rss_mb"] = b["process"]["peak_rss_mb"]
        if "pure" in parts:
            summary["beam_overhead"] = b["cpu"] / summary["pure_cpu"] - 1
    if "ceiling" in parts:
        c = parts["ceiling"]
        summary["ceiling_docs_per_s"] = _rate(docs, c["cpu"])
        f = c["filings"]
        summary["filings"] = {
            "docs": f["docs"],
            "mb": f["bytes"] / 1e6,
            "ours_per_s": _rate(f["docs"], f["ours_cpu"]),
            "trafilatura_per_s": _rate(f["docs"], f["trafilatura_cpu"]),
            "ours_mb_per_s": _rate(f["bytes"] / 1e6, f["ours_cpu"]),
            "trafilatura_mb_per_s": _rate(f["bytes"] / 1e6, f["trafilatura_cpu"]),
        }
    if "datatrove" in parts:
        d = parts["datatrove"]
        summary["datatrove_docs_per_s"] = _rate(docs, d["cpu"])
        summary["datatrove_docs_per_s_wall"] = _rate(docs, d["wall"])
        summary["datatrove_peak_rss_mb"] = d["process"]["peak_rss_mb"]
    if "beam" in parts and "datatrove" in parts:
        summary["ours_vs_datatrove"] = summary["beam_docs_per_s"] / summary["datatrove_docs_per_s"]
    if "beam" in parts and "ceiling" in parts:
        summary["ours_vs_ceiling"] = summary["beam_docs_per_s"] / summary["ceiling_docs_per_s"]
    return summary


def _f(x: float, nd: int = 1) -> str:
    if x != x:  # nan
        return "-"
    return f"{x:,.{nd}f}"


def _ok(cond: bool) -> str:
    return "**met**" if cond else "**missed**"


def render(summary: dict[str, Any]) -> str:
    info = summary["corpus"]
    counts = ", ".join(f"{k} {v:,}" for k, v in info["counts"].items())
    load = os.getloadavg()
    lines = [
        f"# FinPile benchmark: {summary['docs']:,} documents",
        "",
        f"Corpus: {counts} ({summary['corpus_mb']:,.1f} MB on disk; mix `{info['mix']}`, seed {info['seed']}, "
        f"{'real pages/filings from /work/shared/data' if info.get('real_data') else 'sample texts only'}). "
        f"Machine: {os.cpu_count()} cores, load average {load[0]:.2f} at the end. "
        "Every part runs alone in a subprocess on one core; docs/s = documents / CPU-seconds.",
        "",
    ]
    parts = summary["parts"]
    if "pure" in parts:
        lines += [
            "## (a) Stage cores alone (no Beam, one core)",
            "",
            "| stage | docs in | kept | CPU s | docs/s | MB/s | share of time |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for s in parts["pure"]["stages"]:
            lines.append(
                f"| {s['stage']} | {s['docs']:,} | {s['kept']:,} | {_f(s['cpu'], 2)} | {_f(s['docs_per_s'])} | {_f(s['mb_per_s'], 2)} | {s['share']:.1%} |"
            )
        lines.append(
            f"| **all stages** | {summary['docs']:,} | | {_f(summary['pure_cpu'], 2)} | {_f(summary['pure_docs_per_s'])} | {_f(summary['corpus_mb'] / summary['pure_cpu'], 2)} | 100% |"
        )
        lines += [
            "",
            "`setup`: models and tables loaded once per run (language ID, spaCy, domain model, tokenizer, LSH parameters). "
            "`read`: connectors over the corpus files (MB = bytes on disk); `extract`: MB = raw record bytes; later stages: MB = text bytes in. "
            "`boilerplate`, `exact_dedup`, `near_dedup`: the corpus-level stages on one machine's dicts (keys, counts, "
            "union-find) instead of shuffles; `mix`: token counts and weights; `write`: Parquet shards and rejected/ lines.",
            "",
        ]
    if "beam" in parts:
        b = parts["beam"]
        fun = b.get("funnel", {})
        lines += [
            "## (b) Whole pipeline, DirectRunner (FnApiRunner, in_memory, 1 worker)",
            "",
            "| docs | wall s | CPU s | docs/s (CPU) | docs/s (wall) | MB/s | peak RSS MB | read / kept / rejected / errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| {summary['docs']:,} | {_f(b['wall'])} | {_f(b['cpu'])} | {_f(summary['beam_docs_per_s'])} | {_f(summary['beam_docs_per_s_wall'])} | {_f(summary['beam_mb_per_s'], 2)} | {_f(summary['beam_peak_rss_mb'], 0)} | "
            f"{fun.get('read', '-')} / {fun.get('kept', '-')} / {fun.get('rejected_total', '-')} / {fun.get('errors_total', '-')} |",
            "",
        ]
    if "beam_overhead" in summary:
        ov = summary["beam_overhead"]
        lines += [
            "## (c) Beam overhead",
            "",
            "| sum of stage cores, CPU s | whole pipeline, CPU s | overhead | target |",
            "|---:|---:|---:|---|",
            f"| {_f(summary['pure_cpu'], 1)} | {_f(parts['beam']['cpu'], 1)} | {ov:+.1%} | < 25%: {_ok(ov < TARGET_OVERHEAD)} |",
            "",
            "Both sides do the same work, stage for stage; what the pipeline spends beyond the pure cores is Beam's: "
            "graph construction, bundles, coders, shuffles and side inputs (the document itself is shuffled three times: "
            "after extraction, at the dedup join and into the shards), the connected-components rounds, metrics and the "
            "funnel counts.",
            "",
        ]
    if "datatrove" in parts or "ceiling" in parts:
        lines += [
            "## (d) Side by side: ours, datatrove, extraction-only ceiling (same documents, one core)",
            "",
            "| system | CPU s | wall s | docs/s per core | ours (Beam) relative | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        if "beam" in parts:
            lines.append(
                f"| ours: whole Beam pipeline | {_f(parts['beam']['cpu'])} | {_f(parts['beam']['wall'])} | {_f(summary['beam_docs_per_s'])} | 1.00x | {_f(summary['beam_peak_rss_mb'], 0)} |"
            )
        if "pure" in parts:
            lines.append(
                f"| ours: stage cores, no Beam | {_f(summary['pure_cpu'])} | - | {_f(summary['pure_docs_per_s'])} | {_f(summary.get('beam_docs_per_s', float('nan')) / summary['pure_docs_per_s'], 2)}x | {_f(parts['pure']['process']['peak_rss_mb'], 0)} |"
            )
        if "datatrove" in parts:
            d = parts["datatrove"]
            lines.append(
                f"| datatrove LocalPipelineExecutor | {_f(d['cpu'])} | {_f(d['wall'])} | {_f(summary['datatrove_docs_per_s'])} | {_f(summary.get('ours_vs_datatrove', float('nan')), 2)}x | {_f(summary['datatrove_peak_rss_mb'], 0)} |"
            )
        if "ceiling" in parts:
            c = parts["ceiling"]
            lines.append(
                f"| trafilatura alone (ceiling) | {_f(c['cpu'])} | {_f(c['wall'])} | {_f(summary['ceiling_docs_per_s'])} | {_f(summary.get('ours_vs_ceiling', float('nan')) * 100, 0)}% | {_f(c['process']['peak_rss_mb'], 0)} |"
            )
        lines.append("")
        if "ours_vs_datatrove" in summary:
            lines.append(
                f"- Target >= {TARGET_VS_DATATROVE:.0f}x datatrove: {summary['ours_vs_datatrove']:.2f}x, {_ok(summary['ours_vs_datatrove'] >= TARGET_VS_DATATROVE)}."
            )
        if "ours_vs_ceiling" in summary:
            lines.append(
                f"- Target >= {TARGET_VS_CEILING:.0%} of the extraction-only ceiling: {summary['ours_vs_ceiling']:.0%}, {_ok(summary['ours_vs_ceiling'] >= TARGET_VS_CEILING)}."
            )
        if "ceiling" in parts:
            ps = parts["ceiling"]["per_source"]
            lines.append(
                "- Ceiling by source (trafilatura CPU s / docs): "
                + ", ".join(f"{k} {v['cpu']:.1f} s / {v['docs']:,}" for k, v in sorted(ps.items()))
                + "; social posts need no extraction (0 s)."
            )
        if "datatrove" in parts:
            blocks = parts["datatrove"]["blocks"]
            tot = sum(b["seconds"] for b in blocks) or 1
            lines += [
                "",
                "datatrove, where the time goes (its own per-block timers; MinHash's timer wraps the whole upstream generator, so its own share is its timer minus the other blocks):",
                "",
                "| block | seconds | share | dropped |",
                "|---|---:|---:|---:|",
            ]
            for b in blocks:
                lines.append(
                    f"| {b['block']} | {_f(b['seconds'], 1)} | {b['seconds'] / tot:.0%} | {b['dropped']:,} |"
                )
        lines.append("")
    if "filings" in summary:
        f = summary["filings"]
        lines += [
            "## (e) Filings: our extractor vs trafilatura (same filings' primary documents)",
            "",
            "| extractor | documents | MB | filings/s | MB/s |",
            "|---|---:|---:|---:|---:|",
            f"| ours (`sources.edgar.extract_filing` via `extract`) | {f['docs']:,} | {_f(f['mb'])} | {_f(f['ours_per_s'], 2)} | {_f(f['ours_mb_per_s'], 2)} |",
            f"| trafilatura.extract | {f['docs']:,} | {_f(f['mb'])} | {_f(f['trafilatura_per_s'], 2)} | {_f(f['trafilatura_mb_per_s'], 2)} |",
            "",
        ]
    if "beam" in parts:
        lines += [
            "## (f) Memory",
            "",
            f"Peak RSS of the whole pipeline: {_f(summary['beam_peak_rss_mb'], 0)} MB for {summary['docs']:,} documents "
            f"({_f(summary['corpus_mb'], 1)} MB of input). Across sizes: see `benchmarks/README.md` (and the cross-size table when several --docs run together).",
            "",
        ]
    return "\n".join(lines)


def render_memory(summaries: list[dict[str, Any]]) -> str:
    rows = [s for s in summaries if "beam_peak_rss_mb" in s]
    if len(rows) < 2:
        return ""
    lines = [
        "# Memory vs corpus size (whole pipeline, DirectRunner in_memory)",
        "",
        "| docs | corpus MB | peak RSS MB | RSS / doc (marginal) |",
        "|---:|---:|---:|---:|",
    ]
    prev = None
    for s in rows:
        marginal = (
            "-"
            if prev is None
            else f"{(s['beam_peak_rss_mb'] - prev['beam_peak_rss_mb']) * 1024 / (s['docs'] - prev['docs']):.1f} KB"
        )
        lines.append(
            f"| {s['docs']:,} | {_f(s['corpus_mb'])} | {_f(s['beam_peak_rss_mb'], 0)} | {marginal} |"
        )
        prev = s
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--docs", type=int, action="append", help="corpus size(s); repeatable (default 1000)")
    ap.add_argument("--mix", default=DEFAULT_MIX)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    ap.add_argument(
        "--smoke", action="store_true", help="~50 documents, every part (a quick check; CI runs --docs 1000)"
    )
    ap.add_argument("--corpus-root", type=Path, default=Path(tempfile.gettempdir()) / "finpile-bench-corpus")
    ap.add_argument("--results-dir", type=Path, default=HERE / "results")
    ap.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per part")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the parts N times, round-robin, and keep each part's run with the least CPU (default 1)",
    )
    ap.add_argument("--worker", choices=PARTS, help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        result = WORKERS[args.worker](args.corpus)
        args.json.write_text(json.dumps(result))
        return 0

    sizes = [50] if args.smoke else (args.docs or [1000])
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        ap.error(f"unknown part(s): {', '.join(unknown)}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    summaries = []
    for docs in sizes:
        corpus = ensure_corpus(args.corpus_root, docs, args.mix, args.seed)
        results: dict[str, dict[str, Any]] = {}
        for round_ in range(1, max(args.repeat, 1) + 1):
            for part in parts:
                t = time.perf_counter()
                result = run_part(part, corpus, args.timeout)
                print(
                    f"[bench] {docs:,} docs: {part} (run {round_}) done in {time.perf_counter() - t:.0f} s",
                    file=sys.stderr,
                )
                cpus = results.get(part, {}).get("cpu_of_runs", []) + [_part_cpu(result)]
                if part not in results or _part_cpu(result) < _part_cpu(results[part]):
                    results[part] = result
                results[part]["cpu_of_runs"] = cpus
                partial = args.results_dir / f"{'smoke' if args.smoke else docs}.partial.json"
                partial.write_text(
                    json.dumps(results, default=str) + "\n", encoding="utf-8"
                )  # survives a later crash
        summary = summarize(docs, corpus, results)
        summaries.append(summary)
        table = render(summary)
        name = "smoke" if args.smoke else str(docs)
        (args.results_dir / f"{name}.md").write_text(table + "\n", encoding="utf-8")
        (args.results_dir / f"{name}.json").write_text(
            json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
        )
        (args.results_dir / f"{name}.partial.json").unlink(missing_ok=True)
        print(table)
    memory = render_memory(summaries)
    if memory:
        (args.results_dir / "memory.md").write_text(memory, encoding="utf-8")
        print(memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
