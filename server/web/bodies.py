"""How request bodies are read: within the size limit, as strict JSON, and refused in one line.

Every route declares its body as a pydantic model (so ``/docs`` shows its schema); the routers use
``StrictRoute``, whose request reads at most the route's byte limit and parses JSON without NaN or
Infinity. Refusals keep the protocol's format, ``{"detail": text}``: 400 for bad JSON, 413 for a body
over the limit, 422 for a value that fails validation (the text names the field and the reason).
"""

from __future__ import annotations

import json

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from .guard import body_limit
from .schemas import describe_errors, parse_json


class LimitedRequest(Request):
    """A request whose body is read up to its route's limit (even without a Content-Length), and whose
    JSON refuses NaN, Infinity and absurd nesting."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            limit = body_limit(self.url.path)
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"request body over {limit} bytes")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self):
        if not hasattr(self, "_json"):
            text = (await self.body()).decode("utf-8", errors="replace")
            try:
                self._json = parse_json(text)
            except json.JSONDecodeError:
                raise
            except ValueError as e:  # NaN, Infinity, nesting: reported the way FastAPI reports bad JSON
                raise json.JSONDecodeError(str(e), text, 0) from None
        return self._json


class StrictRoute(APIRoute):
    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route_handler(request: Request):
            return await handler(LimitedRequest(request.scope, request.receive))

        return route_handler


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors in the protocol's format: one line of text."""
    errors = exc.errors()
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        reason = (bad_json.get("ctx") or {}).get("error") or bad_json.get("msg", "")
        return JSONResponse({"detail": f"invalid JSON: {reason}"}, 400)
    missing_body = any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in errors)
    if missing_body:  # as before bodies were declared: an empty body is not JSON
        return JSONResponse({"detail": "invalid JSON: the body is empty; send a JSON object"}, 400)
    return JSONResponse({"detail": describe_errors(errors, skip=1)}, 422)
