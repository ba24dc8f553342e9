"""What a module brings, and the installed modules (``pingan.modules.INSTALLED``) in their order.

Each package declares one ``MODULE = Module(...)`` in its ``module.py``; the app, the CLI, the
table list (Alembic), ``db upgrade``, the main menu and the audit page iterate over
``installed()`` and name no domain.

A ``module.py`` stays cheap to import (the CLI and Alembic read it too): it names code as
``"package.module:attribute"`` references, imported by ``resolve`` when the code is needed, so
that listing the CLI commands does not import every page. Data (labels, menu entries, audit
names) is written in place.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Label = tuple[str, str]  # (zh, en)


def resolve(reference: str) -> Any:
    """``"pingan.incident.routes:router"`` → that object (its module imported)."""
    module_name, _, attribute = reference.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        target = getattr(target, part)
    return target


@dataclass(frozen=True)
class NavEntry:
    """A link in the main menu, shown to actors holding ``permission`` (a ``Perm`` value, written
    as its string so that a module.py imports no model); entries of all modules are sorted by
    ``order``. ``attributes`` are valueless HTML attributes (``data-new-call``),
    ``title`` the tooltip and ``key`` a shortcut shown as ``<kbd>``."""

    label: Label
    href: str
    permission: str
    order: int
    title: Label | None = None
    attributes: tuple[str, ...] = ()
    key: str | None = None


@dataclass(frozen=True)
class Job:
    """A scheduled job, run once per deployment by the job worker (``pingan.worker``), never in a
    web worker. Every ``interval_seconds()`` (a function, so that a setting is read when the worker
    starts) the worker asks ``due`` which records need it, then hands them to ``run`` ``batch`` at
    a time, each step in a unit of work of its own with request id ``job:<name>`` (its audit rows
    name the job):

    - ``due(*, db, now) -> ids``: read only; the ids of every record the job has to act on (a
      deadline job: the clocks run out at ``now``; 200,000 ids are a few MB);
    - ``run(*, db, ids, now) -> ids``: act on those ids and return the ones it acted on. It checks
      again in its own statement that each record still needs it (the record may have changed
      since ``due``), so a batch is idempotent.
    """

    name: str
    due: str
    run: str
    interval_seconds: Callable[[], float]
    batch: int = 500


@dataclass(frozen=True)
class WarmUp:
    """An in-process index built when a server starts (``start``, off the request path) and
    whose background work stops with it (``stop``); both references to functions of no argument."""

    start: str
    stop: str


@dataclass(frozen=True)
class Module:
    """What one package brings. Every reference is ``"package.module:attribute"``.

    - ``api_routers`` are mounted under ``/api/v1`` (in the OpenAPI document), ``page_routers``
      at the root (not in it), module by module in list order: routes are matched in that order.
    - ``cli`` is called with the root Typer app and, by parameter name, the shared sub-apps it
      asks for (``import_app``, ``user_app``), as the domains' ``register`` functions are written.
    - ``reference_data``: functions ``f(*, db)`` run by ``db upgrade`` after the migrations, in
      one unit of work; idempotent.
    - ``models``: the module holding its tables, imported by ``pingan.models`` (Alembic sees them).
    - ``audit_entities``: the tables it owns that the audit log records, with their names (zh, en).
    - ``on_shutdown``: functions of no argument releasing what the module holds in a web process.
    - ``statistics``: its statistics contribution (``pingan.stats.contribution.Contribution``:
      fact sources, KPIs, dimension tables, report sections, dashboard panels), loaded by the
      statistics the first time they are asked for.
    """

    name: str
    label: Label
    api_routers: tuple[str, ...] = ()
    page_routers: tuple[str, ...] = ()
    navigation: tuple[NavEntry, ...] = ()
    cli: str | None = None
    jobs: tuple[Job, ...] = ()
    reference_data: tuple[str, ...] = ()
    warm_ups: tuple[WarmUp, ...] = ()
    on_shutdown: tuple[str, ...] = ()
    models: str | None = None
    audit_entities: Mapping[str, Label] = field(default_factory=dict)
    statistics: str | None = None


def installed(names: Iterable[str] | None = None) -> tuple[Module, ...]:
    """The installed modules in order: ``pingan.<name>.module.MODULE`` for each name of
    ``pingan.modules.INSTALLED`` (read at call time) or of ``names``. A name with a dot is a
    package path of its own (``tests._sample_module``)."""
    if names is None:
        from pingan import modules

        names = modules.INSTALLED
    return _load(tuple(names))


@lru_cache(maxsize=8)
def _load(names: tuple[str, ...]) -> tuple[Module, ...]:
    loaded = []
    for name in names:
        package = name if "." in name else f"pingan.{name}"
        module = importlib.import_module(f"{package}.module").MODULE
        if not isinstance(module, Module):
            raise TypeError(f"{package}.module.MODULE is not a pingan.registry.Module")
        loaded.append(module)
    seen = [m.name for m in loaded]
    if len(set(seen)) != len(seen):
        raise ValueError(f"a module is installed twice: {seen}")
    return tuple(loaded)


def navigation(permissions: Iterable[str]) -> list[NavEntry]:
    """The main menu for an actor holding ``permissions``: the entries they may open, in order."""
    held = set(permissions)
    entries = [e for m in installed() for e in m.navigation]
    return sorted((e for e in entries if e.permission in held), key=lambda e: e.order)


def audit_entities() -> dict[str, Label]:
    """Every installed module's audited tables with their names, in module order."""
    labels: dict[str, Label] = {}
    for module in installed():
        labels.update(module.audit_entities)
    return labels


def import_models() -> None:
    """Import every installed module's tables onto ``Base.metadata``."""
    for module in installed():
        if module.models:
            importlib.import_module(module.models)


def register_commands(root, shared: Mapping[str, Any]) -> None:
    """Add each module's CLI commands to ``root``: its ``register`` function gets the root app
    and those of the ``shared`` sub-apps (``import_app``, ``user_app``) it names."""
    for module in installed():
        if module.cli:
            register = resolve(module.cli)
            wanted = inspect.signature(register).parameters
            register(root, **{name: app for name, app in shared.items() if name in wanted})


def sync_reference_data(db) -> None:
    """Upsert every installed module's reference data (``db upgrade``), in module order."""
    for module in installed():
        for reference in module.reference_data:
            resolve(reference)(db=db)


def scheduled_jobs() -> tuple[Job, ...]:
    """Every installed module's scheduled jobs, in module order (the job worker runs them); a job
    name is a request id (``job:<name>``), so two modules may not declare the same one."""
    jobs = tuple(job for module in installed() for job in module.jobs)
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"two scheduled jobs share a name: {names}")
    return jobs
