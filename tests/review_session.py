"""A constructed 40-minute session whose review is known in advance, with or without problems.

Geometry (minutes from 20:00 Beijing time; one product pitched at a time)::

    minute   0          12          24          36  36:40  40
             |---- A ----|---- B ----|---- C ----|- D -|-- A --|   with problems
             |--- A ---|--- B ---|--- C ---|--- D ---|             without: 10 min each

While a product is pitched, one viewer clicks it every 10 s and every third clicker pays
(so 1/3 of clicks become purchases, 6 orders per pitch-minute × price). Online is 1,000,
reported every 10 s with 5,000 cumulative views. Once a minute a background viewer clicks
A (B while A is pitched) without buying, so pitch uplift has an outside rate. The problem session adds, each on purpose:

* D pitched for 40 s only (the under-pitched product);
* online falling linearly from 1,000 to 600 during minutes 20-25 (B is pitched for most of it);
* 15 orders of C placed and never paid (压单), beside its 24 paid ones;
* 4 questions about the size of "2号" (B) at minute 1-2, answered by B's pitch at minute 12;
* a negative-comment storm firing at 20:30 and acknowledged at 20:34, with a hostile comment.
"""

from __future__ import annotations

from typing import Any

from monitor.alert_lifecycle import LifecycleConfig
from monitor.alerts import AlertBook
from monitor.detectors.condition import Condition, Severity
from monitor.events import Event, EventType, OrderStatus, PlannedProduct

T0 = 1_795_348_800_000  # 2026-11-22 20:00:00 +08:00
MIN = 60_000
SESSION = "room-review"
PRICES = {"A": 100.0, "B": 50.0, "C": 80.0, "D": 200.0}
HOSTILE = "<img src=x onerror=alert(1)> 假货 太差了 退款"


def _schedule(problems: bool) -> list[tuple[str, int, int]]:
    if problems:
        return [("A", 0, 12 * MIN), ("B", 12 * MIN, 24 * MIN), ("C", 24 * MIN, 36 * MIN),
                ("D", 36 * MIN, 36 * MIN + 40_000), ("A", 36 * MIN + 40_000, 40 * MIN)]
    return [(p, i * 10 * MIN, (i + 1) * 10 * MIN) for i, p in enumerate("ABCD")]


def session_events(problems: bool, session: str = SESSION) -> list[Event]:
    """Every event of the constructed session."""
    n = iter(range(1, 10**9))
    out: list[Event] = []

    def add(kind: EventType, ts: int, **fields: Any) -> None:
        out.append(Event(id=f"e{next(n)}", session=session, type=kind, ts=ts, **fields))

    add(EventType.SESSION_START, T0, title="Winter sale", host="Lin",
        products=tuple(PlannedProduct(p, f"Product {p}", price) for p, price in PRICES.items()))
    for second in range(0, 40 * 60, 10):
        ts = T0 + second * 1000
        viewers = 1000
        if problems and 20 * MIN <= ts - T0 <= 25 * MIN:
            viewers = 1000 - int(400 * (ts - T0 - 20 * MIN) / (5 * MIN))
        elif problems and ts - T0 > 25 * MIN:
            viewers = 600
        add(EventType.VIEWER_COUNT, ts, viewers=viewers, total_viewers=5000)
    schedule = _schedule(problems)
    for minute in range(40):
        ts = T0 + minute * MIN + 2_000
        pitched = next(p for p, start, end in schedule if start <= ts - T0 < end)
        add(EventType.PRODUCT_CLICK, ts, user=f"b{minute}", product="B" if pitched == "A" else "A")
    clicker = 0
    for product, start, end in schedule:
        add(EventType.PRODUCT_PIN, T0 + start, product=product)
        for offset in range(5_000, end - start, 10_000):
            clicker += 1
            user = f"u{clicker}"
            ts = T0 + start + offset
            add(EventType.PRODUCT_CLICK, ts, user=user, product=product)
            if clicker % 3 == 0:
                add(EventType.ORDER, ts + 1_000, user=user, product=product, amount=PRICES[product],
                    status=OrderStatus.PAID, order_id=f"o{clicker}")
        add(EventType.PRODUCT_UNPIN, T0 + end, product=product)
    if problems:
        for i in range(15):
            add(EventType.ORDER, T0 + 26 * MIN + i * 1000, user=f"w{i}", product="C", amount=80.0,
                status=OrderStatus.PLACED, order_id=f"unpaid{i}")
        for i in range(4):
            add(EventType.COMMENT, T0 + MIN + i * 15_000, user=f"q{i}", text="2号什么尺码？")
        add(EventType.COMMENT, T0 + 30 * MIN, user="angry", text=HOSTILE)
    else:
        add(EventType.COMMENT, T0 + 5 * MIN, user="fan", text="好看 已拍")
    add(EventType.SESSION_END, T0 + 40 * MIN)
    return out


def storm_alerts(session: str = SESSION) -> list[dict[str, Any]]:
    """Transitions of a storm alert: firing at 20:30, acknowledged 20:34, resolved 20:36 (real AlertBook)."""
    book = AlertBook(LifecycleConfig())
    at = T0 / 1000 + 30 * 60
    storm = Condition("negative_storm", session, Severity.CRITICAL, 12.0, 5.0, "negative comments surge",
                      evidence=({"id": "c-hostile", "text": HOSTILE},))
    records = [t.to_dict() for t in book.evaluate([storm], {session}, at)]
    fp = records[0]["fingerprint"]
    records.append(book.ack(fp, "duty-1", "looking", at + 240).to_dict())
    records += [t.to_dict() for t in book.evaluate([], {session}, at + 300)]
    records += [t.to_dict() for t in book.evaluate([], {session}, at + 360)]
    return records
