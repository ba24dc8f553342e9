"""The permission matrix is complete: every route the app answers (API and page, each method) is a
case of some fragment, and every case is a route.

The machinery is tests/matrix.py; each installed module's cases are in
``tests/<module>/test_matrix.py`` (a module named by a dotted path, as the test suite's sample,
in ``<path>/test_matrix.py``), the web frame's own in tests/web/test_matrix.py.
"""

from __future__ import annotations

from tests.matrix import app_routes, fragment_of, fragments

SAMPLE = "tests._sample_module"


def incomplete(app, installed: tuple[str, ...]) -> list[str]:
    """What is wrong with the matrix of ``app``: routes with no case, cases with no route."""
    routes = app_routes(app)
    covered = {case.key: fragment for fragment, items in fragments(installed).items() for case in items}
    wrong = [f"{method} {path} ({endpoint}) has no case: add one to {fragment_of(endpoint)}"
             for (method, path), endpoint in sorted(routes.items()) if (method, path) not in covered]
    wrong += [f"{method} {path} in {covered[(method, path)]} is no route of the app (renamed or removed?)"
              for method, path in sorted(covered.keys() - routes.keys())]
    return wrong


def test_every_route_of_every_installed_module_is_in_the_matrix(app):
    from pingan import modules

    wrong = incomplete(app, modules.INSTALLED)
    assert not wrong, "the permission matrix (tests/matrix.py) is incomplete:\n" + "\n".join(wrong)


def test_a_module_added_to_the_list_is_in_the_matrix(db, monkeypatch):
    """The sample module (tests/_sample_module) installed: its API route and its page are cases of
    its own fragment, and without that fragment they would be reported by name."""
    from pingan import modules
    from pingan.app import create_app

    monkeypatch.setattr(modules, "INSTALLED", (*modules.INSTALLED, SAMPLE))
    app = create_app(background_jobs=False)
    assert not incomplete(app, modules.INSTALLED)
    without_its_fragment = incomplete(app, modules.INSTALLED[:-1])
    assert without_its_fragment == [
        "GET /api/v1/sample/items (tests._sample_module.routes:list_items) has no case: "
        "add one to tests/_sample_module/test_matrix.py",
        "GET /sample (tests._sample_module.pages:sample_page) has no case: add one to tests/_sample_module/test_matrix.py",
    ]
