"""Plain-language findings, each with the numbers that support it.

Every rule looks for a problem the team can act on next time; none praises, so a session
without problems yields an empty list (tests hold this).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from monitor.questions import intent_name
from monitor.review import text as T
from monitor.review.comments import CommentFacts, PitchIndex
from monitor.review.config import ReviewConfig
from monitor.review.facts import Facts
from monitor.review.model import Finding, Incident, ProductRow
from monitor.review.timeline import MINUTE_MS, FloatArray
from monitor.rule_names import rule_name


def _finding(code: str, subject: str, numbers: dict[str, Any], shown: Mapping[str, Mapping[str, object]],
             severity: str = "warning") -> Finding:
    """`shown[lang]` holds the formatted values the sentence in that language needs."""
    template = T.FINDINGS[code]
    return Finding(code, severity, subject, numbers, {lang: template[lang].format(**shown[lang]) for lang in T.LANGS})


def under_pitched(rows: Sequence[ProductRow], facts: Facts, cfg: ReviewConfig) -> list[Finding]:
    """Products pitched far less than the session's median product, and planned products never pitched."""
    pitched = [r for r in rows if r.pitch_s > 0]
    out: list[Finding] = []
    clicks = sum(r.clicks for r in rows)
    session_rate = sum(r.paid for r in rows) / clicks if clicks else None
    if len(pitched) >= cfg.min_pitched_products:
        median = statistics.median(r.pitch_s for r in pitched)
        for r in pitched:
            if r.pitch_s < cfg.under_pitch_ratio * median and r.pitch_s < cfg.under_pitch_max_s:
                numbers = {"pitch_s": r.pitch_s, "pitch_count": r.pitch_count, "median_pitch_s": median,
                           "purchase_rate_in_pitch": r.purchase_rate_in_pitch, "session_purchase_rate": session_rate}
                out.append(_finding("under_pitched", r.product, numbers, {lang: {
                    "name": r.name, "pitch": T.duration(r.pitch_s, lang), "count": r.pitch_count,
                    "median": T.duration(median, lang), "rate_in": T.percent(r.purchase_rate_in_pitch),
                    "rate_session": T.percent(session_rate)} for lang in T.LANGS}))
    if pitched:
        for r in rows:
            if r.pitch_count == 0 and r.product in facts.names:
                out.append(_finding("never_pitched", r.product, {"paid": r.paid, "gmv": r.gmv}, {lang: {
                    "name": r.name, "paid": r.paid, "gmv": T.money(r.gmv)} for lang in T.LANGS}))
    return out


def viewer_loss(online: FloatArray, facts: Facts, index: PitchIndex, names: dict[str, str],
                cfg: ReviewConfig) -> list[Finding]:
    """The window in which online viewers fell the most, when the fall is large, and what was pitched then.

    The last, partial minute is left out: viewers leaving as the host says goodbye teach nothing.
    """
    w = cfg.loss_window_min
    usable = online[:-1]
    if len(usable) <= w:
        return []
    drops = usable[:-w] - usable[w:]
    if np.all(np.isnan(drops)):
        return []
    m = int(np.nanargmax(drops))
    before, after = float(usable[m]), float(usable[m + w])
    drop = before - after
    if drop < cfg.loss_min_viewers or drop < cfg.loss_min_share * before:
        return []
    t0 = facts.start_ms + m * MINUTE_MS
    t1 = t0 + w * MINUTE_MS
    product = _main_product(index, t0, t1)
    numbers = {"start_ts": t0, "end_ts": t1, "online_before": round(before, 1), "online_after": round(after, 1),
               "drop_share": round(drop / before, 4), "product": product or None}
    code = "viewer_loss" if product else "viewer_loss_unpitched"
    return [_finding(code, product, numbers, {lang: {
        "t0": T.clock(t0 / 1000, cfg.utc_offset_s), "t1": T.clock(t1 / 1000, cfg.utc_offset_s),
        "before": f"{before:,.0f}", "after": f"{after:,.0f}", "drop": f"−{T.percent(drop / before, 0)}",
        "name": names.get(product, product)} for lang in T.LANGS})]


def _main_product(index: PitchIndex, t0: int, t1: int) -> str:
    """The product pitched longest inside [t0, t1), or ""."""
    overlap: dict[str, int] = {}
    for p in index.pitches:
        shared = min(p.end_ms, t1) - max(p.start_ms, t0)
        if shared > 0:
            overlap[p.product] = overlap.get(p.product, 0) + shared
    return max(overlap, key=lambda k: overlap[k]) if overlap else ""


def unpaid(rows: Sequence[ProductRow], cfg: ReviewConfig) -> list[Finding]:
    """Products whose orders stayed unpaid (压单) in a large share."""
    out = []
    for r in rows:
        if r.unpaid >= cfg.unpaid_min and r.orders and r.unpaid / r.orders >= cfg.unpaid_share:
            out.append(_finding("unpaid", r.product, {"unpaid": r.unpaid, "orders": r.orders}, {lang: {
                "name": r.name, "unpaid": r.unpaid, "orders": r.orders} for lang in T.LANGS}))
    return out


def question_waits(said: CommentFacts, cfg: ReviewConfig) -> list[Finding]:
    """Intents whose questions waited long for the product they named (or were never answered)."""
    out = []
    for intent in sorted({w.intent for w in said.waits}):
        waits = [w for w in said.waits if w.intent == intent]
        timed = [w.wait_s for w in waits if w.wait_s is not None]
        never = len(waits) - len(timed)
        avg = sum(timed) / len(timed) if timed else None
        if len(waits) < cfg.question_min:
            continue
        if (avg is not None and avg >= cfg.question_wait_s) or 2 * never >= len(waits):
            numbers = {"count": len(waits), "avg_wait_s": None if avg is None else round(avg, 1), "unanswered": never}
            out.append(_finding("question_wait", intent, numbers, {lang: {
                "intent": intent_name(intent, lang), "count": len(waits), "unanswered": never,
                "wait": T.duration(avg, lang) if avg is not None else T.label("never", lang)} for lang in T.LANGS}))
    return out


def acknowledgement(incidents: Sequence[Incident], end_s: float, cfg: ReviewConfig) -> list[Finding]:
    """Alerts acknowledged late, or left firing unacknowledged for long."""
    out = []
    for inc in incidents:
        if inc.fired_at is None or inc.severity == "info":
            continue
        at = {lang: {"rule": rule_name(inc.rule, lang), "t": T.clock(inc.fired_at, cfg.utc_offset_s)}
              for lang in T.LANGS}
        if inc.time_to_ack_s is not None:
            if inc.time_to_ack_s >= cfg.ack_late_s:
                minutes = round(inc.time_to_ack_s / 60, 1)
                out.append(_finding("slow_ack", inc.fingerprint, {"fired_at": inc.fired_at,
                                    "time_to_ack_s": inc.time_to_ack_s},
                                    {lang: {**at[lang], "minutes": f"{minutes:g}"} for lang in T.LANGS}))
        else:
            firing_s = (inc.resolved_at if inc.resolved_at is not None else end_s) - inc.fired_at
            if firing_s >= cfg.ack_late_s:
                out.append(_finding("never_acked", inc.fingerprint, {"fired_at": inc.fired_at,
                                    "firing_s": round(firing_s, 1)}, at))
    return out
