"""HTML pages, rendered from Jinja2 templates that load one ES module each.

Pages carry no data of their own: every number arrives over `/ws` (and alerts over
`/api/v1/alerts`), so a page served by one web node keeps working against another after a
restart. Jinja autoescapes the few values placed in the HTML (the session id, the language);
the one table they embed is the alert rules' names, shared with the post-live report.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

import frontend
from livemon.web.websocket import ENDED_SHOWN_S
from monitor.rule_names import RULE_NAMES
from monitor.topics import TOPIC_NAMES

FRONTEND_DIR = Path(frontend.__file__).parent
STATIC_DIR = FRONTEND_DIR / "static"
templates = Jinja2Templates(directory=str(FRONTEND_DIR / "templates"))
templates.env.globals["rule_names"] = RULE_NAMES
templates.env.globals["topic_names"] = TOPIC_NAMES


def _lang(request: Request) -> str:
    requested = request.query_params.get("lang", "")
    return requested if requested in ("en", "zh") else ""


async def wallboard(request: Request) -> Response:
    """Control-room wallboard: every live session as a tile, or one session in focus (`?focus=`)."""
    return templates.TemplateResponse(request, "wall.html", {"lang": _lang(request), "ended_shown_s": ENDED_SHOWN_S})


async def overlay(request: Request) -> Response:
    """Host overlay for a tablet beside the camera: one session's next product, questions, mood, stock."""
    session = request.path_params["session"]
    return templates.TemplateResponse(request, "overlay.html", {"lang": _lang(request), "session": session})


async def incidents(request: Request) -> Response:
    """Responder console: alerts with filters, detail, evidence, actions and audit trail."""
    return templates.TemplateResponse(request, "incidents.html", {"lang": _lang(request)})
