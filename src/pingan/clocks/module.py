"""The deadlines module (期限): the official holiday table and one clock mechanism for every
time limit of every module (decision 0022)."""

import os

from pingan.registry import Job, Module, NavEntry

MODULE = Module(
    name="clocks",
    label=("期限", "Deadlines"),
    api_routers=("pingan.clocks.routes:router",),
    page_routers=("pingan.clocks.pages:router",),
    navigation=(NavEntry(("节假日", "Holidays"), "/clocks/holidays", "calendar.manage", 85),),
    jobs=(Job(name="clocks.flag", due="pingan.clocks.jobs:turning", run="pingan.clocks.jobs:flag",
              interval_seconds=lambda: float(os.environ.get("PINGAN_CLOCK_FLAG_INTERVAL", "60")),
              batch=10_000),),
    reference_data=("pingan.clocks.reference:sync_holidays",),
    models="pingan.clocks.models",
    audit_entities={
        "holiday": ("节假日", "holiday"),
        "clock_pause": ("期限中止", "clock pause"),
        "clock_extension": ("期限延长", "clock extension"),
    },
)
