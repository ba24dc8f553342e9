"""Private files (pingan.files): in a fresh var dir, the directory is 0700 and the database, its
WAL, the statistics store, its WAL and the generated secret key are 0600 — whatever the umask
of the process that made them; an existing directory is left as it is, with a warning."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pingan import files

ROOT = Path(__file__).resolve().parents[1]


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_fresh_var_dir_holds_only_private_files(tmp_path):
    """A process with the usual umask 022 starts on a var dir that does not exist: it makes the
    secret key, the SQLite database (with its WAL) and the statistics store (with its WAL)."""
    var = tmp_path / "deploy" / "var"
    code = textwrap.dedent("""
        import json, os
        from pathlib import Path
        from sqlalchemy import text
        from pingan.config import get_settings
        from pingan.db.session import get_engine
        from pingan.stats.store import StatsStore

        settings = get_settings()
        var = Path(os.environ["PINGAN_VAR_DIR"])
        with get_engine().begin() as conn:
            conn.execute(text("CREATE TABLE t (i INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            seen = {p.name: p.stat().st_mode & 0o777 for p in var.iterdir()}  # while the WAL is there
        store = StatsStore(path=settings.stats_path)
        with store.reader() as cur:
            cur.execute("CREATE TABLE more (i INTEGER)")
        seen |= {p.name: p.stat().st_mode & 0o777 for p in var.iterdir()}
        store.close()
        print(json.dumps({"key": settings.secret_key, "again": get_settings.__wrapped__().secret_key,
                          "modes": seen}))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env |= {"PINGAN_VAR_DIR": str(var), "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         preexec_fn=lambda: os.umask(0o022))
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert mode(var) == 0o700
    assert found["modes"] == {"secret_key": 0o600, "pingan.db": 0o600, "pingan.db-wal": 0o600,
                              "pingan.db-shm": 0o600, "stats.duckdb": 0o600, "stats.duckdb.wal": 0o600}
    assert len(found["key"]) >= 60 and found["again"] == found["key"]  # generated once, then read
    assert (var / "secret_key").read_text() == found["key"]


def test_an_existing_directory_is_left_as_it_is_with_a_warning(tmp_path, caplog):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="pingan"):
        files.create_private(shared / "pingan.db")
    assert mode(shared) == 0o755 and mode(shared / "pingan.db") == 0o600
    assert f"{shared} is open to other users (mode 755)" in caplog.text


def test_the_secret_key_is_written_once_and_every_process_reads_the_same(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = files.write_private_once(path, "first")
    second = files.write_private_once(path, "second")  # a second worker starting at the same time
    assert first == second == "first" and mode(path) == 0o600 and mode(path.parent) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no temporary file left


def test_the_configured_key_is_used_and_nothing_is_generated(tmp_path, monkeypatch):
    import pingan.config as config

    monkeypatch.setattr(config, "VAR_DIR", tmp_path / "var")
    monkeypatch.setenv("PINGAN_SECRET_KEY", "from-the-environment")
    assert config._secret_key() == "from-the-environment"
    assert not (tmp_path / "var").exists()
    monkeypatch.delenv("PINGAN_SECRET_KEY")
    generated = config._secret_key()
    assert generated == config._secret_key() == (tmp_path / "var" / "secret_key").read_text()


def test_private_umask_is_restored(tmp_path):
    before = os.umask(0o022)
    try:
        with files.private_umask():
            (tmp_path / "inside").write_text("x")
        (tmp_path / "outside").write_text("x")
    finally:
        os.umask(before)
    assert mode(tmp_path / "inside") == 0o600 and mode(tmp_path / "outside") == 0o644


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
def test_an_in_memory_sqlite_database_makes_no_file(url, tmp_path, monkeypatch):
    from pingan.db.session import make_engine

    monkeypatch.chdir(tmp_path)
    make_engine(url).dispose()
    assert list(tmp_path.iterdir()) == []
