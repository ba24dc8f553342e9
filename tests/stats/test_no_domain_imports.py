"""The statistics know no domain (issue 14, decision 0015): no file of ``src/pingan/stats``
imports a domain package, at module level or inside a function, and no template names one.
A module brings its statistics through its contribution (``stats.contribution``)."""

import ast
import re
from pathlib import Path

import pingan.stats

STATS = Path(pingan.stats.__file__).parent
# What the statistics may import of Ping'an: the foundation (decision 0015). Everything else —
# incident, geo, demo and every later module — is a domain package.
FOUNDATION = {"auth", "org", "audit", "db", "web", "registry", "config", "errors", "privacy", "runtime",
              "tabular", "files", "stats"}


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):  # every import, at any depth (functions, branches)
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "pingan":
            out += [(node.lineno, f"pingan.{alias.name}") for alias in node.names]  # from pingan import x
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            out.append((node.lineno, str(node.args[0].value)))
    return out


def test_no_file_of_stats_imports_a_domain_package():
    files = sorted(STATS.rglob("*.py"))
    assert len(files) > 20
    refused = []
    for path in files:
        for line, name in _imported(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            parts = name.split(".")
            if parts[0] == "pingan" and (len(parts) == 1 or parts[1] not in FOUNDATION):
                refused.append(f"{path.relative_to(STATS)}:{line} imports {name}")
    assert refused == []


def test_the_check_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from pingan.incident import repository\n    import pingan.geo.models\n"
                     "    from pingan import demo\n")
    assert [name for _, name in _imported(tree)] == ["pingan.incident", "pingan.geo.models", "pingan.demo"]


# What a template of the statistics must not name: another module's templates, pages or records.
DOMAIN_WORDS = re.compile(r"incident/|/incidents|geo/|/addresses|警情|接警|签收")


def test_no_template_of_stats_names_a_domain():
    templates = sorted((STATS / "templates").rglob("*.html"))
    assert templates
    found = [f"{t.relative_to(STATS)}: {m.group(0)}" for t in templates
             for m in DOMAIN_WORDS.finditer(t.read_text(encoding="utf-8"))]
    assert found == []
