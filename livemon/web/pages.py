"""HTML pages, rendered from Jinja2 templates that load one ES module each."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

import frontend

FRONTEND_DIR = Path(frontend.__file__).parent
STATIC_DIR = FRONTEND_DIR / "static"
templates = Jinja2Templates(directory=str(FRONTEND_DIR / "templates"))


async def wallboard(request: Request) -> Response:
    """Control-room wallboard: every live session as a tile."""
    return templates.TemplateResponse(request, "wall.html", {"lang": request.query_params.get("lang", "")})
