"""The repository contract (issue 14, decision 0016), checked over every installed module.

- Every public function of a module's ``repository`` takes the ``actor`` whose jurisdiction it
  reads in, or says in its name that it does not (``*_unscoped``). A package's ``system`` module
  holds the reads that serve the machinery (login, jobs, index builds) and is exempt.
- A repository or system module names the tables of its own package only: another package's
  rows are read through that package's repository (enums and other non-table names may be shared).
- SQL is built in repositories only: no other module of ``src/pingan`` imports a statement
  constructor from SQLAlchemy, but for the few named below, each with its reason.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
from pathlib import Path

import pytest

import pingan
from pingan import modules

SRC = Path(pingan.__file__).parent

# Written in i14-stats (moving the statistics' feeding queries to the packages that own the
# tables, in a parallel branch): these go when that branch is merged.

# Modules that build SQL outside a repository, system, models or db module, and why.
SQL_ELSEWHERE = {
    "audit/mechanism.py": "the audit mechanism: the one writer of audit rows (the flush hook's INSERT and the "
                          "hot path's one statement, decision 0005)",
    "demo/writer.py": "the demo city's bulk writer through SQLAlchemy Core, no ORM and no audit (decision 0016)",
    "demo/generator.py": "drives the demo writer on one connection: the counts and the units' last positions",
}
SQL_CONSTRUCTORS = {"select", "insert", "update", "delete", "text", "union", "union_all", "exists", "literal_column"}


def _packages() -> list[str]:
    return [name if "." in name else f"pingan.{name}" for name in modules.INSTALLED]


def _modules(kind: str) -> list:
    found = []
    for package in _packages():
        if importlib.util.find_spec(f"{package}.{kind}") is not None:
            found.append(importlib.import_module(f"{package}.{kind}"))
    return found


def _public_functions(module) -> list[tuple[str, object]]:
    return [(name, value) for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")]


def test_every_installed_module_with_tables_has_a_repository():
    with_tables = [p for p in _packages() if importlib.util.find_spec(f"{p}.models") is not None]
    assert with_tables
    missing = [p for p in with_tables if importlib.util.find_spec(f"{p}.repository") is None]
    assert missing == [], f"packages with tables but no repository: {missing}"


def test_a_repository_function_takes_the_actor_or_says_it_is_unscoped():
    offenders = []
    for module in _modules("repository"):
        for name, function in _public_functions(module):
            if "actor" in inspect.signature(function).parameters or name.endswith("_unscoped"):
                continue
            offenders.append(f"{module.__name__}.{name}")
    assert offenders == [], ("repository functions without an actor: take one (and build on the entity's "
                             "readable statement), name them *_unscoped, or move them to the package's "
                             f"system.py: {offenders}")


def test_the_contract_finds_an_offender():
    """The check above looks where the functions are: a repository function without an actor is seen."""
    from pingan.incident import repository

    names = {name for name, _ in _public_functions(repository)}
    assert {"get_incident", "flag_unaccepted_unscoped", "readable_incidents"} <= names
    assert "actor" not in inspect.signature(repository.flag_unaccepted_unscoped).parameters


def _own_package(module_name: str) -> str:
    return module_name.rsplit(".", 1)[0]


def _is_table(module_name: str, name: str) -> bool:
    value = getattr(importlib.import_module(module_name), name, None)
    return inspect.isclass(value) and hasattr(value, "__table__")


@pytest.mark.parametrize("kind", ["repository", "system"])
def test_a_repository_reads_its_own_package_tables_only(kind):
    offenders = []
    for module in _modules(kind):
        own = _own_package(module.__name__)
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").endswith(".models"):
                continue
            if _own_package(node.module) == own:
                continue
            tables = [a.name for a in node.names if _is_table(node.module, a.name)]
            if tables:
                offenders.append(f"{module.__name__} imports {tables} from {node.module}")
    assert offenders == [], f"read another package's tables through its repository: {offenders}"


def _sql_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [a.name for a in node.names if a.name in SQL_CONSTRUCTORS]
        elif (isinstance(node, ast.Attribute) and node.attr in SQL_CONSTRUCTORS
              and isinstance(node.value, ast.Name) and node.value.id in ("sa", "sqlalchemy")):
            found.append(node.attr)
    return found


def _may_build_sql(relative: str) -> bool:
    parts = relative.split("/")
    return (parts[-1] in ("repository.py", "system.py") or parts[0] == "db" or relative in SQL_ELSEWHERE
            or (parts[-1] == "models.py"))  # models: DDL only (a partial index's condition)


def test_no_sql_outside_repositories():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if _may_build_sql(relative):
            continue
        if found := _sql_imports(path):
            offenders.append(f"{relative}: {sorted(set(found))}")
    assert offenders == [], f"SQL belongs in the package's repository (or system) module: {offenders}"


def test_models_use_text_for_ddl_only():
    """A models module may import ``text`` (a partial index's condition), no query constructor."""
    offenders = []
    for path in sorted(SRC.rglob("models.py")):
        if found := set(_sql_imports(path)) - {"text"}:
            offenders.append(f"{path.relative_to(SRC).as_posix()}: {sorted(found)}")
    assert offenders == []


def test_the_sql_scan_sees_a_statement(tmp_path):
    sample = tmp_path / "pages.py"
    sample.write_text("from sqlalchemy import select, func\nimport sqlalchemy as sa\nsa.update\n", encoding="utf-8")
    assert sorted(_sql_imports(sample)) == ["select", "update"]
    assert not _may_build_sql("incident/pages.py") and _may_build_sql("incident/repository.py")


def test_the_allowed_modules_exist():
    assert all((SRC / relative).is_file() for relative in SQL_ELSEWHERE)
