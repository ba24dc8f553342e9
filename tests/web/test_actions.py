"""web.actions: a page's action runs in a savepoint; a refusal undoes what the action wrote and
becomes the form's message, and the request's transaction stays usable (decision 0017)."""

from __future__ import annotations

import re
from pathlib import Path

import pingan
from pingan.errors import Conflict
from pingan.org.models import User
from pingan.web.actions import attempt, form_action

SRC = Path(pingan.__file__).parent


def test_a_refused_action_is_undone_and_returned(db, world):
    user = world.users["patrol_a"]

    def rename_then_refuse():
        user.display_name = "改名后"
        db.flush()
        raise Conflict("不行", "no")

    result, error = attempt(db, rename_then_refuse)
    assert result is None and isinstance(error, Conflict)
    assert db.get(User, user.id).display_name != "改名后"
    # the request's transaction goes on: a later action is kept
    result, error = attempt(db, lambda: setattr(user, "display_name", "新名字") or "done")
    db.flush()
    db.expire_all()
    assert (result, error) == ("done", None) and db.get(User, user.id).display_name == "新名字"


def test_form_action_answers_done_or_refused(db, world):
    assert form_action(db, lambda: 7, done=lambda r: ("done", r), refused=lambda e: ("refused", e)) == ("done", 7)

    def refuse():
        raise Conflict("不行", "no")

    answer, error = form_action(db, refuse, done=lambda r: ("done", r), refused=lambda e: ("refused", e))
    assert answer == "refused" and error.en == "no"


def test_pages_never_touch_the_transaction():
    """A page runs its actions through web.actions; the request's unit of work commits or rolls back."""
    touching = re.compile(r"\bdb\.(rollback|commit)\(")
    offenders = [str(path.relative_to(SRC)) for path in SRC.rglob("pages.py")
                 if touching.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
