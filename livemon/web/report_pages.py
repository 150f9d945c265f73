"""`/sessions/{session}/report` and its exports: the post-live review of a session, built on request.

The HTML is the same template as `livemon report` writes, with the stylesheet linked from
/static instead of inlined, so the app's CSP (styles from 'self' only) holds unchanged.
`?previous=a,b` compares the headline with those earlier sessions of the room, as
`livemon report --previous` does.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon.report import ReportError, products_csv, render_html, review_from_redis, to_json
from livemon.web.auth import grant_of
from monitor.event_parsing import ID_PATTERN
from monitor.review import Review
from monitor.review.text import LANGS

MAX_PREVIOUS = 10  # each earlier session is read and reviewed in full


def _previous(request: Request) -> list[str] | Response:
    """The `previous` query: earlier session ids this token may see, or a 4xx naming the problem."""
    ids = [s.strip() for s in request.query_params.get("previous", "").split(",") if s.strip()]
    if len(ids) > MAX_PREVIOUS:
        return JSONResponse({"error": f"query 'previous': at most {MAX_PREVIOUS} session ids, got {len(ids)}"},
                            status_code=400)
    for session in ids:
        if not ID_PATTERN.fullmatch(session):
            return JSONResponse({"error": f"query 'previous': {session[:40]!r} is not a session id"}, status_code=400)
        if not grant_of(request).can_see(session):
            return JSONResponse({"error": f"query 'previous': this token may not see session {session!r}"},
                                status_code=403)
    return ids


async def _review(request: Request) -> Review | Response:
    session = request.path_params["session"]
    previous = _previous(request)
    if isinstance(previous, Response):
        return previous
    try:
        return await review_from_redis(request.app.state.redis, session, request.app.state.settings.partitions,
                                       previous)
    except ReportError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)


def page_language(request: Request) -> str:
    """`?lang=`, else the browser's first language the report speaks, else Chinese.

    The other pages follow the browser too; a report in Chinese for an English browser was
    the one page that did not.
    """
    wanted = request.query_params.get("lang")
    if wanted in LANGS:
        return wanted
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return "zh"


async def report_page(request: Request) -> Response:
    """The review as a page, in the language `page_language` picks."""
    review = await _review(request)
    if isinstance(review, Response):
        return review
    html = render_html(review, page_language(request), inline_css=False)
    return Response(html, media_type="text/html; charset=utf-8", headers={"Vary": "Accept-Language"})


async def report_json(request: Request) -> Response:
    """The whole review as JSON."""
    review = await _review(request)
    if isinstance(review, Response):
        return review
    return Response(to_json(review), media_type="application/json")


async def products_csv_export(request: Request) -> Response:
    """The product table as CSV, named after the session for download."""
    review = await _review(request)
    if isinstance(review, Response):
        return review
    name = review.headline.session
    return Response(products_csv(review), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}-products.csv"'})
