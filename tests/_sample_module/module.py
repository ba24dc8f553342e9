"""What the sample module brings: one API route, one page, a menu entry for auditors, an audit
entity name, a scheduled job, a warm-up, something to release at shutdown, reference data and
its statistics (a fact source over its table with one KPI)."""

from pingan.registry import Job, Module, NavEntry, WarmUp

MODULE = Module(
    name="sample",
    label=("样例", "Sample"),
    api_routers=("tests._sample_module.routes:router",),
    page_routers=("tests._sample_module.pages:router",),
    navigation=(NavEntry(("样例页", "Sample page"), "/sample", "audit.read", 95),),
    jobs=(Job("sample", due="tests._sample_module.lifecycle:due", run="tests._sample_module.lifecycle:run",
              interval_seconds=lambda: 0.0, batch=2),),
    warm_ups=(WarmUp(start="tests._sample_module.lifecycle:start", stop="tests._sample_module.lifecycle:stop"),),
    on_shutdown=("tests._sample_module.lifecycle:release",),
    reference_data=("tests._sample_module.lifecycle:sync_reference",),
    audit_entities={"sample_item": ("样例记录", "sample item")},
    statistics="tests._sample_module.stats:CONTRIBUTION",
)
