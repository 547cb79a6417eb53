"""The run-folder lock: one holder at a time, the refusal names the holder, a dead holder's file is no lock."""

from __future__ import annotations

import json
import os
import socket

import pytest

from core.errors import ConfigError
from pipeline.runlock import RunLock, RunLocked, lock_path


def test_lock_path_sits_beside_the_run_folder(tmp_path):
    assert lock_path(str(tmp_path / "runs" / "sample")) == str(tmp_path / "runs" / ".sample.lock")
    assert lock_path("gs://bucket/runs/sample/") == "gs://bucket/runs/.sample.lock"


def test_second_holder_is_refused_with_the_holder_named(tmp_path):
    run_dir = str(tmp_path / "r")
    with RunLock(run_dir):
        with pytest.raises(RunLocked) as refused:
            RunLock(run_dir).acquire()
    message = str(refused.value)
    assert f"pid {os.getpid()} on {socket.gethostname()}" in message and "started 20" in message
    assert isinstance(refused.value, ConfigError)  # the CLI turns it into one line and exit 2
    assert not os.path.exists(lock_path(run_dir))


def test_lock_is_free_again_after_release(tmp_path):
    run_dir = str(tmp_path / "r")
    with RunLock(run_dir):
        pass
    with RunLock(run_dir):
        held = json.loads(open(lock_path(run_dir)).read())
    assert held["pid"] == os.getpid()


def test_file_left_by_a_killed_run_is_not_a_lock(tmp_path):
    """kill -9 leaves the lock file; the kernel dropped its flock with the process, so it is stale."""
    run_dir = str(tmp_path / "r")
    with open(lock_path(run_dir), "w") as f:
        json.dump({"pid": 999999, "host": "gone", "started_at": "2020-01-01T00:00:00+00:00"}, f)
    with RunLock(run_dir):
        assert json.loads(open(lock_path(run_dir)).read())["pid"] == os.getpid()
