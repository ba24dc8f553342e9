"""Synthetic incidents (演示警情) from January 1 of the year before last up to now.

Each incident is placed at a standard address of a grid (busier in the centre than in the
country), takes the grid's zone class and org unit, and follows the stages the service would
stamp: received → accepted (seconds to minutes) → dispatched → departed → arrived (mostly within
the zone's target, with a tail beyond) → resolved → closed with a disposition. Calls, unit
assignments, stage events (the timeline the statistics read) and satisfaction callbacks (about
95 % satisfied) are written alongside. Some incidents had further calls (call_count > 1).
Incidents still under way at ``now`` are left open — active assignments hold free units — and a
few priority-1 calls wait to be accepted, so the board has live content.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pingan.demo.addresses import AddressBook, Sampled
from pingan.demo.geography import CityPlan, GridPlan
from pingan.demo.organisation import Organisation, Unit, mobile
from pingan.demo.rhythm import (
    DESCRIPTIONS,
    HANDLING_MINUTES,
    INJURY,
    ITEMS,
    NOT_DISPATCHED,
    WHO,
    category_table,
    day_weight,
    disposition_table,
    festival_of,
    hourly_profile,
    pick,
    priority_table,
    season_of,
    spring_festival,
)
from pingan.geo.models import ZONE_TARGET_SECONDS, ZoneClass
from pingan.incident.models import AssignmentStatus, Disposition, Satisfaction, Stage, TimelineEvent
from pingan.incident.service import incident_number
from pingan.org.models import UnitKind, UnitStatus

ZONE_PACE = {ZoneClass.CENTRE: 0.55, ZoneClass.URBAN: 0.8, ZoneClass.SUBURBAN: 1.0}
ZONE_WEIGHT = {ZoneClass.CENTRE: 3.0, ZoneClass.URBAN: 1.6, ZoneClass.SUBURBAN: 0.55}
SATISFACTION = ((Satisfaction.SATISFIED, 90.0), (Satisfaction.BASICALLY, 5.0), (Satisfaction.UNSATISFIED, 2.0),
                (Satisfaction.UNREACHABLE, 3.0))
KIND_WEIGHT = {UnitKind.PATROL_CAR: 70, UnitKind.FOOT_PATROL: 15, UnitKind.MOTORCYCLE: 12, UnitKind.MOUNTED: 3}
ROOM_CATEGORIES = frozenset({"6001", "6002", "2004", "5003", "5002", "1001"})
STREET_CATEGORIES = frozenset({"3001", "3002", "3003", "3099", "2001", "1003", "4002", "2005"})
BATCH_INCIDENTS = 4_000
UNITS_CLEARED = "警力处置完毕 / units cleared"


@dataclass
class Timeline:
    received: datetime
    accepted: datetime
    escalated: datetime | None
    dispatched: datetime | None
    departed: datetime | None
    arrived: datetime | None
    resolved: datetime | None
    closed: datetime
    travel: float


def _lognormal(rng: random.Random, median: float, sigma: float, low: float, high: float) -> float:
    return min(high, max(low, median * math.exp(rng.gauss(0.0, sigma))))


class IncidentMaker:
    """Yields batches {table: rows} of incidents and everything that hangs off them."""

    def __init__(self, *, plan: CityPlan, org: Organisation, book: AddressBook, rng: random.Random, now: datetime,
                 target: int, callback_share: float, start_ids: dict[str, int], callers: list[str],
                 accept_targets: dict[int, int], timezone: str, live_p1: int, live_recent: int):
        self.plan, self.org, self.book, self.rng = plan, org, book, rng
        self.now = now
        self.target = target
        self.callback_share = callback_share
        self.callers = callers
        self.accept_targets = accept_targets
        self.zone = ZoneInfo(timezone)
        self.live_p1 = live_p1
        self.live_recent = live_recent
        self.ids = dict(start_ids)
        local_now = now.astimezone(self.zone)
        self.first_day = date(local_now.year - 2, 1, 1)
        self.last_day = local_now.date()
        self.start = datetime.combine(self.first_day, time(0), self.zone).astimezone(UTC)
        # Where incidents happen: grids weighted by zone and a lasting "hotness".
        self.grids: list[GridPlan] = [g for g in plan.grids if book.samples.get(g.code)]
        weights = [ZONE_WEIGHT[g.zone] * rng.lognormvariate(0.0, 0.6) for g in self.grids]
        total, cum = 0.0, []
        for w in weights:
            total += w
            cum.append(total)
        self.grid_cum = cum
        self.level1 = {g.code: [s for s in book.samples[g.code] if s.level == 1] for g in self.grids}
        self.rooms = {g.code: [s for s in book.samples[g.code] if s.level == 4] for g in self.grids}
        self.station_of = {g.code: org.station_of_township[g.township.code] for g in self.grids}
        self.busy: set[int] = {org.demo_unit.id}  # units holding an active assignment at `now`
        self.busy_units: dict[int, tuple[float, float] | None] = {}
        self.open_incidents = 0

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    # --- days ----------------------------------------------------------------------------------
    def days(self) -> list[date]:
        out, d = [], self.first_day
        while d <= self.last_day:
            out.append(d)
            d += timedelta(days=1)
        return out

    def run(self, progress: Callable[[int, int], None] | None = None) -> Iterator[dict[str, list[dict]]]:
        rng = self.rng
        days = self.days()
        base_year = self.first_day.year
        weights = [day_weight(d, base_year) for d in days]
        local_now = self.now.astimezone(self.zone)
        # Today counts only its elapsed part of the daily rhythm.
        cum = hourly_profile(season_of(local_now.month), festival_of(local_now.date()), False)
        before = cum[local_now.hour - 1] if local_now.hour else 0.0
        elapsed = before + (cum[local_now.hour] - before) * (local_now.minute * 60 + local_now.second) / 3600
        weights[-1] *= elapsed / cum[-1]
        per_weight = self.target / sum(weights)
        batch = self._empty()
        in_batch = 0
        for index, (day, weight) in enumerate(zip(days, weights, strict=True)):
            lam = weight * per_weight
            n = max(0, round(rng.gauss(lam, math.sqrt(lam)))) if lam > 0 else 0
            season = season_of(day.month)
            festival = festival_of(day)
            new_year_day = day == spring_festival(day.year)
            profile = hourly_profile(season, festival, new_year_day)
            day_start = datetime.combine(day, time(0), self.zone).astimezone(UTC)
            seconds = sorted(pick(profile, rng.random()) * 3600 + rng.random() * 3600 for _ in range(n))
            for s in seconds:
                received = day_start + timedelta(seconds=s)
                if received >= self.now:
                    break
                hour = int(s // 3600)
                codes, cum = category_table(hour, season, festival)
                self._incident(batch, received, codes[pick(cum, rng.random())])
                in_batch += 1
            if in_batch >= BATCH_INCIDENTS or index == len(days) - 1:
                if index == len(days) - 1:
                    self._live(batch)
                yield batch
                batch = self._empty()
                in_batch = 0
                if progress:
                    progress(index + 1, len(days))

    @staticmethod
    def _empty() -> dict[str, list[dict]]:
        return {"incident": [], "call": [], "assignment": [], "stage_event": [], "callback": []}

    # --- one incident --------------------------------------------------------------------------
    def _place(self, code: str) -> tuple[GridPlan, Sampled]:
        rng = self.rng
        grid = self.grids[pick(self.grid_cum, rng.random())]
        pool = self.book.samples[grid.code]
        if code in STREET_CATEGORIES and self.level1[grid.code]:
            pool = self.level1[grid.code]
        elif code in ROOM_CATEGORIES and self.rooms[grid.code] and rng.random() < 0.7:
            pool = self.rooms[grid.code]
        return grid, rng.choice(pool)

    def _location_text(self, address: Sampled) -> str:
        rng = self.rng
        r = rng.random()
        text = address.text
        if r < 0.45:
            out = text
        elif r < 0.7:
            out = f"{address.county}{text}"
        elif r < 0.85:
            out = f"{address.township}{text}"
        else:
            out = f"{self.plan.city}{address.county}{text}"
        if address.level == 1 and rng.random() < 0.2:
            out += rng.choice(("附近", "门口", "对面", "旁边", "路口"))
        return out[:255]

    def _description(self, code: str) -> str:
        rng = self.rng
        template = rng.choice(DESCRIPTIONS.get(code, ("报警人反映情况",)))
        return template.format(item=rng.choice(ITEMS), n=rng.randint(2, 9), who=rng.choice(WHO),
                               injury=rng.choice(INJURY))

    def _timeline(self, received: datetime, code: str, priority: int, zone: ZoneClass) -> Timeline:
        rng = self.rng
        accept = _lognormal(rng, 8.0 if priority == 1 else 14.0, 0.8, 2.0, 900.0)
        if rng.random() < 0.01:
            accept *= rng.uniform(3, 12)  # a busy moment: calls queue
        accepted = received + timedelta(seconds=accept)
        escalated = None
        target = self.accept_targets.get(priority)
        if priority in (1, 2) and target is not None and accept > target:
            # flagged by the escalation job (every few seconds) before someone accepted it
            escalated = received + timedelta(seconds=target + (accept - target) * rng.uniform(0.1, 0.9))
        if rng.random() < NOT_DISPATCHED.get(code, 0.0):
            resolved = None if code == "9002" else accepted + timedelta(seconds=rng.uniform(30, 400))
            closed = (resolved or accepted) + timedelta(seconds=rng.uniform(10, 180))
            return Timeline(received, accepted, escalated, None, None, None, resolved, closed, 0.0)
        # Dispatch and departure are quicker where the target is tighter; travel takes what is left
        # of about 60 % of the zone's target, with a tail beyond it.
        pace = ZONE_PACE[zone]
        dispatch = _lognormal(rng, pace * (25.0 if priority <= 2 else 40.0), 0.6, 5.0, 1800.0)
        depart = _lognormal(rng, pace * 30.0, 0.6, 5.0, 900.0)
        zone_target = ZONE_TARGET_SECONDS[zone]
        travel = _lognormal(rng, max(40.0, 0.6 * zone_target - pace * 70.0 - 14.0), 0.35, 20.0, 7200.0)
        if rng.random() < 0.04:
            travel *= rng.uniform(2.0, 5.0)  # far away, traffic, a wrong address: the tail
        dispatched = accepted + timedelta(seconds=dispatch)
        departed = dispatched + timedelta(seconds=depart)
        arrived = departed + timedelta(seconds=travel)
        handling = _lognormal(rng, HANDLING_MINUTES.get(code[:2], 30) * 60.0, 0.6, 120.0, 6 * 3600.0)
        resolved = arrived + timedelta(seconds=handling)
        closed = resolved + timedelta(seconds=_lognormal(rng, 480.0, 1.0, 30.0, 12 * 3600.0))
        return Timeline(received, accepted, escalated, dispatched, departed, arrived, resolved, closed, travel)

    def _units_for(self, grid: GridPlan, priority: int, open_now: bool) -> list[Unit]:
        """The units sent: one of the station's (two for some urgent calls)."""
        rng = self.rng
        station = self.station_of[grid.code]
        pool = station.units
        if open_now:
            pool = [u for u in pool if u.id not in self.busy and u.status == UnitStatus.AVAILABLE]
            if not pool:
                pool = [u for u in self.org.units if u.station is None and u.id not in self.busy
                        and u.status == UnitStatus.AVAILABLE]
        if not pool:
            return []
        total = sum(KIND_WEIGHT[u.kind] for u in pool)
        r = rng.random() * total
        first = pool[-1]
        for u in pool:
            r -= KIND_WEIGHT[u.kind]
            if r <= 0:
                first = u
                break
        chosen = [first]
        if priority <= 2 and rng.random() < 0.12:
            others = [u for u in pool if u is not first]
            team = [u for u in self.org.units if u.station is None
                    and (not open_now or (u.id not in self.busy and u.status == UnitStatus.AVAILABLE))]
            extra = rng.choice(team) if team and rng.random() < 0.5 else (rng.choice(others) if others else None)
            if extra is not None and extra is not first:
                chosen.append(extra)
        return chosen

    def _incident(self, batch: dict[str, list[dict]], received: datetime, code: str, *,
                  priority: int | None = None, place: tuple[GridPlan, Sampled] | None = None,
                  timeline: Timeline | None = None, units: list[Unit] | None = None) -> int:
        rng = self.rng
        now = self.now
        if priority is None:
            priority = pick(priority_table(code), rng.random()) + 1
        grid, address = place or self._place(code)
        zone = grid.zone
        tl = timeline or self._timeline(received, code, priority, zone)
        incident_id = self._next("incident")
        org_unit_id = grid.org_unit_id
        dispatchers = self.org.dispatcher_ids
        taker = rng.choice(dispatchers)
        events: list[dict] = batch["stage_event"]

        def event(stage: str, at: datetime, actor: int | None, assignment: int | None = None,
                  note: str | None = None) -> None:
            if at <= now:  # ids come from the database: nothing refers to a stage event
                events.append({"incident_id": incident_id,
                               "assignment_id": assignment, "org_unit_id": org_unit_id, "stage": stage, "at": at,
                               "actor_id": actor, "note": note})

        open_now = tl.closed > now
        # Stage reached by now, and the stamps up to it.
        def upto(t: datetime | None) -> datetime | None:
            return t if t is not None and t <= now else None

        accepted, escalated = upto(tl.accepted), upto(tl.escalated)
        dispatched, departed, arrived = upto(tl.dispatched), upto(tl.departed), upto(tl.arrived)
        resolved, closed = upto(tl.resolved), upto(tl.closed)
        sent: list[Unit] = []
        if tl.dispatched is not None:
            if units is not None:
                sent = units
            elif dispatched is not None:
                sent = self._units_for(grid, priority, open_now and (resolved is None))
            if dispatched is not None and not sent:  # nobody free right now: still waiting for a unit
                dispatched = departed = arrived = None
        stage = (Stage.CLOSED if closed else Stage.RESOLVED if resolved else Stage.ARRIVED if arrived
                 else Stage.DEPARTED if departed else Stage.DISPATCHED if dispatched
                 else Stage.ACCEPTED if accepted else Stage.RECEIVED)
        disposition = None
        if closed is not None:
            choices, cum = disposition_table(code)
            disposition = choices[pick(cum, rng.random())]
        caller_name = rng.choice(self.callers) if rng.random() < 0.75 else None
        caller_phone = mobile(rng)
        location_text = self._location_text(address)
        description = self._description(code)
        r = rng.random()
        call_count = 3 if r < 0.01 else 2 if r < 0.04 else 1
        last = max(t for t in (tl.received, accepted, dispatched, departed, arrived, resolved, closed) if t)
        batch["incident"].append({
            "id": incident_id, "number": incident_number(incident_id, received), "idempotency_key": None,
            "category_code": code, "priority": priority, "stage": stage, "description": description,
            "location_text": location_text, "address_id": address.id, "lat": address.lat, "lon": address.lon,
            "grid_id": grid.id, "zone_class": zone, "org_unit_id": org_unit_id,
            "division_code": address.division_code, "caller_phone": caller_phone, "caller_name": caller_name,
            "call_count": 1, "received_at": received, "accepted_at": accepted, "dispatched_at": dispatched,
            "departed_at": departed, "arrived_at": arrived, "resolved_at": resolved, "closed_at": closed,
            "escalated_at": escalated, "disposition": disposition, "disposition_note": None,
            "created_by_id": taker, "version": 1, "created_at": received, "updated_at": last,
        })
        incident_row = batch["incident"][-1]
        batch["call"].append({"incident_id": incident_id, "received_at": received,
                              "caller_phone": caller_phone, "caller_name": caller_name,
                              "location_text": location_text, "description": description, "taker_id": taker})
        event(Stage.RECEIVED, received, taker)
        if escalated is not None:
            seconds = self.accept_targets[priority]
            event(TimelineEvent.ESCALATED, escalated, None,
                  note=f"超过 {seconds} 秒未签收 / not accepted within {seconds} s")
        if accepted is not None:
            event(Stage.ACCEPTED, accepted, rng.choice(dispatchers))
        dispatcher = rng.choice(dispatchers)
        for k, unit in enumerate(sent):
            a_id = self._next("assignment")
            offset = timedelta(seconds=20 * k)
            a_dispatched = dispatched + offset
            a_departed = upto(tl.departed + offset) if departed is not None else None
            a_arrived = upto(tl.arrived + offset * 2) if arrived is not None else None
            if a_arrived is not None and resolved is not None and a_arrived > resolved:
                a_arrived = resolved
            active = resolved is None and closed is None
            status = (AssignmentStatus.CLEARED if not active else AssignmentStatus.ARRIVED if a_arrived
                      else AssignmentStatus.DEPARTED if a_departed else AssignmentStatus.DISPATCHED)
            batch["assignment"].append({
                "id": a_id, "incident_id": incident_id, "unit_id": unit.id, "status": status, "active": active,
                "dispatcher_id": dispatcher, "eta_seconds": int(tl.travel * rng.uniform(0.8, 1.2)) or None,
                "dispatched_at": a_dispatched, "departed_at": a_departed, "arrived_at": a_arrived,
                "cleared_at": resolved if not active else None,
            })
            if active:
                self.busy.add(unit.id)
                self.busy_units[unit.id] = (address.lat, address.lon) if a_arrived else None
            actor = unit.operator_user_id or dispatcher
            event(AssignmentStatus.DISPATCHED, a_dispatched, dispatcher, a_id, unit.call_sign)
            if a_departed:
                event(AssignmentStatus.DEPARTED, a_departed, actor, a_id, unit.call_sign)
            if a_arrived:
                event(AssignmentStatus.ARRIVED, a_arrived, actor, a_id, unit.call_sign)
            if not active and resolved is not None:
                event(AssignmentStatus.CLEARED, resolved, actor, a_id, unit.call_sign)
        if resolved is not None:
            event(Stage.RESOLVED, resolved, dispatcher, note=UNITS_CLEARED if sent else None)
        if closed is not None:
            event(Stage.CLOSED, closed, dispatcher, note=Disposition(disposition).zh)
        # Further calls about the same incident (重复来电).
        end = closed or now
        for n in range(2, call_count + 1):
            at = received + timedelta(seconds=rng.uniform(20, 600))
            if at >= end:
                continue
            phone = mobile(rng)
            name = rng.choice(self.callers) if rng.random() < 0.75 else None
            batch["call"].append({"incident_id": incident_id, "received_at": at,
                                  "caller_phone": phone, "caller_name": name,
                                  "location_text": self._location_text(address), "description": description,
                                  "taker_id": rng.choice(dispatchers)})
            incident_row["call_count"] += 1
            event(TimelineEvent.CALL, at, taker, note=f"第 {incident_row['call_count']} 次来电")
        # A satisfaction callback (回访) some hours after closing.
        if (closed is not None and disposition not in (Disposition.INVALID_CALL, Disposition.FALSE_REPORT)
                and rng.random() < self.callback_share):
            at = closed + timedelta(seconds=rng.uniform(2 * 3600, 48 * 3600))
            if at <= now:
                satisfaction = SATISFACTION[pick(_SAT_CUM, rng.random())][0]
                by = rng.choice(dispatchers)
                batch["callback"].append({"incident_id": incident_id, "at": at,
                                          "satisfaction": satisfaction, "note": None, "by_id": by})
                event(TimelineEvent.CALLBACK, at, by, note=Satisfaction(satisfaction).zh)
        if stage != Stage.CLOSED:
            self.open_incidents += 1
        return incident_id

    # --- live content --------------------------------------------------------------------------
    def _live(self, batch: dict[str, list[dict]]) -> None:
        """Calls of the last hour still under way, a call just dispatched to the demo patrol unit,
        and a few priority-1 calls waiting to be accepted."""
        rng = self.rng
        now = self.now
        org = self.org
        recent = sorted(now - timedelta(seconds=rng.uniform(90, 3600)) for _ in range(self.live_recent))
        for received in recent:
            local = received.astimezone(self.zone)
            codes, cum = category_table(local.hour, season_of(local.month), festival_of(local.date()))
            self._incident(batch, received, codes[pick(cum, rng.random())])
        demo_grids = [g for g in org.demo_station.grids if self.book.samples.get(g.code)]
        if demo_grids:
            grid = rng.choice(demo_grids)
            address = rng.choice(self.level1[grid.code] or self.book.samples[grid.code])
            received = now - timedelta(seconds=240)
            tl = Timeline(received, received + timedelta(seconds=12), None, received + timedelta(seconds=70),
                          now + timedelta(minutes=2), now + timedelta(minutes=6), now + timedelta(minutes=40),
                          now + timedelta(minutes=50), 300.0)
            self._incident(batch, received, "2001", priority=2, place=(grid, address), timeline=tl,
                           units=[org.demo_unit])
        for k in range(self.live_p1):
            pool = demo_grids if k == 0 and demo_grids else self.grids
            grid = rng.choice(pool)
            address = rng.choice(self.book.samples[grid.code])
            received = now - timedelta(seconds=rng.uniform(5, 25) + 40 * k)
            code = rng.choice(("5002", "1002", "4001", "3001", "1006"))
            tl = Timeline(received, now + timedelta(hours=1), None, None, None, None, None,
                          now + timedelta(hours=2), 0.0)
            self._incident(batch, received, code, priority=1, place=(grid, address), timeline=tl)


_SAT_CUM = tuple(sum(w for _, w in SATISFACTION[: i + 1]) for i in range(len(SATISFACTION)))
