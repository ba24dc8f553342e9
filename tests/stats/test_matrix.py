"""The statistics' part of the permission matrix (tests/matrix.py): figures, records behind them,
issued work summaries and the dashboards, API and pages. A store is synced from the matrix's
records once; the summaries of stations A and B are issued where a case reads one. The figures
themselves are cut to the jurisdiction inside the engine (tests/stats/test_routes.py); here the
records behind a figure are listed to whoever sees their grid only."""

from tests.matrix import STATS_READ, STATS_REPORT, V, Case, cases, form, get, matrix_test, post, text_of

STORE = frozenset({"store"})
REPORTS = frozenset({"store", "reports"})


def period(r, side):
    return r.period


CASES = cases(
    # --- API
    Case("GET", f"{V}/stats/kpis", STATS_READ, get(f"{V}/stats/kpis"), needs=STORE),
    Case("GET", f"{V}/stats/values", STATS_READ, get(f"{V}/stats/values", period=period, by="station"),
         needs=STORE),
    Case("GET", f"{V}/stats/kpis/{{slug}}", STATS_READ,
         get(f"{V}/stats/kpis/incidents_received", period=period), needs=STORE),
    Case("GET", f"{V}/stats/kpis/{{slug}}/records", STATS_READ,
         get(f"{V}/stats/kpis/incidents_received/records", period=period), marker=text_of("number"),
         rows="grid", needs=STORE),
    Case("GET", f"{V}/stats/rankings/{{slug}}", STATS_READ,
         get(f"{V}/stats/rankings/arrived_within_target", period=period, level="station"), needs=STORE),
    # issued work summaries: a station's summary is inside the station's jurisdiction
    Case("POST", f"{V}/stats/reports", STATS_REPORT, post(f"{V}/stats/reports", lambda r, side: {
        "period": r.period, "org": r.ids[side]["station"]}), 201, "station", needs=STORE),
    Case("GET", f"{V}/stats/reports", STATS_READ, get(f"{V}/stats/reports"), marker=text_of("station_name"),
         rows="station", needs=REPORTS),
    Case("GET", f"{V}/stats/reports/{{report_id}}", STATS_READ, get(f"{V}/stats/reports/{{report}}"),
         scope="station", needs=REPORTS),
    Case("GET", f"{V}/stats/reports/{{report_id}}/records", STATS_READ,
         get(f"{V}/stats/reports/{{report}}/records"), scope="station", needs=REPORTS),
    Case("GET", f"{V}/stats/reports/{{report_id}}/docx", STATS_READ, get(f"{V}/stats/reports/{{report}}/docx"),
         scope="station", needs=REPORTS),
    Case("GET", f"{V}/stats/reports/{{report_id}}/pdf", STATS_READ, get(f"{V}/stats/reports/{{report}}/pdf"),
         scope="station", needs=REPORTS),
    # --- pages: work summaries
    Case("GET", "/stats/reports", STATS_READ, get("/stats/reports"), marker=text_of("station_name"), rows="station",
         needs=REPORTS),
    Case("POST", "/stats/reports", STATS_REPORT, form("/stats/reports", lambda r, side: {
        "period": r.period, "org": str(r.ids[side]["station"])}), 303, "station", needs=STORE),
    Case("GET", "/stats/reports/{report_id}", STATS_READ, get("/stats/reports/{report}"), scope="station",
         needs=REPORTS),
    Case("GET", "/stats/reports/{report_id}/amendments", STATS_READ, get("/stats/reports/{report}/amendments"),
         scope="station", needs=REPORTS),
    # --- pages: dashboards and the records behind a figure
    # a station chief lands on their station's dashboard
    Case("GET", "/stats", STATS_READ, get("/stats"), ok_for={"chief_a": 303, "chief_b": 303}, needs=STORE),
    Case("GET", "/stats/panels", STATS_READ, get("/stats/panels", source="incident", period=period), needs=STORE),
    Case("GET", "/stats/charts", STATS_READ, get("/stats/charts", part="trend", period=period), needs=STORE),
    Case("GET", "/stats/grid-values", STATS_READ,
         get("/stats/grid-values", kpi="incidents_received", period=period), needs=STORE),
    Case("GET", "/stats/stations/{station_id}", STATS_READ, get("/stats/stations/{station}"), scope="station",
         needs=STORE),
    Case("GET", "/stats/records", STATS_READ, get("/stats/records", kpi="incidents_received", period=period),
         marker=text_of("number"), rows="grid", needs=STORE),
)

test_matrix = matrix_test(CASES)
