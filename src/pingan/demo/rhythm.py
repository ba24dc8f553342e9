"""When and what (警情时间规律与类别构成): the daily, weekly and seasonal rhythm of incidents and
the category mix, for the demo generator.

- Daily: quiet in the small hours, a morning rise, an evening peak; summer nights busier.
- Weekly: Friday and the weekend busier.
- Seasonal: summer highest, late winter lowest; a slow year-on-year decline.
- Spring Festival (春节): wage disputes and thefts climb in the weeks before; New Year's Eve has a
  midnight peak of fireworks fires and drunken disorder; the holiday week is quieter on the roads.
  National Day week (国庆): more traffic and missing persons.
- Category mix over the code table in :data:`pingan.incident.reference.CATEGORIES`: assistance and
  disputes most common, homicide rare; some categories lean to night (drunken disorder, noise),
  rush hours (traffic), or office hours (fraud, labour disputes).
"""

from __future__ import annotations

import bisect
from datetime import date
from enum import IntEnum
from functools import lru_cache

from pingan.incident.models import Disposition
from pingan.incident.reference import leaf_codes

# 正月初一 (the first day of the lunar new year), by Gregorian year.
SPRING_FESTIVAL: dict[int, date] = {
    2018: date(2018, 2, 16), 2019: date(2019, 2, 5), 2020: date(2020, 1, 25), 2021: date(2021, 2, 12),
    2022: date(2022, 2, 1), 2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
    2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11), 2033: date(2033, 1, 31),
    2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
}

HOURLY = (0.55, 0.42, 0.33, 0.27, 0.24, 0.27, 0.40, 0.65, 0.90, 1.05, 1.12, 1.12,
          1.00, 0.98, 1.05, 1.08, 1.12, 1.20, 1.30, 1.40, 1.45, 1.40, 1.15, 0.85)
MONTHLY = (0.92, 0.90, 0.95, 0.98, 1.03, 1.08, 1.12, 1.10, 1.02, 1.00, 0.95, 0.95)
WEEKDAY = (0.97, 0.96, 0.96, 0.97, 1.04, 1.08, 1.02)  # Monday first
YEARLY_TREND = 0.96  # each year about 4 % fewer incidents than the one before


class Festival(IntEnum):
    NONE = 0
    PRE = 1  # the weeks before Spring Festival
    EVE = 2  # 除夕
    HOLIDAY = 3  # 初一 to 初六, and 元宵
    GOLDEN_WEEK = 4  # 国庆


class Season(IntEnum):
    WINTER = 0
    MILD = 1
    SUMMER = 2


def season_of(month: int) -> Season:
    if month in (12, 1, 2):
        return Season.WINTER
    if month in (6, 7, 8):
        return Season.SUMMER
    return Season.MILD


def spring_festival(year: int) -> date:
    return SPRING_FESTIVAL.get(year, date(year, 2, 5))


def festival_of(day: date) -> Festival:
    for year in (day.year, day.year + 1):
        rel = (day - spring_festival(year)).days
        if rel == -1:
            return Festival.EVE
        if 0 <= rel <= 6 or rel == 14:
            return Festival.HOLIDAY
        if -30 <= rel <= -2:
            return Festival.PRE
    if day.month == 10 and day.day <= 7:
        return Festival.GOLDEN_WEEK
    return Festival.NONE


DAY_FACTOR = {Festival.NONE: 1.0, Festival.PRE: 1.04, Festival.EVE: 1.18, Festival.HOLIDAY: 0.9,
              Festival.GOLDEN_WEEK: 1.05}


def day_weight(day: date, base_year: int) -> float:
    """Relative number of incidents expected on a local date."""
    return (MONTHLY[day.month - 1] * WEEKDAY[day.weekday()] * DAY_FACTOR[festival_of(day)]
            * YEARLY_TREND ** (day.year - base_year + (day.timetuple().tm_yday - 1) / 365.0))


@lru_cache(maxsize=64)
def hourly_profile(season: Season, festival: Festival, new_year_day: bool) -> tuple[float, ...]:
    """Cumulative weights of the 24 local hours of a day."""
    weights = list(HOURLY)
    for h in range(24):
        if season == Season.SUMMER and (h >= 20 or h <= 2):
            weights[h] *= 1.25
        elif season == Season.SUMMER and 3 <= h <= 5:
            weights[h] *= 1.1
        elif season == Season.WINTER and 19 <= h <= 23:
            weights[h] *= 0.9
        if festival == Festival.EVE and h >= 19:
            weights[h] *= 1.6
        if new_year_day and h <= 2:
            weights[h] *= 2.2  # midnight fireworks
    return _cumulative(weights)


def _cumulative(weights) -> tuple[float, ...]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


def pick(cumulative: tuple[float, ...] | list[float], u: float) -> int:
    """Index drawn from cumulative weights with a uniform u in [0, 1)."""
    return min(bisect.bisect_right(cumulative, u * cumulative[-1]), len(cumulative) - 1)


# --- the category mix ------------------------------------------------------------------------

# Share (per mille, before modifiers) of each sub-category.
CATEGORY_WEIGHTS: dict[str, float] = {
    "1001": 60, "1002": 1.5, "1003": 2, "1004": 20, "1005": 28, "1006": 8, "1007": 0.06, "1008": 2,
    "1009": 4, "1099": 10,
    "2001": 40, "2002": 10, "2003": 15, "2004": 30, "2005": 2, "2099": 20,
    "3001": 90, "3002": 20, "3003": 5, "3099": 15,
    "4001": 4, "4002": 2, "4099": 5,
    "5001": 20, "5002": 30, "5003": 40, "5004": 20, "5099": 100,
    "6001": 60, "6002": 50, "6003": 40, "6004": 20, "6099": 50,
    "7001": 15, "7002": 30, "7099": 10,
    "9001": 40, "9002": 50, "9099": 20,
}

NIGHT = {"2003": 2.5, "2001": 1.8, "2004": 2.0, "1001": 1.2, "3003": 3.0, "5003": 0.5, "5001": 0.6, "7002": 0.4,
         "9001": 0.5, "3002": 0.2, "6004": 0.2, "6003": 0.5, "1004": 0.5, "1005": 0.5}
RUSH = {"3001": 1.6, "3002": 2.5}
OFFICE = {"6003": 1.4, "6004": 1.4, "1004": 1.5, "1005": 1.5, "7001": 1.4, "7002": 1.4, "9001": 1.3}
SUMMER = {"2001": 1.3, "2003": 1.3, "2004": 1.5, "5004": 1.5, "1001": 1.1}
WINTER = {"4001": 1.6, "4099": 1.3, "5002": 1.2, "3001": 1.1}
PRE_FESTIVAL = {"6004": 3.5, "1001": 1.3, "6003": 1.5}
HOLIDAY = {"4001": 2.5, "4099": 4.0, "6001": 1.8, "2003": 1.8, "2001": 1.3, "6004": 0.3, "3002": 0.5, "1001": 0.8}
GOLDEN_WEEK = {"3001": 1.4, "3002": 2.0, "5001": 1.4}


def _hour_kind(hour: int) -> dict[str, float]:
    if hour >= 22 or hour <= 5:
        return NIGHT
    if 7 <= hour <= 9 or 17 <= hour <= 19:
        return RUSH
    if 9 <= hour <= 17:
        return OFFICE
    return {}


@lru_cache(maxsize=512)
def category_table(hour: int, season: Season, festival: Festival) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(codes, cumulative weights) of the sub-categories at a local hour, season and festival."""
    codes = tuple(c for c in leaf_codes() if c in CATEGORY_WEIGHTS)
    mods = [_hour_kind(hour)]
    mods.append(SUMMER if season == Season.SUMMER else WINTER if season == Season.WINTER else {})
    mods.append({Festival.PRE: PRE_FESTIVAL, Festival.EVE: HOLIDAY, Festival.HOLIDAY: HOLIDAY,
                 Festival.GOLDEN_WEEK: GOLDEN_WEEK}.get(festival, {}))
    weights = []
    for code in codes:
        w = CATEGORY_WEIGHTS[code]
        for m in mods:
            w *= m.get(code, 1.0)
        weights.append(w)
    return codes, _cumulative(weights)


# --- priority, disposition, handling ---------------------------------------------------------

PRIORITY: dict[str, tuple[float, float, float, float]] = {  # shares of priority 1..4
    "1002": (0.6, 0.4, 0, 0), "1003": (0.3, 0.6, 0.1, 0), "1006": (0.4, 0.5, 0.1, 0), "1007": (1, 0, 0, 0),
    "1008": (0.1, 0.5, 0.4, 0), "4001": (0.8, 0.2, 0, 0), "4002": (0.4, 0.6, 0, 0), "4099": (0.2, 0.5, 0.3, 0),
    "5002": (0.6, 0.4, 0, 0), "5004": (0.7, 0.3, 0, 0), "5001": (0.2, 0.7, 0.1, 0), "3001": (0.15, 0.6, 0.25, 0),
    "2001": (0.1, 0.7, 0.2, 0), "2005": (0.2, 0.6, 0.2, 0), "2002": (0.05, 0.5, 0.45, 0),
    "2004": (0, 0, 0.3, 0.7), "7001": (0, 0.1, 0.6, 0.3), "7002": (0, 0, 0.3, 0.7), "7099": (0, 0, 0.4, 0.6),
    "9001": (0, 0, 0.1, 0.9), "9002": (0, 0, 0, 1), "9099": (0, 0, 0.5, 0.5), "3002": (0, 0.2, 0.6, 0.2),
}
DEFAULT_PRIORITY = (0.02, 0.18, 0.7, 0.1)

D = Disposition
DISPOSITIONS: dict[str, tuple[tuple[Disposition, float], ...]] = {
    "10": ((D.CRIMINAL_CASE, 60), (D.ADMIN_CASE, 15), (D.HANDLED_ON_SCENE, 15), (D.REFERRED, 6),
           (D.FALSE_REPORT, 4)),
    "20": ((D.ADMIN_CASE, 30), (D.MEDIATED, 30), (D.HANDLED_ON_SCENE, 35), (D.CRIMINAL_CASE, 5)),
    "30": ((D.REFERRED, 50), (D.HANDLED_ON_SCENE, 45), (D.ADMIN_CASE, 5)),
    "3003": ((D.ADMIN_CASE, 70), (D.CRIMINAL_CASE, 30)),
    "40": ((D.REFERRED, 70), (D.HANDLED_ON_SCENE, 30)),
    "50": ((D.ASSISTANCE_GIVEN, 85), (D.HANDLED_ON_SCENE, 10), (D.REFERRED, 5)),
    "60": ((D.MEDIATED, 70), (D.HANDLED_ON_SCENE, 20), (D.REFERRED, 10)),
    "70": ((D.HANDLED_ON_SCENE, 40), (D.REFERRED, 40), (D.ADMIN_CASE, 10), (D.CRIMINAL_CASE, 10)),
    "9001": ((D.ASSISTANCE_GIVEN, 80), (D.REFERRED, 20)),
    "9002": ((D.INVALID_CALL, 95), (D.FALSE_REPORT, 5)),
    "9099": ((D.HANDLED_ON_SCENE, 50), (D.INVALID_CALL, 20), (D.REFERRED, 30)),
}

# Minutes on scene (arrived → resolved), median by top category.
HANDLING_MINUTES = {"10": 55, "20": 35, "30": 25, "40": 50, "50": 30, "60": 40, "70": 25, "90": 15}
# Share of incidents handled without sending anyone (answered on the phone).
NOT_DISPATCHED = {"9001": 1.0, "9002": 1.0, "9099": 0.3, "7002": 0.2, "7099": 0.2}


@lru_cache(maxsize=128)
def priority_table(code: str) -> tuple[float, ...]:
    """Cumulative weights of priorities 1..4 for a sub-category."""
    return _cumulative(PRIORITY.get(code, DEFAULT_PRIORITY))


@lru_cache(maxsize=128)
def disposition_table(code: str) -> tuple[tuple[Disposition, ...], tuple[float, ...]]:
    entries = DISPOSITIONS.get(code) or DISPOSITIONS.get(code[:2]) or ((D.HANDLED_ON_SCENE, 1),)
    return tuple(d for d, _ in entries), _cumulative([w for _, w in entries])


# --- what callers say ------------------------------------------------------------------------

ITEMS = ("电动车", "手机", "钱包", "自行车", "电瓶", "现金", "笔记本电脑", "金项链", "快递包裹", "摩托车")
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "1001": ("报警人称停放的{item}被盗", "报警人称家中被盗，丢失{item}", "报警人称在公交车上{item}被偷"),
    "1002": ("报警人称被人持刀抢走{item}",),
    "1003": ("报警人称走路时{item}被骑车人抢走",),
    "1004": ("报警人称被人以介绍工作为由骗走{n}千元", "报警人称购买{item}被骗"),
    "1005": ("报警人称接到冒充客服电话，被骗{n}万元", "报警人称网上刷单被骗{n}千元", "报警人称被冒充公检法诈骗"),
    "1006": ("报警人称被人打伤，头部流血",),
    "1007": ("报警人称发现有人倒地不起，身上有伤",),
    "1008": ("群众举报有人在出租屋内吸毒",),
    "1009": ("群众举报有人聚众赌博", "群众举报某店铺有卖淫嫖娼活动"),
    "1099": ("报警人称车辆被人故意损坏",),
    "2001": ("{n}人在路边打架", "饭店内有人发生斗殴"),
    "2002": ("有人在店内闹事，砸坏物品",),
    "2003": ("有人酒后滋事，情绪激动", "醉酒男子在路边滋扰路人"),
    "2004": ("楼上装修噪音扰民", "广场舞音响声音过大", "夜间有人大声喧哗扰民"),
    "2005": ("有{n}十余人聚集在门口", ),
    "2099": ("报警人称有人在楼道乱贴小广告", "有人放飞无人机"),
    "3001": ("两车相撞，{injury}", "电动车与轿车刮擦，{injury}", "车辆追尾，{injury}"),
    "3002": ("路口车辆拥堵严重", "有车辆违停堵塞道路"),
    "3003": ("群众举报有人酒后驾车",),
    "3099": ("道路上有遗撒物影响通行",),
    "4001": ("居民楼{n}楼冒烟起火", "商铺起火"),
    "4002": ("路边车辆起火",),
    "4099": ("路边垃圾堆着火", "燃放烟花引燃杂物"),
    "5001": ("报警人称{who}走失未归", "老人外出未归，患有老年痴呆"),
    "5002": ("路边有人突发疾病晕倒", "家中老人突发疾病需要帮助"),
    "5003": ("报警人称钥匙锁在屋里", "孩子被反锁在家中"),
    "5004": ("有人被困电梯", "有人落水", "有人被困在楼顶"),
    "5099": ("报警人求助寻找丢失的{item}", "报警人称迷路求助", "报警人求助送医"),
    "6001": ("夫妻吵架，情绪激动", "家庭成员因赡养问题发生纠纷"),
    "6002": ("邻居因漏水发生纠纷", "邻居因停车位发生争吵"),
    "6003": ("报警人称对方欠款{n}万元不还", "买卖双方因退款发生纠纷"),
    "6004": ("{n}十名工人讨要工资", "报警人称老板拖欠工资"),
    "6099": ("顾客与商家发生纠纷", "乘客与司机因车费发生纠纷"),
    "7001": ("群众举报有人销售假烟", "群众举报有人非法营运"),
    "7002": ("投诉商铺占道经营", "投诉夜市油烟扰民"),
    "7099": ("群众反映路灯损坏",),
    "9001": ("咨询办理户口手续", "咨询出入境证件办理"),
    "9002": ("电话接通后无人说话", "误拨报警电话", "骚扰电话"),
    "9099": ("报警人反映情况，需民警到场了解",),
}
WHO = ("老人", "孩子", "丈夫", "妻子", "女儿", "儿子", "父亲", "母亲")
INJURY = ("无人员受伤", "有人受伤", "一人轻伤", "无人员伤亡")
