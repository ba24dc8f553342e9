"""Builds addresses_labelled.tsv: the labelled address set of the division parser's tests.

    PYTHONPATH=src .venv/bin/python tests/geo/data/make_addresses_labelled.py

Two parts, each row with its expected province / city / county / township codes (empty where the
text names none) and a category:

- ``case-1`` … ``case-7``: the failure categories of issue 13, written one by one below, each
  expected answer given as the names of the divisions (checked by hand) and turned into codes
  through the division list, so a misspelt name fails the build;
- ``ordinary``: texts generated from the division list with varied templates (road, number,
  estate, building, village, spaces and punctuation). The expected answer is the division the
  text was built from, so it is right by construction: every template names the city (or the
  municipality) before the county and the county before the township, and the road, estate and
  building words are fixed words that name no division.

Seeded: running it again writes the same file.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "src"))

from pingan.geo.divisions import LEVEL_COUNTY, LEVEL_TOWNSHIP, MUNICIPALITIES, get_index  # noqa: E402

# (text, expected names "province/city/county/township" with empty parts, category)
CASES: list[tuple[str, str, str]] = [
    # 1. retired or renamed districts, and districts a development zone hid
    ("浙江省杭州市江干区景芳路18号", "浙江省/杭州市/上城区/", "case-1"),
    ("杭州市下城区朝晖路102号3幢", "浙江省/杭州市/拱墅区/", "case-1"),
    ("杭州江干区凯旋路", "浙江省/杭州市/上城区/", "case-1"),
    ("广州市萝岗区科学大道182号", "广东省/广州市/黄埔区/", "case-1"),
    ("广州市芳村区花地大道", "广东省/广州市/荔湾区/", "case-1"),
    ("广州市东山区农林下路", "广东省/广州市/越秀区/", "case-1"),
    ("南京市白下区中山南路", "江苏省/南京市/秦淮区/", "case-1"),
    ("南京市下关区热河路10号", "江苏省/南京市/鼓楼区/", "case-1"),
    ("苏州市平江区观前街", "江苏省/苏州市/姑苏区/", "case-1"),
    ("江苏省苏州市沧浪区十全街", "江苏省/苏州市/姑苏区/", "case-1"),
    ("苏州市金阊区石路88号", "江苏省/苏州市/姑苏区/", "case-1"),
    ("无锡市崇安区中山路", "江苏省/无锡市/梁溪区/", "case-1"),
    ("无锡市南长区清名路", "江苏省/无锡市/梁溪区/", "case-1"),
    ("无锡北塘区", "江苏省/无锡市/梁溪区/", "case-1"),
    ("常州市戚墅堰区", "江苏省/常州市/武进区/", "case-1"),
    ("扬州市维扬区", "江苏省/扬州市/邗江区/", "case-1"),
    ("淮安市楚州区", "江苏省/淮安市/淮安区/", "case-1"),
    ("淮安市清浦区", "江苏省/淮安市/清江浦区/", "case-1"),
    ("连云港市新浦区", "江苏省/连云港市/海州区/", "case-1"),
    ("南通市港闸区", "江苏省/南通市/崇川区/", "case-1"),
    ("宁波市江东区", "浙江省/宁波市/鄞州区/", "case-1"),
    ("青岛市四方区", "山东省/青岛市/市北区/", "case-1"),
    ("厦门市开元区", "福建省/厦门市/思明区/", "case-1"),
    ("厦门市杏林区", "福建省/厦门市/集美区/", "case-1"),
    ("沈阳市东陵区", "辽宁省/沈阳市/浑南区/", "case-1"),
    ("哈尔滨市动力区", "黑龙江省/哈尔滨市/香坊区/", "case-1"),
    ("重庆市万盛区", "重庆市//綦江区/", "case-1"),
    ("重庆市双桥区", "重庆市//大足区/", "case-1"),
    ("贵阳市小河区", "贵州省/贵阳市/花溪区/", "case-1"),
    ("南昌市湾里区", "江西省/南昌市/新建区/", "case-1"),
    ("邢台市桥西区中兴西大街", "河北省/邢台市/信都区/", "case-1"),
    ("邢台市桥东区", "河北省/邢台市/襄都区/", "case-1"),
    ("石家庄市桥东区", "河北省/石家庄市/长安区/", "case-1"),
    ("上海市南市区", "上海市//黄浦区/", "case-1"),
    ("北京市宣武区", "北京市//西城区/", "case-1"),
    ("天津市塘沽区", "天津市//滨海新区/", "case-1"),
    ("重庆市渝北区龙溪街道红锦大道", "重庆市//渝北区/龙溪街道", "case-1"),
    ("重庆市江北区观音桥街道建新北路", "重庆市//江北区/观音桥街道", "case-1"),
    ("重庆渝北区回兴街道", "重庆市//渝北区/回兴街道", "case-1"),
    ("重庆市江北区", "重庆市//江北区/", "case-1"),
    ("重庆市渝北区", "重庆市//渝北区/", "case-1"),
    ("重庆两江新区", "重庆市///", "case-1"),
    ("重庆市两江新区人和街道", "重庆市//渝北区/人和街道", "case-1"),
    ("重庆市北碚区蔡家岗街道", "重庆市//北碚区/蔡家岗街道", "case-1"),
    ("宁波市江北区", "浙江省/宁波市/江北区/", "case-1"),
    # 2. a county under the city already named wins over a same-named one elsewhere
    ("广东省东莞市东城区东城路", "广东省/东莞市//东城街道", "case-2"),
    ("东莞市南城区鸿福路", "广东省/东莞市//南城街道", "case-2"),
    ("张家口市桥西区", "河北省/张家口市/桥西区/", "case-2"),
    ("河北省张家口市桥东区", "河北省/张家口市/桥东区/", "case-2"),
    ("石家庄市桥西区", "河北省/石家庄市/桥西区/", "case-2"),
    ("鞍山市铁西区", "辽宁省/鞍山市/铁西区/", "case-2"),
    ("四平市铁西区", "吉林省/四平市/铁西区/", "case-2"),
    ("沈阳市铁西区", "辽宁省/沈阳市/铁西区/", "case-2"),
    ("长春市朝阳区", "吉林省/长春市/朝阳区/", "case-2"),
    ("包头市青山区", "内蒙古自治区/包头市/青山区/", "case-2"),
    ("武汉市青山区", "湖北省/武汉市/青山区/", "case-2"),
    ("福州市鼓楼区", "福建省/福州市/鼓楼区/", "case-2"),
    ("开封市鼓楼区", "河南省/开封市/鼓楼区/", "case-2"),
    ("徐州市鼓楼区", "江苏省/徐州市/鼓楼区/", "case-2"),
    ("南京市鼓楼区", "江苏省/南京市/鼓楼区/", "case-2"),
    ("枣庄市市中区", "山东省/枣庄市/市中区/", "case-2"),
    ("乐山市市中区", "四川省/乐山市/市中区/", "case-2"),
    ("内江市市中区", "四川省/内江市/市中区/", "case-2"),
    ("西安市新城区", "陕西省/西安市/新城区/", "case-2"),
    ("呼和浩特市新城区", "内蒙古自治区/呼和浩特市/新城区/", "case-2"),
    ("沈阳市和平区", "辽宁省/沈阳市/和平区/", "case-2"),
    ("临沂市河东区", "山东省/临沂市/河东区/", "case-2"),
    ("阳泉市城区", "山西省/阳泉市/城区/", "case-2"),
    ("晋城市城区", "山西省/晋城市/城区/", "case-2"),
    ("宜宾市翠屏区", "四川省/宜宾市/翠屏区/", "case-2"),
    # 3. a township only under the county or city already named
    ("河南省新乡市红旗区东街街道", "河南省/新乡市/红旗区/东街街道", "case-3"),
    ("西安市新城区中山门街道", "陕西省/西安市/新城区/中山门街道", "case-3"),
    ("赣州市宁都县梅江街道", "江西省/赣州市/宁都县/梅江街道", "case-3"),
    ("大庆市大同区和苑街道", "黑龙江省/大庆市/大同区/和苑街道", "case-3"),
    ("抚顺市东洲区万新街道", "辽宁省/抚顺市/东洲区/万新街道", "case-3"),
    ("白城市洮北区新立街道", "吉林省/白城市/洮北区/新立街道", "case-3"),
    ("钦州市钦北区大寺镇", "广西壮族自治区/钦州市/钦北区/大寺镇", "case-3"),
    ("淄博市沂源县大张庄镇", "山东省/淄博市/沂源县/大张庄镇", "case-3"),
    ("蚌埠市蚌山区黄庄街道", "安徽省/蚌埠市/蚌山区/黄庄街道", "case-3"),
    ("焦作市温县黄庄镇", "河南省/焦作市/温县/黄庄镇", "case-3"),
    ("唐山市丰润区石各庄镇", "河北省/唐山市/丰润区/石各庄镇", "case-3"),
    ("长治市平顺县青羊镇", "山西省/长治市/平顺县/青羊镇", "case-3"),
    ("忻州市静乐县双路镇", "山西省/忻州市/静乐县/双路镇", "case-3"),
    ("廊坊市香河县渠口镇", "河北省/廊坊市/香河县/渠口镇", "case-3"),
    ("吕梁市孝义市下堡镇", "山西省/吕梁市/孝义市/下堡镇", "case-3"),
    ("潍坊市昌邑市下营镇", "山东省/潍坊市/昌邑市/下营镇", "case-3"),
    ("娄底市新化县桑梓镇", "湖南省/娄底市/新化县/桑梓镇", "case-3"),
    ("安庆市宿松县下仓镇", "安徽省/安庆市/宿松县/下仓镇", "case-3"),
    ("新乡市卫滨区平原镇", "河南省/新乡市/卫滨区/平原镇", "case-3"),
    ("天津市静海区王口镇", "天津市//静海区/王口镇", "case-3"),
    ("重庆市涪陵区青羊镇", "重庆市//涪陵区/青羊镇", "case-3"),
    # 4. place names inside road names
    ("上海市静安区南京西路1266号", "上海市//静安区/", "case-4"),
    ("天津市和平区南京路189号", "天津市//和平区/", "case-4"),
    ("沈阳市和平区南京北街", "辽宁省/沈阳市/和平区/", "case-4"),
    ("南京市鼓楼区中山北路30号", "江苏省/南京市/鼓楼区/", "case-4"),
    ("石家庄市长安区中山东路", "河北省/石家庄市/长安区/", "case-4"),
    ("南昌市东湖区北京西路88号", "江西省/南昌市/东湖区/", "case-4"),
    ("南宁市青秀区广州东路", "广西壮族自治区/南宁市/青秀区/", "case-4"),
    ("昆明市五华区青岛东路", "云南省/昆明市/五华区/", "case-4"),
    ("济南市天桥区凤山北路", "山东省/济南市/天桥区/", "case-4"),
    ("吉林市昌邑区长白西路", "吉林省/吉林市/昌邑区/", "case-4"),
    ("西安市碑林区长安北路", "陕西省/西安市/碑林区/", "case-4"),
    ("兰州市城关区张掖路", "甘肃省/兰州市/城关区/", "case-4"),
    ("青岛市市南区香港中路", "山东省/青岛市/市南区/", "case-4"),
    ("厦门市思明区湖滨南路", "福建省/厦门市/思明区/", "case-4"),
    ("长春市朝阳区西安大路", "吉林省/长春市/朝阳区/", "case-4"),
    ("合肥市蜀山区长江西路", "安徽省/合肥市/蜀山区/", "case-4"),
    ("郑州市中原区建设西路", "河南省/郑州市/中原区/", "case-4"),
    ("武汉市江汉区青岛路", "湖北省/武汉市/江汉区/", "case-4"),
    ("福州市台江区上海中路", "福建省/福州市/台江区/", "case-4"),
    ("太原市迎泽区并州南路", "山西省/太原市/迎泽区/", "case-4"),
    ("贵阳市云岩区延安中路", "贵州省/贵阳市/云岩区/", "case-4"),
    ("杭州市上城区延安路", "浙江省/杭州市/上城区/", "case-4"),
    ("海口市龙华区海秀中路", "海南省/海口市/龙华区/", "case-4"),
    ("长沙市天心区芙蓉南路", "湖南省/长沙市/天心区/", "case-4"),
    ("平原路123号", "///", "case-4"),
    ("南京西路", "///", "case-4"),
    # 5. short names inside building, estate and landmark names; bare generic words
    ("北京市东城区王府井大街138号东安大厦", "北京市//东城区/", "case-5"),
    ("重庆市九龙坡区杨家坪龙湖天街", "重庆市//九龙坡区/", "case-5"),
    ("杭州市滨江区龙湖天街", "浙江省/杭州市/滨江区/", "case-5"),
    ("宁波市海曙区新城大厦", "浙江省/宁波市/海曙区/", "case-5"),
    ("郑州市金水区东安大厦8楼", "河南省/郑州市/金水区/", "case-5"),
    ("成都市锦江区金山花园", "四川省/成都市/锦江区/", "case-5"),
    ("攀枝花市东区", "四川省/攀枝花市/东区/", "case-5"),
    ("唐山市路南区", "河北省/唐山市/路南区/", "case-5"),
    ("唐山市路北区文化路南侧", "河北省/唐山市/路北区/", "case-5"),
    ("东区", "///", "case-5"),
    ("人民路南侧50米", "///", "case-5"),
    ("龙湖天街", "///", "case-5"),
    ("新城大厦15楼", "///", "case-5"),
    ("中山市东区街道", "广东省/中山市//东区街道", "case-5"),
    # 6. several addresses: the first complete one
    ("北京市朝阳区建国路88号；上海市浦东新区世纪大道100号；广州市天河区体育西路", "北京市//朝阳区/", "case-6"),
    ("总部：深圳市南山区科技园；分部：杭州市西湖区文三路", "广东省/深圳市/南山区/", "case-6"),
    ("上海 北京市海淀区中关村大街1号", "北京市//海淀区/", "case-6"),
    ("成都市武侯区人民南路四段 重庆市渝中区解放碑", "四川省/成都市/武侯区/", "case-6"),
    ("武汉市洪山区珞喻路1037号，长沙市岳麓区麓山南路", "湖北省/武汉市/洪山区/", "case-6"),
    ("籍贯湖南 现住新乡市红旗区平原路", "河南省/新乡市/红旗区/", "case-6"),
    ("南京市玄武区中山路 苏州市姑苏区 无锡市梁溪区", "江苏省/南京市/玄武区/", "case-6"),
    ("西安市雁塔区小寨东路；兰州市城关区", "陕西省/西安市/雁塔区/", "case-6"),
    # 7. edges: traditional characters, full width, dashes inside names, 台湾省
    ("長沙市開－福區", "湖南省/长沙市/开福区/", "case-7"),
    ("湖南省長沙市開-福區芙蓉中路", "湖南省/长沙市/开福区/", "case-7"),
    ("廣東省廣州市天河區天河路３８５號", "广东省/广州市/天河区/", "case-7"),
    ("河南省 新鄉市·紅旗區（平原路１２３號）", "河南省/新乡市/红旗区/", "case-7"),
    ("台湾省台北市", "台湾省/台北市//", "case-7"),
    ("台湾省高雄市", "台湾省/高雄市//", "case-7"),
    ("臺灣省臺中市", "台湾省/台中市//", "case-7"),
    ("台湾新北市", "台湾省/新北市//", "case-7"),
    ("台湾省桃园县", "台湾省/桃园市//", "case-7"),
]

ROADS = ("建设路", "文化路", "解放路", "幸福路", "光明路", "团结路", "育才路", "民主路", "学府路", "工业路",
         "迎宾大道", "健康路", "和谐路", "富强路", "繁荣街", "兴业路", "人民路", "东风路", "朝阳路", "文明路")
ESTATES = ("阳光小区", "锦绣花园", "幸福家园", "翠苑小区", "金色家园", "丽景花园", "书香苑", "碧水湾小区", "中央公馆",
           "和谐家园")
VILLAGES = ("王家", "李家", "张家", "刘庄", "陈湾", "杨树", "前进", "红星", "五一", "光荣")
SKIP_WORDS = ("开发区", "园区", "管理委员会", "管委会", "农场", "林场", "牧场", "监狱", "办事处", "示范区", "新区", "试验区")


def resolve_names(path: str) -> tuple[str, str, str, str]:
    index = get_index()
    names = path.split("/")
    codes, parent = [], None
    for level, name in enumerate(names, start=1):
        if not name:
            codes.append("")
            continue
        hits = [i for i, n in enumerate(index.names) if n == name and index.levels[i] == level
                and (parent is None or index.chain(i)[parent[1] - 1] == parent[0])]
        if len(hits) != 1:
            raise SystemExit(f"{path}: {name} gives {len(hits)} divisions")
        codes.append(index.ref(hits[0]).code)
        parent = (hits[0], level)
    return tuple(codes)


def ordinary(n: int, rng: random.Random) -> list[tuple[str, tuple[str, str, str, str], str]]:
    index = get_index()
    by_province: dict[int, list[int]] = {}
    for i, level in enumerate(index.levels):
        if level != LEVEL_TOWNSHIP:
            continue
        p, c, k, _t = index.chain(i)
        names = [index.names[x] for x in (c, k, i) if x >= 0]
        if any(w in nm for nm in names for w in SKIP_WORDS):
            continue
        by_province.setdefault(p, []).append(i)
    provinces = sorted(by_province)
    rows = []
    for j in range(n):
        p = provinces[j % len(provinces)]
        t = rng.choice(by_province[p])
        _p, c, k, _ = index.chain(t)
        prov, town = index.names[p], index.names[t]
        city = index.names[c] if c >= 0 else ""
        county = index.names[k] if k >= 0 else ""
        prov_short = index.short_names(prov, 1) or [prov]
        city_short = (index.short_names(city, 2) or [city]) if city else [""]
        road, num = rng.choice(ROADS), rng.randint(1, 999)
        estate, bld, unit, room = rng.choice(ESTATES), rng.randint(1, 30), rng.randint(1, 6), rng.randint(101, 2802)
        municipality = index.codes[p] in MUNICIPALITIES
        head_full = prov + city
        head_short = prov_short[0] + city_short[0] if not municipality else prov_short[0]
        with_town = True
        form = j % 6
        if form == 0:
            text = f"{head_full}{county}{town}{road}{num}号"
        elif form == 1:
            text = f"{city or prov}{county or town}{road}{num}号{estate}{bld}栋{unit}单元{room}室"
            with_town = False
        elif form == 2:
            text = f"{head_short}{county}{town}{estate}{bld}号楼{room}"
        elif form == 3:
            text = f"{head_full}{county or town}{road}{num}号{estate}"
            with_town = False
        elif form == 4:
            text = f"{city or prov}{county}{town}{rng.choice(VILLAGES)}村{rng.randint(1, 12)}组{rng.randint(1, 99)}号"
        else:
            text = f"{prov} {city} {county}，{town}{road}{num}号（{estate}）"
        if not county:
            # a city without counties (东莞, 中山, 儋州…): the township is under the city itself
            with_town = True
        p_code = index.ref(p).code
        c_code = index.ref(c).code if c >= 0 else ""
        k_code = index.ref(k).code if k >= 0 else ""
        t_code = index.ref(t).code if with_town else ""
        rows.append((text, (p_code, c_code, k_code, t_code), "ordinary"))
    return rows


def main() -> None:
    rng = random.Random(20261206)
    rows = [(text, resolve_names(path), cat) for text, path, cat in CASES]
    rows += ordinary(1100, rng)
    out = HERE / "addresses_labelled.tsv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(("text", "province", "city", "county", "township", "category"))
        for text, codes, cat in rows:
            w.writerow((text, *codes, cat))
    print(f"{len(rows)} rows → {out}")


if __name__ == "__main__":
    main()
