"""The module list (issue 14): what ``pingan.modules`` installs is what the app, the CLI, the
tables, the navigation and the audit page are made of."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest


class _MainNav(HTMLParser):
    """The links of ``<nav class="mainnav">``: (attributes, inner HTML with whitespace collapsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.links: list[tuple[dict, str]] = []
        self._link: list | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "nav" and ("class", "mainnav") in attrs:
            self.inside = True
        elif self.inside and tag == "a":
            self._link = [dict(attrs), ""]
        elif self._link is not None:
            self._link[1] += f"<{tag}>"

    def handle_endtag(self, tag):
        if tag == "nav":
            self.inside = False
        elif tag == "a" and self._link is not None:
            self.links.append((self._link[0], " ".join(self._link[1].split())))
            self._link = None
        elif self._link is not None:
            self._link[1] += f"</{tag}>"

    def handle_data(self, data):
        if self._link is not None:
            self._link[1] += data


def main_nav(html: str) -> list[tuple[dict, str]]:
    parser = _MainNav()
    parser.feed(html)
    return parser.links


TAKE_CALL = ({"href": "/incidents/new", "data-new-call": None, "title": "新来电（Alt+N）"}, "接警 <kbd>Alt+N</kbd>")
BOARD = ({"href": "/incidents/board"}, "警情看板")
INCIDENTS = ({"href": "/incidents"}, "警情列表")
PATROL = ({"href": "/patrol"}, "我的任务")
UNITS = ({"href": "/units"}, "警力")
ADDRESSES = ({"href": "/addresses"}, "标准地址")
ORG = ({"href": "/org"}, "机构")
STATS = ({"href": "/stats"}, "统计")
AUDIT = ({"href": "/audit"}, "审计日志")
REPORTS = ({"href": "/stats/reports"}, "工作综述")

# The main menu as base.html rendered it for each role before the menu came from the modules.
NAV_BY_ROLE = {
    "admin": [TAKE_CALL, BOARD, INCIDENTS, UNITS, ADDRESSES, ORG, STATS, AUDIT, REPORTS],
    "dispatcher": [TAKE_CALL, BOARD, INCIDENTS, UNITS, ADDRESSES, ORG, STATS, REPORTS],
    "chief_a": [BOARD, INCIDENTS, UNITS, ADDRESSES, ORG, STATS, REPORTS],
    "patrol_a": [BOARD, INCIDENTS, PATROL, UNITS, ADDRESSES],
    "community_a": [BOARD, INCIDENTS, UNITS, ADDRESSES],
    "auditor": [BOARD, INCIDENTS, ADDRESSES, ORG, STATS, AUDIT, REPORTS],
}


@pytest.mark.parametrize("username", sorted(NAV_BY_ROLE))
def test_the_menu_of_each_role_is_what_it_was_and_only_what_the_role_may_open(client, world, sign_in, username):
    sign_in(username)
    home = client.get("/")
    assert home.status_code == 200, home.url
    links = main_nav(home.text)
    assert links == NAV_BY_ROLE[username]
    shown = {attrs["href"] for attrs, _ in links}
    for href in {attrs["href"] for links in NAV_BY_ROLE.values() for attrs, _ in links}:
        status = client.get(href, follow_redirects=False).status_code
        assert (status == 403) == (href not in shown), (href, status)
    client.cookies.set("lang", "en")
    english = main_nav(client.get("/").text)
    assert [a["href"] for a, _ in english] == [a["href"] for a, _ in NAV_BY_ROLE[username]]
    if username == "dispatcher":
        assert english[0] == ({"href": "/incidents/new", "data-new-call": None, "title": "New call (Alt+N)"},
                              "Take call <kbd>Alt+N</kbd>")
        assert english[-1][1] == "Work summaries"
