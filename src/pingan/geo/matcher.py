"""Standard-address matching (标准地址匹配): a caller's free text → ranked standard addresses.

The registry is held in memory once per process as flat arrays (ints and interned short
strings, no ORM objects), keyed by normalised road + house number and by place name
(小区 / 单位 / 村) through an Aho–Corasick automaton. A query is

1. cleaned (traditional → simplified, full-width → half-width, punctuation and spaces out,
   Chinese numerals before 号/栋/单元/室 → digits, 号院 → 号);
2. read for divisions with :func:`pingan.geo.divisions` (province … township) — evidence that
   raises or lowers a candidate, never a hard filter;
3. scanned for the registry's road, place and community names; the house number after a
   road, then building / unit / room (5号楼2单元301室, 5栋2单元301, 5-2-301) are read;
4. scored per candidate row with numpy: key (road + house or place) up to 0.55, divisions up
   to 0.20, building / unit / room up to 0.25; a tie between different rows is penalised.

The index notices changes (a flush of an address, grid, org unit or division in this process
marks it dirty; otherwise a cheap fingerprint query at most every few seconds) and rebuilds.
Each row carries its grid, and each grid the org path of its org unit, so results are
filtered to the actor's jurisdiction by path prefix.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import re
import threading
import time
from array import array
from dataclasses import dataclass

import ahocorasick
import numpy as np
from sqlalchemy import event
from sqlalchemy.orm import Session

from pingan.db.session import flushed_any
from pingan.geo import system
from pingan.geo.divisions import DivisionIndex, clean_text, get_index
from pingan.runtime import release_memory, settle_heap

log = logging.getLogger("pingan.geo")

# How often (seconds) the table fingerprint is compared when nothing in this process changed.
CHECK_INTERVAL_SECONDS = 3.0
# Above this many rows a stale index is rebuilt in a background thread while the old one serves.
BACKGROUND_REBUILD_ROWS = 50_000
# glibc serves a block larger than this from its own mmap, unmapped as soon as it is freed (see
# _fix_mmap_threshold).
MMAP_THRESHOLD_BYTES = 256 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)

# --- normalisation -------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(
    r"[零〇一二两三四五六七八九十百千]+(?=号|栋|幢|单元|室|楼|层|座|户|-)"
    # a room number at the very end, right after 单元 / 号楼 / 栋 / 幢 / 座 / '-': 二单元三零一
    r"|(?:(?<=单元)|(?<=号楼)|(?<=栋)|(?<=幢)|(?<=座)|(?<=-))[零〇一二两三四五六七八九十百千]{2,5}$"
)
_HAO_YUAN = re.compile(r"(\d)号院")


def chinese_number(text: str) -> str:
    """一二三 → 123, 一百二十三 → 123, 十二 → 12, 三零一 → 301."""
    if not any(ch in _CN_UNITS for ch in text):
        return "".join(str(_CN_DIGITS[ch]) for ch in text if ch in _CN_DIGITS)
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return str(total + current)


def normalize(text: str | None) -> str:
    """The form both the registry and callers' text are compared in (归一化)."""
    t = clean_text(text or "")
    if not t:
        return t
    if _CN_NUMBER.search(t):
        t = _CN_NUMBER.sub(lambda m: chinese_number(m.group(0)), t)
    if "号院" in t:
        t = _HAO_YUAN.sub(r"\1号", t)
    return t


def _strip_number(value: str) -> str:
    if value.isdigit():
        return value.lstrip("0") or "0"
    return value


_HOUSE_TAIL = re.compile(r"(?:号院|号|院)$")
_BUILDING_TAIL = re.compile(r"(?:号楼|栋|幢|座|楼|号)$")
_UNIT_TAIL = re.compile(r"单元$")
_ROOM_TAIL = re.compile(r"(?:室|户|号房|号)$")


def house_key(value: str | None) -> str | None:
    """123号 / 123号院 / 一二三号 → '123'."""
    if not value:
        return None
    v = _HOUSE_TAIL.sub("", normalize(value))
    return _strip_number(v) if v else None


def component_key(value: str | None, tail: re.Pattern) -> str | None:
    if not value:
        return None
    v = tail.sub("", normalize(value))
    return _strip_number(v) if v else None


# --- reading a caller's text ----------------------------------------------------------------

_HOUSE_AFTER_ROAD = re.compile(r"(\d+(?:-\d+)?)号(?!楼)|(\d+)(?![\d号])|(\d+)")
_HOUSE_AT_START = re.compile(r"(\d+(?:-\d+)?)号(?!楼)")
_T_BUILDING = re.compile(r"(\d+|[A-Z]\d*)(?:号楼|栋|幢|座|楼)")
_T_UNIT = re.compile(r"(\d+)单元")
_T_ROOM = re.compile(r"(\d+)(?:室|户|号房)")
_T_FLOOR = re.compile(r"\d+(?:层|楼)")
_T_NUM = re.compile(r"\d+|[A-Z]")


def parse_tail(tail: str) -> tuple[str | None, str | None, str | None]:
    """Building, unit and room from the text after the house number or place name."""
    b = u = r = None
    m = _T_BUILDING.search(tail)
    if m:
        b = m.group(1)
        tail = tail[: m.start()] + "|" + tail[m.end():]
        tail = _T_FLOOR.sub("|", tail)  # a second 楼 / 层 after a building is a floor
    m = _T_UNIT.search(tail)
    if m:
        u = m.group(1)
        tail = tail[: m.start()] + "|" + tail[m.end():]
    m = _T_ROOM.search(tail)
    if m:
        r = m.group(1)
        tail = tail[: m.start()] + "|" + tail[m.end():]
    nums = _T_NUM.findall(tail)
    if nums:
        free = [slot for slot, val in (("b", b), ("u", u), ("r", r)) if val is None]
        got: dict[str, str] = {}
        if len(nums) >= len(free):
            got = dict(zip(free, nums[len(nums) - len(free):] if len(nums) > len(free) else nums, strict=False))
        elif len(nums) == 1:
            n = nums[0]
            if "r" in free and len(n) >= 3:
                got["r"] = n
            else:
                got[free[0]] = n
        else:  # two numbers, three free slots: 5-301 (building-room) or 5-2 (building-unit)
            got["b"] = nums[0]
            got["r" if len(nums[1]) >= 3 else "u"] = nums[1]
        b, u, r = got.get("b", b), got.get("u", u), got.get("r", r)
    return (_strip_number(b) if b else None, _strip_number(u) if u else None, _strip_number(r) if r else None)


@dataclass(frozen=True)
class MatchResult:
    """One ranked candidate: a row of the index and its score (0–1)."""

    address_id: int
    score: float
    full_text: str
    lat: float
    lon: float
    grid_id: int | None
    division_code: str | None = None


# Pattern kinds in the registry automaton.
_K_ROAD, _K_PLACE, _K_PLACE_SHORT, _K_COMMUNITY = 0, 1, 2, 3
# Columns of the packed per-row int32 matrix (one fancy index fetches them all for the candidates).
C_COUNTY, C_TOWN, C_COMM, C_PLACE, C_BUILDING, C_UNIT, C_ROOM, C_GRID, C_ROAD, C_HOUSE = range(10)
_HOUSE_MASK = (1 << 24) - 1
# The leading number of a house (12 of 12-1号), for "nearest house"; capped so that differences fit
# in int64 (no real house number comes near).
_LEADING_NUMBER = re.compile(r"\d+")
_HOUSE_VALUE_MAX = 1 << 62
_COMPONENT_WEIGHTS = np.array([0.10, 0.07, 0.08])  # building, unit, room
# Per "which of building / unit / room the caller said": the score of a row with the same
# value, with none, with another value.
_COMPONENT_SCORES = {
    said: (np.where(said, _COMPONENT_WEIGHTS, 0.0), np.where(said, 0.0, _COMPONENT_WEIGHTS),
           np.where(said, -_COMPONENT_WEIGHTS, -0.5 * _COMPONENT_WEIGHTS))
    for said in itertools.product((False, True), repeat=3)
}


class _Ranges:
    """Runs of equal values in a sorted key array, found by key: key → (start, end) into that array.

    Three flat arrays (the sorted distinct keys, int64, and each run's start and end, int32) and a
    binary search, instead of a dict of tuples: 16 bytes a run and no Python object per run, so a
    rebuild leaves no heap of small objects behind.
    """

    __slots__ = ("keys", "starts", "ends")

    def __init__(self, keys: np.ndarray, starts: np.ndarray, ends: np.ndarray):
        self.keys, self.starts, self.ends = keys, starts, ends

    @classmethod
    def of(cls, sorted_keys: np.ndarray) -> _Ranges:
        """The runs of a sorted key array."""
        n = len(sorted_keys)
        first = np.ones(n, dtype=bool)  # where a run starts
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
        starts = np.flatnonzero(first).astype(np.int32)
        ends = np.empty_like(starts)
        ends[:-1] = starts[1:]
        ends[-1:] = n  # (nothing when there are no runs)
        return cls(sorted_keys[starts].astype(np.int64), starts, ends)

    def subset(self, keep: np.ndarray) -> _Ranges:
        """Only the runs where ``keep`` (a boolean per run) is true."""
        return _Ranges(self.keys[keep], self.starts[keep], self.ends[keep])

    def get(self, key: int) -> tuple[int, int] | None:
        """(start, end) of the run of ``key``, None when there is none."""
        i = int(self.keys.searchsorted(key))
        if i < len(self.keys) and self.keys[i] == key:
            return int(self.starts[i]), int(self.ends[i])
        return None


class AddressIndex:
    """The standard-address registry in flat arrays, with its name automaton.

    Per row: the address id, a packed int32 matrix (county, township, community, place,
    building, unit, room, grid, road, house — small dictionary ids, -1 where absent), the
    coordinates, and the full text as two interned pieces (the head shared by every room of a
    house, the tail "5号楼2单元301室" shared by many houses), all pieces held in one string.
    About 75 bytes a row. The key tables are flat arrays too (:class:`_Ranges`): what the index
    holds is a few dozen large objects and some thousands of names, not one object per row, so
    the memory of a replaced index goes back to the OS instead of staying fragmented.
    """

    def __init__(self, rows, grid_paths: list[tuple[int, str]], communities: list[tuple[str, str]], signature):
        self.signature = signature
        self.built_at = time.monotonic()
        pieces: dict[str, int] = {}  # interned text pieces (full-text heads and tails)
        comp: dict[str, int] = {}  # building / unit / room values
        roads: dict[str, int] = {}
        places: dict[str, int] = {}
        houses: dict[str, int] = {}
        comms: dict[str, int] = {}  # 12-digit community code → dense id
        grid_index: dict[int, int] = {}
        # Per kind of component (road, house, building, unit, room, place): its dictionary, how a
        # raw value is normalised, and a build-time cache raw value → id (raw values repeat).
        tables = (roads, houses, comp, comp, comp, places)
        normalizers = (normalize, house_key, lambda v: component_key(v, _BUILDING_TAIL),
                       lambda v: component_key(v, _UNIT_TAIL), lambda v: component_key(v, _ROOM_TAIL), normalize)
        seen: tuple[dict[str, int], ...] = tuple({} for _ in tables)

        def intern(table: dict, value) -> int:
            idx = table.get(value)
            if idx is None:
                idx = table[value] = len(table)
            return idx

        def norm(kind: int, value: str | None) -> int:
            """Dictionary id of a normalised component (-1 when empty)."""
            if not value:
                return -1
            idx = seen[kind].get(value)
            if idx is None:
                out = normalizers[kind](value)
                idx = seen[kind][value] = intern(tables[kind], out) if out else -1
            return idx

        ids, packed, head, tail = array("i"), array("i"), array("i"), array("i")
        lat, lon = array("d"), array("d")
        for (aid, full_text, county_code, division_code, road_raw, house_raw, place_raw, b_raw, u_raw, r_raw,
             a_lat, a_lon, grid_id) in rows:
            ids.append(aid)
            division_code = division_code or ""
            if len(division_code) == 12 and division_code.isdigit():
                town, comm = int(division_code[:9]), intern(comms, division_code)
            else:
                town, comm = -1, -1
            packed.extend((
                int(county_code) if county_code and county_code.isdigit() else -1,
                town, comm, norm(5, place_raw),
                norm(2, b_raw), norm(3, u_raw), norm(4, r_raw),
                -1 if grid_id is None else intern(grid_index, grid_id),
                norm(0, road_raw), norm(1, house_raw),
            ))
            # Split the full text where the place name (or house number, or road) ends.
            split = -1
            for piece in (place_raw, house_raw, road_raw):
                if piece:
                    pos = full_text.rfind(piece)
                    if pos >= 0:
                        split = pos + len(piece)
                        break
            if split < 0:
                split = max(0, len(full_text) - 12)
            head.append(intern(pieces, full_text[:split]))
            tail.append(intern(pieces, full_text[split:]))
            lat.append(a_lat)
            lon.append(a_lon)
        del seen
        self.n = len(ids)
        # Piece i is text[piece_at[i]:piece_at[i + 1]].
        self.text = "".join(pieces)
        self.piece_at = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)), out=self.piece_at[1:])
        del pieces

        def as_np(a: array, dt) -> np.ndarray:
            # A view of the array's own buffer: no second copy of the rows while building.
            return np.frombuffer(a, dtype=dt) if len(a) else np.zeros(0, dt)

        self.ids = as_np(ids, np.int32)
        self.cols = as_np(packed, np.int32).reshape(self.n, 10)
        self.head = as_np(head, np.int32)
        self.tail = as_np(tail, np.int32)
        self.lat = as_np(lat, np.float64)
        self.lon = as_np(lon, np.float64)
        del ids, packed, head, tail, lat, lon
        self.comp = comp
        self.houses = houses
        self.road_names = list(roads)  # road id → name
        self.place_names = list(places)  # place id → name
        self.comm_codes = list(comms)
        self.grid_ids = np.zeros(len(grid_index), dtype=np.int64)
        for gid, pos in grid_index.items():
            self.grid_ids[pos] = gid
        path_of = dict(grid_paths)
        self.grid_paths = [path_of.get(int(g), "") for g in self.grid_ids]
        self._allowed_cache: dict[str, np.ndarray | None] = {}
        self.counties = frozenset(int(c) for c in np.unique(self.cols[:, C_COUNTY]) if c >= 0) if self.n else frozenset()
        self.cities = frozenset(c // 100 for c in self.counties)
        self.prefer = tuple(sorted({str(c)[:4] for c in self.counties}))
        self._build_keys()
        self._build_automaton(communities, comms)

    # -- keys -------------------------------------------------------------------------------
    def _build_keys(self) -> None:
        road, house, place = self.cols[:, C_ROAD], self.cols[:, C_HOUSE], self.cols[:, C_PLACE]
        # (Temporaries are dropped as soon as done with: the old index is alive during a rebuild.)
        # Rows sorted by (road, house): a road, or a road + house, is one contiguous range.
        on_road = np.flatnonzero(road >= 0)
        order = on_road[np.lexsort((house[on_road], road[on_road]))].astype(np.int32)
        del on_road
        self.order_rh = order
        rh_keys = road[order].astype(np.int64) * (1 << 24) + np.where(house[order] >= 0, house[order], _HOUSE_MASK)
        self.range_rh = _Ranges.of(rh_keys)
        del rh_keys
        self.range_road = _Ranges.of(road[order])
        # Per road: its numbered houses (house id, and the leading number as an integer) sorted by
        # road, number and house id, for "nearest house" when a number is not in the registry.
        house_value = np.full(len(self.houses), -1, dtype=np.int64)  # -1: no leading number
        for text, hid in self.houses.items():
            m = _LEADING_NUMBER.match(text)
            if m:
                house_value[hid] = min(int(m.group(0)), _HOUSE_VALUE_MAX)
        keys = self.range_rh.keys
        keys = keys[(keys & _HOUSE_MASK) != _HOUSE_MASK]  # the (road, house) pairs with a house
        keys = keys[house_value[keys & _HOUSE_MASK] >= 0]  # ... and a number
        rids, hids = keys >> 24, keys & _HOUSE_MASK
        values = house_value[hids]
        by_value = np.lexsort((hids, values, rids))
        self.road_house_ids = hids[by_value].astype(np.int32)
        self.road_house_values = values[by_value]
        self.road_houses = _Ranges.of(rids[by_value])
        del house_value, keys, rids, hids, values, by_value
        # Rows sorted by (place, house): a place, or a village house (张庄村15号), is one range.
        on_place = np.flatnonzero(place >= 0)
        porder = on_place[np.lexsort((house[on_place], place[on_place]))].astype(np.int32)
        del on_place
        self.order_pl = porder
        self.range_place = _Ranges.of(place[porder])
        # Per place id: whether it has numbered houses off any road (a village: 张庄村15号).
        self.place_has_house = np.zeros(len(self.place_names), dtype=bool)
        if len(porder):
            starts = self.range_place.starts
            self.place_has_house[self.range_place.keys] = (np.logical_or.reduceat(house[porder] >= 0, starts)
                                                           & np.logical_or.reduceat(road[porder] < 0, starts))
        # (place, house) ranges, kept only for those places: no other is looked up by house.
        ph_keys = place[porder].astype(np.int64) * (1 << 24) + np.where(house[porder] >= 0, house[porder], _HOUSE_MASK)
        range_ph = _Ranges.of(ph_keys)
        del ph_keys
        self.range_ph = range_ph.subset(self.place_has_house[range_ph.keys >> 24])

    def _road_house_rows(self, rid: int) -> np.ndarray | None:
        """A road's house-level rows (no building), at most 200, for "just the road" queries."""
        rng = self.range_road.get(rid)
        if rng is None:
            return None
        rows = self.order_rh[rng[0]:rng[1]]
        return rows[self.cols[rows, C_BUILDING] < 0][:200]

    def _build_automaton(self, communities: list[tuple[str, str]], comm_ids: dict[str, int]) -> None:
        patterns: dict[str, list[tuple[int, int]]] = {}

        def add(word: str, kind: int, target: int) -> None:
            if len(word) >= 2:
                patterns.setdefault(word, []).append((kind, target))

        for rid, name in enumerate(self.road_names):
            add(name, _K_ROAD, rid)
        for pid, name in enumerate(self.place_names):
            add(name, _K_PLACE, pid)
            if name.endswith("小区") and len(name) >= 4:
                add(name[:-2], _K_PLACE_SHORT, pid)
        for code, name in communities:
            n = normalize(name)
            if n and code in comm_ids:
                add(n, _K_COMMUNITY, comm_ids[code])
        self.pattern_len = array("B")
        self.pattern_entries: list[tuple[tuple[int, int], ...]] = []
        self.pattern_short_only = array("B")
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for pid, (word, entries) in enumerate(patterns.items()):
            automaton.add_word(word, pid)
            self.pattern_len.append(min(len(word), 255))
            self.pattern_entries.append(tuple(entries))
            self.pattern_short_only.append(all(k == _K_PLACE_SHORT for k, _ in entries))
        if patterns:
            automaton.make_automaton()
            self.automaton = automaton
        else:
            self.automaton = None
        # Fuzzy fallback: roads by character, for a mistyped road name (平源路 for 平原路).
        self.road_chars: dict[str, list[int]] = {}
        for rid, name in enumerate(self.road_names):
            for ch in set(name[:-1]):
                self.road_chars.setdefault(ch, []).append(rid)

    # -- jurisdiction -------------------------------------------------------------------------
    def allowed_grids(self, org_path: str | None, sees_unassigned: bool) -> np.ndarray | None:
        """Boolean per dense grid (+1 for 'no grid'); None when everything is visible."""
        if org_path is None:
            return None
        key = f"{org_path}|{sees_unassigned}"
        if key not in self._allowed_cache:
            mask = np.array([p.startswith(org_path) for p in self.grid_paths] + [sees_unassigned], dtype=bool)
            if len(self._allowed_cache) > 256:
                self._allowed_cache.clear()
            self._allowed_cache[key] = None if mask.all() else mask
        return self._allowed_cache[key]

    # -- reading the query --------------------------------------------------------------------
    def _registry_hits(self, text: str) -> list[tuple[int, int, int]]:
        """Road, place and community names in the text, longest cover. A short place name
        (新华 for 新华小区) that runs into a road name is dropped, and so is a road name
        followed by 街道 (胜利路街道 is a township)."""
        if self.automaton is None:
            return []
        hits = []
        lengths, short_only, entries = self.pattern_len, self.pattern_short_only, self.pattern_entries
        n = len(text)
        for end_idx, pid in self.automaton.iter(text):
            end = end_idx + 1
            if end < n:
                if short_only[pid] and (text[end] in "路街道巷" or text.startswith(("大道", "大街"), end)):
                    continue
                if text.startswith("街道", end) and all(k == _K_ROAD for k, _t in entries[pid]):
                    continue
            hits.append((end - lengths[pid], end, pid))
        return _longest_cover(hits, n) if len(hits) > 1 else hits

    def _fuzzy_roads(self, text: str) -> list[tuple[int, int, float]]:
        """(road id, end position, similarity) for road-like words not in the registry."""
        out = []
        for m in re.finditer(r"([\u3400-\u9fff]{1,6}?)(大道|大街|胡同|路|街|巷)(?=\d)", text):
            word = m.group(1) + m.group(2)
            counts: dict[int, int] = {}
            for ch in set(word[:-1]):
                for rid in self.road_chars.get(ch, ()):
                    counts[rid] = counts.get(rid, 0) + 1
            best = None
            for rid, c in counts.items():
                name = self.road_names[rid]
                if not name.endswith(m.group(2)):
                    continue
                sim = c / max(len(set(name[:-1])), len(set(word[:-1])))
                if sim >= 0.5 and (best is None or sim > best[1]):
                    best = (rid, sim)
            if best:
                out.append((best[0], m.end(), best[1]))
        return out

    def _divisions(self, q: str, hits: list[tuple[int, int, int]]):
        """Division evidence (the counties and townships the text names, as lists of codes) and the
        registry hits that survive it.

        Where a division name and a registry name overlap, the longer wins: 获嘉西大道 is a
        road (not 获嘉县), 百泉 (of 百泉小区) inside 百泉镇 is the township. Returns
        (county, township, outside the registry's area, kept division segments, kept hits).
        """
        div_index = get_index()
        segments = div_index.segments(q)
        if segments and hits:
            kept = []
            for seg in segments:
                seg_len = seg[1] - seg[0]
                if not any(h[0] < seg[1] and seg[0] < h[1] and h[1] - h[0] > seg_len for h in hits):
                    kept.append(seg)
            segments = kept
            # A registry name inside a longer division name goes; of equal length both stay
            # (太行小区 is a township elsewhere and an estate here: the ranking sorts it out).
            hits = [h for h in hits
                    if not any(s[0] < h[1] and h[0] < s[1] and s[1] - s[0] > h[1] - h[0] for s in segments)]
        ranked, _total = div_index.rank(segments, self.prefer)
        if not ranked:
            return None, None, False, segments, hits
        node, raw, _used = ranked[0]
        p, c, k, t = div_index.chain(node)
        codes = div_index.codes
        if k >= 0 and int(codes[k]) in self.counties:
            # Every reading about as good as the best counts (城关镇 is in several counties).
            counties, townships = [], []
            for other, other_raw, _u in ranked[:8]:
                if other_raw < raw - 0.05:
                    break
                _p, _c, ok, ot = div_index.chain(other)
                if ok >= 0 and int(codes[ok]) in self.counties:
                    if int(codes[ok]) not in counties:
                        counties.append(int(codes[ok]))
                    if ot >= 0:
                        townships.append(int(codes[ot]))
            return counties, (townships if t >= 0 else None), False, segments, hits
        evidence = raw - div_index.priors[node] - (0.5 if codes[node].startswith(self.prefer) else 0)
        outside = False
        if evidence >= 0.95:
            # The text names a place outside the registry's area (another county or city).
            if k >= 0 or (c >= 0 and int(codes[c][:4]) not in self.cities) or (
                    c < 0 and p >= 0 and not any(str(x).startswith(codes[p][:2]) for x in self.cities)):
                outside = True
        return None, None, outside, segments, hits

    def _nearest_houses(self, rid: int, house_text: str) -> list[tuple[int, float]]:
        """The two numbered houses of the road closest to the number said, with a closeness."""
        m = _LEADING_NUMBER.match(house_text)
        rng = self.road_houses.get(rid)
        if not m or rng is None:
            return []
        v = int(m.group(0))
        s, e = rng
        values = self.road_house_values[s:e]
        # Sorted by number and house id, so a stable sort by distance breaks ties by the smaller
        # number, then the older house id.
        near = np.argsort(np.abs(values - min(v, _HOUSE_VALUE_MAX)), kind="stable")[:2].tolist()
        return [(int(self.road_house_ids[s + i]), 1.0 / (1.0 + abs(int(values[i]) - v) / 10.0)) for i in near]

    # -- matching ----------------------------------------------------------------------------
    def match(self, text: str, *, limit: int = 5, allowed: np.ndarray | None = None) -> list[MatchResult]:
        q = normalize(text)
        if not q or self.n == 0:
            return []
        county_q, township_q, outside, segments, hits = self._divisions(q, self._registry_hits(q))
        road_keys: list[tuple[int, int, float]] = []  # (road, end, factor)
        place_ids: list[int] = []
        place_ends: list[int] = []
        community: list[int] = []
        # Places by strength: an estate named in full, a village (also a community: 张庄村),
        # a short estate name that is also a division name (封丘 of 封丘小区 and 封丘县).
        village_places: list[tuple[int, int]] = []
        weak_places: list[tuple[int, int]] = []
        short_places: set[int] = set()
        for start, end, pid in hits:
            entries = self.pattern_entries[pid]
            is_community = any(kind == _K_COMMUNITY for kind, _t in entries)
            for kind, target in entries:
                if kind == _K_ROAD:
                    road_keys.append((target, end, 1.0))
                elif kind == _K_COMMUNITY:
                    community.append(target)
                elif is_community:
                    village_places.append((target, end))
                elif kind == _K_PLACE_SHORT:
                    short_places.add(target)
                    if any(s_ < end and start < e_ for s_, e_, _p in segments):
                        weak_places.append((target, end))
                    else:
                        place_ids.append(target)
                        place_ends.append(end)
                else:
                    place_ids.append(target)
                    place_ends.append(end)
        # 张庄村15号: the village is the place; beside a road or an estate it only says which
        # community. A short name that is also a division is a place only when nothing else is.
        if not road_keys and not place_ids:
            weaker = sorted(village_places + weak_places, key=lambda pe: pe[1])
            place_ids += [p for p, _e in weaker]
            place_ends += [e for _p, e in weaker]
        if not road_keys and not place_ids:
            blanked = q
            for s_, e_, _pid in segments:
                blanked = blanked[:s_] + "|" * (e_ - s_) + blanked[e_:]
            road_keys = [(rid, end, 0.85 * sim) for rid, end, sim in self._fuzzy_roads(blanked)]
        # The house number right after a road; building / unit / room from what follows.
        q_house = None
        tail_from = None
        with_house = []
        for rid, end, factor in road_keys:
            m = _HOUSE_AFTER_ROAD.match(q, end)
            if m:
                h = m.group(1) or m.group(2) or m.group(3)
                with_house.append((rid, m.end(), factor))
                q_house = _strip_number(h) if h.isdigit() else h
                tail_from = m.end()
        if with_house:
            road_keys = with_house
        if place_ids and tail_from is None:
            tail_from = place_ends[-1]
            if self.place_has_house[place_ids[-1]]:
                m = _HOUSE_AT_START.match(q, tail_from)
                if m:
                    q_house = _strip_number(m.group(1)) if m.group(1).isdigit() else m.group(1)
                    tail_from = m.end()
        qb, qu, qr = parse_tail(q[tail_from:]) if tail_from is not None else (None, None, None)
        house_id = self.houses.get(q_house) if q_house else None

        # Candidate rows, each with its key score (what located it).
        parts: list[tuple[np.ndarray, float, bool]] = []
        for rid, _end, factor in road_keys:
            if q_house is not None:
                rng = self.range_rh.get(rid * (1 << 24) + house_id) if house_id is not None else None
                if rng:
                    parts.append((self.order_rh[rng[0]:rng[1]], 0.5 * factor, True))
                    continue
                near = self._nearest_houses(rid, q_house)
                for hid, closeness in near:
                    rng = self.range_rh.get(rid * (1 << 24) + hid)
                    if rng:
                        parts.append((self.order_rh[rng[0]:rng[1]], 0.2 * closeness * factor, True))
                if near:
                    continue
            rows = self._road_house_rows(rid)
            if rows is not None and len(rows):
                parts.append((rows, 0.3 * factor, True))
        for pid in dict.fromkeys(place_ids):
            if house_id is not None and not road_keys and self.place_has_house[pid]:
                rng = self.range_ph.get(pid * (1 << 24) + house_id)
                if rng:
                    parts.append((self.order_pl[rng[0]:rng[1]], 0.5, False))
                    continue
            rng = self.range_place.get(pid)
            if rng:
                parts.append((self.order_pl[rng[0]:rng[1]], 0.4 if pid in short_places else 0.45, False))
        if not parts:
            return []
        if len(parts) == 1:
            rows, k, is_road = parts[0]  # is_road: a bool for one part, an array for several
            score = np.full(len(rows), k)
        else:
            rows = np.concatenate([p[0] for p in parts])
            score = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
            is_road = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
            # A row found both ways keeps its best key.
            order = np.lexsort((-score, rows))
            rows, score, is_road = rows[order], score[order], is_road[order]
            first = np.empty(len(rows), bool)
            first[0] = True
            np.not_equal(rows[1:], rows[:-1], out=first[1:])
            rows, score, is_road = rows[first], score[first], is_road[first]
        cols = self.cols[rows]
        if allowed is not None:
            g = cols[:, C_GRID]
            keep = allowed[g]  # -1 (no grid) indexes the last entry: "sees unassigned"
            if not keep.all():
                rows, score, cols = rows[keep], score[keep], cols[keep]
                if isinstance(is_road, np.ndarray):
                    is_road = is_road[keep]
                if not len(rows):
                    return []
        # Evidence from the rest of the text.
        if place_ids and road_keys:
            # Both a road and a place named: best on both; a row on the road in another place,
            # or in the place but off the road, is less likely.
            pl = cols[:, C_PLACE]
            in_place = _in(pl, place_ids)
            off_place = (pl >= 0) & ~in_place & is_road
            score += 0.05 * (in_place & is_road) - 0.1 * off_place - 0.1 * ~np.asarray(is_road)
        elif road_keys:
            score -= 0.02 * (cols[:, C_PLACE] >= 0)  # the house itself before an estate at its number
        if county_q:
            score += np.where(_in(cols[:, C_COUNTY], county_q), 0.12, -0.25)
            if township_q:
                score += np.where(_in(cols[:, C_TOWN], township_q), 0.04, -0.04)
        elif outside:
            score -= 0.3
        if community:
            score += 0.04 * _in(cols[:, C_COMM], community)
        # Building / unit / room, all three at once: the same value scores its weight, a value
        # the row lacks nothing, a different value minus its weight; a value not said rewards
        # the row that lacks it too (the house itself rather than a room in it).
        wanted = np.array([-3 if v is None else self.comp.get(v, -2) for v in (qb, qu, qr)], dtype=np.int32)
        w_same, w_none, w_other = _COMPONENT_SCORES[(qb is not None, qu is not None, qr is not None)]
        comp = cols[:, C_BUILDING:C_ROOM + 1]
        score += np.where(comp == wanted, w_same, np.where(comp < 0, w_none, w_other)).sum(axis=1)
        np.minimum(score, 1.0, out=score)
        np.maximum(score, 0.0, out=score)
        return self._top(rows, score, cols, limit)

    def _piece(self, i: int) -> str:
        """Interned text piece ``i`` (a full-text head or tail)."""
        return self.text[self.piece_at[i]:self.piece_at[i + 1]]

    def _top(self, rows: np.ndarray, score: np.ndarray, cols: np.ndarray, limit: int) -> list[MatchResult]:
        k = min(limit, len(rows))
        if len(rows) > 64:
            top = np.argpartition(-score, k)[: k + 1]
            top = top[np.lexsort((self.ids[rows[top]], -score[top]))]
        else:
            top = np.lexsort((self.ids[rows], -score))[: k + 1]
        best = score[top]
        if len(top) > 1 and best[0] - best[1] < 1e-9:
            best = best * 0.75  # two different addresses fit equally well: not sure which
        results = []
        comm_codes = self.comm_codes
        for pos, s in zip(top[:k].tolist(), best[:k].tolist(), strict=False):
            i = int(rows[pos])
            g = int(cols[pos, C_GRID])
            c = int(cols[pos, C_COMM])
            results.append(MatchResult(
                address_id=int(self.ids[i]), score=round(s, 4),
                full_text=self._piece(self.head[i]) + self._piece(self.tail[i]),
                lat=float(self.lat[i]), lon=float(self.lon[i]),
                grid_id=int(self.grid_ids[g]) if g >= 0 else None,
                division_code=comm_codes[c] if c >= 0 else None,
            ))
        return results


def _in(column: np.ndarray, values: list[int]) -> np.ndarray:
    """column ∈ values for a handful of values (faster than np.isin on small arrays)."""
    out = column == values[0]
    for v in values[1:]:
        out |= column == v
    return out


def _longest_cover(hits: list[tuple[int, int, int]], n: int) -> list[tuple[int, int, int]]:
    """Non-overlapping hits covering the most text (the division parser's segmentation)."""
    return DivisionIndex._segment(hits, n)


# --- the per-process index, kept fresh -----------------------------------------------------

_lock = threading.Lock()
_index: AddressIndex | None = None
_dirty = True
_last_check = 0.0
_checks = 0
_rebuilding = False
_built = threading.Event()
_watcher: threading.Thread | None = None
_stop = threading.Event()
# Every this many checks the fingerprint includes max(address.updated_at) (a scan unless that
# column is indexed); the others compare counts and maxima by key only.
FULL_CHECK_EVERY = 10


def invalidate() -> None:
    """Mark the index stale (bulk loaders call this after writing addresses or grids)."""
    global _dirty
    _dirty = True


_mmap_threshold_fixed = False


def _fix_mmap_threshold() -> None:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD_BYTES (process-wide, once, before the first
    build; glibc starts at 128 KB).

    By default glibc raises the threshold to the size of each mmapped block freed, up to 32 MB:
    once a replaced index's 16 MB row matrix is freed, the next index's arrays come from the
    heaps instead, and a heap keeps what is freed in it (up to twice the threshold at its top,
    and all of it when the old index is dropped by a request thread, after the trim). With the
    threshold fixed, every large array of an index is its own mapping, returned to the OS when
    it is freed, whichever thread frees it last: two rebuilds no longer leave the process an
    index larger, and the peak of a rebuild is the old index plus the new one.
    """
    global _mmap_threshold_fixed
    if _mmap_threshold_fixed:
        return
    _mmap_threshold_fixed = True
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _build(db: Session, signature, between_batches=None) -> AddressIndex:
    _fix_mmap_threshold()
    started = time.perf_counter()
    index = AddressIndex(
        system.iter_address_index_rows(db=db, between_batches=between_batches),
        system.grid_org_paths(db=db), system.community_names(db=db), signature,
    )
    release_memory()
    log.info("address index: %d rows in %.2fs", index.n, time.perf_counter() - started)
    return index


def _unchanged(index: AddressIndex, signature: tuple) -> bool:
    """Compare fingerprints; a light one (no updated_at) compares the parts it has."""
    if signature[-1] is None:
        return index.signature[:-1] == signature[:-1]
    return index.signature == signature


def _fingerprint(db: Session, *, full: bool) -> tuple:
    global _checks
    _checks += 1
    return system.index_signature(db=db, with_updates=full or _checks % FULL_CHECK_EVERY == 0)


def _rebuild_in_background(signature=None) -> None:
    """Build in this thread with its own session, in short transactions (one per batch of
    rows) so that on SQLite no writer waits for the build; the old index serves meanwhile."""
    global _index, _rebuilding
    from pingan.db.session import get_sessionmaker

    try:
        with get_sessionmaker()() as db:
            if signature is None or signature[-1] is None:
                signature = system.index_signature(db=db)
                db.commit()
            fresh = _build(db, signature, between_batches=db.commit)
            db.commit()
        with _lock:
            old, _index = _index, fresh
        # The replaced index is freed here (unless a request still holds it): hand its memory
        # back as well, or each rebuild leaves the process about one index larger.
        del old, fresh
        release_memory()
        settle_heap()  # the new index out of the cycle collector's way (pingan.runtime)
    except Exception:  # the old index keeps serving; the next check retries
        log.exception("address index rebuild failed")
    finally:
        _rebuilding = False
        _built.set()


def _start_rebuild(signature=None) -> None:
    """Start a background rebuild unless one runs (call with _lock held)."""
    global _rebuilding
    if not _rebuilding:
        _rebuilding = True
        _built.clear()
        threading.Thread(target=_rebuild_in_background, args=(signature,), name="address-index",
                         daemon=True).start()


def _watch() -> None:
    """Server mode: compare the fingerprint every few seconds off the request path."""
    global _last_check
    from pingan.db.session import get_sessionmaker

    while not _stop.wait(CHECK_INTERVAL_SECONDS):
        try:
            with get_sessionmaker()() as db:
                signature = _fingerprint(db, full=False)
                db.commit()
            with _lock:
                if _index is not None and not _unchanged(_index, signature):
                    _start_rebuild(signature)
                _last_check = time.monotonic()
        except Exception:  # keep watching; the request path checks on its own meanwhile
            log.exception("address index check failed")


def warm_up() -> None:
    """Server start-up: build the index in the background, then watch the tables from a
    background thread, so that no request waits for a build or pays for a check."""
    global _watcher
    with _lock:
        if _index is None:
            _start_rebuild()
        if _watcher is None:
            _watcher = threading.Thread(target=_watch, name="address-index-watch", daemon=True)
            _watcher.start()


def stop_watching(timeout: float = 10.0) -> None:
    """Stop the watcher thread (server shutdown, tests) and wait for a running build."""
    global _watcher
    _stop.set()
    if _watcher is not None:
        _watcher.join(timeout)
    _watcher = None
    if _rebuilding:
        _built.wait(timeout)
    _stop.clear()


def get_address_index(db: Session) -> AddressIndex:
    """The process-wide index, rebuilt when the tables changed."""
    global _index, _dirty, _last_check
    index = _index
    if index is not None and not _dirty and time.monotonic() - _last_check < CHECK_INTERVAL_SECONDS:
        return index
    if index is None and _rebuilding:
        _built.wait(timeout=300)  # a warm-up is building it: wait rather than build twice
    with _lock:
        index = _index
        if index is not None and not _dirty and time.monotonic() - _last_check < CHECK_INTERVAL_SECONDS:
            return index
        # A change flushed in this process may be in this very transaction: compare in full.
        signature = _fingerprint(db, full=_dirty or index is None)
        _dirty = False
        _last_check = time.monotonic()
        if index is not None and _unchanged(index, signature):
            return index
        if index is not None and index.n > BACKGROUND_REBUILD_ROWS:
            _start_rebuild(signature)
            return index
        if signature[-1] is None:
            signature = system.index_signature(db=db)
        _index = _build(db, signature)
        return _index


def _watched_classes():
    from pingan.geo.models import Address, Division, Grid
    from pingan.org.models import OrgUnit

    return (Address, Grid, OrgUnit, Division)


@event.listens_for(Session, "after_flush")
def _mark_dirty_on_flush(session: Session, _ctx) -> None:
    global _dirty
    if _dirty:
        return
    if flushed_any(session, _watched_classes()):
        _dirty = True

