"""The matcher's key tables: flat sorted arrays looked up by binary search."""

import numpy as np

from pingan.geo.matcher import AddressIndex, _Ranges

ROAD = "河南省新乡市红旗区西街街道新华社区平原路"


def test_ranges_find_each_run_of_a_sorted_key_array():
    ranges = _Ranges.of(np.array([3, 3, 5, 9, 9, 9], dtype=np.int32))
    assert ranges.keys.dtype == np.int64 and ranges.starts.dtype == ranges.ends.dtype == np.int32
    assert [ranges.get(k) for k in (3, 5, 9)] == [(0, 2), (2, 3), (3, 6)]
    assert ranges.get(-1) is None and ranges.get(4) is None and ranges.get(10) is None
    kept = ranges.subset(np.array([True, False, True]))
    assert kept.get(3) == (0, 2) and kept.get(5) is None and kept.get(9) == (3, 6)
    empty = _Ranges.of(np.zeros(0, dtype=np.int64))
    assert len(empty.keys) == 0 and empty.get(0) is None


def _index(houses):
    rows = []
    for house, building in houses:
        full = f"{ROAD}{house}" + (building or "")
        rows.append((len(rows) + 1, full, "410702", "410702001001", "平原路", house, None, building, None, None,
                     35.3, 113.9, 1))
    return AddressIndex(rows, [(1, "/1/")], [], signature=None)


def test_nearest_houses_break_a_tie_by_the_smaller_number():
    index = _index([("14号", None), ("10号", None), ("10号", "1号楼"), ("30号", None), ("10-1号", None)])
    h = index.houses
    assert index._nearest_houses(0, "12") == [(h["10"], 1 / 1.2), (h["10-1"], 1 / 1.2)]
    assert index._nearest_houses(0, "13") == [(h["14"], 1 / 1.1), (h["10"], 1 / 1.3)]
    assert index._nearest_houses(0, "99999999999999999999999") == [(h["30"], 1 / (1 + (10**23 - 1 - 30) / 10)),
                                                                  (h["14"], 1 / (1 + (10**23 - 1 - 14) / 10))]
    assert index._nearest_houses(0, "A") == [] and index._nearest_houses(1, "12") == []
    assert index.match("平原路12号")[0].full_text == f"{ROAD}10号"


def test_just_the_road_proposes_houses_not_buildings():
    index = _index([("10号", None), ("10号", "1号楼"), ("10号", "2号楼"), ("12号", None)])
    results = index.match("平原路", limit=5)
    assert {r.full_text for r in results} == {f"{ROAD}10号", f"{ROAD}12号"}
