"""Reasons for suggestions: codes for machines, short operator phrases in English and Chinese.

A host reads a reason in a second, between two sentences of a pitch, so a phrase names the
signal and its number ("cart rate 22% vs 9% average") and, for a caveat, what to do about it.
Each `Driver` is produced by `monitor.suggestion_scoring` from the signal that moved the
score; this module only words it, so a reason can never mention a signal that did not count.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.questions import intent_name
from monitor.topics import topic_name


class ReasonCode(enum.StrEnum):
    """Why a product sits where it does; positive drivers first, caveats after."""

    MUST_PITCH = "must_pitch"
    KEEP_PITCHING = "keep_pitching"
    HIGH_GMV_RATE = "high_gmv_rate"
    HIGH_CART_RATE = "high_cart_rate"
    HIGH_CONVERSION = "high_conversion"
    STRONG_UPLIFT = "strong_uplift"
    UNPAID_ORDERS = "unpaid_orders"
    NOT_PITCHED_YET = "not_pitched_yet"
    RESTED = "rested"
    STEADY = "steady"
    LOW_STOCK = "low_stock"
    COMPLAINTS = "complaints"
    OPEN_QUESTIONS = "open_questions"
    HOST_SKIPPED = "host_skipped"
    RECENTLY_PITCHED = "recently_pitched"


CAVEATS = frozenset(
    {ReasonCode.LOW_STOCK, ReasonCode.COMPLAINTS, ReasonCode.OPEN_QUESTIONS, ReasonCode.HOST_SKIPPED,
     ReasonCode.RECENTLY_PITCHED}
)


@dataclass(frozen=True, slots=True)
class Driver:
    """One signal that moved a product's score, with the numbers its phrase quotes."""

    code: ReasonCode
    weight: float
    values: tuple[float, ...] = ()
    label: str = ""


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x >= 0.01 else f"{x * 100:.1f}%"


def _minutes(seconds: float) -> str:
    return f"{max(1, round(seconds / 60))}"


def phrase(driver: Driver) -> tuple[str, str]:
    """Word one driver as (English, Chinese)."""
    v, label = driver.values, driver.label
    code = driver.code
    if code is ReasonCode.MUST_PITCH:
        return f"must-pitch, slot closes in {_minutes(v[0])} min", f"必播商品，{_minutes(v[0])} 分钟后时段结束"
    if code is ReasonCode.KEEP_PITCHING:
        return "still selling: keep pitching for now", "仍在出单：继续讲解"
    if code is ReasonCode.HIGH_GMV_RATE:
        return (f"¥{v[0]:.0f} per pitch-minute vs ¥{v[1]:.0f} average",
                f"每讲解分钟成交 ¥{v[0]:.0f}，平均 ¥{v[1]:.0f}")
    if code is ReasonCode.HIGH_CART_RATE:
        return f"cart rate {_pct(v[0])} vs {_pct(v[1])} average", f"加购率 {_pct(v[0])}，平均 {_pct(v[1])}"
    if code is ReasonCode.HIGH_CONVERSION:
        return (f"click-to-purchase {_pct(v[0])} vs {_pct(v[1])} average",
                f"点击成交率 {_pct(v[0])}，平均 {_pct(v[1])}")
    if code is ReasonCode.STRONG_UPLIFT:
        return f"this pitch lifted clicks {v[0]:.1f}×", f"本次讲解点击提升 {v[0]:.1f} 倍"
    if code is ReasonCode.UNPAID_ORDERS:
        return f"{v[0]:.0f} unpaid orders: remind buyers to pay", f"{v[0]:.0f} 笔压单：提醒付款"
    if code is ReasonCode.NOT_PITCHED_YET:
        return "not pitched yet: worth a test", "尚未讲解：值得试讲"
    if code is ReasonCode.RESTED:
        return f"not pitched for {_minutes(v[0])} min", f"{_minutes(v[0])} 分钟未讲解"
    if code is ReasonCode.STEADY:
        return "steady seller", "稳定出单"
    if code is ReasonCode.LOW_STOCK:
        if len(v) > 1:
            return (f"{v[0]:.0f} left, sells out in {_minutes(v[1])} min: pitch with urgency or move down",
                    f"仅剩 {v[0]:.0f} 件，约 {_minutes(v[1])} 分钟售罄：强调稀缺或后移")
        return f"{v[0]:.0f} left: pitch with urgency or move down", f"仅剩 {v[0]:.0f} 件：强调稀缺或后移"
    if code is ReasonCode.COMPLAINTS:
        return (f"{topic_name(label, 'en')} complaints rising: answer them before re-pitching",
                f"{topic_name(label, 'zh')}相关负面增多：先回应再讲解")
    if code is ReasonCode.OPEN_QUESTIONS:
        if not label:
            return f"{v[0]:.0f} open questions: answer them first", f"{v[0]:.0f} 个未答问题：先回答"
        return (f"{v[0]:.0f} open questions on {intent_name(label, 'en')}: answer them first",
                f"{v[0]:.0f} 个关于{intent_name(label, 'zh')}的未答问题：先回答")
    if code is ReasonCode.HOST_SKIPPED:
        return f"skipped by host {_minutes(v[0])} min ago", f"主播 {_minutes(v[0])} 分钟前跳过"
    return f"pitched {_minutes(v[0])} min ago: audience still tired of it", f"{_minutes(v[0])} 分钟前刚讲过：观众易疲劳"


def compose(drivers: Sequence[Driver], positives: int = 2) -> tuple[str, str, tuple[ReasonCode, ...]]:
    """Join the strongest positive drivers and the strongest caveat into one short reason.

    Returns:
        (English reason, Chinese reason, all driver codes strongest first).
    """
    ordered = sorted(drivers, key=lambda d: -d.weight)
    chosen = [d for d in ordered if d.code not in CAVEATS][:positives]
    chosen += [d for d in ordered if d.code in CAVEATS][:1]
    if not chosen:
        chosen = [Driver(ReasonCode.STEADY, 0.0)]
        ordered = chosen
    texts = [phrase(d) for d in chosen]
    return ", ".join(t[0] for t in texts), "；".join(t[1] for t in texts), tuple(d.code for d in ordered)
