"""The incident module (接处警): calls, incidents, dispatch, the board and its stream."""

from pingan.config import get_settings
from pingan.registry import Job, Module, NavEntry

MODULE = Module(
    name="incident",
    label=("接处警", "Calls and incidents"),
    api_routers=("pingan.incident.routes:router",),
    page_routers=("pingan.incident.pages:router",),
    navigation=(
        NavEntry(("接警", "Take call"), "/incidents/new", "incident.create", 10,
                 title=("新来电（Alt+N）", "New call (Alt+N)"), attributes=("data-new-call",), key="Alt+N"),
        NavEntry(("警情看板", "Board"), "/incidents/board", "incident.read", 20),
        NavEntry(("警情列表", "Incidents"), "/incidents", "incident.read", 30),
        NavEntry(("我的任务", "My assignment"), "/patrol", "assignment.own", 40),
    ),
    jobs=(
        # Every few seconds (≤ 10 s from a breach to its flag); 50 a transaction: on SQLite one
        # holds the write lock about 10 ms, which calls being taken wait behind.
        Job("escalation", due="pingan.incident.jobs:overdue", run="pingan.incident.jobs:escalate",
            interval_seconds=lambda: get_settings().escalation_interval_seconds, batch=50),
    ),
    reference_data=("pingan.incident.reference:sync_categories",),
    models="pingan.incident.models",
    audit_entities={
        "incident": ("警情", "incident"),
        "call": ("来电", "call"),
        "assignment": ("派警", "assignment"),
        "callback": ("回访", "callback"),
    },
    statistics="pingan.incident.stats:CONTRIBUTION",
)
