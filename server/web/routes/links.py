"""Links that carry a lesson: check one against the limits and the session (``POST /api/link``)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException

from .. import links
from ..bodies import StrictRoute
from ..deps import CatalogDep, SessionDep, SharedDep
from ..inputs import json_response
from ..schemas import LinkRequest

router = APIRouter(prefix="/api", tags=["links"], route_class=StrictRoute)


@router.post("/link")
async def check_link(req: LinkRequest, session: SessionDep, shared: SharedDep, catalog: CatalogDep):
    """A lesson link (the URL fragment ``v=1&dataset=…``) checked like any message: 422 naming the link's
    field, or the link normalised with what opening it would change here. Changes nothing."""
    try:
        parsed = links.parse(req.link)
        if parsed["network"] is not None:  # an image dataset's files are read the first time: off the loop
            name = parsed["network"]["dataset"]
            available, reason, _ = await asyncio.to_thread(catalog.availability, name)
            if not available:
                raise links.LinkError("dataset", f"{name} is not available here: {reason}")
    except links.LinkError as e:
        raise HTTPException(422, str(e)) from None

    current = await asyncio.wrap_future(session.read(current_setup, session))
    diff = links.compare(parsed, current)
    return json_response({**parsed, **diff, "iteration": current["iteration"], "shared": shared,
                          "confirm": shared and bool(diff["changes"])})


def current_setup(session) -> dict:
    """What a link is compared with (on the session's worker)."""
    return {"config": session.config(), "dataset": session.data.name, "dataset_options": session.dataset_options(),
            "params": session.params(), "iteration": session.iteration}
