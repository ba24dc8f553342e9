"""The unit of work: one transaction per request, CLI command or job.

Services flush, never commit. Whoever opened the unit of work commits on success
and rolls back on error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from pingan.db.session import get_sessionmaker


@contextmanager
def unit_of_work(*, actor=None, request_id: str | None = None) -> Iterator[Session]:
    session = get_sessionmaker()()
    session.info["actor"] = actor
    session.info["request_id"] = request_id
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def unit_of_work_on(engine, *, actor=None, request_id: str | None = None) -> Iterator[Session]:
    """A unit of work on an explicit engine (migrations, tests, benchmarks)."""
    session = Session(bind=engine, expire_on_commit=False, autoflush=False)
    session.info["actor"] = actor
    session.info["request_id"] = request_id
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def end_read(session: Session) -> None:
    """End the transaction of a unit of work that has only read so far, before long work that
    touches no operational table (the statistics store): on SQLite every transaction holds the
    write lock from BEGIN (decision 0003), which would make intake wait behind a dashboard. The
    next statement begins a new transaction, which the owner of the unit of work commits or rolls
    back as usual. Refuses a session holding changes not yet flushed."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read: the unit of work holds changes; it has not only read")
    if session.in_transaction():
        session.commit()
