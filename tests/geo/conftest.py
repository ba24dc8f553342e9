"""Fixtures for the geo tests: the shared world plus a small standard-address registry."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pingan.geo import matcher, spatial
from pingan.geo.models import Address

HONGQI = "河南省新乡市红旗区西街街道新华社区"
WEIBIN = "河南省新乡市卫滨区胜利路街道胜利社区"


@pytest.fixture(autouse=True)
def _fresh_indexes(monkeypatch):
    """Compare the table fingerprint on every call, so each test sees its own rows."""
    monkeypatch.setattr(matcher, "CHECK_INTERVAL_SECONDS", 0.0)
    monkeypatch.setattr(spatial, "CHECK_INTERVAL_SECONDS", 0.0)
    matcher.invalidate()
    spatial.invalidate()


@dataclass
class Registry:
    world: object
    by_key: dict[str, Address] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Address:
        return self.by_key[key]


def add_address(db, *, code: str, full_text: str, county: str, division: str, grid, lat: float, lon: float,
                road: str | None = None, house_no: str | None = None, place: str | None = None,
                building: str | None = None, unit: str | None = None, room: str | None = None) -> Address:
    level = 4 if room else 3 if unit else 2 if building else 1
    address = Address(code=code, full_text=full_text, county_code=county, division_code=division, road=road,
                      house_no=house_no, place_name=place, building=building, unit_no=unit, room=room,
                      lat=lat, lon=lon, grid_id=grid.id if grid is not None else None, level=level)
    db.add(address)
    return address


@pytest.fixture
def registry(db, world) -> Registry:
    """World's three addresses plus 新华小区 (平原路123号) buildings, units and rooms, 人民路
    in both districts (an ambiguous road), a village with house numbers and an address with
    no grid yet."""
    reg = Registry(world=world)
    reg.by_key["平原路123号"] = world.addresses[0]
    reg.by_key["平原路125号"] = world.addresses[1]
    reg.by_key["胜利路8号"] = world.addresses[2]
    ga, gb = world.grids["a"], world.grids["b"]
    n = 100
    for b in (1, 2, 5):
        n += 1
        reg.by_key[f"b{b}"] = add_address(
            db, code=f"T{n:07d}", full_text=f"{HONGQI}平原路123号新华小区{b}号楼", county="410702",
            division="410702001001", grid=ga, lat=35.3051, lon=113.9051, road="平原路", house_no="123号",
            place="新华小区", building=f"{b}号楼")
        for u in (1, 2):
            n += 1
            reg.by_key[f"b{b}u{u}"] = add_address(
                db, code=f"T{n:07d}", full_text=f"{HONGQI}平原路123号新华小区{b}号楼{u}单元", county="410702",
                division="410702001001", grid=ga, lat=35.3052, lon=113.9052, road="平原路", house_no="123号",
                place="新华小区", building=f"{b}号楼", unit=f"{u}单元")
            for r in (101, 102, 201, 202, 301, 302):
                n += 1
                reg.by_key[f"{b}-{u}-{r}"] = add_address(
                    db, code=f"T{n:07d}", full_text=f"{HONGQI}平原路123号新华小区{b}号楼{u}单元{r}室",
                    county="410702", division="410702001001", grid=ga, lat=35.3053, lon=113.9053, road="平原路",
                    house_no="123号", place="新华小区", building=f"{b}号楼", unit=f"{u}单元", room=f"{r}室")
    reg.by_key["人民路9号-红旗"] = add_address(
        db, code="T0000901", full_text=f"{HONGQI}人民路9号", county="410702", division="410702001001", grid=ga,
        lat=35.3071, lon=113.9071, road="人民路", house_no="9号")
    reg.by_key["人民路9号-卫滨"] = add_address(
        db, code="T0000902", full_text=f"{WEIBIN}人民路9号", county="410703", division="410703001001", grid=gb,
        lat=35.3072, lon=113.8572, road="人民路", house_no="9号")
    reg.by_key["张庄村15号"] = add_address(
        db, code="T0000903", full_text=f"{WEIBIN}张庄村15号", county="410703", division="410703001001", grid=gb,
        lat=35.3021, lon=113.8521, place="张庄村", house_no="15号")
    reg.by_key["无网格"] = add_address(
        db, code="T0000904", full_text="河南省新乡市红旗区西街街道新华社区纬七路77号", county="410702",
        division="410702001001", grid=None, lat=35.40, lon=114.20, road="纬七路", house_no="77号")
    db.flush()
    return reg
