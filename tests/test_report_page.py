"""The review report end to end: events posted to real uvicorn, stored in real Redis, read back by
`livemon report` and the web route, rendered in real Chromium."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from playwright.sync_api import Route

from livemon import keys
from tests.browser import chromium, dismiss_dialogs, screenshot_path
from tests.review_session import HOSTILE, SESSION, session_events, storm_alerts
from tests.support import Stack


@pytest.fixture
def loaded(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A web process (no engine: the review reads the streams itself) holding the troubled session."""
    stack = Stack(redis_url, tmp_path, with_engine=False).start()
    try:
        answer = stack.post([e.to_dict() for e in session_events(problems=True)])
        assert answer.status_code == 200, answer.text
        for record in storm_alerts():  # as the engine's AlertStage writes them
            redis_client.xadd(keys.ALERTS, {keys.ALERT_SESSION_FIELD: SESSION,
                                            keys.ALERT_RECORD_FIELD: orjson.dumps(record)})
        yield stack
    finally:
        stack.stop()


def _run_report(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livemon", "report", SESSION, *args], env=stack.env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_report_page_renders_findings_and_hostile_comment_as_text(loaded: Stack) -> None:
    errors: list[str] = []
    dialogs: list[str] = []
    foreign: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-US")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        dismiss_dialogs(page, dialogs)
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(loaded.url) else None)
        loaded.sign_in(page, f"/sessions/{SESSION}/report?lang=en")
        page.locator("#findings li").first.wait_for(timeout=15_000)
        assert "(UTC+8)" in page.locator("header").first.inner_text()  # the room's time, whoever reads it
        findings = page.locator("#findings li").all_text_contents()
        assert any("Product D was pitched for only 40 s" in f for f in findings)
        assert any("acknowledged after 4 min" in f for f in findings)
        evidence = page.locator("#incidents .evidence li").all_text_contents()
        assert HOSTILE in evidence
        assert page.locator("#incidents img").count() == 0
        assert page.locator("svg.chart").count() == 5
        assert page.locator("#products tbody tr").count() == 4
        # the linked stylesheet applied (CSP allows styles from 'self' only; nothing inline is needed)
        assert page.locator(".card").first.evaluate("e => getComputedStyle(e).borderRadius") == "6px"
        page.screenshot(path=screenshot_path("report.png"), full_page=True)
    assert errors == [] and dialogs == [] and foreign == []


def test_report_command_writes_self_contained_file_that_opens_offline(loaded: Stack, tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    done = _run_report(loaded, "--out", str(out), "--lang", "en", "--csv-dir", str(tmp_path / "csv"),
                       "--json", str(tmp_path / "review.json"))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "<style>" in html and "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    requests: list[str] = []
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page()

        def offline(route: Route) -> None:
            """Record every request; let only the file itself load."""
            requests.append(route.request.url)
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", offline)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(out.as_uri())
        assert page.locator("svg.chart polyline").count() >= 5
        assert HOSTILE in page.locator("#incidents .evidence li").all_text_contents()
        assert page.locator(".card").first.evaluate("e => getComputedStyle(e).borderRadius") == "6px"
    assert requests == [out.as_uri()] and errors == []
    review = orjson.loads((tmp_path / "review.json").read_bytes())
    assert [f["code"] for f in review["findings"]] == ["under_pitched", "viewer_loss", "unpaid", "question_wait",
                                                       "slow_ack"]
    products = (tmp_path / "csv" / "products.csv").read_text().splitlines()
    assert products[0].startswith("product,name,price,pitch_count,pitch_s")
    assert products[4].startswith("D,Product D,200.0,1,40.0,4,")


def test_report_from_ndjson_recording_matches_redis(loaded: Stack, tmp_path: Path) -> None:
    recording = tmp_path / "session.ndjson"
    recording.write_bytes(b"\n".join(orjson.dumps(e.to_dict()) for e in session_events(problems=True)))
    alerts = tmp_path / "alerts.ndjson"
    alerts.write_bytes(b"\n".join(orjson.dumps(r) for r in storm_alerts()))
    from_file = _run_report(loaded, "--from-ndjson", str(recording), "--alerts", str(alerts),
                            "--out", str(tmp_path / "a.html"), "--json", str(tmp_path / "a.json"))
    from_redis = _run_report(loaded, "--out", str(tmp_path / "b.html"), "--json", str(tmp_path / "b.json"))
    assert from_file.returncode == 0 and from_redis.returncode == 0, from_file.stderr + from_redis.stderr
    a, b = orjson.loads((tmp_path / "a.json").read_bytes()), orjson.loads((tmp_path / "b.json").read_bytes())
    assert a["findings"] == b["findings"] and a["products"] == b["products"]


def test_report_exports_json_csv_and_refuses_unknown_session(loaded: Stack) -> None:
    data = loaded.http.get(f"/sessions/{SESSION}/report.json").json()
    assert data["headline"]["gmv"] == 6420.0
    csv = loaded.http.get(f"/sessions/{SESSION}/products.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[3].startswith("C,Product C,80.0,1,720.0,")
    assert loaded.http.get("/sessions/no-such-room/report.json").status_code == 404
    missing = subprocess.run([sys.executable, "-m", "livemon", "report", "no-such-room"], env=loaded.env,
                             capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 1 and "no events of session 'no-such-room'" in missing.stderr


def test_report_reads_the_hosts_suggestion_choices_of_the_session_from_redis(loaded: Stack) -> None:
    for session, product, choice in ((SESSION, "B", "accept"), (SESSION, "C", "skip"), (SESSION, "D", "skip"),
                                     ("other-room", "A", "accept")):
        answer = loaded.http.post(f"/api/v1/sessions/{session}/suggestions/{product}/{choice}")
        assert answer.status_code == 202, answer.text
    data = loaded.http.get(f"/sessions/{SESSION}/report.json").json()
    assert (data["suggestions"]["accepted"], data["suggestions"]["skipped"]) == (1, 2)
    kinds = [m["kind"] for m in data["timeline"]["markers"] if m["kind"].startswith("suggestion_")]
    assert sorted(kinds) == ["suggestion_accepted", "suggestion_skipped", "suggestion_skipped"]


def test_report_compares_with_earlier_sessions_the_token_may_see(loaded: Stack) -> None:
    calm = "room-review-yesterday"
    answer = loaded.post([e.to_dict() for e in session_events(problems=False, session=calm)])
    assert answer.status_code == 200, answer.text
    alone = loaded.http.get(f"/sessions/{calm}/report.json").json()
    data = loaded.http.get(f"/sessions/{SESSION}/report.json", params={"previous": calm}).json()
    assert data["previous_sessions"] == 1
    gmv = next(c for c in data["comparisons"] if c["metric"] == "gmv")
    assert gmv["previous_mean"] == alone["headline"]["gmv"] and gmv["value"] == data["headline"]["gmv"]
    page = loaded.http.get(f"/sessions/{SESSION}/report", params={"previous": calm, "lang": "en"})
    assert page.status_code == 200 and "vs previous 1 session(s)" in page.text
    cli = _run_report(loaded, "--previous", f"{calm},no-such-room", "--out", "/dev/null")
    assert cli.returncode == 1 and "no events of earlier session 'no-such-room'" in cli.stderr
    host = httpx.Client(base_url=loaded.url, timeout=30, headers={"Authorization": f"Bearer {loaded.token('host', SESSION)}"})
    with host:
        foreign = host.get(f"/sessions/{SESSION}/report.json", params={"previous": calm})
    too_many = loaded.http.get(f"/sessions/{SESSION}/report.json", params={"previous": ",".join(["a"] * 11)})
    missing = loaded.http.get(f"/sessions/{SESSION}/report.json", params={"previous": "no-such-room"})
    assert foreign.status_code == 403 and calm in foreign.json()["error"]
    assert too_many.status_code == 400 and "'previous'" in too_many.json()["error"]
    assert missing.status_code == 404 and "no-such-room" in missing.json()["error"]


def test_report_page_speaks_the_browsers_language_unless_asked(loaded: Stack) -> None:
    def title(**request: Any) -> str:
        page = loaded.http.get(f"/sessions/{SESSION}/report", **request)
        assert page.status_code == 200, page.text
        return page.text.split("<h1>")[1].split(":")[0]

    assert title(headers={"Accept-Language": "en-US,en;q=0.9"}) == "Post-live review"
    assert title(headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}) == "直播复盘"
    assert title(headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}) == "Post-live review"
    assert title(headers={"Accept-Language": "en-US"}, params={"lang": "zh"}) == "直播复盘"  # ?lang= wins
    assert title(headers={"Accept-Language": "fr-FR"}) == "直播复盘"  # neither: Chinese, as before
