"""Name pools for the synthetic city (演示数据命名): roads, compounds, villages, communities, places.

Every name is drawn with the generator's seeded ``random.Random`` through :class:`NamePool`,
which keeps names unique within the city (as naming rules require in one urban area), so the
same seed always gives the same names.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# Stems that sound like real Chinese road and community names (平原路, 人民路, 解放大道, 金穗大道 ...).
ROAD_STEMS = (
    "平原 人民 解放 金穗 建设 和平 胜利 文化 新华 健康 自由 劳动 宏力 牧野 卫河 向阳 东风 红旗 新中 中原 "
    "友谊 光明 幸福 振中 平安 长青 金谷 丰收 繁荣 团结 育才 学院 工业 科技 创业 迎宾 滨河 锦绣 和谐 富民 "
    "兴业 化工 纺织 商贸 荣校 劳卫 朝阳 青年 前进 北干 南干 新兴 秀水 太行 共城 苏门 华兰 饮马 师专 铁路 "
    "民主 新飞 丰华 盛世 嘉和 龙泉 玉溪 银河 星河 天鹅 翠竹 松柏 梧桐 海棠 牡丹 芙蓉 荷花 兰亭 桂园 枫林 "
    "金城 宝龙 永安 长乐 福寿 康宁 泰和 德政 仁义 礼贤 智慧 信达 公园 体育 车站 新民 复兴 振兴 公平 "
    "中同 东明 西华 新延 新飞 洪门 卫辉 延河 凤凰 白云 绿洲 南环 北环 东环 西环 滨湖 映湖 明湖 清华 "
    "博学 崇文 尚德 广场 利民 惠民 安居 乐业 红星 曙光 黎明 春晖 秋实 百合 紫荆 银杏 香樟 桃园 杏林"
).split()
ROAD_DIRECTIONS = ("", "", "", "", "东", "西", "南", "北", "中")
EAST_WEST_SUFFIXES = ("路", "路", "路", "大道")
NORTH_SOUTH_SUFFIXES = ("街", "街", "路")

COMPOUND_SUFFIXES = ("小区", "小区", "小区", "花园", "家园", "苑", "公寓", "新村", "华庭", "雅居", "名门", "嘉园",
                     "丽景", "新城", "名苑", "佳苑", "景园", "御府", "公馆", "城")
# Workplaces and public places that callers name (单位 / 公共场所).
PLACE_SUFFIXES = ("超市", "饭店", "宾馆", "药房", "医院", "小学", "中学", "幼儿园", "菜市场", "商场", "酒店", "网吧",
                  "加油站", "银行", "诊所", "餐厅", "KTV", "洗浴中心", "汽车站", "物流园", "农贸市场", "广场")

COMMUNITY_SUFFIXES = ("路社区", "街社区", "社区", "社区", "里社区", "苑社区", "园社区")

SURNAMES = ("张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
            "常翟牛申耿聂苗靳樊裴岳")
VILLAGE_PREFIXES = ("", "", "", "", "前", "后", "东", "西", "南", "北", "大", "小", "新")
VILLAGE_SUFFIXES = ("庄", "庄", "寨", "营", "屯", "店", "岗", "洼", "堡", "楼", "桥", "集", "河", "坡", "湾", "口", "固")


class NamePool:
    """Unique names within one city, drawn from a seeded generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make: Callable[[], str], fallback: Callable[[int], str]) -> str:
        for _ in range(200):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        n = 2
        while True:  # the pool is exhausted for this pattern: number it (第二、第三 ...)
            name = fallback(n)
            if name not in self.used:
                self.used.add(name)
                return name
            n += 1

    def road(self, *, east_west: bool, major: bool = False) -> str:
        rng = self.rng
        suffixes = ("大道",) if major else (EAST_WEST_SUFFIXES if east_west else NORTH_SOUTH_SUFFIXES)
        stem = rng.choice(ROAD_STEMS)
        return self._unique(lambda: rng.choice(ROAD_STEMS) + rng.choice(ROAD_DIRECTIONS) + rng.choice(suffixes),
                            lambda n: f"{stem}{'东西南北'[n % 4]}{n}{suffixes[0]}")

    def compound(self) -> str:
        rng = self.rng
        return self._unique(lambda: rng.choice(ROAD_STEMS) + rng.choice(COMPOUND_SUFFIXES),
                            lambda n: f"{rng.choice(ROAD_STEMS)}{n}期小区")

    def place(self) -> str:
        rng = self.rng
        return self._unique(lambda: rng.choice(ROAD_STEMS) + rng.choice(PLACE_SUFFIXES),
                            lambda n: f"{rng.choice(ROAD_STEMS)}第{n}{rng.choice(PLACE_SUFFIXES)}")

    def community(self) -> str:
        rng = self.rng
        return self._unique(lambda: rng.choice(ROAD_STEMS) + rng.choice(COMMUNITY_SUFFIXES),
                            lambda n: f"{rng.choice(ROAD_STEMS)}{n}社区")

    def village(self) -> str:
        rng = self.rng
        return self._unique(
            lambda: rng.choice(VILLAGE_PREFIXES) + rng.choice(SURNAMES) + rng.choice(VILLAGE_SUFFIXES) + "村",
            lambda n: f"{rng.choice(SURNAMES)}{rng.choice(VILLAGE_SUFFIXES)}{n}村")


def short_division_name(name: str) -> str:
    """西街街道 → 西街, 洪门镇 → 洪门, 红旗区 → 红旗, 新乡县 → 新乡 (for unit and station names)."""
    for suffix in ("街道办事处", "街道", "民族乡", "镇", "乡", "区", "县", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name
