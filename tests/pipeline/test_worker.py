"""Local worker processes (``pipeline.worker``): Beam's worker, forked warm from the driver and ended without
Python's teardown; ``pipeline.runner.use_project_worker`` points the local runner at it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import apache_beam as beam
from apache_beam.transforms.environments import SubprocessSDKEnvironment

from pipeline import worker
from pipeline.runner import use_project_worker

REPO = Path(__file__).resolve().parents[2]


def test_the_local_runner_starts_the_project_worker_and_leaves_other_commands_alone():
    beam_command = f"{sys.executable} -m apache_beam.runners.worker.sdk_worker_main"
    p = beam.Pipeline()
    _ = p | beam.Create([1]) | beam.Map(str)
    proto = p.to_runner_api(default_environment=SubprocessSDKEnvironment.from_command_string(beam_command))
    other = SubprocessSDKEnvironment.from_command_string("/opt/my-worker --flag").to_runner_api(None)
    proto.components.environments["other"].CopyFrom(other)
    assert use_project_worker(proto) == 1
    payloads = {k: e.payload.decode() for k, e in proto.components.environments.items()}
    assert payloads.pop("other") == "/opt/my-worker --flag"
    assert list(payloads.values()) == [f"{sys.executable} -m pipeline.worker"]
    assert use_project_worker(proto) == 0  # nothing left to change


def test_attach_without_a_free_warm_worker_lets_the_command_be_the_worker(tmp_path):
    assert worker.attach(str(tmp_path / "missing"), {}) is None
    assert worker.attach(str(tmp_path), {}) is None  # an empty pool


def test_a_claimed_warm_worker_gets_the_environment_and_its_exit_code_comes_back(tmp_path):
    # Beam's worker, given an environment without a control address, fails as a fresh one would: exit code 1
    pool = worker.WarmWorkers(1)
    with pool:
        folder = pool.folder
        assert os.environ[worker.ENV_POOL] == folder
        assert worker.attach(folder, {"PATH": os.environ.get("PATH", "")}) == 1
        assert worker.attach(folder, {}) is None  # claimed once only
    assert worker.ENV_POOL not in os.environ
    assert not os.path.exists(folder)


def test_unclaimed_warm_workers_leave_when_the_pool_closes():
    pool = worker.WarmWorkers(2)
    with pool:
        pids = list(pool._pids)
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    assert not any(_alive(pid) for pid in pids)  # gone and reaped by the pool


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from pipeline import worker
    from pipeline.run import _run_local, warm_worker_count
    from pipeline.runner import choose_runner

    def where(_):
        return json.dumps([os.getpid(), os.getppid(), open("/proc/self/cmdline").read().split("\\0")[:3]])

    if sys.argv[1] == "fork":
        worker.allow_fork()
    options = PipelineOptions(["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    runner, _ = choose_runner(options)
    p = beam.Pipeline(runner=runner, options=options)
    _ = (p | beam.Create(range(20)) | beam.Reshuffle() | beam.Map(where) | beam.Distinct()
         | beam.io.WriteToText(sys.argv[2], shard_name_template=""))
    _run_local(p, 0, warm_worker_count(options))
    print(json.dumps({"driver": os.getpid(), "pool": os.environ.get(worker.ENV_POOL)}))
    """
)


def _python(args: list[str], timeout: int) -> subprocess.CompletedProcess:
    """``python -c args[0] args[1:]`` with this checkout first on the path; it must exit 0."""
    proc = subprocess.run(
        [sys.executable, "-c", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _workers(tmp_path: Path, mode: str) -> tuple[dict, list]:
    out = tmp_path / f"{mode}.txt"
    proc = _python([SCRIPT, mode, str(out)], timeout=300)
    return json.loads(proc.stdout.strip().splitlines()[-1]), [
        json.loads(x) for x in out.read_text().split("\n") if x
    ]


def test_a_command_line_run_forks_its_workers_warm_from_the_driver(tmp_path):
    driver, workers = _workers(tmp_path, "fork")
    assert workers and {ppid for _, ppid, _ in workers} == {driver["driver"]}  # forked by the driver itself
    assert driver["pool"] is None  # the pool is gone after the run


def test_without_fork_the_runner_spawns_the_project_worker(tmp_path):
    driver, workers = _workers(tmp_path, "spawn")
    assert workers and all(ppid != driver["driver"] for _, ppid, _ in workers)  # started by Beam's command
    assert all(cmd[1:] == ["-m", "pipeline.worker"] for _, _, cmd in workers)


def test_started_by_hand_is_one_line_and_exit_2():
    env = {k: v for k, v in os.environ.items() if k != "CONTROL_API_SERVICE_DESCRIPTOR"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.worker"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "started by a local multi-process run" in done.stderr


def _write_pid(folder: str) -> None:
    Path(folder, f"{os.getpid()}.warm").write_text("")


def _fail() -> None:
    raise RuntimeError("warm-up failed")


def test_warm_workers_run_their_warm_up_before_they_are_claimed(tmp_path):
    import functools
    import time

    pool = worker.WarmWorkers(2, functools.partial(_write_pid, str(tmp_path)))
    with pool:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.warm"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        warmed = {int(p.stem) for p in tmp_path.glob("*.warm")}
        assert warmed == set(pool._pids)  # each child warmed up by itself, none claimed yet


def test_a_failing_warm_up_leaves_the_worker_claimable(tmp_path):
    # the job loads the same things again and reports a failure where it happens
    with worker.WarmWorkers(1, _fail) as pool:
        assert worker.attach(pool.folder, {"PATH": os.environ.get("PATH", "")}) == 1  # Beam's worker ran


def test_worker_warm_up_loads_the_runs_readers_the_extractors_and_spacy():
    code = textwrap.dedent(
        """
        import sys
        from pipeline.run import worker_warm_up
        from filters.quality import word_tokenizer
        worker_warm_up(["warc", "edgar"])
        wanted = ["spacy", "trafilatura", "sources.web", "sources.edgar", "sources.html", "sources.general"]
        print([m for m in wanted if m not in sys.modules], len(word_tokenizer()) > 0, "sources.social" in sys.modules)
        """
    )
    proc = _python([code], timeout=120)
    assert proc.stdout.split() == ["[]", "True", "False"]  # only the run's readers


def _slow() -> None:
    import time

    time.sleep(30)


def test_a_failure_before_the_job_ends_the_warm_workers_at_once():
    import time

    started = time.monotonic()
    with contextlib.suppress(ValueError), worker.WarmWorkers(2, _slow) as pool:
        pids = list(pool._pids)
        raise ValueError("building the graph failed")
    assert time.monotonic() - started < 5  # not the warm-up's 30 s, nor the 10 s grace of a finished job
    assert not any(_alive(pid) for pid in pids)
