"""The geography module (标准地址 / 网格): divisions, grids, standard addresses, the matcher."""

from pingan.registry import Module, NavEntry, WarmUp

MODULE = Module(
    name="geo",
    label=("标准地址与网格", "Addresses and grids"),
    api_routers=("pingan.geo.routes:router",),
    page_routers=("pingan.geo.pages:router",),
    navigation=(NavEntry(("标准地址", "Addresses"), "/addresses", "geo.read", 60),),
    cli="pingan.geo.cli:register",
    # Build the address index off the request path and keep it current from a watcher thread,
    # so that the first call taken after start-up does not wait.
    warm_ups=(WarmUp(start="pingan.geo.matcher:warm_up", stop="pingan.geo.matcher:stop_watching"),),
    models="pingan.geo.models",
    audit_entities={
        "address": ("标准地址", "standard address"),
        "grid": ("网格", "grid"),
    },
    statistics="pingan.geo.stats:CONTRIBUTION",
)
