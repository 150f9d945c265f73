"""Every sentence and label of the review, in Chinese and English.

Findings keep their numbers separately (`Finding.numbers`); the sentences here only put
already formatted numbers in place, so both languages always say the same thing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.questions import INTENT_NAMES
from monitor.rule_names import RULE_NAMES

LANGS = ("zh", "en")

FINDINGS: dict[str, dict[str, str]] = {
    "under_pitched": {
        "en": "{name} was pitched for only {pitch} in total ({count} pitch(es), against a median of {median}); "
              "while pitched, {rate_in} of clicks became purchases against {rate_session} for the session. "
              "Give it more time or drop it.",
        "zh": "{name} 累计仅讲解 {pitch}（{count} 次，各商品中位数 {median}）；讲解期间点击成交率 {rate_in}，"
              "全场为 {rate_session}。建议加长讲解或下架。",
    },
    "never_pitched": {
        "en": "{name} was in the run of show but never pitched; it sold {paid} order(s) ({gmv}) without a pitch.",
        "zh": "{name} 在货盘中但从未讲解；未讲解也成交了 {paid} 单（{gmv}）。",
    },
    "viewer_loss": {
        "en": "Viewers left fastest between {t0} and {t1}: online fell from {before} to {after} ({drop}) "
              "while {name} was pitched.",
        "zh": "{t0}–{t1} 观众流失最快：在线人数从 {before} 降到 {after}（{drop}），当时在讲解 {name}。",
    },
    "viewer_loss_unpitched": {
        "en": "Viewers left fastest between {t0} and {t1}: online fell from {before} to {after} ({drop}), "
              "with no product pitched.",
        "zh": "{t0}–{t1} 观众流失最快：在线人数从 {before} 降到 {after}（{drop}），当时没有讲解商品。",
    },
    "unpaid": {
        "en": "{unpaid} of {orders} orders for {name} stayed unpaid (压单) — check price or coupon.",
        "zh": "{name} 有 {unpaid}/{orders} 单下单未付款（压单），请检查价格或优惠券。",
    },
    "question_wait": {
        "en": "Questions about {intent} waited {wait} on average before the product they named was pitched "
              "({count} questions, {unanswered} never answered).",
        "zh": "关于{intent}的提问平均等待 {wait} 才讲解到所问商品（共 {count} 条，{unanswered} 条直到下播未讲解）。",
    },
    "slow_ack": {
        "en": "The {rule} alert at {t} was acknowledged after {minutes} min.",
        "zh": "{t} 的{rule}告警在 {minutes} 分钟后才被确认。",
    },
    "never_acked": {
        "en": "The {rule} alert at {t} was never acknowledged.",
        "zh": "{t} 的{rule}告警始终未被确认。",
    },
}


LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Post-live review", "zh": "直播复盘"},
    "headline": {"en": "Headline", "zh": "核心数据"},
    "timeline": {"en": "Timeline", "zh": "时间线"},
    "products": {"en": "Products", "zh": "商品"},
    "findings": {"en": "Findings", "zh": "发现"},
    "no_findings": {"en": "Nothing stood out: no product, audience, question or incident problem was found.",
                    "zh": "未发现明显问题：商品、观众、提问与告警均正常。"},
    "incidents": {"en": "Incidents", "zh": "告警事件"},
    "no_incidents": {"en": "No alerts during this session.", "zh": "本场没有告警。"},
    "suggestions": {"en": "Suggestions", "zh": "讲解建议"},
    "no_suggestions": {"en": "No suggestion choices were recorded.", "zh": "没有记录到建议的采纳情况。"},
    "questions": {"en": "Questions", "zh": "提问"},
    "complaint_topics": {"en": "Complaint topics", "zh": "负面话题"},
    "vs_previous": {"en": "vs previous {n} session(s)", "zh": "对比前 {n} 场"},
    "no_previous": {"en": "no previous session of this room to compare", "zh": "本直播间没有可对比的历史场次"},
    "duration_s": {"en": "Duration", "zh": "时长"},
    "peak_online": {"en": "Peak online", "zh": "最高在线"},
    "avg_online": {"en": "Average online", "zh": "平均在线"},
    "avg_watch_s": {"en": "Average watch time", "zh": "平均停留"},
    "gmv": {"en": "GMV", "zh": "成交金额"},
    "gpm": {"en": "GPM", "zh": "千次观看成交"},
    "conversion": {"en": "Conversion", "zh": "看播转化率"},
    "orders": {"en": "Orders", "zh": "订单"},
    "refunds": {"en": "Refunds", "zh": "退款"},
    "online": {"en": "Online viewers", "zh": "在线人数"},
    "entries": {"en": "Entries", "zh": "进场"},
    "leaves": {"en": "Leaves", "zh": "离场"},
    "gmv_per_min": {"en": "GMV per minute", "zh": "每分钟成交金额"},
    "sentiment": {"en": "Sentiment index", "zh": "情绪指数"},
    "comments_per_min": {"en": "Comments per minute", "zh": "每分钟评论"},
    "product": {"en": "Product", "zh": "商品"},
    "pitch_count": {"en": "Pitches", "zh": "讲解次数"},
    "pitch_s": {"en": "Pitch time", "zh": "讲解时长"},
    "clicks": {"en": "Clicks", "zh": "点击"},
    "carts": {"en": "Carts", "zh": "加购"},
    "paid": {"en": "Paid", "zh": "已付款"},
    "unpaid": {"en": "Unpaid", "zh": "未付款"},
    "gmv_per_pitch_min": {"en": "GMV / pitch-min", "zh": "讲解每分钟成交"},
    "click_to_purchase": {"en": "Click→purchase", "zh": "点击成交率"},
    "uplift": {"en": "Pitch uplift", "zh": "讲解提升"},
    "sellout": {"en": "Sold out after", "zh": "售罄用时"},
    "complaints": {"en": "Complaints", "zh": "负面评论"},
    "rule": {"en": "Alert", "zh": "告警"},
    "pending": {"en": "Pending", "zh": "待定"},
    "firing": {"en": "Firing", "zh": "触发"},
    "acknowledged": {"en": "Acknowledged", "zh": "确认"},
    "resolved": {"en": "Resolved", "zh": "恢复"},
    "time_to_ack": {"en": "Time to acknowledge", "zh": "确认用时"},
    "evidence": {"en": "Evidence", "zh": "证据评论"},
    "accepted": {"en": "Accepted", "zh": "采纳"},
    "skipped": {"en": "Skipped", "zh": "跳过"},
    "followed_share": {"en": "Followed", "zh": "采纳率"},
    "gmv_followed": {"en": "GMV of pitches that followed a suggestion", "zh": "按建议讲解的成交"},
    "gmv_other": {"en": "GMV of other pitches", "zh": "其他讲解的成交"},
    "per_min": {"en": "per pitch-minute", "zh": "每讲解分钟"},
    "intent": {"en": "Intent", "zh": "意图"},
    "avg_wait": {"en": "Average wait", "zh": "平均等待"},
    "count": {"en": "Count", "zh": "数量"},
    "never": {"en": "never", "zh": "未"},
    "estimated": {"en": "estimated", "zh": "估算"},
    "generated": {"en": "Generated by livemon", "zh": "由 livemon 生成"},
}


def label(key: str, lang: str, **values: object) -> str:
    """A UI label in `lang` (English when the key has no such language)."""
    entry = LABELS.get(key) or RULE_NAMES.get(key) or INTENT_NAMES.get(key) or {"en": key}
    return entry.get(lang, entry["en"]).format(**values)


def clock(epoch_s: float, utc_offset_s: int) -> str:
    """Local wall time HH:MM of an instant (the room's time zone, not the reader's)."""
    tz = timezone(timedelta(seconds=utc_offset_s))
    return datetime.fromtimestamp(epoch_s, tz).strftime("%H:%M")


def zone(utc_offset_s: int) -> str:
    """The zone of `clock`'s times as people write it: UTC+8, UTC−5, UTC+5:30."""
    sign = "+" if utc_offset_s >= 0 else "−"
    hours, minutes = divmod(abs(utc_offset_s) // 60, 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def duration(seconds: float | None, lang: str) -> str:
    """Short human duration: 40 s, 3 min 5 s, 1 h 12 min (时分秒 in Chinese)."""
    if seconds is None:
        return "–"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    units = ("小时", "分", "秒") if lang == "zh" else (" h", " min", " s")
    parts = []
    if h:
        parts.append(f"{h}{units[0]}")
    if m:
        parts.append(f"{m}{units[1]}")
    if not h and (sec or not m):
        parts.append(f"{sec}{units[2]}")
    return ("" if lang == "zh" else " ").join(parts)


def percent(value: float | None, digits: int = 1) -> str:
    """0.031 → "3.1 %"; None → "–"."""
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def money(value: float | None) -> str:
    """¥1,234.50 style amount (the sessions' currency is CNY unless the producer says otherwise)."""
    return "–" if value is None else f"¥{value:,.2f}"
