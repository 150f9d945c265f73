"""Edge of the post-live review: read a finished session, render and export its `Review`.

Sources: the session's partition stream in Redis (every event of every session of that
partition; filtered here by session), the `lm:alerts` audit stream, or NDJSON recordings.
Outputs: one self-contained HTML file (CSS inlined, charts as inline SVG, no script, no
external request), JSON of the whole review, CSV of its tables.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

import frontend
from livemon import keys
from livemon.report_svg import Line, line_chart
from livemon.suggesting import CHOICE_FIELD
from monitor import wire_entries
from monitor.event_parsing import parse_event
from monitor.events import Event
from monitor.questions import intent_name
from monitor.review import Review, SuggestionChoice, build_review_wire
from monitor.review import text as T
from monitor.review.model import Headline, Incident, ProductRow
from monitor.rule_names import rule_name

FRONTEND_DIR = Path(frontend.__file__).parent
CSS_PATH = FRONTEND_DIR / "static" / "css" / "report.css"
# stream entries per XRANGE call: an event-stream entry holds 1 to 500 events (monitor/wire_entries.py),
# so a page is ~0.2-90 MB: few round trips, each answer well inside the socket timeout
PAGE = 1_000

_env = Environment(loader=FileSystemLoader(str(FRONTEND_DIR / "templates")), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


class ReportError(RuntimeError):
    """The session cannot be reviewed (no events found, unreadable recording); the message says why."""


# ---------------------------------------------------------------- reading


async def read_payloads(redis: aioredis.Redis, session: str, partitions: int) -> list[bytes]:
    """Every event of `session` from its partition stream, as stored (`Event.to_wire` JSON), in stream order.

    The stream mixes the sessions of one partition, though each entry holds one session's
    events; entries of other sessions are skipped by a byte test without parsing
    (`wire_entries.session_marker`). Decoding is left to `build_review_wire`, which keeps
    only the fields it needs.
    """
    stream = keys.events_stream(keys.partition_of(session, partitions))
    marker = wire_entries.session_marker(session)
    field = keys.EVENT_FIELD.encode()
    raw_client = _raw_xrange(redis)
    out: list[bytes] = []
    start = "-"
    while True:
        entries = await raw_client.xrange(stream, min=start, max="+", count=PAGE)
        for _, pairs in entries:
            raw = pairs.get(field) if isinstance(pairs, dict) else _field(pairs, field)
            if raw is not None and marker in raw:
                out += wire_entries.events_of(raw)
        if len(entries) < PAGE:
            return out
        start = "(" + entries[-1][0].decode()


def _raw_xrange(redis: Any) -> Any:
    """A client on the same connection pool whose XRANGE answers stay flat `[id, [field, value, …]]` lists.

    redis-py turns every entry into a dict in Python; for a million entries that is a
    third of the reading time, and the review needs one field only. A cluster client has
    no single pool: it keeps its dict answers (the caller accepts both shapes).
    """
    if not isinstance(redis, aioredis.Redis):
        return redis
    raw = aioredis.Redis(connection_pool=redis.connection_pool)
    raw.response_callbacks.pop("XRANGE", None)
    return raw


def _field(pairs: list[bytes], name: bytes) -> bytes | None:
    if pairs[0] == name:  # the event stream's only field: the common case needs no loop
        return pairs[1]
    for i in range(2, len(pairs) - 1, 2):
        if pairs[i] == name:
            return pairs[i + 1]
    return None


SessionOf = Callable[[dict[bytes, bytes], dict[str, Any]], object]  # (stream entry, its record) -> session id


async def _session_records(redis: aioredis.Redis, stream: str, session: str, field: str,
                           session_of: SessionOf) -> list[dict[str, Any]]:
    """JSON records of one session from a small command or audit stream (paged XRANGE)."""
    out: list[dict[str, Any]] = []
    start = "-"
    while True:
        answer: Any = await redis.xrange(stream, min=start, max="+", count=PAGE)
        entries: list[tuple[bytes, dict[bytes, bytes]]] = answer
        for _, entry in entries:
            value = entry.get(field.encode())
            if value is None:
                continue
            try:
                record = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue  # the live consumers skip such an entry too
            if isinstance(record, dict) and session_of(entry, record) == session:
                out.append(record)
        if len(entries) < PAGE:
            return out
        start = "(" + entries[-1][0].decode()


async def read_alerts(redis: aioredis.Redis, session: str) -> list[dict[str, Any]]:
    """The session's alert transitions from the `lm:alerts` audit stream, as `AlertStage` writes them.

    Each entry holds the session (`keys.ALERT_SESSION_FIELD`) and one `Transition.to_dict()`
    JSON (`keys.ALERT_RECORD_FIELD`). The stream is trimmed to the audit retention, so a
    session older than that has no incidents here.
    """
    session_field = keys.ALERT_SESSION_FIELD.encode()
    return await _session_records(redis, keys.ALERTS, session, keys.ALERT_RECORD_FIELD,
                                  lambda entry, _: (entry.get(session_field) or b"").decode())


async def read_choices(redis: aioredis.Redis, session: str) -> list[SuggestionChoice]:
    """The host's accept/skip choices on the session's suggestions, from `lm:suggest:cmd`.

    Entries are `{"session", "product", "accepted", "at"}` as the suggestions API writes them;
    the stream is capped at `keys.SUGGESTION_CHOICES_MAXLEN` entries over all sessions, so
    the choices of an old session may be gone (`--suggestions FILE` then).
    """
    records = await _session_records(redis, keys.SUGGESTION_CHOICES, session, CHOICE_FIELD,
                                     lambda _, record: record.get("session"))
    out = []
    for record in records:
        try:
            out.append(SuggestionChoice.from_dict(record))
        except (KeyError, TypeError, ValueError):
            continue  # malformed: the engine skips it as well (livemon.suggesting)
    return out


def read_ndjson_events(path: Path, session: str) -> list[Event]:
    """Events of `session` from an NDJSON recording (producer or wire form), validated like ingest."""
    out = []
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = parse_event(orjson.loads(line))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise ReportError(f"{path}:{number}: {exc}") from None
        if event.session == session:
            out.append(event)
    return out


def read_ndjson_records(path: Path) -> list[dict[str, Any]]:
    """Plain JSON objects, one a line (alert transitions, suggestion choices)."""
    try:
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    except orjson.JSONDecodeError as exc:
        raise ReportError(f"{path}: {exc}") from None


async def review_from_redis(redis: aioredis.Redis, session: str, partitions: int,
                            previous: Sequence[str] = (),
                            choices: Sequence[SuggestionChoice] | None = None) -> Review:
    """Build the review of a session stored in Redis, comparing with `previous` session ids.

    Suggestion choices are read from Redis unless given (`--suggestions FILE` wins).
    """
    payloads = await read_payloads(redis, session, partitions)
    if not payloads:
        stream = keys.events_stream(keys.partition_of(session, partitions))
        raise ReportError(f"no events of session {session!r} in {stream} (misspelt, or trimmed by LIVEMON_STREAM_MAXLEN?)")
    heads: list[Headline] = []
    for other in previous:
        past = await read_payloads(redis, other, partitions)
        if not past:  # comparing with nothing while saying "vs 2 earlier sessions" would mislead
            raise ReportError(f"no events of earlier session {other!r} to compare with")
        heads.append((await asyncio.to_thread(build_review_wire, past)).headline)
    alerts = await read_alerts(redis, session)
    if choices is None:
        choices = await read_choices(redis, session)
    # Seconds of CPU for a long session: off the event loop, so a web node keeps serving meanwhile.
    return await asyncio.to_thread(build_review_wire, payloads, alerts, choices, heads)


# ---------------------------------------------------------------- rendering


_SERIES = (
    ("online", (("online", "c-online"),)),
    ("entries", (("entries", "c-entries"), ("leaves", "c-leaves"))),
    ("gmv_per_min", (("gmv_per_min", "c-gmv"),)),
    ("sentiment", (("sentiment", "c-sentiment"),)),
    ("comments_per_min", (("comments_per_min", "c-comments"),)),
)
_MARKERS = {
    "pin": {"en": "pitch", "zh": "讲解"},
    "alert_pending": {"en": "alert pending", "zh": "告警待定"},
    "alert_firing": {"en": "alert firing", "zh": "告警触发"},
    "alert_acknowledged": {"en": "alert acknowledged", "zh": "告警确认"},
    "alert_resolved": {"en": "alert resolved", "zh": "告警恢复"},
    "suggestion_accepted": {"en": "suggestion accepted", "zh": "采纳建议"},
    "suggestion_skipped": {"en": "suggestion skipped", "zh": "跳过建议"},
}


def charts(review: Review, lang: str) -> list[tuple[str, Markup]]:
    """Title and SVG of every timeline chart."""
    tl = review.timeline
    names = {kind: label[lang] for kind, label in _MARKERS.items()}
    out = []
    for key, curves in _SERIES:
        title = " / ".join(T.label(name, lang) for name, _ in curves)
        if key == "online" and tl.online_estimated:
            title += f" ({T.label('estimated', lang)})"
        lines = [Line(T.label(name, lang), css, tl.series[name]) for name, css in curves]
        bounds = (-100.0, 100.0) if key == "sentiment" else None
        out.append((title, line_chart(title, lines, tl.start_ms, tl.step_s, tl.markers, review.utc_offset_s, names,
                                      bounds)))
    return out


def render_html(review: Review, lang: str = "zh", *, inline_css: bool = True) -> str:
    """The report page. Inline CSS makes a file that opens anywhere; the web route links /static instead.

    The served page links its stylesheet because the app's CSP allows styles from 'self' only;
    the charts need no style attribute, so both forms look the same.
    """
    lang = lang if lang in T.LANGS else "zh"
    template = _env.get_template("report.html")
    return template.render(
        r=review, lang=lang, charts=charts(review, lang), marker_names={k: v[lang] for k, v in _MARKERS.items()},
        css=Markup(CSS_PATH.read_text()) if inline_css else None,  # our own file, not user data
        t=lambda key, **kw: T.label(key, lang, **kw), rule=lambda r: rule_name(r, lang),
        intent=lambda i: intent_name(i, lang), dur=lambda s: T.duration(s, lang),
        pct=T.percent, money=T.money, at=lambda s: "–" if s is None else T.clock(s, review.utc_offset_s),
        num=_number, zone=T.zone(review.utc_offset_s),  # its times are the room's, not the reader's
    )


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


# ---------------------------------------------------------------- exports


def to_json(review: Review) -> bytes:
    """The whole review as JSON."""
    return orjson.dumps(review.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)


def products_csv(review: Review) -> str:
    """The product table as CSV (UTF-8; spreadsheet formulas in names are neutralised)."""
    return _csv([f.name for f in fields(ProductRow)], (asdict(p) for p in review.products))


def tables_csv(review: Review) -> dict[str, str]:
    """Every table of the review as CSV, by file name."""
    tl = review.timeline
    minutes = [{"minute_start_ms": tl.start_ms + i * tl.step_s * 1000, **{k: v[i] for k, v in tl.series.items()}}
               for i in range(len(tl.series["online"]))]
    findings = [{"code": f.code, "severity": f.severity, "subject": f.subject, "text_zh": f.text["zh"],
                 "text_en": f.text["en"], "numbers": orjson.dumps(f.numbers).decode()} for f in review.findings]
    incidents = [{k: v for k, v in asdict(i).items() if k not in ("evidence", "transitions", "labels")}
                 for i in review.incidents]
    return {
        "products.csv": products_csv(review),
        "timeline.csv": _csv(["minute_start_ms", *tl.series], minutes),
        "findings.csv": _csv(["code", "severity", "subject", "text_zh", "text_en", "numbers"], findings),
        "incidents.csv": _csv([f.name for f in fields(Incident) if f.name not in ("evidence", "transitions", "labels")],
                              incidents),
    }


def _csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Product names and comments are outside input: a leading = + - @ would run as a formula in Excel."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value
