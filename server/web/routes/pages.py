"""The page itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ... import __version__
from ..deps import shared_session

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request):
    guard = request.app.state.guard
    token = request.query_params.get("token", "")
    if not guard.token_ok(token or None):
        return HTMLResponse(refused_page(bool(token)), 401)
    classroom = request.app.state.classroom
    if classroom is not None:
        instead = await classroom.page(request)  # a new visitor's cookie, or the room is full
        if instead is not None:
            return instead
    return request.app.state.templates.TemplateResponse(
        request, "index.html",
        {"token": token if guard.token else "", "version": __version__, "shared": shared_session(request),
         "share_hosts": " ".join(request.app.state.settings.share_hosts)}
    )


def refused_page(wrong: bool) -> str:
    """The page for an address without this server's token: a wrong one is most likely an old link."""
    if wrong:
        title = "This server restarted with a new address or token"
        text = "Open the new link from the teacher (the address the server printed when it started)."
    else:
        title = "This server needs its token"
        text = "Open the whole address the server printed, ending in ?token=…, or the link from the teacher."
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>Backprop Lab — {title.lower()}</title></head>'
            f'<body style="font: 18px/1.5 system-ui, sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">'
            f"<h1>{title}</h1><p>{text}</p></body></html>")
