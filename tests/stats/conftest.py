"""Fixtures for the statistics tests: hand-built incidents at exact local times, and a store.

The world (tests/factories.py) has two branches: 红旗分局 → 西街派出所 → 新华社区警务室 (whose
grid A is a city-centre grid, target 3 min) and 卫滨分局 → 胜利路派出所 (grid B, suburban,
target 10 min). ``make_incident`` writes an incident row directly with its stage times given
in seconds after reception, so that every expected figure can be worked out by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pingan.auth.actor import Actor
from pingan.incident.models import Callback, Incident, Satisfaction, Stage
from pingan.org.system import org_path_of
from pingan.stats.store import StatsStore

LOCAL = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """'2026-07-01 10:00:00' in Asia/Shanghai, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL)


def make_incident(db, world, *, at: str, side: str = "a", category: str = "2001", priority: int = 2,
                  accept: float | None = None, dispatch: float | None = None, depart: float | None = None,
                  arrive: float | None = None, escalated: bool = False, disposition: str | None = None,
                  satisfaction: Satisfaction | None = None) -> Incident:
    """An incident received at local time ``at`` on side 'a' (community office A, grid A, centre)
    or 'b' (station B, grid B, suburban); stage times in seconds after reception."""
    received = local(at)
    grid = world.grids[side]
    org = world.org["office_a"] if side == "a" else world.org["station_b"]

    def after(seconds: float | None) -> datetime | None:
        return None if seconds is None else received + timedelta(seconds=seconds)

    stage = Stage.RECEIVED
    for seconds, reached in ((accept, Stage.ACCEPTED), (dispatch, Stage.DISPATCHED), (depart, Stage.DEPARTED),
                             (arrive, Stage.ARRIVED)):
        if seconds is not None:
            stage = reached
    closed = None
    if satisfaction is not None or disposition is not None:
        stage, closed = Stage.CLOSED, received + timedelta(hours=1)
    incident = Incident(category_code=category, priority=priority, stage=stage, location_text="测试地点",
                        grid_id=grid.id, zone_class=grid.zone_class, org_unit_id=org.id, received_at=received,
                        accepted_at=after(accept), dispatched_at=after(dispatch), departed_at=after(depart),
                        arrived_at=after(arrive), closed_at=closed,
                        escalated_at=after(40) if escalated else None, disposition=disposition,
                        call_count=1, version=1)
    db.add(incident)
    db.flush()
    if satisfaction is not None:
        db.add(Callback(incident_id=incident.id, at=received + timedelta(hours=2), satisfaction=satisfaction))
        db.flush()
    return incident


def actor_of(db, world, username: str) -> Actor:
    user = world.users[username]
    return Actor.for_user(user, org_path_of(db=db, org_unit_id=user.org_unit_id))


@pytest.fixture
def store():
    s = StatsStore(path=None, memory_limit="64MB", threads=1)
    yield s
    s.close()


@pytest.fixture
def admin(db, world) -> Actor:
    return actor_of(db, world, "admin")
