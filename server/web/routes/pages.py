"""The page itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ... import __version__

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request):
    guard = request.app.state.guard
    token = request.query_params.get("token", "")
    if not guard.token_ok(token or None):
        return HTMLResponse("<h1>Token required</h1><p>Open the URL printed by the server (it ends in ?token=…).</p>", 401)
    classroom = request.app.state.classroom
    if classroom is not None:
        instead = await classroom.page(request)  # a new visitor's cookie, or the room is full
        if instead is not None:
            return instead
    return request.app.state.templates.TemplateResponse(
        request, "index.html", {"token": token if guard.token else "", "version": __version__}
    )
