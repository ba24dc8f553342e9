"""The yearly work summary of the whole bureau on the city-scale demo (1 M incidents).

Opens the demo database read-only (it is never written) and brings a statistics store up to date
from it first (untimed; ``--work`` keeps the store between runs). Then, ``--runs`` times, the steps of issuing the report, each timed on its
own (wall and CPU seconds; medians printed):

- ``figures``: every figure of the outline from the engine (one grouped query per cut);
- ``compose``: the document from the figures (words, tables, chart data);
- ``charts``: the matplotlib pictures;
- ``docx``: the .docx bytes;
- ``records``: the ids and fingerprints of every record counted, compressed (what amendments
  are detected against later);
- ``pdf``: the .docx converted by LibreOffice;
- ``total``: the sum — target < 15 s.

Also: ``amendments`` (what reading an issued report costs: the figures again, the records
again, both compared), the sizes of what is frozen, and a baseline measured in the same run —
one ``engine.compute`` of every KPI for the bureau with 同比 — with the figures step's ratio to it.
Inserting the row into the operational database is not timed here (the file is read-only).

Prints JSON lines (bench, metric, value, unit, …).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import _server as srv

BENCH = "report"


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=srv.CITY_DEMO)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--year", type=int, default=None, help="the year to report (default: the last whole year)")
    ap.add_argument("--memory-limit", default="128MB")
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--work", default="/tmp/pingan-bench-report",
                    help="the store's directory, kept between runs (then the untimed sync is incremental)")
    args = ap.parse_args()
    if srv.city_demo_missing(BENCH, args.source):
        return
    source = Path(args.source)

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from pingan.auth.actor import Actor
    from pingan.org.system import get_root
    from pingan.stats import engine, report
    from pingan.stats.document import PdfUnavailable, docx_to_pdf, render_charts, render_docx
    from pingan.stats.engine import OrgNode
    from pingan.stats.metrics import METRICS
    from pingan.stats.period import year as year_period
    from pingan.stats.store import StatsStore

    reader = create_engine(f"sqlite:///file:{source}?mode=ro&uri=true", isolation_level="AUTOCOMMIT")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    store = StatsStore(path=str(work / "stats.duckdb"), memory_limit=args.memory_limit, threads=2)
    with Session(bind=reader) as db:
        synced, sync_s, _ = timed(lambda: store.sync(db=db, scan_url=f"sqlite:///{source}"))  # untimed
        root = get_root(db=db)
        org = OrgNode(id=root.id, name=root.name, kind=str(root.kind))
        code = root.code
    srv.emit(BENCH, "store_sync_untimed", round(sync_s, 2), "s", rows=synced.rows, mode=synced.mode)
    actor = Actor.system(org.id, f"/{org.id}/", name="bench:report")
    zone = ZoneInfo(store.timezone)
    now = datetime.now(zone)
    period = year_period(args.year or now.year - 1)
    issued_at = now.replace(microsecond=0)

    steps = ("figures", "compose", "charts", "docx", "records", "pdf")
    wall: dict[str, list[float]] = {s: [] for s in (*steps, "total", "amendments", "baseline")}
    cpu: dict[str, list[float]] = {s: [] for s in wall}
    sizes = {}
    frozen = None
    for run in range(args.runs):
        _, w, c = timed(lambda: engine.compute(store=store, actor=actor, metrics=list(METRICS.values()),
                                               period=period))
        wall["baseline"].append(w)
        cpu["baseline"].append(c)
        snapshot, w, c = timed(lambda: report.gather(store=store, actor=actor, org=org, org_code=code, period=period,
                                                     issued_at=issued_at))
        wall["figures"].append(w)
        cpu["figures"].append(c)
        document, w, c = timed(lambda: report.compose(snapshot))
        wall["compose"].append(w)
        cpu["compose"].append(c)
        drawn, w, c = timed(lambda: render_charts(document))
        wall["charts"].append(w)
        cpu["charts"].append(c)
        data, w, c = timed(lambda: render_docx(document))
        wall["docx"].append(w)
        cpu["docx"].append(c)
        blob, w, c = timed(lambda: report.encode_records(report.records_counted(store=store, actor=actor,
                                                                               snapshot=snapshot)))
        wall["records"].append(w)
        cpu["records"].append(c)
        pdf_s = 0.0
        if not args.no_pdf:
            path = work / f"report-{run}.docx"
            path.write_bytes(data)
            try:
                _, pdf_s, c = timed(lambda: docx_to_pdf(path))
            except PdfUnavailable as exc:
                srv.emit(BENCH, "pdf_skipped", 0, "", reason=str(exc))
                args.no_pdf = True
                pdf_s = c = 0.0
            wall["pdf"].append(pdf_s)
            cpu["pdf"].append(c)
        wall["total"].append(sum(wall[s][-1] for s in steps if wall[s]))
        cpu["total"].append(sum(cpu[s][-1] for s in steps if cpu[s]))
        if frozen is None:
            frozen = (snapshot, blob)
            sizes = {"docx_bytes": len(data), "figures": len(snapshot.figures),
                     "figures_json_bytes": len(json.dumps(snapshot.to_json(), ensure_ascii=False).encode()),
                     "records_counted": report.record_count(report.decode_records(blob)), "records_bytes": len(blob),
                     "charts": drawn, "definitions": len(document.definitions)}

        def check():
            then, then_blob = frozen
            now_snapshot = report.gather(store=store, actor=actor, org=org, org_code=code, period=then.period,
                                         issued_at=then.issued_at)
            now_records = report.records_counted(store=store, actor=actor, snapshot=then)
            return (report.compare_records(report.decode_records(then_blob), now_records),
                    report.compare_figures(then, now_snapshot))

        (records_changed, figures_changed), w, c = timed(check)
        assert not figures_changed and not any(r.total for r in records_changed), "nothing was amended"
        wall["amendments"].append(w)
        cpu["amendments"].append(c)

    def median(values):
        return round(statistics.median(values), 3) if values else None

    for step in (*steps, "total", "amendments", "baseline"):
        if wall[step]:
            srv.emit(BENCH, step, median(wall[step]), "s", cpu_s=median(cpu[step]), runs=len(wall[step]),
                     period=period.label, load=srv.loadavg(),
                     **({"target_s": 15} if step == "total" else {}))
    srv.emit(BENCH, "figures_vs_one_kpi_set", round(statistics.median(wall["figures"])
                                                    / statistics.median(wall["baseline"]), 2), "ratio",
             baseline="one engine.compute of every KPI for the bureau with 同比")
    srv.emit(BENCH, "frozen", sizes["docx_bytes"], "bytes", **sizes)
    store.close()


if __name__ == "__main__":
    main()
