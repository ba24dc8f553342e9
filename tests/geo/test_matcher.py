"""The address matcher on a hand-built in-memory registry (no database)."""

import numpy as np
import pytest

from pingan.geo.matcher import AddressIndex, chinese_number, house_key, normalize, parse_tail

HONGQI = "河南省新乡市红旗区西街街道新华社区"
WEIBIN = "河南省新乡市卫滨区胜利路街道胜利社区"


def build_index():
    rows = []

    def add(full, county, division, road, house, place, b=None, u=None, r=None, grid=1):
        rows.append((len(rows) + 1, full, county, division, road, house, place, b, u, r, 35.3 + len(rows) / 1e4,
                     113.9, grid))
        return len(rows)

    ids = {}
    ids["house"] = add(f"{HONGQI}平原路123号", "410702", "410702001001", "平原路", "123号", None)
    ids["125"] = add(f"{HONGQI}平原路125号", "410702", "410702001001", "平原路", "125号", None)
    for b in (1, 2, 5):
        ids[f"b{b}"] = add(f"{HONGQI}平原路123号新华小区{b}号楼", "410702", "410702001001", "平原路", "123号",
                           "新华小区", f"{b}号楼")
        for u in (1, 2):
            ids[f"b{b}u{u}"] = add(f"{HONGQI}平原路123号新华小区{b}号楼{u}单元", "410702", "410702001001", "平原路",
                                   "123号", "新华小区", f"{b}号楼", f"{u}单元")
            for r in (101, 201, 301, 302):
                ids[f"{b}-{u}-{r}"] = add(f"{HONGQI}平原路123号新华小区{b}号楼{u}单元{r}室", "410702",
                                          "410702001001", "平原路", "123号", "新华小区", f"{b}号楼", f"{u}单元",
                                          f"{r}室")
    ids["胜利路8号"] = add(f"{WEIBIN}胜利路8号", "410703", "410703001001", "胜利路", "8号", None, grid=2)
    ids["人民路9号-红旗"] = add(f"{HONGQI}人民路9号", "410702", "410702001001", "人民路", "9号", None)
    ids["人民路9号-卫滨"] = add(f"{WEIBIN}人民路9号", "410703", "410703001001", "人民路", "9号", None, grid=2)
    ids["张庄村15号"] = add(f"{WEIBIN}张庄村15号", "410703", "410703001001", None, "15号", "张庄村", grid=2)
    index = AddressIndex(rows, [(1, "/1/2/3/"), (2, "/1/5/")], [("410702001001", "新华社区")], signature=None)
    return index, ids


@pytest.fixture(scope="module")
def indexed():
    return build_index()


def top(index, text, **kw):
    results = index.match(text, **kw)
    assert results, text
    return results[0]


def test_normalisation_of_numbers_and_markers():
    assert chinese_number("一二三") == "123"
    assert chinese_number("一百二十三") == "123"
    assert chinese_number("十二") == "12" and chinese_number("二十") == "20" and chinese_number("三零一") == "301"
    assert normalize("紅旗區 平原路一二三號院五號樓二單元三〇一") == "红旗区平原路123号5号楼2单元301"
    assert normalize("５＃楼") == "5号楼"
    assert normalize("五一路") == "五一路"  # a road name keeps its numerals
    assert house_key("123号院") == "123" and house_key("一二三号") == "123"


@pytest.mark.parametrize("tail, expected", [
    ("5号楼2单元301室", ("5", "2", "301")),
    ("5栋2单元301", ("5", "2", "301")),
    ("5幢2单元301", ("5", "2", "301")),
    ("5-2-301", ("5", "2", "301")),
    ("5号楼2-301", ("5", "2", "301")),
    ("5号楼301", ("5", None, "301")),
    ("5-301", ("5", None, "301")),
    ("2单元301", (None, "2", "301")),
    ("301", (None, None, "301")),
    ("5号楼3楼301", ("5", None, "301")),
    ("A座1201室", ("A", None, "1201")),
    ("", (None, None, None)),
])
def test_building_unit_room(tail, expected):
    assert parse_tail(normalize(tail)) == expected


@pytest.mark.parametrize("text, key", [
    ("河南省新乡市红旗区西街街道新华社区平原路123号新华小区5号楼2单元301室", "5-2-301"),
    ("新乡红旗平原路123号5号楼2单元301室", "5-2-301"),
    ("红旗区平原路123号5栋2单元301", "5-2-301"),
    ("红旗区平原路123号院5幢2单元301室", "5-2-301"),
    ("紅旗區平原路一二三號五號樓二單元三零一", "5-2-301"),
    ("红旗区 平原路 １２３号，5-2-301", "5-2-301"),
    ("平原路123号5-2-302", "5-2-302"),
    ("新华小区5栋2单元301", "5-2-301"),
    ("红旗区新华小区二号楼一单元二零一室", "2-1-201"),
    ("红旗区平原路123号5号楼2单元", "b5u2"),
    ("红旗区平原路123号5号楼", "b5"),
    ("河南省新乡市红旗区平原路123号", "house"),
    ("新乡市卫滨区胜利路8号", "胜利路8号"),
    ("胜利路8号", "胜利路8号"),
    ("卫滨区人民路9号", "人民路9号-卫滨"),
    ("红旗人民路9号", "人民路9号-红旗"),
    ("卫滨张庄村15号", "张庄村15号"),
])
def test_noisy_text_finds_the_right_address(indexed, text, key):
    index, ids = indexed
    best = top(index, text)
    assert best.address_id == ids[key], (text, best)
    assert best.score >= 0.6


def test_full_text_and_coordinates_come_back_exactly(indexed):
    index, ids = indexed
    best = top(index, "红旗区平原路123号5-2-301")
    assert best.full_text == f"{HONGQI}平原路123号新华小区5号楼2单元301室"
    assert best.grid_id == 1
    assert best.lat == pytest.approx(35.3 + (ids["5-2-301"] - 1) / 1e4)


def test_candidates_are_ranked_and_scored_between_zero_and_one(indexed):
    index, ids = indexed
    results = index.match("红旗区平原路123号5号楼2单元301室", limit=5)
    assert len(results) == 5
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    assert results[1].address_id == ids["b5u2"]  # the unit is the next best reading


def test_the_same_road_in_two_districts_is_ambiguous_without_a_district(indexed):
    index, ids = indexed
    results = index.match("人民路9号")
    assert {r.address_id for r in results[:2]} == {ids["人民路9号-红旗"], ids["人民路9号-卫滨"]}
    assert results[0].score < 0.6  # not sure enough to take as the location


def test_an_unknown_house_number_proposes_the_nearest_with_a_low_score(indexed):
    index, ids = indexed
    best = top(index, "红旗区平原路127号")
    assert best.address_id == ids["125"] and best.score < 0.6


def test_a_mistyped_road_still_finds_candidates(indexed):
    index, ids = indexed
    best = top(index, "红旗区平源路123号")
    assert best.address_id == ids["house"]


def test_a_place_outside_the_registry_area_scores_low(indexed):
    index, _ids = indexed
    assert top(index, "北京市朝阳区平原路123号").score < 0.6
    assert index.match("") == [] and index.match("完全无关的文字") == []


def test_results_are_filtered_to_the_allowed_grids(indexed):
    index, ids = indexed
    station_b = index.allowed_grids("/1/5/", False)
    results = index.match("人民路9号", allowed=station_b)
    assert [r.address_id for r in results] == [ids["人民路9号-卫滨"]]
    assert index.match("红旗区平原路123号5-2-301", allowed=station_b) == []
    assert isinstance(station_b, np.ndarray) and station_b.tolist() == [False, True, False]
    assert index.allowed_grids("/1/", True) is None  # everything visible: no filtering at all
