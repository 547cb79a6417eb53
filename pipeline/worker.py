"""The SDK worker processes of a local multi-process run (``--workers N``): Beam's own worker, started warm and
ended without Python's teardown.

``pipeline.runner.LocalRunner`` starts its worker processes as ``python -m pipeline.worker`` instead of Beam's
``python -m apache_beam.runners.worker.sdk_worker_main``. Two fixed costs of a multi-process run go:

- **Start-up.** A fresh worker imports Beam and this project's stages (~1.5 s of one core each) while the run
  waits for it. ``WarmWorkers`` forks the N workers from the driver before the job graph is built, when the
  driver has imported all of that anyway (only in the command-line program: ``allow_fork``); each child first
  loads what its first bundle would (the run's readers, the extractors, spaCy: ``pipeline.run.worker_warm_up``)
  while the driver builds the graph, then waits on its own Unix socket. The command Beam's runner spawns
  claims one (an exclusive claim file), hands it its environment (the control address, worker id and pipeline
  options Beam sets) and waits for its exit code. Without a pool (a test that builds the runner alone, or every
  warm worker taken) the command runs the worker itself, as Beam's would.
- **Teardown.** Once the harness is done (the runner closed the control channel, every bundle was answered and
  every DoFn torn down, the log handler flushed and closed), the process ends at once (``os._exit``) instead of
  letting Python free a heap holding the language-ID and quality models and Beam's bundle processors: ~0.7 s of
  one core per worker, which Beam's runner waits for one worker after the other. Nothing is left to write then
  (this project's DoFns close their files in the bundle that wrote them); a worker that fails still exits with
  its traceback and a non-zero code.

The worker itself is Beam's, unchanged; outputs do not depend on how its process started.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable

ENV_POOL = "FINPILE_WARM_WORKERS"  # folder of the warm workers' sockets (set by WarmWorkers in the driver)
_SOCKET = "warm-{}.sock"
_CLAIM = "warm-{}.claim"
_fork_allowed = False


def allow_fork() -> None:
    """Let local runs of this process fork warm workers (``python -m pipeline`` does, first thing). Forking is safe
    only from a process that has not run a Beam job with worker processes before (gRPC's threads, once started, do
    not survive a fork): a process that runs one command is such a process; a test session or a notebook that runs
    one job after another is not, and there the workers start as Beam's do."""
    global _fork_allowed
    _fork_allowed = hasattr(os, "fork")


def fork_allowed() -> bool:
    """Whether ``allow_fork`` was called in this process (and the platform can fork)."""
    return _fork_allowed


def main() -> None:
    """``python -m pipeline.worker``: hand the work to a warm worker if one is free, else be the worker."""
    if (
        "CONTROL_API_SERVICE_DESCRIPTOR" not in os.environ
    ):  # what Beam's runner sets for the workers it starts
        print(
            "error: pipeline.worker is started by a local multi-process run (python -m pipeline run --workers N), "
            "not by hand",
            file=sys.stderr,
        )
        sys.exit(2)
    folder = os.environ.get(ENV_POOL)
    if folder:
        code = attach(folder, dict(os.environ))
        if code is not None:
            sys.exit(code)
    sys.exit(run_worker())


def run_worker() -> int:
    """Beam's SDK worker in this process, with the environment Beam's runner gave it; ends the process when done."""
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)
    _leave(0)
    return 0  # not reached


def _leave(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def attach(folder: str, env: dict[str, str]) -> int | None:
    """Claim a free warm worker in ``folder``, give it ``env`` and wait for it: its exit code, or None when no
    warm worker is free (or reachable), so the caller runs the worker itself."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    for name in names:
        if not (name.startswith("warm-") and name.endswith(".sock")):
            continue
        slot = name[len("warm-") : -len(".sock")]
        try:
            os.close(os.open(os.path.join(folder, _CLAIM.format(slot)), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except OSError:
            continue  # taken by another worker command
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(os.path.join(folder, name))
                conn.sendall(json.dumps(env).encode())
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                continue  # that warm worker is gone: try the next one
            answer = _read_all(conn)  # blocks until the worker is done
        try:
            return int(answer)
        except ValueError:
            return 1  # the warm worker died without an exit code
    return None


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


class WarmWorkers:
    """``n`` SDK worker processes forked from the driver, each waiting to be claimed by ``python -m pipeline.worker``
    (``attach``). Use as a context manager around the job: on entry the workers are forked and ``ENV_POOL`` set
    (Beam's runner passes the driver's environment to the command it spawns); on exit the unclaimed ones leave, the
    claimed ones (done when the job is) are reaped, and the folder goes.

    Fork before the job starts: the driver then has no gRPC server or channel and no threads of its own. The
    objects the driver holds are frozen out of the garbage collector first (``gc.freeze``), so the children's
    collections do not copy the pages they share with it.
    """

    def __init__(self, n: int, warm_up: Callable[[], None] | None = None):
        self.n = n
        self.warm_up = warm_up
        self.folder = ""
        self._pipes: list[int] = []
        self._pids: list[int] = []

    def __enter__(self) -> WarmWorkers:
        import gc

        self.folder = tempfile.mkdtemp(prefix="finpile-workers-")
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()
        try:
            for i in range(self.n):
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(os.path.join(self.folder, _SOCKET.format(i)))
                listener.listen(1)
                read_end, write_end = os.pipe()
                pid = os.fork()
                if pid == 0:  # the warm worker: never returns into the driver's code
                    try:
                        os.close(write_end)
                        for fd in self._pipes:
                            os.close(fd)
                        _serve(listener, read_end, self.warm_up)
                    finally:
                        _leave(1)
                os.close(read_end)
                listener.close()
                self._pids.append(pid)
                self._pipes.append(write_end)
        finally:
            gc.unfreeze()
        os.environ[ENV_POOL] = self.folder
        return self

    def __exit__(self, *exc) -> None:
        os.environ.pop(ENV_POOL, None)
        for fd in self._pipes:
            os.close(fd)  # an unclaimed worker sees the end of its pipe and leaves (once warmed up)
        self._pipes = []
        # the job failed (or never started: building the graph raised): no worker's result is wanted
        deadline = time.monotonic() + (0.0 if exc and exc[0] is not None else 10.0)
        for pid in self._pids:
            while True:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            if not done:  # still running after the job ended: not ours to keep
                try:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
        self._pids = []
        shutil.rmtree(self.folder, ignore_errors=True)


def _serve(listener: socket.socket, parent: int, warm_up: Callable[[], None] | None = None) -> None:
    """A warm worker: run ``warm_up`` (a failure there is left to the job, which loads the same things again),
    wait until claimed (or until the driver closes ``parent``: then leave), take the claimer's environment, run
    Beam's worker, send back the exit code. Never returns."""
    import select

    code = 1
    conn = None
    if warm_up is not None:
        try:
            warm_up()
        except Exception:  # noqa: BLE001 - the bundle that needs it raises the same error where it is reported
            pass
    try:
        ready, _, _ = select.select([listener, parent], [], [])
        if listener not in ready:
            _leave(0)
        conn, _ = listener.accept()
        listener.close()
        os.close(parent)
        env = json.loads(_read_all(conn))
        _fresh_process(env)
        from apache_beam.runners.worker import sdk_worker_main

        sdk_worker_main.main(sys.argv)
        code = 0
    except BaseException:  # noqa: BLE001 - a worker's failure is reported by its exit code and traceback
        import traceback

        traceback.print_exc()
    finally:
        if conn is not None:
            try:
                conn.sendall(str(code).encode())
                conn.close()
            except OSError:
                pass
        _leave(code)


def _fresh_process(env: dict[str, str]) -> None:
    """What a newly started worker would have: the claimer's environment, no log handlers of the driver's (the
    worker sends its logs to the runner), its own random state and progress tally."""
    import logging
    import random

    from pipeline import progress

    os.environ.clear()
    os.environ.update(env)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    random.seed()
    progress.reset()


if __name__ == "__main__":
    main()
