"""Dispatch: recommendations by travel time within jurisdiction, and the race for one unit."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.db.unit_of_work import unit_of_work_on
from pingan.errors import Conflict, Forbidden, NotFound
from pingan.geo.spatial import haversine_m
from pingan.incident import dispatch, service
from pingan.incident.models import Assignment, AssignmentStatus
from pingan.incident.schemas import IncidentCreate
from pingan.org import service as org_service
from pingan.org.models import UnitKind, UnitStatus
from tests.factories import actor_of

SCENE = (35.305, 113.905)  # 平原路123号, station A's grid


def names(recs) -> list[str]:
    return [r.call_sign for r in recs]


def test_recommendations_are_ordered_by_travel_time_not_distance(db, world, actors):
    recs = dispatch.recommend_units(db=db, actor=actors["dispatcher"], lat=SCENE[0], lon=SCENE[1])
    # the foot patrol is nearest, but the car 4× farther gets there sooner
    assert names(recs) == ["红旗巡1", "红旗步1", "卫滨巡1", "红旗巡2"]
    foot, car = recs[1], recs[0]
    assert foot.distance_m < car.distance_m and car.eta_seconds < foot.eta_seconds
    assert [r.eta_seconds for r in recs] == sorted(r.eta_seconds for r in recs)
    expected = haversine_m(SCENE[0], SCENE[1], car.lat, car.lon) * dispatch.ROAD_FACTOR / (30 / 3.6)
    assert car.eta_seconds == pytest.approx(expected, abs=1)


def test_only_available_units_are_recommended(db, world, actors, make_incident):
    incident = make_incident("a")
    service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=incident.id,
                        unit_id=world.units["红旗巡1"].id)
    world.units["红旗巡2"].status = UnitStatus.OFF_DUTY
    db.flush()
    recs = dispatch.recommend_for_incident(db=db, actor=actors["dispatcher"], incident_id=incident.id)
    assert names(recs) == ["红旗步1", "卫滨巡1"]


def test_recommendations_stay_in_the_actors_jurisdiction(db, world, actors):
    assert names(dispatch.recommend_units(db=db, actor=actors["chief_a"], lat=SCENE[0], lon=SCENE[1])) == [
        "红旗巡1", "红旗步1", "红旗巡2"]
    assert names(dispatch.recommend_units(db=db, actor=actors["chief_b"], lat=SCENE[0], lon=SCENE[1])) == ["卫滨巡1"]
    with pytest.raises(Forbidden):
        dispatch.recommend_units(db=db, actor=actors["patrol_a"], lat=SCENE[0], lon=SCENE[1])


def test_limit_and_kind_filter(db, world, actors):
    d = actors["dispatcher"]
    assert names(dispatch.recommend_units(db=db, actor=d, lat=SCENE[0], lon=SCENE[1], limit=2)) == ["红旗巡1", "红旗步1"]
    assert names(dispatch.recommend_units(db=db, actor=d, lat=SCENE[0], lon=SCENE[1],
                                          kinds=[UnitKind.FOOT_PATROL])) == ["红旗步1"]


def test_a_far_away_unit_is_still_found_by_the_growing_search(db, world, actors):
    for unit in world.units.values():
        unit.status = UnitStatus.OFF_DUTY
    lone = org_service.create_unit(db=db, call_sign="远郊巡1", kind=UnitKind.PATROL_CAR,
                                   org_unit_id=world.org["station_b"].id, lat=35.9, lon=114.6)
    recs = dispatch.recommend_units(db=db, actor=actors["dispatcher"], lat=SCENE[0], lon=SCENE[1])
    assert [r.unit_id for r in recs] == [lone.id] and recs[0].distance_m > 80_000


def test_recommendations_match_a_full_scan_on_a_random_city(db, world, actors):
    rng = random.Random(7)
    kinds = list(UnitKind)
    for unit in world.units.values():
        unit.status = UnitStatus.OFF_DUTY
    units = []
    for i in range(300):
        units.append(org_service.create_unit(
            db=db, call_sign=f"测{i:03d}", kind=rng.choice(kinds), org_unit_id=world.org["station_a"].id,
            lat=35.2 + rng.random() * 0.3, lon=113.75 + rng.random() * 0.35))
    for u in rng.sample(units, 60):
        u.status = UnitStatus.ASSIGNED
    db.flush()
    for _ in range(25):
        lat, lon = 35.2 + rng.random() * 0.3, 113.75 + rng.random() * 0.35
        got = dispatch.recommend_units(db=db, actor=actors["chief_a"], lat=lat, lon=lon, limit=5)
        scan = sorted(
            ((haversine_m(lat, lon, u.lat, u.lon) * dispatch.ROAD_FACTOR / dispatch.speed_mps(u.kind),
              haversine_m(lat, lon, u.lat, u.lon), u.id) for u in units if u.status == UnitStatus.AVAILABLE))
        assert [r.unit_id for r in got] == [t[2] for t in scan[:5]]


def test_recommend_for_an_incident_outside_jurisdiction_is_not_found(db, actors, make_incident):
    b = make_incident("b")
    with pytest.raises(NotFound):
        dispatch.recommend_for_incident(db=db, actor=actors["chief_a"], incident_id=b.id)


def test_an_incident_without_coordinates_uses_its_stations_position(db, world, actors, make_incident):
    world.org["bureau"].lat, world.org["bureau"].lon = 35.303, 113.852
    db.flush()
    incident = make_incident(address_id=None, location_text="某高速服务区")
    assert incident.lat is None
    recs = dispatch.recommend_for_incident(db=db, actor=actors["dispatcher"], incident_id=incident.id)
    assert recs[0].call_sign == "卫滨巡1"


# --- the race: two dispatchers, one unit, real transactions ---------------------------------


@pytest.fixture(scope="module")
def race_world(committed_engine):
    from tests.factories import build_world

    with unit_of_work_on(committed_engine) as db:
        w = build_world(db)
        ids = {"unit": w.units["红旗巡1"].id, "address": w.addresses[0].id,
               "dispatchers": [w.users["dispatcher"].id, w.users["admin"].id]}
        actors = [actor_of(db, w, "dispatcher"), actor_of(db, w, "admin")]
    return ids, actors


def _new_incidents(engine, actor, address_id: int, n: int) -> list[int]:
    with unit_of_work_on(engine) as db:
        out = []
        for _ in range(n):
            incident, _ = service.create_incident(db=db, actor=actor, data=IncidentCreate(
                location_text="平原路123号", address_id=address_id, category_code="1002", priority=1))
            out.append(incident.id)
        return out


def _race(engine, actors, incident_ids, unit_id) -> list[str]:
    barrier = threading.Barrier(len(actors))
    results: list[str | None] = [None] * len(actors)

    def run(i: int) -> None:
        session = Session(bind=engine, expire_on_commit=False, autoflush=False)
        session.info["actor"] = actors[i]
        try:
            barrier.wait(timeout=30)
            service.assign_unit(db=session, actor=actors[i], incident_id=incident_ids[i], unit_id=unit_id)
            session.commit()
            results[i] = "won"
        except Conflict as exc:
            session.rollback()
            results[i] = f"refused: {exc.zh} / {exc.en}"
        except Exception as exc:  # surfaced in the assertion below
            session.rollback()
            results[i] = f"error: {exc!r}"
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actors))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_dispatchers_assigning_one_unit_at_once_exactly_one_wins(committed_engine, race_world):
    ids, actors = race_world
    for _ in range(5):
        incidents = _new_incidents(committed_engine, actors[0], ids["address"], 2)
        results = _race(committed_engine, actors, incidents, ids["unit"])
        assert sorted(r.split(":")[0] for r in results) == ["refused", "won"], results
        assert "该警力已被其他调度员派出 / unit already taken" in next(r for r in results if r != "won")
        with unit_of_work_on(committed_engine) as db:
            active = db.scalars(select(Assignment).where(Assignment.unit_id == ids["unit"],
                                                         Assignment.active.is_(True))).all()
            assert len(active) == 1 and active[0].incident_id in incidents
            # free the unit for the next round
            service.advance_assignment(db=db, actor=actors[0], assignment_id=active[0].id,
                                       to=AssignmentStatus.CANCELLED)


def test_two_requests_with_one_idempotency_key_create_one_incident(committed_engine, race_world):
    ids, actors = race_world
    barrier = threading.Barrier(2)
    results: list = [None, None]
    key = f"race-{random.Random().randrange(10**9)}"

    def run(i: int) -> None:
        session = Session(bind=committed_engine, expire_on_commit=False, autoflush=False)
        try:
            barrier.wait(timeout=30)
            incident, created = service.create_incident(db=session, actor=actors[i], data=IncidentCreate(
                location_text="平原路123号", address_id=ids["address"], category_code="1002", priority=1,
                idempotency_key=key))
            session.commit()
            results[i] = (incident.id, created)
        except Exception as exc:
            session.rollback()
            results[i] = exc
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, tuple) for r in results), results
    assert results[0][0] == results[1][0]
    assert sorted(r[1] for r in results) == [False, True]
