"""The national division list and the division parser (行政区划解析)."""

import pytest

from pingan.geo.divisions import (
    RETIRED_NAMES,
    clean_text,
    division_path,
    get_division,
    get_index,
    is_current_county,
    list_divisions,
    parse_division,
)


def names(p):
    return tuple(d.name if d else None for d in (p.province, p.city, p.county, p.township))


def test_the_official_list_is_loaded_with_all_four_levels():
    index = get_index()
    assert sum(1 for lv in index.levels if lv == 1) == 33
    assert sum(1 for lv in index.levels if lv == 4) > 38_000
    assert get_division("410700").name == "新乡市"
    assert get_division("410702001").code == "410702001000"  # townships written with 12 digits
    assert get_division("410702001000").name == "西街街道"
    assert division_path("410702001000").full_name == "河南省新乡市红旗区西街街道"
    assert [d.name for d in list_divisions("410700")][:2] == ["红旗区", "卫滨区"]
    assert len(list_divisions(None)) == 33
    assert is_current_county("410702") and not is_current_county("410700") and not is_current_county("999999")


def test_full_address_resolves_every_level_and_leaves_the_street_part():
    p = parse_division("河南省新乡市红旗区西街街道新华社区平原路123号5号楼2单元301室")
    assert names(p) == ("河南省", "新乡市", "红旗区", "西街街道")
    assert p.township.code == "410702001000"
    assert p.remainder == "新华社区平原路123号5号楼2单元301室"
    assert p.note is None


@pytest.mark.parametrize("text, expected", [
    ("新乡红旗平原路123号", ("河南省", "新乡市", "红旗区", None)),
    ("河南新乡", ("河南省", "新乡市", None, None)),
    ("辉县", ("河南省", "新乡市", "辉县市", None)),
    ("新乡县", ("河南省", "新乡市", "新乡县", None)),
    ("卫滨区平原镇", ("河南省", "新乡市", "卫滨区", "平原镇")),
    ("延边", ("吉林省", "延边朝鲜族自治州", None, None)),
    ("恩施", ("湖北省", "恩施土家族苗族自治州", None, None)),
    ("内蒙古", ("内蒙古自治区", None, None, None)),
    ("鄂温克族自治旗", ("内蒙古自治区", "呼伦贝尔市", "鄂温克族自治旗", None)),
    ("济南市中区", ("山东省", "济南市", "市中区", None)),
])
def test_short_names_and_suffixes(text, expected):
    assert names(parse_division(text)) == expected


def test_retired_names_map_to_todays_division_with_a_note():
    p = parse_division("湖北襄樊市樊城区")
    assert names(p)[:3] == ("湖北省", "襄阳市", "樊城区")
    assert p.city.code == "420600"
    assert "襄樊" in p.note and "襄阳市" in p.note and "former name" in p.note_en

    p = parse_division("莱芜市莱城大道")
    assert p.county.code == "370116" and names(p)[:3] == ("山东省", "济南市", "莱芜区")
    assert "济南市莱芜区" in p.note
    assert p.remainder == "莱城大道"

    for text, code in [("思茅市", "530800"), ("铜仁地区", "520600"), ("毕节地区", "520500"), ("临安市", "330112"),
                       ("富阳市", "330111"), ("江都市", "321012"), ("吴江市", "320509"), ("萧山市", "330109"),
                       ("余杭市", "330110"), ("江苏通州市", "320612"), ("居巢区", "340181"), ("长垣县", "410783")]:
        p = parse_division(text)
        deepest = p.county or p.city
        assert deepest.code == code, text
        assert p.note, text


def test_every_retired_name_points_at_a_current_division():
    index = get_index()
    for retired in RETIRED_NAMES:
        assert retired.code in index.by_code, retired
    # a current name is never shadowed by a retired one: 巢湖市 is today's county-level city
    p = parse_division("巢湖市")
    assert p.county.code == "340181" and p.note is None


def test_bare_shared_name_ranks_municipality_first_and_lists_the_others():
    p = parse_division("朝阳区")
    assert p.province.name == "北京市" and p.county.code == "110105"
    others = [c.full_name for c in p.candidates]
    assert "吉林省长春市朝阳区" in others[1:]
    assert p.candidates[0].score > p.candidates[1].score


def test_context_in_the_text_wins_over_the_bare_name_ranking():
    p = parse_division("吉林朝阳区")
    assert p.county.code == "220104" and p.city.name == "长春市"
    p = parse_division("长春市朝阳区人民大街")
    assert p.county.code == "220104"
    assert p.remainder == "人民大街"


def test_preferred_area_wins_among_shared_township_names():
    # 东街街道 exists in nine places; a bureau in 新乡 means its own one.
    bare = parse_division("东街街道")
    ours = parse_division("东街街道", prefer="4107")
    assert not bare.candidates[0].full_name.startswith("河南省新乡市")
    assert ours.township.code == "410702002000" and ours.candidates[0].full_name == "河南省新乡市红旗区东街街道"
    assert len(ours.candidates) > 1
    # but a province or city in the text still wins over the preference
    assert parse_division("福州东街街道", prefer="4107").county.name == "鼓楼区"
    assert parse_division("胜利路街道", prefer="4107").county.code == "410703"


def test_traditional_full_width_spaces_and_punctuation():
    assert clean_text(" 紅旗區，平原路　１２３號！") == "红旗区平原路123号"
    p = parse_division("河南省 新鄉市·紅旗區（平原路１２３號）")
    assert names(p)[:3] == ("河南省", "新乡市", "红旗区")
    assert p.remainder == "平原路123号"


def test_a_road_named_after_a_place_is_not_taken_for_it():
    # 平原 is 平原县 (Shandong) and 中山 is 中山市, but 平原路 / 中山路 are roads.
    assert not parse_division("平原路123号").found
    assert not parse_division("中山路5号").found
    p = parse_division("新乡市中原路")  # 市中 of 市中区 must not eat 新乡市
    assert names(p) == ("河南省", "新乡市", None, None) and p.remainder == "中原路"


def test_empty_and_unknown_text():
    assert not parse_division("").found
    p = parse_division("这里没有地名")
    assert not p.found and p.candidates == ()
