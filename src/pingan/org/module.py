"""The organisation module (机构 / 警力): the org-unit tree, officers, users, duty units."""

from pingan.registry import Module, NavEntry

MODULE = Module(
    name="org",
    label=("机构与警力", "Organisation and units"),
    api_routers=("pingan.org.routes:router",),
    page_routers=("pingan.org.pages:router",),
    navigation=(
        NavEntry(("警力", "Units"), "/units", "unit.read", 50),
        NavEntry(("机构", "Organisation"), "/org", "org.read", 70),
    ),
    cli="pingan.org.cli:register",
    models="pingan.org.models",
    audit_entities={
        "duty_unit": ("警力单元", "duty unit"),
        "org_unit": ("机构", "org unit"),
        "officer": ("民警", "officer"),
        "app_user": ("用户", "user"),
    },
)
