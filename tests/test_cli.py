"""End to end: the CLI runs the default job on the embedded sample corpus, and refuses bad input cleanly."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.schema import SCHEMA_VERSION
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def default_run(sample_run):
    return sample_run


def _jsonl(pattern: str) -> list[dict]:
    rows = []
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def test_summary_printed(default_run):
    run_dir, proc = default_run
    assert f"output: {run_dir}" in proc.stdout
    assert "read = kept + rejected + errors for every source: yes" in proc.stdout
    for source in ("filings", "press", "news", "social", "wikipedia"):
        assert f"\n{source}" in proc.stdout


def test_shards_match_manifest(default_run):
    run_dir, _ = default_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["shards"], "no shards written"
    on_disk = sorted(os.path.relpath(p, run_dir) for p in glob.glob(str(run_dir / "data/*/*/*.parquet")))
    assert on_disk == sorted(s["path"] for s in manifest["shards"])
    for shard in manifest["shards"]:
        data = (run_dir / shard["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        assert len(data) == shard["bytes"]
        meta = pq.read_metadata(run_dir / shard["path"])
        assert meta.num_rows == shard["rows"]
        domain, source = Path(shard["path"]).parent.parent.name, Path(shard["path"]).parent.name
        table = pq.read_table(run_dir / shard["path"], columns=["domain", "source"])
        assert set(table.column("domain").to_pylist()) == {domain}
        assert set(table.column("source").to_pylist()) == {source}
        assert pq.ParquetFile(run_dir / shard["path"]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_funnel_identity_and_audit_files(default_run):
    run_dir, _ = default_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    funnel = manifest["funnel"]
    rejected = _jsonl(str(run_dir / "rejected/*.jsonl"))
    errors = _jsonl(str(run_dir / "errors/*.jsonl"))
    kept_rows = sum(s["rows"] for s in manifest["shards"])
    for source, e in funnel["sources"].items():
        assert e["read"] == e["kept"] + e["rejected_total"] + e["errors_total"], source
        assert e["balanced"]
        assert e["rejected_total"] == sum(1 for r in rejected if r["source"] == source)
        assert e["errors_total"] == sum(1 for r in errors if r["source"] == source)
    assert funnel["totals"]["kept"] == kept_rows
    assert all(r["stage"] and r["reason"] for r in rejected)
    assert all(e["kind"] and e["message"] and e["stage"] for e in errors)


def test_every_branch_of_the_sample_is_exercised(default_run):
    run_dir, _ = default_run
    rejected = _jsonl(str(run_dir / "rejected/*.jsonl"))
    errors = _jsonl(str(run_dir / "errors/*.jsonl"))
    reasons = {r["reason"] for r in rejected}
    assert "exact_duplicate" in reasons
    assert "near_duplicate" in reasons
    assert any(r.startswith("language:") for r in reasons), reasons
    assert any(r.split(":")[0] in ("gopher", "c4", "fineweb") for r in reasons), reasons
    dups = [r for r in rejected if r["reason"] in ("exact_duplicate", "near_duplicate")]
    assert all(r["duplicate_of"] for r in dups)
    # The near-duplicate pair crosses sources: the EX-99.1 press release in the 8-K and the wire page.
    near = [r for r in rejected if r["reason"] == "near_duplicate"]
    assert any(r["source"] in ("press", "news", "web") for r in near)
    assert any(e["kind"] == "invalid_json" for e in errors), errors
    # PII from the sample news page is redacted in the corpus.
    texts = []
    for path in glob.glob(str(run_dir / "data/*/*/*.parquet")):
        texts += pq.read_table(path, columns=["text"]).column("text").to_pylist()
    corpus = "\n".join(texts)
    assert "<EMAIL>" in corpus
    assert "@example.com" not in corpus


def test_stats_report_written(default_run):
    run_dir, _ = default_run
    stats = json.loads((run_dir / "stats/stats.json").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    comp = stats["composition"]
    assert comp["total"]["docs"] == sum(s["rows"] for s in manifest["shards"])
    assert comp["total"]["tokens"] == sum(s["tokens"] for s in manifest["shards"])
    shares = [r["token_share_pct"] for d in comp["domains"] for r in d["sources"]]
    assert abs(sum(shares) - 100) < 0.1
    report = (run_dir / "stats/report.md").read_text()
    assert "| Dataset | Docs | Chars/Doc | Chars/Token | Tokens | % of tokens |" in report
    assert "## Funnel" in report and "## Languages identified" in report


def test_syndicated_copy_dropped_for_its_canonical_original(default_run):
    run_dir, _ = default_run
    rejected = _jsonl(str(run_dir / "rejected/*.jsonl"))
    yahoo = [r for r in rejected if "finance.yahoo.com/news/pellworth" in r["url"]]
    assert [r["reason"] for r in yahoo] == ["exact_duplicate"]
    assert not [r for r in rejected if "reuters.com/business/pellworth" in r["url"]]


def test_rerun_refuses_without_overwrite(default_run):
    run_dir, _ = default_run
    proc = run_cli("run", f"--output_root={run_dir.parent}", f"--run_name={run_dir.name}")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "already holds a run; pass --overwrite" in proc.stderr


def test_multi_processing_gives_identical_shards(default_run, tmp_path):
    run_dir, _ = default_run
    proc = run_cli(
        "run",
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
        f"--output_root={tmp_path}",
        "--run_name=mp",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = json.loads((run_dir / "manifest.json").read_text())
    b = json.loads((tmp_path / "mp" / "manifest.json").read_text())
    assert [(s["path"], s["sha256"]) for s in a["shards"]] == [(s["path"], s["sha256"]) for s in b["shards"]]
    assert a["funnel"] == b["funnel"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--input=warc=/nonexistent/*.warc.gz"], "no file matches /nonexistent/*.warc.gz"),
        (["run", "--input=ftp=/tmp/x"], "unknown source kind 'ftp'"),
        (["run", "--input=nokindhere"], "expected KIND=PATH"),
        (["run", "--config=/nonexistent.yaml"], "config file not found"),
        (["run", "--only=nosuchinput"], "no input named nosuchinput"),
        (["stats", "/nonexistent-run"], "has no manifest.json"),
        (["inspect", "/nonexistent-file.html"], "no such file"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ],
)
def test_bad_input_is_one_clear_line(args, message, tmp_path):
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unwritable_output_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli("run", f"--output_root={blocker}", "--run_name=x")
    assert proc.returncode == 2
    assert "cannot write to output folder" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_corrupt_shard_named_by_stats(default_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(default_run[0], copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    victim = copy / manifest["shards"][0]["path"]
    victim.write_bytes(victim.read_bytes()[:-10])
    proc = run_cli("stats", str(copy))
    assert proc.returncode == 2
    assert manifest["shards"][0]["path"] in proc.stderr and "corrupt" in proc.stderr
