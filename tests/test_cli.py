"""End to end: the CLI runs the default job on the embedded sample corpus, and refuses bad input cleanly."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.schema import SCHEMA_VERSION
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[1]


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
    assert f"see {run_dir}/stats/report.html" in proc.stdout  # the HTML report, not report.md
    assert (run_dir / "stats" / "report.html").is_file()
    for source in ("filings", "press", "news", "social", "wikipedia"):
        assert f"\n{source}" in proc.stdout
    manifest = json.loads((run_dir / "manifest.json").read_text())
    workers = manifest["workers"]
    assert (
        f", {workers} worker{'s' if workers != 1 else ''}," in proc.stdout and "1 workers" not in proc.stdout
    )
    assert "shuffled bytes/document" in proc.stdout
    # every document that reached the corpus-level decisions was decided alone or sent on as a candidate
    shuffle = manifest["shuffle"]
    decided_stages = {"unique_ids", "exact_dedup", "near_dedup"}
    rejected = sum(1 for r in _jsonl(f"{run_dir}/rejected/*.jsonl") if r.get("stage") in decided_stages)
    errors = sum(
        1 for r in _jsonl(f"{run_dir}/errors/*.jsonl") if r.get("stage") in decided_stages | {"domain"}
    )
    kept = sum(s["rows"] for s in manifest["shards"])
    assert shuffle["decided_alone"] + shuffle["candidates"] == kept + rejected + errors
    assert shuffle["decided_alone"] > shuffle["candidates"] > 0
    # the sample's empty nasdaq page is counted in rejected/; trafilatura's own warning was printed too
    assert "discarding data" not in proc.stderr and "extract/extract:empty_text=1" in proc.stdout


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


@pytest.mark.parametrize(
    "flags",
    [
        ["--workers=1", "--part_records=7"],  # one process, many small parts (many bundles)
        ["--workers=2"],
        ["--workers=4", "--part_records=5"],
        ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],  # Beam's own flags still work
    ],
    ids=["1-worker-small-parts", "2-workers", "4-workers-small-parts", "beam-flags"],
)
def test_worker_count_and_bundle_split_give_identical_shards(default_run, tmp_path, flags):
    run_dir, _ = default_run
    proc = run_cli("run", *flags, "--no_stats", f"--output_root={tmp_path}", "--run_name=mp")
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = json.loads((run_dir / "manifest.json").read_text())
    b = json.loads((tmp_path / "mp" / "manifest.json").read_text())
    assert b["workers"] == int(flags[0].split("=")[1]) if flags[0].startswith("--workers") else 2
    assert a["workers"] == 1  # --workers auto: the small sample does not pay for worker processes
    assert [(s["path"], s["sha256"]) for s in a["shards"]] == [(s["path"], s["sha256"]) for s in b["shards"]]
    assert a["funnel"] == b["funnel"]
    assert a["mixture"] == b["mixture"]
    # rejected/ holds the same records, whichever worker wrote which file
    key = lambda r: (r["stage"], r["reason"], r["id"])  # noqa: E731
    assert sorted(map(key, _jsonl(str(run_dir / "rejected/*.jsonl")))) == sorted(
        map(key, _jsonl(str(tmp_path / "mp" / "rejected/*.jsonl")))
    )


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


def _flag_cases(tmp_path: Path) -> list[tuple[list[str], str]]:
    folder = tmp_path / "warcs"
    folder.mkdir()
    return [
        (["run", "--ouput_root=/tmp/elsewhere"], "unknown flag --ouput_root; did you mean --output_root?"),
        (
            ["run", "--max_rows_per_shard", "0"],
            "--max_rows_per_shard: must be a positive integer (1 or more), got 0",
        ),
        (["run", "--max_rows_per_shard=-5"], "--max_rows_per_shard: must be a positive integer"),
        (["run", "--progress_interval=-1"], "--progress_interval: must be 0 or more"),
        (
            ["run", "--runner=DataflowRunner"],
            "--runner=DataflowRunner needs --project, --region, --temp_location",
        ),
        (["run", "--runner=DataflowRunner", "--project=p", "--region=r"], "needs --temp_location"),
        (["run", "--runner=Dataflw"], "unknown runner 'Dataflw'; did you mean DataflowRunner?"),
        (["run", "--runner=NoSuchRunner"], "unknown runner 'NoSuchRunner'"),
        (
            ["run", f"--input=warc={folder}"],
            f"{folder} is a directory; give the files as a glob, e.g. {folder}/*",
        ),
        (["run", "stray"], "unexpected argument 'stray'"),
        (["run", "--run_name=../x"], "--run_name '../x': must be a plain folder name (no / or \\)"),
        (["inspect", str(folder)], "is a folder: inspect reads one file"),
        (["fetch", "edgar", "--max_retries", "-1"], "argument --max_retries: must be 0 or more, got -1"),
        (["fetch", "edgar", "--timeout", "0"], "argument --timeout: must be a number above 0, got 0"),
        (
            ["fetch", "feeds", "--feeds=x", "--cache_dir=c", "--timeout=0"],
            "argument --timeout: must be a number above 0",
        ),
        (
            ["fetch", "feeds", "--feeds=x", "--cache_dir=c", "--max_retries=-1"],
            "argument --max_retries: must be 0 or more",
        ),
    ]


def test_bad_flags_are_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, capsys):
    """Issue 16 item 8: each of these ran (exit 0, into the default folder) or printed a traceback."""
    from pipeline.cli import main

    monkeypatch.chdir(tmp_path)
    for args, message in _flag_cases(tmp_path):
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 2, (args, out[-2000:], err[-2000:])
        assert message in err, (args, err)
        assert len(err.strip().splitlines()) == 1, (args, err)
        assert not (tmp_path / "output").exists() and not (tmp_path / "c").exists(), args


def test_misspelled_flag_refused_by_the_real_command(tmp_path):
    proc = run_cli("run", "--ouput_root=elsewhere", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stderr.strip() == "error: run: unknown flag --ouput_root; did you mean --output_root?"
    assert not (tmp_path / "output").exists() and not (tmp_path / "elsewhere").exists()


@pytest.mark.skipif(
    not os.path.exists("/proc/self/mem"), reason="needs Linux /proc/self/mem (an unreadable file)"
)
def test_inspect_unreadable_file_is_one_line(tmp_path):
    proc = run_cli("inspect", "/proc/self/mem", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (
        proc.stderr.strip() == "error: cannot read /proc/self/mem: Input/output error (check its permissions)"
    )


def test_config_mistakes_are_all_listed_before_anything_is_written(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        "inputs:\n  - kind: warc\n    paths: ['*.warc.gz']\n    optoins: {}\n"
        "language:\n  allowed: en\nquality:\n  label_only: 'false'\nmix:\n  max_weight: -2\n"
        "dedup:\n  near:\n    treshold: 0.7\n"
    )
    proc = run_cli("run", f"--config={cfg}", f"--output_root={tmp_path / 'out'}", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"error: {cfg}: inputs[0].optoins: unknown key; did you mean 'options'? (allowed here: name, options, paths)",
        f"error: {cfg}: language.allowed: must be a list, not the string 'en': write [en]",
        f"error: {cfg}: quality.label_only: must be true or false (YAML booleans, unquoted), got 'false'",
        f"error: {cfg}: dedup.near.treshold: unknown key; did you mean 'threshold'? (allowed here: enabled, ngram, "
        "num_perm, seed, threshold, verify, verify_threshold)",
        f"error: {cfg}: mix.max_weight: must be greater than 0, got -2",
    ]
    assert not (tmp_path / "out").exists()


def _normalised(text: str) -> str:
    return " ".join(text.split())


def test_run_help_lists_the_registry_kinds():
    from sources import READERS

    proc = run_cli("run", "--help", timeout=120)
    assert proc.returncode == 0
    help_text = _normalised(proc.stdout)
    listed = re.search(r"Input kinds: ([a-z_, ]+)\.", help_text)
    assert listed and listed.group(1).split(", ") == list(READERS)
    flag = re.search(r"with connector KIND \(([a-z_, ]+)\)", help_text)
    assert flag and flag.group(1).split(", ") == list(READERS)


def _readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end > 0 else len(text)]


def test_readme_inputs_table_matches_the_registry():
    from sources import READERS

    table = [
        line for line in _section(_readme(), "## Inputs (connectors)").splitlines() if line.startswith("| `")
    ]
    kinds = [k for line in table for k in re.findall(r"`([a-z_]+)`", line.split("|")[1])]
    assert sorted(kinds) == sorted(READERS)


def test_readme_output_layout_and_development_notes():
    output = _section(_readme(), "## Output")
    for name in (
        "manifest.json",
        "mixture.json",
        "stats/report.html",
        "stats/report.md",
        ".png",
        "stats/stats.json",
    ):
        assert name in output, name
    assert "FINPILE_SHARED_DATA" in _section(_readme(), "## Development")


def test_readme_names_the_installed_beam_version():
    import apache_beam

    installed = tuple(int(x) for x in apache_beam.__version__.split(".")[:2])
    mentions = re.findall(r"Beam(?:'s)?(?: \w+)? \(?(\d+)\.(\d+)(\+)?", _readme())
    assert mentions, "the README no longer names a Beam version: drop this test"
    for major, minor, plus in mentions:
        named = (int(major), int(minor))
        assert named <= installed if plus else named == installed, (named, installed)


def test_config_reference_command_prints_the_committed_doc():
    proc = run_cli("config-reference", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (REPO / "docs" / "config.md").read_text(encoding="utf-8")


def test_summary_points_at_the_report_only_when_one_was_written(sample_run):
    """With --no_stats the summary named stats/report.html, which does not exist; it now says how to write it."""
    from pipeline.cli import format_summary

    run_dir, _ = sample_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "stats/report.html (the statistics report)" in format_summary(manifest, str(run_dir))
    manifest.pop("stats_files")  # what a --no_stats run's manifest lacks
    last = format_summary(manifest, str(run_dir)).splitlines()[-1]
    assert "report.html" not in last
    assert f"python -m pipeline stats {run_dir}" in last
