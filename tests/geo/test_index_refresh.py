"""The address index outside a request: warm-up and background rebuild in short transactions."""

import time

import pytest
from sqlalchemy.orm import sessionmaker

import pingan.db.session as session_mod
from pingan.geo import matcher
from pingan.geo.models import Address
from tests._db import fresh_database, migrated_engine


def _address(code: str, road: str, house: str) -> Address:
    return Address(code=code, full_text=f"河南省新乡市红旗区西街街道新华社区{road}{house}", county_code="410702",
                   division_code="410702001001", road=road, house_no=house, lat=35.3, lon=113.9, level=1)


@pytest.fixture
def own_database(engine, monkeypatch):
    """A database of its own whose writes commit, so a background thread can read it with its own
    connections (``engine`` only makes the suite's settings exist first)."""
    url, drop = fresh_database("pingan_test_index")
    own = migrated_engine(url)
    factory = sessionmaker(bind=own, expire_on_commit=False, autoflush=False)
    monkeypatch.setattr(session_mod, "get_sessionmaker", lambda: factory)
    for name, value in (("_index", None), ("_rebuilding", False), ("_dirty", True)):
        monkeypatch.setattr(matcher, name, value)
    with factory() as db:
        db.add_all([_address("R1", "测试路", "1号"), _address("R2", "测试路", "3号")])
        db.commit()
    yield factory
    matcher.stop_watching()
    own.dispose()
    drop()


def test_warm_up_builds_in_the_background_and_later_changes_rebuild_there(own_database, monkeypatch):
    factory = own_database
    matcher.warm_up()
    assert matcher._built.wait(30)
    first = matcher._index
    assert first is not None and first.n == 2
    with factory() as db:
        assert matcher.get_address_index(db) is first
        db.commit()

    monkeypatch.setattr(matcher, "BACKGROUND_REBUILD_ROWS", 1)
    monkeypatch.setattr(matcher, "CHECK_INTERVAL_SECONDS", 0.0)
    with factory() as writer:
        writer.add(_address("R3", "测试路", "5号"))
        writer.commit()
    with factory() as db:
        served = matcher.get_address_index(db)  # stale: the old index serves while a thread rebuilds
        db.commit()
    assert served is first
    assert matcher._built.wait(30)
    # a writer is never held up by the build: it reads in one short transaction per batch
    with factory() as writer:
        writer.add(_address("R4", "测试路", "7号"))
        writer.commit()
    assert matcher._index is not first and matcher._index.n >= 3
    best = matcher._index.match("红旗区测试路5号")[0]
    assert best.full_text.endswith("测试路5号") and best.score >= 0.6


def test_the_watcher_notices_a_change_made_elsewhere(own_database, monkeypatch):
    factory = own_database
    monkeypatch.setattr(matcher, "CHECK_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(matcher, "FULL_CHECK_EVERY", 1)
    matcher.warm_up()
    assert matcher._built.wait(30) and matcher._index.n == 2
    first = matcher._index
    with factory() as writer:  # as another process would: no flush seen by this one
        writer.add(_address("R9", "测试路", "9号"))
        writer.commit()
    for _ in range(200):
        if matcher._index is not first and not matcher._rebuilding:
            break
        time.sleep(0.05)
    assert matcher._index.n == 3
    assert matcher._index.match("红旗区测试路9号")[0].full_text.endswith("测试路9号")
