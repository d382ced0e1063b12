"""An exclusive lock on a run directory, so that two processes never train into it at once.

``lock_run_dir(DIR)`` holds ``DIR/.lock`` with ``fcntl.flock(LOCK_EX | LOCK_NB)`` for the
duration of a ``with`` block. A second process asking for the same directory gets
``RunDirLocked`` at once (it never waits), naming the directory and the PID and host the
holder wrote into the file. The lock is advisory and belongs to the open file: the OS drops
it when the holder exits or is killed, so a crash leaves no stale lock (a ``.lock`` file left
behind by a killed process is simply taken over by the next run).

On release the holder deletes ``.lock`` (and the directory again if this lock created it and
nothing else was written into it, so a run that fails at once leaves nothing behind). Deleting
a lock file is only safe together with the check in ``_acquire``: whoever locks a file checks
that it is still the one at ``DIR/.lock``, and starts again if it was deleted meanwhile.

No lock is taken where ``fcntl`` does not exist (Windows) or the file system refuses ``flock``
(a warning says so): training runs there as it did before the lock existed.

Only standard-library imports, so that a small helper process can hold a lock cheaply.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, runs there are not locked
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "RunDirLocked", "lock_run_dir"]

#: The lock file inside a run directory.
LOCK_FILE = ".lock"


class RunDirLocked(RuntimeError):
    """Another process holds the run directory's lock: it is training into that directory."""


def _holder(fd: int) -> str:
    """Who holds the lock on ``fd``, from what the holder wrote into the file."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode())
        pid, host = int(info["pid"]), str(info["host"])
    except (OSError, ValueError, KeyError, TypeError):  # the holder has not written it yet
        return "another process (PID not yet recorded)"
    since = info.get("since")
    return f"PID {pid} on host {host}" + (f", running since {since}" if since else "")


def _missing_dirs(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _acquire(run_dir: Path, created: list[Path]) -> int | None:
    """An open descriptor of ``run_dir/.lock`` holding an exclusive lock on it (the directory is
    created, and the directories this call made are added to ``created``), or None when the file
    system does not support ``flock``. Raises ``RunDirLocked`` when another process holds it."""
    assert fcntl is not None
    path = run_dir / LOCK_FILE
    while True:
        missing = _missing_dirs(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        created.extend(p for p in missing if p not in created)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the directory was removed meanwhile (a failed run cleaning up)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise RunDirLocked(
                f"run directory {str(run_dir)!r} is in use: {holder} is training into it (lock file {path}); "
                "wait for it to finish or stop it, or choose another --out"
            ) from None
        except OSError as err:  # e.g. ENOLCK / EOPNOTSUPP on some network file systems
            os.close(fd)
            warnings.warn(f"cannot lock {path} ({err}); training without a run-directory lock", stacklevel=2)
            return None
        # Its previous holder may have deleted the file between our open and flock: a lock on a
        # deleted file excludes nobody, so start again on the file now at the path.
        try:
            current = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            current = False
        if current:
            return fd
        os.close(fd)


@contextmanager
def lock_run_dir(run_dir: str | Path) -> Iterator[Path | None]:
    """Hold an exclusive lock on the run directory ``run_dir`` (created if missing) for the block.

    Raises:
        RunDirLocked: another process holds the lock. Nothing in the directory is changed.

    Yields:
        The lock file ``run_dir/.lock`` (it holds the holder's PID, host and start time as JSON),
        or None where no lock can be taken (no ``fcntl``, or a file system without ``flock``).
    """
    run_dir = Path(run_dir)
    if fcntl is None:  # pragma: no cover - Windows: no flock; run unlocked, as before locks existed
        yield None
        return
    created: list[Path] = []
    fd = _acquire(run_dir, created)
    if fd is None:
        yield None
        return
    path = run_dir / LOCK_FILE
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        yield path
    finally:
        try:  # still holding the lock: delete the file (see _acquire), unless it was replaced meanwhile
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                path.unlink()
        except FileNotFoundError:
            pass
        for d in created:  # directories this lock made and nothing else wrote into, deepest first
            try:
                d.rmdir()
            except OSError:
                break
        os.close(fd)
