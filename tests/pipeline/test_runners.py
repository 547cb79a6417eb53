"""Runners and restarts: Dataflow translation offline, the portable runner, and a killed run restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STAGES = (
    "ReadSources",
    "Extract",
    "IdentifyLanguage",
    "ScoreQuality",
    "RedactPII",
    "Decontaminate",
    "SpillRecords",
    "SpillDocs",
    "RemoveBoilerplate",
    "KeyDocuments",  # boilerplate stripped; dedup keys, domain score and tokens of each document
    "Dedup",
    "Dedup/ExactDedup",
    "Dedup/NearDedup",
    "Dedup/JoinDecisions",
    "AssignDomainAndMix",
    "WriteShards",
    "WriteShards/ApplyDecisions",  # ClassifyDomain's decision, the mixing weight, the shard piece
    "WriteShards/MergeShards",
    "WriteRejectedExtract",
    "WriteErrorsRead",
)


def _cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_dataflow_translation_offline(tmp_path):
    pytest.importorskip("apache_beam.runners.dataflow.internal.apiclient", reason="needs apache-beam[gcp]")
    pytest.importorskip("google.cloud.storage", reason="needs apache-beam[gcp]")
    from apache_beam.portability.api import beam_runner_api_pb2

    staging = tmp_path / "staging"
    staging.mkdir()
    proc = _cli(
        "run",
        "--runner=DataflowRunner",
        "--project=finpile-test",
        "--region=us-central1",
        "--dataflow_endpoint=http://localhost:1",
        "--no_auth",
        f"--temp_location={tmp_path / 'tmp'}",
        f"--staging_location={staging}",
        f"--template_location={tmp_path / 'job.json'}",
        f"--setup_file={REPO / 'setup.py'}",
        f"--output_root={tmp_path / 'out'}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "job graph translated for DataflowRunner" in proc.stderr
    job = json.loads((tmp_path / "job.json").read_text())
    assert job["type"] == "JOB_TYPE_BATCH"
    pipeline = beam_runner_api_pb2.Pipeline.FromString((staging / "pipeline.pb").read_bytes())
    names = {t.unique_name for t in pipeline.components.transforms.values()}
    for stage in STAGES:
        assert stage in names, f"{stage} missing from the Dataflow job graph"
    # The project itself is staged to the workers, with its config and resources.
    with tarfile.open(staging / "workflow.tar.gz") as tar:
        members = tar.getnames()
    assert any(m.endswith("pipeline/profiles/finance.yaml") for m in members)
    assert any(m.endswith("pipeline/profiles/medical.yaml") for m in members)
    assert any(m.endswith("pipeline/profiles/models/domain-medical.ftz") for m in members)
    assert any(m.endswith("core/schema.py") for m in members)
    assert any(m.endswith("filters/language.py") for m in members)
    # Translation only: nothing was run, so no run folder was created.
    assert not (tmp_path / "out").exists()


def test_portable_runner_loopback(tmp_path):
    proc = _cli(
        "run",
        "--runner=PortableRunner",
        "--job_endpoint=embed",
        "--environment_type=LOOPBACK",
        f"--output_root={tmp_path}",
        "--run_name=portable",
        "--no_stats",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((tmp_path / "portable" / "manifest.json").read_text())
    assert manifest["runner"] == "PortableRunner"
    assert manifest["funnel"]["totals"]["balanced"]
    assert manifest["shards"]


def _start(root: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            f"--output_root={root}",
            f"--run_name={name}",
            "--no_stats",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_killed_run_restarts_to_the_same_output(tmp_path):
    clean = _cli("run", f"--output_root={tmp_path / 'a'}", "--run_name=r", "--no_stats")
    assert clean.returncode == 0, clean.stderr[-2000:]

    run_dir = tmp_path / "b" / "r"
    proc = _start(tmp_path / "b", "r")
    deadline = time.time() + 120
    while not (run_dir / "_work" / "started.json").exists() and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # well inside the run: reading and extraction have started
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "manifest.json").exists(), (
        "the run finished before it was killed; the test proves nothing"
    )

    restarted = _cli("run", f"--output_root={tmp_path / 'b'}", "--run_name=r", "--no_stats")
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert "unfinished run of the same config: restarting it" in restarted.stderr
    a = json.loads((tmp_path / "a" / "r" / "manifest.json").read_text())
    b = json.loads((run_dir / "manifest.json").read_text())
    assert [(s["path"], s["sha256"], s["rows"]) for s in a["shards"]] == [
        (s["path"], s["sha256"], s["rows"]) for s in b["shards"]
    ]
    assert a["funnel"] == b["funnel"]
    assert not list(run_dir.rglob("*.tmp")), "temporary shard files left behind"


def test_unfinished_run_of_another_config_is_refused(tmp_path):
    run_dir = tmp_path / "r"
    (run_dir / "_work").mkdir(parents=True)
    (run_dir / "_work" / "started.json").write_text(json.dumps({"config_hash": "someotherconfig"}))
    proc = _cli("run", f"--output_root={tmp_path}", "--run_name=r")
    assert proc.returncode == 2
    assert "unfinished run of another config" in proc.stderr


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while not path.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)


def test_second_run_into_a_live_run_folder_is_refused(tmp_path):
    """Issue 16: with --overwrite, a second identical command used to delete the live run's folder."""
    first = _start(tmp_path, "r")
    try:
        _wait_for(tmp_path / "r" / "_work" / "started.json", first)
        assert first.poll() is None, "the first run ended before the second started; the test proves nothing"
        second = _cli("run", f"--output_root={tmp_path}", "--run_name=r", "--no_stats", "--overwrite")
    finally:
        first_rc = first.wait(timeout=600)
    assert second.returncode == 2, second.stderr[-2000:]
    message = second.stderr.strip().splitlines()[-1]
    assert message.startswith("error: ") and f"pid {first.pid}" in message and "in use by run" in message
    assert first_rc == 0
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["funnel"]["totals"]["balanced"]
    assert not (tmp_path / ".r.lock").exists(), "the lock outlived its run"


def test_kill_during_stats_then_rerun_restarts_cleanly(tmp_path):
    """Issue 16: the manifest was written before the stats, so a kill during stats left a folder that looked
    complete (the rerun refused) without stats/. Now the manifest comes last."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "pipeline", "run", f"--output_root={tmp_path}", "--run_name=r"]
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_dir = tmp_path / "r"
    _wait_for(run_dir / "mixture.json", proc)  # the corpus is written; what follows is the stats report
    time.sleep(0.5)
    killed_during_stats = proc.poll() is None and not (run_dir / "stats" / "report.html").exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed_during_stats, "the run finished its stats before it was killed; the test proves nothing"
    assert not (run_dir / "manifest.json").exists(), "a folder with a manifest must be complete"

    rerun = _cli("run", f"--output_root={tmp_path}", "--run_name=r")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "stats/report.md" in manifest["stats_files"] and (run_dir / "stats" / "report.md").exists()
    assert not (run_dir / "_work").exists()
