"""The audit module (督察): the audit log and its page."""

from pingan.registry import Module, NavEntry

MODULE = Module(
    name="audit",
    label=("审计", "Audit"),
    api_routers=("pingan.audit.routes:router",),
    page_routers=("pingan.audit.pages:router",),
    navigation=(NavEntry(("审计日志", "Audit log"), "/audit", "audit.read", 90),),
    models="pingan.audit.models",
)
