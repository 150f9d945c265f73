"""Questions marked answered on the host overlay, as commands for the engines.

`POST /api/v1/sessions/{session}/questions/{group}/answered` appends to `lm:answers:cmd`;
the engine holding the session closes the group on its next tick (≤ 1 s) and it leaves
the overlay's list. Hence 202 Accepted with the command id.
"""

from __future__ import annotations

import re
import time

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon import keys
from livemon.answering import ANSWER_FIELD
from monitor.event_parsing import ID_PATTERN

_GROUP_PATTERN = re.compile(r"^[^\x00-\x1f]{1,200}\Z")


async def mark_answered(request: Request) -> Response:
    """Close one open question group of a session."""
    session, group = request.path_params["session"], request.path_params["group"]
    if not ID_PATTERN.match(session):
        return JSONResponse({"error": f"path 'session': expected an identifier, got {session!r}"}, status_code=400)
    if not _GROUP_PATTERN.match(group):
        return JSONResponse({"error": "path 'group': expected a question group id of 1-200 characters"},
                            status_code=400)
    answer = {"session": session, "group": group, "at": time.time()}
    answer_id = await request.app.state.redis.xadd(
        keys.QUESTION_ANSWERS, {ANSWER_FIELD: orjson.dumps(answer)},
        maxlen=keys.QUESTION_ANSWERS_MAXLEN, approximate=True,
    )
    return JSONResponse({"id": answer_id.decode() if isinstance(answer_id, bytes) else answer_id, **answer},
                        status_code=202)
