"""Host choices on product suggestions: accept or skip, as commands for the engines.

`POST /api/v1/sessions/{session}/suggestions/{product}/accept` (or `/skip`) appends the
choice to `lm:suggest:cmd`; the engine that holds the session records it on its next tick
(≤ 1 s), which demotes a skipped product and attributes a following pin to an accepted one.
So the answer is 202 Accepted with the choice id, not the new ranking.
"""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon import keys
from livemon.suggesting import CHOICE_FIELD
from monitor.event_parsing import ID_PATTERN


async def _choose(request: Request, accepted: bool) -> Response:
    session, product = request.path_params["session"], request.path_params["product"]
    for name, value in (("session", session), ("product", product)):
        if not ID_PATTERN.match(value):
            return JSONResponse({"error": f"path '{name}': expected an identifier, got {value!r}"}, status_code=400)
    choice = {"session": session, "product": product, "accepted": accepted, "at": time.time()}
    redis = request.app.state.redis
    choice_id = await redis.xadd(
        keys.SUGGESTION_CHOICES, {CHOICE_FIELD: orjson.dumps(choice)},
        maxlen=keys.SUGGESTION_CHOICES_MAXLEN, approximate=True,
    )
    return JSONResponse({"id": choice_id.decode() if isinstance(choice_id, bytes) else choice_id, **choice},
                        status_code=202)


async def accept_suggestion(request: Request) -> Response:
    """The host takes the suggested product: a pin that follows counts as following the suggestion."""
    return await _choose(request, accepted=True)


async def skip_suggestion(request: Request) -> Response:
    """The host skips the suggested product: it leaves the top and is demoted for a while."""
    return await _choose(request, accepted=False)
