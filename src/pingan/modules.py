"""The installed modules, in order (issue 14). Each name is a package of ``pingan`` with a
``module.py`` declaring what it brings (``pingan.registry.Module``); adding a module is one line
here. The order is the order in which routers are matched, CLI commands registered, reference
data synced and audit names listed: the incident API comes first, as taking a call is the hot
path and its routes are then the first the router tries (no two modules share a path)."""

INSTALLED: tuple[str, ...] = (
    "incident",
    "org",
    "geo",
    "auth",
    "people",
    "audit",
    "stats",
    "clocks",
    "demo",
)
