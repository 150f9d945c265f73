"""Render one alert transition into the payload each receiver kind expects.

Pure: record in (the audit dict from `Transition.to_dict()`), JSON-ready dict out. The
summary and evidence can quote viewer comments, which are hostile input, so every
chat format escapes its markup and every text is cut to the platform's size limit.

Formats: generic JSON webhook (the record itself, Alertmanager-style envelope), WeCom
and DingTalk group-bot markdown, Feishu custom-bot text, Slack incoming-webhook blocks.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.alert_config import ReceiverKind

# documented bot limits (bytes for WeCom, characters elsewhere), with a margin
_LIMITS = {ReceiverKind.WECOM: 4000, ReceiverKind.DINGTALK: 18000, ReceiverKind.FEISHU: 30000,
           ReceiverKind.SLACK: 2900}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#>!|~<])")
_EVIDENCE_LINES = 3
_STATUS_WORD = {"pending": "PENDING", "firing": "FIRING", "resolved": "RESOLVED", "inactive": "CLEARED"}


def render(record: dict[str, Any], kind: ReceiverKind, link: str | None = None) -> dict[str, Any]:
    """Return the JSON body to POST to a receiver of `kind` for one transition record."""
    if kind is ReceiverKind.WEBHOOK:
        return {"version": "livemon/1", "status": record["state"], "event": record["event"], "alerts": [record],
                "link": link}
    if kind is ReceiverKind.SLACK:
        text = _truncate(_text(record, _slack_escape, link, bold="*"), _LIMITS[kind])
        return {"text": _slack_escape(title(record)), "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                                                             "text": text}}]}
    if kind is ReceiverKind.FEISHU:
        return {"msg_type": "text", "content": {"text": _truncate(_text(record, str, link, bold=""), _LIMITS[kind])}}
    body = _text(record, _markdown_escape, link, bold="**")
    if kind is ReceiverKind.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": _truncate_bytes(body, _LIMITS[kind])}}
    return {"msgtype": "markdown", "markdown": {"title": _truncate(title(record), 60),
                                                "text": _truncate(body, _LIMITS[kind])}}


def title(record: dict[str, Any]) -> str:
    """One-line headline: status, severity, rule and session."""
    status = _STATUS_WORD.get(record["state"], record["state"].upper())
    if record["event"] == "acknowledged":
        status = "ACKNOWLEDGED"
    elif record["event"] == "repeat":
        status = "STILL FIRING"
    labels = "".join(f" {k}={v}" for k, v in sorted(record["labels"].items()))
    return f"[{status}] {record['severity']} · {record['rule']}{labels} · session {record['session']}"


def _text(record: dict[str, Any], escape: Any, link: str | None, bold: str) -> str:
    lines = [f"{bold}{escape(title(record))}{bold}", escape(record["summary"]),
             f"value {record['value']:g} · threshold {record['threshold']:g}"]
    if record.get("actor"):
        lines.append(escape(f"by {record['actor']}: {record.get('note') or ''}".rstrip(": ")))
    for item in record["evidence"][:_EVIDENCE_LINES]:
        lines.append("· " + escape(", ".join(f"{k}={v}" for k, v in item.items())))
    if link:
        lines.append(link)
    return "\n".join(lines)


def _markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn only requires these three; it would otherwise turn <!channel> into a ping
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _truncate_bytes(text: str, limit: int) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "…"
