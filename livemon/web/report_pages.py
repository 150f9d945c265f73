"""`/sessions/{session}/report` and its exports: the post-live review of a session, built on request.

The HTML is the same template as `livemon report` writes, with the stylesheet linked from
/static instead of inlined, so the app's CSP (styles from 'self' only) holds unchanged.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon.report import ReportError, products_csv, render_html, review_from_redis, to_json
from monitor.review import Review


async def _review(request: Request) -> Review | Response:
    session = request.path_params["session"]
    try:
        return await review_from_redis(request.app.state.redis, session, request.app.state.settings.partitions)
    except ReportError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)


async def report_page(request: Request) -> Response:
    """The review as a page (`?lang=en` for English; Chinese by default)."""
    review = await _review(request)
    if isinstance(review, Response):
        return review
    lang = request.query_params.get("lang", "zh")
    return Response(render_html(review, lang, inline_css=False), media_type="text/html; charset=utf-8")


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
