"""JSON API of the sample module."""

from fastapi import Depends

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.web.deps import require
from pingan.web.routing import api_router

router = api_router(prefix="/sample", tags=["sample"])


@router.get("/items")
def list_items(actor: Actor = Depends(require(Perm.AUDIT_READ))) -> dict:
    """样例记录 / the sample's items."""
    return {"items": ["一", "二"], "reader": actor.username}
