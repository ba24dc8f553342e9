"""HTML of the sample module."""

from fastapi import Depends
from fastapi.responses import HTMLResponse

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.web.deps import require
from pingan.web.routing import api_router

router = api_router()


@router.get("/sample", response_class=HTMLResponse)
def sample_page(actor: Actor = Depends(require(Perm.AUDIT_READ))) -> str:
    return "<p>样例页 / sample page</p>"
