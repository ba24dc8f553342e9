"""The statistics module (统计 / 综述): KPIs, dashboards, rankings, the work summary."""

from pingan.registry import Module, NavEntry

MODULE = Module(
    name="stats",
    label=("统计与综述", "Statistics and summaries"),
    api_routers=("pingan.stats.routes:router",),
    page_routers=("pingan.stats.pages:router",),
    navigation=(
        NavEntry(("统计", "Statistics"), "/stats", "stats.read", 80),
        NavEntry(("工作综述", "Work summaries"), "/stats/reports", "stats.read", 100),
    ),
    cli="pingan.stats.cli:register",
    # The store is kept current by the statistics process (stats.server), not by a web worker,
    # which only holds its client: its idle connections are closed when the app stops.
    on_shutdown=("pingan.stats.store:close_store",),
    models="pingan.stats.models",
    audit_entities={"stats_report": ("工作综述", "work summary")},
)
