"""The holiday table's seed: every year the ``chinese-calendar`` package knows, synced by
``db upgrade``. A day an admin changed (source "admin") is kept; a year the package does not
know is left empty, and so shown as without data (the package raises for it)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from pingan.clocks.rules import DayKind

NAMES_ZH = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
FIRST_YEAR = 2020  # older arrangements serve no open deadline


def package_days(*years: int) -> list[tuple[date, DayKind, str]]:
    """The package's holidays and make-up working days of ``years`` (all it knows by default)."""
    import chinese_calendar

    wanted = set(years) if years else None
    rows = []
    for table, kind in ((chinese_calendar.constants.holidays, DayKind.HOLIDAY),
                        (chinese_calendar.constants.workdays, DayKind.WORKDAY)):
        for day, name in table.items():
            if day.year < FIRST_YEAR or (wanted is not None and day.year not in wanted):
                continue
            rows.append((day, kind, NAMES_ZH.get(str(name), str(name))))
    return sorted(rows)


def sync_holidays(*, db: Session) -> None:
    from pingan.clocks import system

    system.seed_holidays_unscoped(db=db, rows=package_days())
