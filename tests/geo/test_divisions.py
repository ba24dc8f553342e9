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
    assert sum(1 for lv in index.levels if lv == 1) == 34  # 33 in the list, and 台湾省 (710000)
    assert sum(1 for lv in index.levels if lv == 4) > 38_000
    assert get_division("410700").name == "新乡市"
    assert get_division("410702001").code == "410702001000"  # townships written with 12 digits
    assert get_division("410702001000").name == "西街街道"
    assert division_path("410702001000").full_name == "河南省新乡市红旗区西街街道"
    assert [d.name for d in list_divisions("410700")][:2] == ["红旗区", "卫滨区"]
    assert len(list_divisions(None)) == 34
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
    # one traditional character or lower-case letter in an otherwise clean text is still cleaned
    assert clean_text("红旗区平原路123号") == "红旗区平原路123号"
    assert clean_text("红旗區b座") == "红旗区B座" and clean_text("𬶍江街道〇") == "𬶍江街道〇"


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


# --- issue 13: the failure categories, one test each, and the labelled set --------------------

def codes(p):
    return tuple(d.code if d else "" for d in (p.province, p.city, p.county, p.township))


def test_retired_districts_map_to_todays_and_zones_do_not_replace_districts():
    # 1. 杭州 江干区 / 下城区 (2021), and names retired only in one city (邢台 桥西区, 2020)
    p = parse_division("浙江省杭州市江干区景芳路18号")
    assert names(p)[:3] == ("浙江省", "杭州市", "上城区") and "江干区" in p.note
    assert parse_division("杭州市下城区朝晖路").county.name == "拱墅区"
    assert parse_division("邢台市桥西区中兴西大街").county.name == "信都区"
    assert parse_division("张家口市桥西区").county.code == "130703"  # still current there
    # 渝北区 and 江北区 are districts again, with their townships; 两江新区 names only the city
    assert names(parse_division("重庆市渝北区龙溪街道")) == ("重庆市", None, "渝北区", "龙溪街道")
    assert names(parse_division("重庆江北区观音桥街道")) == ("重庆市", None, "江北区", "观音桥街道")
    assert parse_division("重庆市江北区").county.code == "500105"
    assert parse_division("宁波市江北区").county.code == "330205"
    assert names(parse_division("重庆两江新区")) == ("重庆市", None, None, None)
    assert parse_division("两江新区人和街道").county.name == "渝北区"
    assert get_division("500157") is None
    # a retired city that is a district today keeps its old sibling districts
    assert parse_division("莱芜市钢城区").county.code == "370117"


def test_a_county_under_the_city_named_wins_over_one_elsewhere():
    # 2. 东城区 in 东莞 is its 东城街道, never Beijing's 东城区
    p = parse_division("广东省东莞市东城区东城路")
    assert names(p) == ("广东省", "东莞市", None, "东城街道")
    for text, code in [("石家庄市桥西区", "130104"), ("张家口市桥东区", "130702"), ("鞍山市铁西区", "210303"),
                       ("四平市铁西区", "220302"), ("包头市青山区", "150204"), ("开封市鼓楼区", "410204"),
                       ("枣庄市市中区", "370402"), ("呼和浩特市新城区", "150102"), ("临沂市河东区", "371312")]:
        assert parse_division(text).county.code == code, text


def test_a_township_counts_only_under_the_county_or_city_named():
    # 3. 青羊镇 is in 平顺县 and in Chongqing's 涪陵区; 王口镇 in Tianjin and in 辛集市
    assert codes(parse_division("长治市平顺县青羊镇"))[2:] == ("140425", "140425100000")
    assert parse_division("重庆市涪陵区青羊镇").county.name == "涪陵区"
    p = parse_division("河北省辛集市王口镇")
    assert p.county.name == "辛集市" and p.township.name == "王口镇"
    # a township under none of the places named is left out, the places named stay
    p = parse_division("新乡市红旗区王口镇")
    assert names(p) == ("河南省", "新乡市", "红旗区", None)
    # alone, a township name stands for itself
    assert parse_division("王口镇").township is not None


@pytest.mark.parametrize("text, county", [
    ("上海市静安区南京西路1266号", "静安区"), ("沈阳市和平区南京北街", "和平区"), ("南宁市青秀区广州东路", "青秀区"),
    ("昆明市五华区青岛东路", "五华区"), ("济南市天桥区凤山北路", "天桥区"), ("吉林市昌邑区长白西路", "昌邑区"),
    ("西安市碑林区长安北路", "碑林区"), ("长春市朝阳区西安大路", "朝阳区"), ("青岛市市南区香港中路", "市南区"),
    ("厦门市思明区湖滨南路", "思明区"), ("石家庄市长安区中山东路", "长安区"),
])
def test_place_names_inside_road_names_are_not_places(text, county):
    # 4. X东路 / X西路 / X南路 / X北路 / X中路 / X大路 / X北街 …
    p = parse_division(text)
    assert p.county.name == county and len(p.candidates) == 1
    assert not parse_division("南京西路").found and not parse_division("广州东路88号").found


def test_short_names_in_buildings_and_bare_generic_words_are_not_divisions():
    # 5.
    assert names(parse_division("北京市东城区王府井大街138号东安大厦")) == ("北京市", None, "东城区", None)
    assert parse_division("杭州市滨江区龙湖天街").county.name == "滨江区"
    assert parse_division("宁波市海曙区新城大厦").county.name == "海曙区"
    for text in ("东区", "人民路南侧50米", "龙湖天街", "新城大厦15楼", "张三在新城工作"):
        assert not parse_division(text).found, text
    # with the city named, the same words are the divisions they name
    assert parse_division("攀枝花市东区").county.code == "510402"
    assert parse_division("唐山市路南区").county.code == "130202"
    assert parse_division("唐山市路北区文化路南侧").county.code == "130203"


def test_several_addresses_resolve_to_the_first_complete_one():
    # 6.
    p = parse_division("北京市朝阳区建国路88号；上海市浦东新区世纪大道100号；广州市天河区体育西路")
    assert names(p) == ("北京市", None, "朝阳区", None)
    assert p.remainder == "建国路88号"
    assert [c.full_name for c in p.candidates] == ["北京市朝阳区", "上海市浦东新区", "广东省广州市天河区"]
    # an address that stops at a province or city is not complete: the next one wins
    assert parse_division("上海 北京市海淀区中关村大街1号").county.name == "海淀区"
    assert parse_division("籍贯湖南 现住新乡市红旗区平原路").county.name == "红旗区"


def test_edges_surrogates_dashes_taiwan_and_linear_time():
    # 7. a lone surrogate no longer reaches OpenCC
    assert names(parse_division("abc\ud800新乡市紅旗區"))[:3] == ("河南省", "新乡市", "红旗区")
    assert clean_text("\udc80") == ""
    # a dash inside a name
    assert names(parse_division("長沙市開－福區")) == ("湖南省", "长沙市", "开福区", None)
    assert parse_division("开-福区").county.name == "开福区"
    assert clean_text("5-2-301") == "5-2-301"
    # 台湾省 with GB/T 2260's codes
    p = parse_division("臺灣省臺中市")
    assert codes(p)[:2] == ("710000", "710400")
    assert get_division("711100").name == "新北市" and division_path("710200").full_name == "台湾省高雄市"
    # a long text: every name is looked at once (no timing here; bench/address_parse.py times it)
    index = get_index()
    text = clean_text("河南省新乡市红旗区平原路123号；" * 3000)
    segments = index.segments(text)
    found = index.addresses(segments)
    assert len(segments) == 9000 and len(found) == 1 and len(found[0][1]) == 9000


def _labelled_rows():
    import csv
    from pathlib import Path

    path = Path(__file__).parent / "data" / "addresses_labelled.tsv"
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_labelled_set_accuracy():
    rows = _labelled_rows()
    assert len(rows) >= 1000
    assert {r["category"] for r in rows} >= {f"case-{i}" for i in range(1, 8)} | {"ordinary"}
    right_county = right_township = with_township = 0
    wrong = []
    for r in rows:
        got = codes(parse_division(r["text"]))
        expected = (r["province"], r["city"], r["county"], r["township"])
        ok = got[:3] == expected[:3]
        right_county += ok
        if expected[3]:
            with_township += 1
            right_township += got[3] == expected[3]
        if not ok or (expected[3] and got[3] != expected[3]):
            wrong.append((r["category"], r["text"], expected, got))
    assert right_county / len(rows) >= 0.99, wrong[:20]
    assert right_township / with_township >= 0.95, wrong[:20]
    # the hand-written category cases are all right
    assert not [w for w in wrong if w[0] != "ordinary"], wrong


def test_a_place_named_again_is_not_read_as_a_same_named_place_under_it():
    # 新乡 names 新乡市 and (short) 新乡县 under it: said twice, it is still the city
    assert names(parse_division("新乡新乡")) == ("河南省", "新乡市", None, None)
    assert parse_division("新乡市红旗区新乡").county.name == "红旗区"
    assert parse_division("新乡新乡县").county.name == "新乡县"


def test_names_that_cross_go_through_the_full_longest_cover():
    # 白城 and 城镇 cross in 白城镇赉县: the cover keeps 白城 and 镇赉县 (nested names take one pass)
    index = get_index()
    text = "吉林白城镇赉县鹤城街道"
    assert [index.words[pid] for _s, _e, pid in index.segments(text)] == ["吉林", "白城", "镇赉县", "鹤城街道"]
    assert names(parse_division(text)) == ("吉林省", "白城市", "镇赉县", "鹤城街道")
    assert [index.words[pid] for _s, _e, pid in index.segments("河南省新乡市")] == ["河南省", "新乡市"]


def test_the_placeholders_that_order_the_automaton_name_nothing():
    index = get_index()
    assert [index.words[pid] for _s, _e, pid in index.segments("北京\x00市")] == ["北京"]
    assert index.segments("北\x00") == []


def test_a_text_parsed_again_is_remembered_per_preferred_area():
    index = get_index()
    index.forget_texts()
    bare = parse_division("东街街道")
    assert parse_division("东街街道") is bare
    ours = parse_division("东街街道", prefer="4107")
    assert ours is not bare and ours.township.code == "410702002000"
    index.forget_texts()
    assert parse_division("东街街道") is not bare and parse_division("东街街道") == bare
    long_text = "河南省新乡市红旗区平原路123号" * 20  # over 256 characters: parsed, not kept
    assert parse_division(long_text) is not parse_division(long_text)
