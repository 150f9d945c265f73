"""Receiver payloads for one transition record."""

from __future__ import annotations

from typing import Any

import orjson

from monitor.alert_config import ReceiverKind
from monitor.alert_lifecycle import LifecycleConfig
from monitor.alerts import AlertBook
from monitor.detectors.condition import Condition, Severity, labels
from monitor.notify_format import render, title


def record(summary: str = "Negative comments at 31% vs a 10% baseline; top complaint: size") -> dict[str, Any]:
    book = AlertBook(LifecycleConfig())
    [t] = book.evaluate([Condition("negative_storm", "s1", Severity.CRITICAL, 0.31, 0.2, summary,
                                   labels(product="p1"), ({"comments": 35, "negative": 11},))], {"s1"}, 1.7e9)
    wire: dict[str, Any] = orjson.loads(orjson.dumps(t.to_dict()))
    return wire


def test_notify_format_generic_webhook_carries_the_full_record() -> None:
    r = record()
    body = render(r, ReceiverKind.WEBHOOK, link="http://board/s1")
    assert body["alerts"] == [r] and body["status"] == "firing" and body["link"] == "http://board/s1"


def test_notify_format_chat_bots_use_their_documented_shapes() -> None:
    r = record()
    wecom = render(r, ReceiverKind.WECOM)
    ding = render(r, ReceiverKind.DINGTALK)
    feishu = render(r, ReceiverKind.FEISHU)
    slack = render(r, ReceiverKind.SLACK)
    assert wecom["msgtype"] == "markdown" and "negative\\_storm" in wecom["markdown"]["content"]
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"].startswith("[FIRING] critical")
    assert feishu["msg_type"] == "text" and "top complaint: size" in feishu["content"]["text"]
    assert slack["blocks"][0]["text"]["type"] == "mrkdwn" and "session s1" in slack["text"]
    for body in (wecom, ding, feishu, slack):
        orjson.dumps(body)


def test_notify_format_escapes_hostile_comment_text() -> None:
    r = record(summary="top complaint: [click](http://evil) <!channel> **loud**")
    wecom = render(r, ReceiverKind.WECOM)["markdown"]["content"]
    assert "[click](http://evil)" not in wecom and r"\[click\]\(http://evil\)" in wecom
    slack = render(r, ReceiverKind.SLACK)["blocks"][0]["text"]["text"]
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack


def test_notify_format_cuts_long_text_to_the_platform_limit() -> None:
    r = record(summary="差评" * 5000)
    assert len(render(r, ReceiverKind.WECOM)["markdown"]["content"].encode()) <= 4096
    assert len(render(r, ReceiverKind.SLACK)["blocks"][0]["text"]["text"]) <= 3000


def test_notify_format_title_says_what_happened() -> None:
    r = record()
    assert title({**r, "event": "repeat"}).startswith("[STILL FIRING]")
    assert title({**r, "state": "resolved", "event": "resolved"}).startswith("[RESOLVED] critical · negative_storm")
    assert "product=p1" in title(r)
