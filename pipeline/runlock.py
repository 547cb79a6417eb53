"""An exclusive lock on a run folder for the life of a run, so two runs never write into one folder.

The lock lives beside the run folder (``<output_root>/.<run_name>.lock``), not inside it: ``--overwrite``
deletes the folder, and must first know that no live run holds it.

- Local folders: ``fcntl.flock`` on the lock file. The kernel drops the lock when its process dies (even by
  kill -9), so a lock left by a dead run is never mistaken for a live one; the file records pid, host and
  start time so that a refusal can name the holder.
- ``gs://`` folders: a lock object created with ``if_generation_match=0`` (GCS creates it only if no object
  exists: exactly one of two racing runs succeeds) and deleted with its own generation on release. A run
  killed without cleanup leaves the object behind: the refusal names the holder and the start time, and the
  user deletes the object (``gcloud storage rm``) once sure that run is dead.
- Other schemes: no lock is taken (logged).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from core.errors import ConfigError

_LOG = logging.getLogger(__name__)


class RunLocked(ConfigError):
    """Another live run holds the run folder (a usage mistake: exit 2, one line naming the holder)."""


def lock_path(run_dir: str) -> str:
    """Where the lock of ``run_dir`` lives: ``<parent>/.<name>.lock``."""
    parent, _, name = run_dir.rstrip("/").rpartition("/")
    return f"{parent}/.{name}.lock" if parent else f".{name}.lock"


def _holder_info() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _describe(run_dir: str, holder: dict[str, Any] | None) -> str:
    if not holder:
        who = "another run (holder unknown)"
    else:
        who = f"run pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started_at')}"
    return f"{run_dir} is in use by {who}; wait for it to finish or choose another --run_name"


class RunLock:
    """``with RunLock(run_dir):`` holds the folder's lock; raises ``RunLocked`` if another run holds it."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir.rstrip("/")
        self.path = lock_path(self.run_dir)
        self._fd: int | None = None
        self._gcs_blob: Any = None
        self._gcs_generation: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self) -> None:
        if self.run_dir.startswith("gs://"):
            self._acquire_gcs()
        elif "://" in self.run_dir:
            _LOG.warning("no run-folder lock on %s (only local folders and gs:// are locked)", self.run_dir)
        else:
            self._acquire_local()

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.unlink(self.path)  # while still holding the lock: a waiter re-checks the inode
            except FileNotFoundError:
                pass
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        if self._gcs_blob is not None:
            try:
                self._gcs_blob.delete(if_generation_match=self._gcs_generation)
            except Exception as exc:  # noqa: BLE001 - a lock we cannot delete must not fail a finished run
                _LOG.warning("could not delete the lock object %s: %s", self.path, exc)
            self._gcs_blob = None

    # -- local -----------------------------------------------------------------------------------------

    def _acquire_local(self) -> None:
        import fcntl

        parent = os.path.dirname(self.path) or "."
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot write to output folder {parent}: {exc} (choose another --output_root)"
            ) from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ConfigError(
                    f"cannot write to output folder {parent}: {exc} (choose another --output_root)"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise RunLocked(_describe(self.run_dir, holder)) from None
            # The holder may have unlinked the file between our open and our flock: then we hold a lock
            # on a file nobody else can see. Start again on the current file.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(_holder_info()).encode())
        os.fsync(fd)
        self._fd = fd

    # -- gs:// -----------------------------------------------------------------------------------------

    def _acquire_gcs(self) -> None:
        try:
            from google.api_core.exceptions import PreconditionFailed
            from google.cloud import storage
        except ImportError:
            _LOG.warning("google-cloud-storage is not installed: no lock on %s", self.run_dir)
            return
        bucket_name, _, key = self.path[len("gs://") :].partition("/")
        try:
            blob = storage.Client().bucket(bucket_name).blob(key)
            blob.upload_from_string(
                json.dumps(_holder_info()), content_type="application/json", if_generation_match=0
            )
        except PreconditionFailed:
            try:
                holder = json.loads(blob.download_as_bytes())
            except Exception:  # noqa: BLE001 - the holder may have just released it
                holder = None
            raise RunLocked(
                _describe(self.run_dir, holder) + f" (if that run is dead, delete {self.path})"
            ) from None
        except Exception as exc:  # noqa: BLE001 - credentials, permissions, network: refuse rather than risk
            raise ConfigError(
                f"cannot create the run lock {self.path}: {type(exc).__name__}: {exc}"
            ) from None
        self._gcs_blob = blob
        self._gcs_generation = blob.generation


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        return json.loads(data) if data else None
    except (OSError, ValueError):
        return None
