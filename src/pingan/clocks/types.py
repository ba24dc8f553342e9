"""Clock types: what a module declares for each of its deadlines (its rule and the lead time
before the due time at which the clock turns due soon). ``declare_clock_type`` is called at
import by the declaring module; the types below are those the shared tests use, declared as a
case module will declare them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pingan.clocks.rules import Rule, Unit
from pingan.db.enum import Label
from pingan.errors import DomainError


@dataclass(frozen=True)
class ClockType:
    name: str
    label: Label
    rule: Rule
    lead: timedelta
    basis: str = ""


_TYPES: dict[str, ClockType] = {}


class UnknownClockType(DomainError):
    status_code = 422


def declare_clock_type(name: str, label: Label, rule: Rule, *, lead: timedelta, basis: str = "") -> ClockType:
    if name in _TYPES and _TYPES[name] != ClockType(name, label, rule, lead, basis):
        raise ValueError(f"clock type {name!r} declared twice, differently")
    _TYPES[name] = ClockType(name, label, rule, lead, basis)
    return _TYPES[name]


def clock_type(name: str) -> ClockType:
    try:
        return _TYPES[name]
    except KeyError:
        raise UnknownClockType(f"未知的期限类型：{name}", f"Unknown clock type: {name}", field="clock_type") from None


def clock_types() -> dict[str, ClockType]:
    return dict(_TYPES)


CRIMINAL_DETENTION = declare_clock_type(
    "criminal_detention", ("刑事拘留", "criminal detention"), Rule(3, Unit.DAYS, legal=True, in_custody=True),
    lead=timedelta(hours=12), basis="刑事诉讼法第91条（可延长1至4日；特定情形至30日）")
SUMMONS = declare_clock_type(
    "summons", ("传唤", "summons"), Rule(12, Unit.HOURS, legal=True, in_custody=True),
    lead=timedelta(hours=2), basis="刑事诉讼法第119条（案情重大复杂的不超过24小时）")
ADMINISTRATIVE_CASE = declare_clock_type(
    "administrative_case", ("行政案件办案期限", "administrative case"), Rule(30, Unit.DAYS, legal=True),
    lead=timedelta(days=5), basis="治安管理处罚法第99条（经上一级批准可延长30日）")
SERVICE_LIMIT = declare_clock_type(
    "service_limit", ("承诺办结时限", "service time limit"), Rule(5, Unit.WORKING_DAYS),
    lead=timedelta(days=1), basis="办事指南承诺时限")
