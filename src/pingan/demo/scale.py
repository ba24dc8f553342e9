"""Demo scales (演示规模): how much of the city, and how many grids, addresses and incidents."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScaleName(StrEnum):
    TINY = "tiny"  # tests: one district, a few dozen grids, about a thousand incidents
    SMALL = "small"  # `make demo`: the urban districts, ready in under a minute on SQLite
    CITY = "city"  # the whole city at the scale of DESIGN.md


@dataclass(frozen=True)
class Scale:
    name: ScaleName
    # How many county-level divisions: 1 (the first urban district), "urban" (every 区), or all.
    counties: str
    max_counties: int | None
    grids: int  # target number of grids
    addresses: int  # target number of standard addresses (all levels, down to rooms)
    incidents: int  # target number of incidents from January 1 of the year before last to today
    callback_share: float  # share of closed incidents with a satisfaction callback

    @property
    def label(self) -> str:
        return self.name.value


SCALES: dict[ScaleName, Scale] = {
    ScaleName.TINY: Scale(ScaleName.TINY, counties="first", max_counties=1, grids=30, addresses=2_500,
                          incidents=1_000, callback_share=0.5),
    ScaleName.SMALL: Scale(ScaleName.SMALL, counties="urban", max_counties=4, grids=360, addresses=40_000,
                           incidents=75_000, callback_share=0.4),
    ScaleName.CITY: Scale(ScaleName.CITY, counties="all", max_counties=None, grids=4_500, addresses=400_000,
                          incidents=1_000_000, callback_share=0.3),
}


def get_scale(name: str | ScaleName) -> Scale:
    return SCALES[ScaleName(name)]
