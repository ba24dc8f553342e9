"""What other modules let an actor read of people beyond their subtree (the jurisdiction hook).

A person is readable by actors whose subtree holds the org unit that registered them; a later
module widens that for its own records (a case's investigators read its suspects registered by
another station; a fraud warning's handler its potential victims). Such a module registers, once
at import, a function of the actor returning a SELECT of person ids, built on its own link table
and its own ``readable_<entity>(actor)``; ``people.repository.readable_persons`` ORs them in.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select

from pingan.auth.actor import Actor

ReadGrant = Callable[[Actor], Select]
READ_GRANTS: list[ReadGrant] = []


def grant_read(grant: ReadGrant) -> ReadGrant:
    """Register ``grant(actor) -> SELECT person ids`` (usable as a decorator); idempotent."""
    if grant not in READ_GRANTS:
        READ_GRANTS.append(grant)
    return grant
