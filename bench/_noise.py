"""A synthetic standard-address registry over the real townships of a city, and noisy caller
texts generated from it with the truth known. Deterministic for a given seed.

Used by ``bench/address_match.py``. Road and place names are unique within the city (as
naming rules require in one urban area); the registry's own ambiguity handling (the same road
in two districts) is covered by the tests instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ROAD_STEMS = (
    "建设 人民 解放 和平 胜利 文化 新华 平原 健康 自由 劳动 金穗 宏力 牧野 卫河 向阳 东风 红旗 新中 中原 友谊 光明 "
    "幸福 振中 平安 长青 金谷 丰收 繁荣 团结 育才 学院 工业 科技 创业 迎宾 滨河 雅园 锦绣 和谐 富民 兴业 化工 纺织 "
    "商贸 荣校 劳卫 朝阳 青年 前进 北干 南干 新兴 秀水 太行 凤泉 共城 百泉 苏门 孟营 华兰 述职 饮马 师专 铁路 "
    "民主 新飞 金穗 关堤 洪门 小店 原阳 延津 封丘 长垣 获嘉 丰华 盛世 嘉和 龙泉 玉溪 银河 星河 天鹅 翠竹 松柏 "
    "梧桐 海棠 牡丹 芙蓉 荷花 兰亭 桂园 枫林 金城 宝龙 永安 长乐 福寿 康宁 泰和 德政 仁义 礼贤 智慧 信达"
).split()
DIRECTIONS = ("", "", "", "东", "西", "南", "北", "中", "一", "二", "三")
PLACE_PREFIXES = ("", "", "", "新", "金", "华", "东方", "世纪")
ROAD_SUFFIXES = ("路", "路", "路", "路", "街", "大道")
PLACE_SUFFIXES = ("小区", "小区", "小区", "花园", "家园", "苑", "公寓", "新村", "华庭", "雅居", "名门", "嘉园", "丽景",
                  "新城", "名苑", "佳苑", "景园", "御府", "公馆", "国际", "湾", "里", "广场", "大厦")
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
VILLAGE_SUFFIXES = ("庄", "寨", "营", "屯", "店", "岗", "洼", "堡")


@dataclass
class Community:
    code: str  # 12 digits
    name: str
    township_code: str  # 12 digits
    township: str
    county_code: str
    county: str
    lat: float
    lon: float
    urban: bool


@dataclass
class SyntheticAddress:
    code: str
    full_text: str
    county_code: str
    division_code: str
    road: str | None
    house_no: str | None
    place_name: str | None
    building: str | None
    unit_no: str | None
    room: str | None
    lat: float
    lon: float
    community: Community = field(repr=False)
    level: int = 1


class RegistryGenerator:
    """Addresses for every township of a city: urban streets with residential compounds down to
    rooms, and villages with house numbers."""

    def __init__(self, city_code: str = "410700", target: int = 50_000, seed: int = 20261122):
        from pingan.geo.divisions import get_division, list_divisions

        self.rng = random.Random(seed)
        self.city = get_division(city_code)
        self.province = get_division(city_code[:2] + "0000")
        self.counties = list_divisions(city_code)
        self.townships = {c.code: list_divisions(c.code) for c in self.counties}
        self.target = target
        self.used_names: set[str] = set()
        self.communities: list[Community] = []
        self.next_house: dict[str, int] = {}
        self.addresses: list[SyntheticAddress] = []

    def _unique(self, make) -> str:
        for _ in range(1000):
            name = make()
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("name space exhausted")

    def road_name(self) -> str:
        rng = self.rng
        return self._unique(lambda: rng.choice(ROAD_STEMS) + rng.choice(DIRECTIONS) + rng.choice(ROAD_SUFFIXES))

    def place_name(self) -> str:
        rng = self.rng
        return self._unique(lambda: rng.choice(PLACE_PREFIXES) + rng.choice(ROAD_STEMS) + rng.choice(PLACE_SUFFIXES))

    def village_name(self) -> str:
        rng = self.rng
        return self._unique(lambda: rng.choice(SURNAMES) + rng.choice(VILLAGE_SUFFIXES) + "村")

    def generate(self) -> list[SyntheticAddress]:
        rng = self.rng
        n_towns = sum(len(t) for t in self.townships.values())
        budget = max(20, self.target // n_towns)
        for ci, county in enumerate(self.counties):
            c_lat = 35.30 + (ci % 4 - 1.5) * 0.12
            c_lon = 113.90 + (ci // 4 - 1) * 0.15
            for ti, town in enumerate(self.townships[county.code]):
                urban = town.name.endswith("街道")
                t_lat = c_lat + (ti % 5 - 2) * 0.02
                t_lon = c_lon + (ti // 5 - 2) * 0.02
                n_comm = rng.randint(2, 3)
                comms = []
                for k in range(n_comm):
                    name = (rng.choice(ROAD_STEMS) + "社区") if urban else self.village_name()
                    seq = (k + 1) if urban else (200 + k + 1)
                    comms.append(Community(
                        code=f"{town.code[:9]}{seq:03d}", name=name, township_code=town.code, township=town.name,
                        county_code=county.code, county=county.name, lat=t_lat + k * 0.005, lon=t_lon + k * 0.005,
                        urban=urban,
                    ))
                self.communities.extend(comms)
                count = 0
                while count < budget:
                    comm = rng.choice(comms)
                    if urban or rng.random() < 0.3:
                        count += self._street(comm)
                    else:
                        count += self._village(comm)
        return self.addresses

    def _point(self, comm: Community) -> tuple[float, float]:
        return (round(comm.lat + self.rng.uniform(0.0005, 0.0045), 6),
                round(comm.lon + self.rng.uniform(0.0005, 0.0045), 6))

    def _prefix(self, comm: Community) -> str:
        return f"{self.province.name}{self.city.name}{comm.county}{comm.township}{comm.name}"

    def _add(self, comm: Community, full: str, **parts) -> None:
        lat, lon = self._point(comm)
        level = 4 if parts.get("room") else 3 if parts.get("unit_no") else 2 if parts.get("building") else 1
        self.addresses.append(SyntheticAddress(
            code=f"B{len(self.addresses) + 1:09d}", full_text=full, county_code=comm.county_code,
            division_code=comm.code, lat=lat, lon=lon, community=comm, level=level,
            **{k: parts.get(k) for k in ("road", "house_no", "place_name", "building", "unit_no", "room")},
        ))

    def _street(self, comm: Community) -> int:
        rng = self.rng
        road = self.road_name()
        before = len(self.addresses)
        for h in range(1, 2 * rng.randint(3, 10), 2):
            house = f"{h}号"
            head = f"{self._prefix(comm)}{road}{house}"
            if rng.random() < 0.35:
                place = self.place_name()
                self._add(comm, head + place, road=road, house_no=house, place_name=place)
                for b in range(1, rng.randint(2, 6) + 1):
                    bld = f"{b}号楼"
                    self._add(comm, head + place + bld, road=road, house_no=house, place_name=place, building=bld)
                    for u in range(1, rng.randint(1, 3) + 1):
                        unit = f"{u}单元"
                        self._add(comm, head + place + bld + unit, road=road, house_no=house, place_name=place,
                                  building=bld, unit_no=unit)
                        for floor in range(1, rng.randint(2, 6) + 1):
                            for door in (1, 2):
                                room = f"{floor}{door:02d}室"
                                self._add(comm, head + place + bld + unit + room, road=road, house_no=house,
                                          place_name=place, building=bld, unit_no=unit, room=room)
            else:
                self._add(comm, head, road=road, house_no=house)
        return len(self.addresses) - before

    def _village(self, comm: Community) -> int:
        """Houses of a village (the community itself): 张庄村15号, numbered on from the last call."""
        before = len(self.addresses)
        first = self.next_house.get(comm.code, 1)
        last = first + self.rng.randint(10, 40)
        for h in range(first, last):
            house = f"{h}号"
            self._add(comm, f"{self._prefix(comm)}{house}", place_name=comm.name, house_no=house)
        self.next_house[comm.code] = last
        return len(self.addresses) - before


# --- noisy caller texts ----------------------------------------------------------------------

_CN = "零一二三四五六七八九"


def _cn_digits(text: str) -> str:
    return "".join(_CN[int(ch)] if ch.isdigit() else ch for ch in text)


def _cn_positional(n: int) -> str:
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n % 10] if n % 10 else "")
    if n < 100:
        return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")
    return _cn_digits(str(n))


_FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789-"}


class NoiseGenerator:
    """Caller-style texts for registry addresses: levels dropped (province, city, county,
    township, community; the road for an estate), short names (新乡, 红旗, 新华 for 新华小区),
    号院, 栋/幢, 室 optional, 5-2-301, Chinese numerals (一二三号, 五号楼二单元三零一),
    traditional characters, full-width digits, stray spaces and punctuation."""

    def __init__(self, province: str, city: str, seed: int = 7):
        import opencc

        from pingan.geo.divisions import DivisionIndex

        self.rng = random.Random(seed)
        self.s2t = opencc.OpenCC("s2t")
        self.province, self.city = province, city
        self.short = lambda name, level: (DivisionIndex.short_names(name, level) or [name])[0]

    def text(self, a: SyntheticAddress) -> str:
        rng = self.rng
        c = a.community
        parts: list[str] = []
        if rng.random() < 0.15:
            parts.append(self.province if rng.random() < 0.5 else self.short(self.province, 1))
        if rng.random() < 0.4:
            parts.append(self.city if rng.random() < 0.5 else self.short(self.city, 2))
        if rng.random() < 0.6:
            parts.append(c.county if rng.random() < 0.5 else self.short(c.county, 3))
        if rng.random() < 0.2:
            parts.append(c.township)
        if rng.random() < 0.15 and c.name != a.place_name:
            parts.append(c.name)
        if a.road and a.place_name and rng.random() < 0.25:
            parts.append(self._place(a.place_name))  # 新华小区5号楼… without the road
        elif a.road:
            parts.append(a.road + self._house(a.house_no))
            if a.place_name and rng.random() < 0.4:
                parts.append(self._place(a.place_name))
        else:
            parts.append(self._place(a.place_name) if a.place_name != c.name else a.place_name)
            if a.house_no:
                parts.append(self._house(a.house_no))
        parts.append(self._inside(a))
        text = "".join(parts)
        if rng.random() < 0.15:
            text = self.s2t.convert(text)
        if rng.random() < 0.10:
            text = text.translate(_FULLWIDTH)
        if rng.random() < 0.20:
            text = self._scatter(text)
        return text

    def _place(self, name: str) -> str:
        if name.endswith("小区") and len(name) > 3 and self.rng.random() < 0.3:
            return name[:-2]
        return name

    def _house(self, house: str | None) -> str:
        if not house:
            return ""
        n = house.rstrip("号")
        r = self.rng.random()
        if r < 0.10:
            return _cn_digits(n) + "号"
        if r < 0.25:
            return n + "号院"
        return n + "号"

    def _inside(self, a: SyntheticAddress) -> str:
        if not a.building:
            return ""
        rng = self.rng
        b = a.building.rstrip("号楼")
        u = a.unit_no.rstrip("单元") if a.unit_no else None
        r = a.room.rstrip("室") if a.room else None
        style = rng.random()
        if u and r and style < 0.25:
            return f"{b}-{u}-{r}"
        cn = rng.random() < 0.12
        bs = (_cn_positional(int(b)) if cn else b) + rng.choice(("号楼", "号楼", "栋", "幢"))
        out = bs
        if u:
            out += (_cn_positional(int(u)) if cn else u) + "单元"
        if r:
            out += (_cn_digits(r) if cn else r) + ("室" if rng.random() < 0.6 else "")
        return out

    def _scatter(self, text: str) -> str:
        rng = self.rng
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            pos = rng.randint(1, max(1, len(chars) - 1))
            chars.insert(pos, rng.choice((" ", "，", "、", "  ", "。", "（", "）")))
        return "".join(chars)
