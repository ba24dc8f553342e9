"""The demo city generator (演示城市生成): one seeded run writes a whole synthetic bureau.

Phases, each reported to an optional progress callback ``progress(phase, done, total)``:

1. ``geography`` — real divisions of the city (province, city, counties, townships) plus synthetic
   communities and villages; grids tiling the real county boundaries;
2. ``organisation`` — org tree, officers, users (one demo password, hashed once), duty units;
3. ``addresses`` — standard addresses down to rooms, each inside its grid;
4. ``incidents`` — incidents, calls, assignments, stage events and callbacks from January 1 of the
   year before last up to ``now``.

Writes go through SQLAlchemy Core in batches (no ORM, so no audit row per synthetic record) and
are committed phase by phase. The same seed, scale, city and ``now`` give the same data.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from faker import Faker
from sqlalchemy import Engine, func, select, update

from pingan.auth.security import hash_password
from pingan.config import get_settings
from pingan.db.types import utcnow
from pingan.demo import writer
from pingan.demo.addresses import AddressMaker
from pingan.demo.geography import CityPlan, children, division_rows, plan_city, resolve_city
from pingan.demo.incidents import IncidentMaker
from pingan.demo.names import NamePool
from pingan.demo.organisation import DEMO_PASSWORD, Account, build_organisation, org_rows, unit_rows
from pingan.demo.scale import Scale, get_scale
from pingan.geo.models import DivisionLevel
from pingan.org.models import UnitStatus

Progress = Callable[[str, int, int], None]
TABLES = ("division", "org_unit", "officer", "app_user", "grid", "duty_unit", "address", "incident", "call",
          "assignment", "stage_event", "callback")
DEFAULT_SEED = 20240101
LIVE_P1 = {"tiny": 1, "small": 3, "city": 5}  # priority-1 calls waiting to be accepted
LIVE_RECENT = {"tiny": 2, "small": 12, "city": 30}  # extra calls of the last hour, still under way


@dataclass
class DemoResult:
    city_code: str
    city: str
    scale: str
    seed: int
    now: datetime
    first_day: str
    counts: dict[str, int]
    accounts: list[Account]
    password: str
    open_incidents: int
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def check_city(city_code: str | None) -> str:
    """The city code to use (settings' default when None); raises ValidationFailed if unusable."""
    code = city_code or get_settings().city_code
    resolve_city(code)
    return code


def has_org_units(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(select(func.count()).select_from(writer.table("org_unit"))))


DEMO_USERNAMES = ("admin", "dispatcher", "chief", "patrol", "community", "auditor")


def existing_accounts(engine: Engine) -> list[Account]:
    """The demo accounts present in a database generated earlier (for `pingan demo --if-empty`)."""
    users, orgs = writer.table("app_user"), writer.table("org_unit")
    with engine.connect() as conn:
        rows = conn.execute(select(users.c.username, users.c.role, orgs.c.name, orgs.c.code)
                            .join(orgs, orgs.c.id == users.c.org_unit_id)
                            .where(users.c.username.in_(DEMO_USERNAMES))).all()
    found = {r.username: r for r in rows}
    return [Account(username=u, role=found[u].role, org_name=found[u].name, org_code=found[u].code)
            for u in DEMO_USERNAMES if u in found]


def reset(engine: Engine) -> None:
    """Delete every row (children first), then re-sync the code tables."""
    from pingan.db.migrate import upgrade

    writer.delete_everything(engine)
    upgrade(engine)


def _division_rows(plan: CityPlan) -> list[dict]:
    rows = division_rows()
    out = [{"code": plan.province_code, "name": plan.province, "level": DivisionLevel.PROVINCE, "parent_code": None}]
    if plan.city_code != plan.province_code:  # a municipality (直辖市) is its own city
        out.append({"code": plan.city_code, "name": plan.city, "level": DivisionLevel.CITY,
                    "parent_code": plan.province_code})
    for county in children(plan.city_code):
        if rows[county][0] != 3:
            continue
        out.append({"code": county, "name": rows[county][2], "level": DivisionLevel.COUNTY,
                    "parent_code": plan.city_code})
        for township in children(county):
            if rows[township][0] == 4:
                out.append({"code": township + "000", "name": rows[township][2], "level": DivisionLevel.TOWNSHIP,
                            "parent_code": county})
    known = {r["code"] for r in out}
    for township in plan.townships:
        if township.code not in known:  # a county without townships in the list: its pseudo-township
            out.append({"code": township.code, "name": township.name, "level": DivisionLevel.TOWNSHIP,
                        "parent_code": township.county.code})
            known.add(township.code)
        for community in township.communities:
            out.append({"code": community.code, "name": community.name, "level": DivisionLevel.COMMUNITY,
                        "parent_code": township.code})
    return out


def generate(engine: Engine, *, city_code: str | None = None, scale: str | Scale = "small",
             seed: int = DEFAULT_SEED, now: datetime | None = None, progress: Progress | None = None) -> DemoResult:
    """Generate the demo city into ``engine``'s database (schema at head, no org units yet)."""
    settings = get_settings()
    scale = scale if isinstance(scale, Scale) else get_scale(scale)
    city_code = city_code or settings.city_code
    now = now or utcnow()
    report = progress or (lambda phase, done, total: None)
    seconds: dict[str, float] = {}

    def stream(name: str) -> random.Random:
        return random.Random(f"pingan-demo:{seed}:{name}")  # independent, reproducible streams per phase

    names = NamePool(stream("names"))
    faker = Faker("zh_CN")
    faker.seed_instance(seed)

    t0 = time.perf_counter()
    report("geography", 0, 3)
    plan = plan_city(city_code, scale, stream("geography"), names)
    report("geography", 1, 3)
    with engine.begin() as conn:
        start_ids = {t: writer.next_id(conn, t) for t in TABLES if t != "division"}
    org = build_organisation(plan, stream("organisation"), faker, start_ids=start_ids, now=now,
                             password_hash=hash_password(DEMO_PASSWORD), scale_factor=scale.grids / 4500)
    grid_id = start_ids["grid"]
    for grid in plan.grids:
        grid.id = grid_id
        grid.org_unit_id = org.office_of_community[grid.community.code].id
        grid_id += 1
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        counts["division"] = writer.insert_rows(conn, "division", _division_rows(plan))
        report("geography", 2, 3)
        counts["org_unit"] = writer.insert_rows(conn, "org_unit", org_rows(org, now))
        counts["grid"] = writer.insert_rows(conn, "grid", (
            {"id": g.id, "code": g.code, "name": g.name, "zone_class": g.zone, "org_unit_id": g.org_unit_id,
             "division_code": g.community.code, "polygon": g.polygon, "min_lon": g.bounds[0], "min_lat": g.bounds[1],
             "max_lon": g.bounds[2], "max_lat": g.bounds[3], "centroid_lon": g.centroid[0],
             "centroid_lat": g.centroid[1], "created_at": now, "updated_at": now} for g in plan.grids))
    report("geography", 3, 3)
    seconds["geography"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report("organisation", 0, 3)
    with engine.begin() as conn:
        counts["officer"] = writer.insert_rows(conn, "officer", org.officers)
        report("organisation", 1, 3)
        counts["app_user"] = writer.insert_rows(conn, "app_user", org.users)
        report("organisation", 2, 3)
        counts["duty_unit"] = writer.insert_rows(conn, "duty_unit", unit_rows(org, now, stream("units")))
    report("organisation", 3, 3)
    seconds["organisation"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    maker = AddressMaker(plan, stream("addresses"), names, start_id=start_ids["address"], target=scale.addresses,
                         now=now)
    written = 0
    report("addresses", 0, scale.addresses)
    with engine.begin() as conn:
        batch: list[dict] = []
        for row in maker.generate():
            batch.append(row)
            if len(batch) >= writer.BATCH:
                written += writer.insert_rows(conn, "address", batch)
                batch = []
                report("addresses", written, max(written, scale.addresses))
        written += writer.insert_rows(conn, "address", batch)
    counts["address"] = written
    report("addresses", written, written)
    seconds["addresses"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    callers = [faker.name() for _ in range(max(200, min(3000, scale.incidents // 50)))]
    incidents = IncidentMaker(plan=plan, org=org, book=maker.book, rng=stream("incidents"), now=now,
                              target=scale.incidents, callback_share=scale.callback_share, start_ids=start_ids,
                              callers=callers, accept_targets=dict(settings.accept_target_seconds),
                              timezone=settings.timezone, live_p1=LIVE_P1.get(scale.label, 3),
                              live_recent=LIVE_RECENT.get(scale.label, 10))
    n_days = len(incidents.days())
    report("incidents", 0, n_days)
    for name in ("incident", "call", "assignment", "stage_event", "callback"):
        counts[name] = 0
    for batch in incidents.run(progress=lambda done, total: report("incidents", done, total)):
        with engine.begin() as conn:
            for name in ("incident", "call", "assignment", "stage_event", "callback"):
                counts[name] += writer.insert_rows(conn, name, batch[name])
    with engine.begin() as conn:
        units = writer.table("duty_unit")
        for unit_id, position in sorted(incidents.busy_units.items()):
            values = {"status": UnitStatus.ASSIGNED, "updated_at": now}  # explicit: no onupdate clock
            if position is not None:
                values.update(lat=position[0], lon=position[1])
            conn.execute(update(units).where(units.c.id == unit_id).values(**values))
        writer.fix_sequences(conn, [t for t in TABLES if t != "division"])
    writer.analyze(engine)
    seconds["incidents"] = time.perf_counter() - t0
    report("incidents", n_days, n_days)
    return DemoResult(city_code=city_code, city=plan.city, scale=scale.label, seed=seed, now=now,
                      first_day=incidents.first_day.isoformat(), counts=counts, accounts=org.accounts,
                      password=DEMO_PASSWORD, open_incidents=incidents.open_incidents, skipped=plan.skipped,
                      seconds=seconds)
