"""Private files (私有文件): what Ping'an writes under its var dir is readable by its own user only.

The operational database (SQLite's file, and its ``-wal`` / ``-shm``, which SQLite creates with
the database file's mode), the statistics store (``stats.duckdb`` and its ``.wal``), the
statistics socket and the generated secret key are created 0600, and a directory Ping'an creates
for them (the var dir) 0700. A directory that already exists is the operator's: it is left as it
is, with a warning when others may enter it.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("pingan")

PRIVATE_UMASK = 0o077
_warned: set[str] = set()
_umask_lock = threading.RLock()


def private_dir(path: str | os.PathLike) -> Path:
    """``path`` as a directory: created 0700 (its missing parents as usual) when it does not exist;
    left as it is when it does, with a warning (once) if its group or others may enter it."""
    folder = Path(path)
    try:
        folder.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        mode = folder.stat().st_mode
        if stat.S_IMODE(mode) & 0o077 and str(folder) not in _warned:
            _warned.add(str(folder))
            log.warning("%s is open to other users (mode %o); its files are private, but consider "
                        "chmod 700 %s", folder, stat.S_IMODE(mode), folder)
    else:
        os.chmod(folder, 0o700)  # whatever the umask
    return folder


def create_private(path: str | os.PathLike) -> bool:
    """Create ``path`` empty and 0600 in a private directory (``private_dir``) unless it exists;
    whether this call created it."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private_once(path: str | os.PathLike, text: str) -> str:
    """Write ``text`` to ``path`` (0600, in a private directory) unless the file exists, and return
    the file's text. Atomic across processes: several web workers starting at once all read the
    text of the one that won (each writes a temporary file and links it into place)."""
    path = Path(path)
    private_dir(path.parent)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: its text is the one
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside the block are private (umask 077) — for files created by a library
    that takes no mode, such as DuckDB's store and its WAL. The umask is the process's, so the
    block is kept short; the statistics process sets it for good instead (``stats.server``)."""
    with _umask_lock:
        old = os.umask(PRIVATE_UMASK)
        try:
            yield
        finally:
            os.umask(old)
