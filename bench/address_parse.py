"""Benchmark: national division parsing (行政区划解析) — Ping'an against cpca and jionlp.

On the labelled set the tests use (``tests/geo/data/addresses_labelled.tsv``: the failure
categories of issue 13 written one by one, and ordinary addresses generated from the division
list), prints JSON lines:

- accuracy of each parser at county level (province, city and county all right, or all rightly
  absent) and at township level where the set gives one (jionlp only among the peers; cpca
  does not go below the county), compared by name, the set's codes read through Ping'an's list;
- throughput, median of ``--runs`` passes over the whole set, the parsers taking turns in each
  round so that other load on the machine falls on all of them alike; wall-clock and per CPU
  second. Ping'an is measured cold: what it remembers of texts is forgotten before each pass
  (``pingan_repeat``: the same texts again, their results remembered). cpca is called as
  it is meant to be, one ``transform`` over the whole list; jionlp one text at a time, on a
  sample (it parses about a hundred texts a second);
- the ratio Ping'an / cpca from the same rounds;
- linear time: a 10,000- and a 100,000-character text (the set's texts end to end), seconds each,
  cold.

cpca and jionlp are optional (``pip install -e '.[bench]'``); a peer that is not installed is
skipped and said so.

    .venv/bin/python bench/address_parse.py [--runs 7] [--jionlp-sample 200]
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import math
import os
import statistics
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

LABELLED = ROOT / "tests" / "geo" / "data" / "addresses_labelled.tsv"
MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}


def emit(metric: str, value, unit: str, **extra) -> None:
    print(json.dumps({"bench": "address_parse", "metric": metric, "value": value, "unit": unit, **extra},
                     ensure_ascii=False), flush=True)


def load_rows() -> list[dict]:
    from pingan.geo.divisions import get_division

    def name(code: str) -> str:
        return get_division(code).name if code else ""

    with LABELLED.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for r in rows:
        r["names"] = tuple(name(r[k]) for k in ("province", "city", "county", "township"))
    return rows


def _norm(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def county_right(expected: tuple[str, ...], province: str, city: str, county: str) -> bool:
    if province != expected[0] or county != expected[2]:
        return False
    if expected[0] in MUNICIPALITIES and not expected[1]:
        return city in ("", "市辖区", "县", expected[0])  # a municipality's districts: no city level
    return city == expected[1]


# --- the parsers: each takes the list of texts, gives (province, city, county, township) names ---

def pingan_parse(texts: list[str]) -> list[tuple[str, str, str, str]]:
    from pingan.geo.divisions import parse_division

    out = []
    for text in texts:
        p = parse_division(text)
        out.append(tuple(d.name if d else "" for d in (p.province, p.city, p.county, p.township)))
    return out


def pingan_pass(texts: list[str], *, cold: bool = True) -> None:
    from pingan.geo.divisions import get_index, parse_division

    if cold:  # nothing remembered of earlier texts (what is remembered per name of the list stays)
        get_index().forget_texts()
    for text in texts:
        parse_division(text)


def load_cpca():
    try:
        with redirect_stderr(io.StringIO()):
            import cpca
    except ImportError as exc:
        return None, str(exc)
    return cpca, None


def cpca_parse(cpca, texts: list[str]) -> list[tuple[str, str, str, str]]:
    df = cpca.transform(texts)
    return [(_norm(r["省"]), _norm(r["市"]), _norm(r["区"]), "") for r in df.to_dict("records")]


def load_jionlp():
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            import jionlp
    except ImportError as exc:
        return None, str(exc)
    return jionlp, None


def jionlp_parse(jio, texts: list[str]) -> list[tuple[str, str, str, str]]:
    out = []
    for text in texts:
        try:
            r = jio.parse_location(text, town_village=True)
        except Exception:  # noqa: BLE001 - a peer's failure on one text counts as a miss
            out.append(("", "", "", ""))
            continue
        out.append((_norm(r.get("province")), _norm(r.get("city")), _norm(r.get("county")), _norm(r.get("town"))))
    return out


def accuracy(name: str, rows: list[dict], got: list[tuple[str, str, str, str]], townships: bool) -> None:
    right = sum(county_right(r["names"], *g[:3]) for r, g in zip(rows, got, strict=True))
    emit("county_accuracy", round(right / len(rows), 4), "ratio", parser=name, texts=len(rows))
    if townships:
        with_t = [(r, g) for r, g in zip(rows, got, strict=True) if r["names"][3]]
        right_t = sum(g[3] == r["names"][3] for r, g in with_t)
        emit("township_accuracy", round(right_t / len(with_t), 4), "ratio", parser=name, texts=len(with_t))
    cats: dict[str, list[bool]] = {}
    for r, g in zip(rows, got, strict=True):
        cats.setdefault(r["category"], []).append(county_right(r["names"], *g[:3]))
    emit("county_accuracy_by_category", {k: round(sum(v) / len(v), 3) for k, v in sorted(cats.items())}, "ratio",
         parser=name)


def timed(fn) -> tuple[float, float]:
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jionlp-sample", type=int, default=200)
    args = parser.parse_args()

    from pingan.geo.divisions import clean_text, get_index, parse_division

    t = time.perf_counter()
    get_index()
    emit("index_build", round(time.perf_counter() - t, 2), "s")
    rows = load_rows()
    texts = [r["text"] for r in rows]
    emit("labelled_set", len(rows), "texts", township_given=sum(1 for r in rows if r["names"][3]))
    emit("load_average", round(os.getloadavg()[0], 2), "load",
         note="other work on the machine skews figures; the parsers take turns in each round")

    cpca, why = load_cpca()
    if cpca is None:
        emit("peer_skipped", "cpca", "peer", reason=f"not installed: {why}")
    jio, why = load_jionlp()
    if jio is None:
        emit("peer_skipped", "jionlp", "peer", reason=f"not installed: {why}")

    # Accuracy (one pass each).
    accuracy("pingan", rows, pingan_parse(texts), townships=True)
    if cpca is not None:
        accuracy("cpca", rows, cpca_parse(cpca, texts), townships=False)
    if jio is not None:
        accuracy("jionlp", rows, jionlp_parse(jio, texts), townships=True)

    # Throughput: rounds in which every parser takes a turn.
    sample = texts[: args.jionlp_sample]
    pingan_pass(texts)
    if cpca is not None:
        cpca.transform(texts)  # its first call loads its tables
    walls: dict[str, list[float]] = {"pingan": [], "pingan_repeat": [], "cpca": [], "jionlp": []}
    cpus: dict[str, list[float]] = {"pingan": [], "pingan_repeat": [], "cpca": [], "jionlp": []}
    for _ in range(args.runs):
        w, c = timed(lambda: pingan_pass(texts))
        walls["pingan"].append(len(texts) / w)
        cpus["pingan"].append(len(texts) / c)
        w, c = timed(lambda: pingan_pass(texts, cold=False))
        walls["pingan_repeat"].append(len(texts) / w)
        cpus["pingan_repeat"].append(len(texts) / c)
        if cpca is not None:
            w, c = timed(lambda: cpca.transform(texts))
            walls["cpca"].append(len(texts) / w)
            cpus["cpca"].append(len(texts) / c)
        if jio is not None:
            w, c = timed(lambda: jionlp_parse(jio, sample))
            walls["jionlp"].append(len(sample) / w)
            cpus["jionlp"].append(len(sample) / c)
    for name in ("pingan", "pingan_repeat", "cpca", "jionlp"):
        if walls[name]:
            extra = {"note": "the same texts again: their results are remembered"} \
                if name == "pingan_repeat" else {}
            emit("throughput", round(statistics.median(walls[name])), "addresses/s", parser=name, runs=args.runs,
                 min=round(min(walls[name])), max=round(max(walls[name])),
                 texts=len(sample) if name == "jionlp" else len(texts), **extra)
            emit("throughput_per_cpu_second", round(statistics.median(cpus[name])), "addresses/cpu-s", parser=name)
    if walls["cpca"]:
        ratios = [p / c for p, c in zip(walls["pingan"], walls["cpca"], strict=True)]
        cpu_ratios = [p / c for p, c in zip(cpus["pingan"], cpus["cpca"], strict=True)]
        emit("ratio_to_cpca", round(statistics.median(ratios), 3), "x", note="Ping'an / cpca, median of same rounds",
             target=0.5, per_cpu_second=round(statistics.median(cpu_ratios), 3))
    if walls["jionlp"]:
        ratios = [p / j for p, j in zip(walls["pingan"], walls["jionlp"], strict=True)]
        emit("ratio_to_jionlp", round(statistics.median(ratios), 1), "x", note="Ping'an / jionlp, same rounds")
    emit("load_average_after", round(os.getloadavg()[0], 2), "load")

    # Linear time: the set's texts end to end, 10,000 and 100,000 characters.
    joined = "；".join(texts)
    while len(joined) < 100_000:
        joined += "；" + joined
    for size in (10_000, 100_000):
        text = joined[:size]
        runs = sorted(timed(lambda text=text: (get_index().forget_texts(), parse_division(text))) for _ in range(3))
        wall, cpu = runs[1]
        emit("long_text", round(wall, 3), "s", characters=size, cpu_s=round(cpu, 3),
             target_s=1.0 if size == 100_000 else None, names_found=len(get_index().segments(clean_text(text))))


if __name__ == "__main__":
    main()
