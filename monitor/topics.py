"""Complaint topics for negative comments, and phrases rising against the session baseline.

A responder needs to know *what* people complain about (假货 or 发货?) and which words are
suddenly everywhere. Topics are keyword rules in a fixed priority order (safety first: an
allergy complaint matters more than the price it also mentions); rising phrases compare
recent n-gram counts with the session's own average rate.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable

TOPICS = (
    "safety_health",
    "quality_fake",
    "shipping_delivery",
    "size_fit",
    "refund_service",
    "price_deception",
    "host_conduct",
    "stream_quality",
    "other",
)
TOPIC_NAMES: dict[str, dict[str, str]] = {  # how alerts, reasons and the pages (embedded JSON) name them
    "safety_health": {"en": "safety / health", "zh": "安全健康"},
    "quality_fake": {"en": "quality / fakes", "zh": "质量/假货"},
    "shipping_delivery": {"en": "shipping", "zh": "物流发货"},
    "size_fit": {"en": "size / fit", "zh": "尺码"},
    "refund_service": {"en": "refunds / service", "zh": "退款售后"},
    "price_deception": {"en": "price / deception", "zh": "价格/虚假宣传"},
    "host_conduct": {"en": "host conduct", "zh": "主播言行"},
    "stream_quality": {"en": "stream quality", "zh": "直播画面/声音"},
    "other": {"en": "other", "zh": "其他"},
}


def topic_name(topic: str, lang: str) -> str:
    """A complaint topic as people read it in `lang` ("en" or "zh"); an unknown one shows its id."""
    return TOPIC_NAMES.get(topic, {}).get(lang, topic)

_RULES: dict[str, str] = {
    "safety_health": r"过敏|烂脸|红肿|长痘|拉肚子|有毒|甲醛|致癌|发霉|过期|变质|三无|刺痛|allerg|rash|toxic|sick|burn|poison|expired|mold",
    "quality_fake": r"假货|假的|是假|高仿|山寨|正品|质量|做工|起球|掉色|褪色|开线|破了|坏了|坏的|劣质|漏液|缩水|色差|不一样|货不对板|"
    r"fake|quality|broke|broken|damaged|defective|ripped|torn|faded|cheaply|junk",
    "shipping_delivery": r"发货|快递|物流|没到|还没到|没收到|收不到|到货|催|发错|少发|包装|ship|deliver|package|arriv|order\b|tracking|"
    r"where is my",
    "size_fit": r"尺码|码数|偏大|偏小|太大|太小|穿不上|不合身|大了|小了|size|fit|too small|too big|tight|loose",
    "refund_service": r"退款|退货|退钱|退退|退不了|不给退|客服|售后|不理|不回复|没人理|投诉|12315|refund|return|customer service|support|"
    r"no one answers|ignored",
    "price_deception": r"贵|骗|割韭菜|智商税|韭菜|虚假|套路|涨价|忽悠|黑心|坑|上当|受骗|价格|scam|overpriced|expensive|rip ?off|"
    r"fraud|misleading|lie|liar|lied|price",
    "host_conduct": r"主播|删评|删我|禁言|踢|拉黑|骂|态度|凶|不回答|host|rude|block|delet|banned|muted",
    # the broadcast itself is broken: a storm of these calls for the technician, not the merchandiser
    "stream_quality": r"卡了|卡顿|好卡|太卡|卡死|卡住|卡卡|黑屏|花屏|画面黑|没声音|没有声音|听不见|听不到|画面糊|糊了|掉线|转圈|"
    r"\blag|\bbuffering|froze|no sound|can'?t hear|black screen|blurry|stream (?:is )?down",
}
_COMPILED = tuple((topic, re.compile(pattern, re.IGNORECASE)) for topic, pattern in _RULES.items())


def classify_topic(text: str) -> str:
    """Return the complaint topic of a (negative) comment, 'other' when no rule matches."""
    for topic, pattern in _COMPILED:
        if pattern.search(text):
            return topic
    return "other"


_WORD = re.compile(r"[a-z0-9']+|[\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z']+")
_HAS_LATIN = re.compile(r"[a-z']")  # no match: `_LATIN` finds nothing either
_STOP_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "it",
        "i",
        "to",
        "of",
        "and",
        "for",
        "my",
        "me",
        "you",
        "this",
        "that",
        "in",
        "on",
        "so",
        "be",
        "are",
        "was",
        "with",
        "at",
    ]
)


# Short texts whose phrases are remembered: chat repeats itself, and cutting n-grams costs
# 3-6 µs a comment. Bound: 2,048 texts of at most 24 characters, about 6 KB each at most
# (24 CJK characters: 45 phrases), so under 12 MB; ~0.7 KB each for danmaku-length texts.
PHRASE_CACHE = 2048
PHRASE_CACHE_CHARS = 24


def phrases(text: str) -> frozenset[str]:
    """Return the candidate phrases of one comment: CJK 2-3-grams, English words and word pairs.

    A set, so one comment counts once per phrase however often it repeats it.
    """
    return _cached_phrases(text) if len(text) <= PHRASE_CACHE_CHARS else _phrases(text)


def _phrases(text: str) -> frozenset[str]:
    lower = text.lower()
    out: set[str] = set()
    for run in _WORD.findall(lower):
        if run[0] >= "\u3400":
            out.update([run[i : i + 2] for i in range(len(run) - 1)])
            out.update([run[i : i + 3] for i in range(len(run) - 2)])
    if not _HAS_LATIN.search(lower):  # most danmaku: no English, so no words or pairs to look for
        return frozenset(out)
    words = [w for w in _LATIN.findall(lower) if len(w) > 1]
    out.update([w for w in words if w not in _STOP_EN and len(w) > 2])
    out.update([f"{a} {b}" for a, b in itertools.pairwise(words) if not (a in _STOP_EN and b in _STOP_EN)])
    return frozenset(out)


_cached_phrases = functools.lru_cache(maxsize=PHRASE_CACHE)(_phrases)


def rising_phrases(
    recent: Counter[str], baseline: Counter[str], recent_s: float, baseline_s: float, limit: int = 5, min_count: int = 3
) -> list[dict[str, float | str | int]]:
    """Rank phrases whose recent rate jumps against the session baseline.

    Args:
        recent: phrase counts over the last `recent_s` seconds.
        baseline: phrase counts over the whole session so far (`baseline_s` seconds), recent included.
    Returns:
        Up to `limit` of `{phrase, count, ratio}`, highest ratio first; a phrase contained in a
        higher-ranked longer phrase is dropped so 假货 and 假货吧 don't both take a slot.
    """
    scored = []
    for phrase, count in recent.items():
        if count < min_count:
            continue
        expected = baseline.get(phrase, 0) / max(baseline_s, 1.0) * recent_s
        ratio = (count + 1.0) / (expected + 1.0)
        if ratio >= 2.0:
            scored.append((ratio, count, phrase))
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    chosen: list[dict[str, float | str | int]] = []
    for ratio, count, phrase in scored:
        if any(phrase in str(c["phrase"]) or str(c["phrase"]) in phrase for c in chosen):
            continue
        chosen.append({"phrase": phrase, "count": count, "ratio": round(ratio, 2)})
        if len(chosen) >= limit:
            break
    return chosen


def count_phrases(texts: Iterable[str]) -> Counter[str]:
    """Count, over many comments, how many comments contain each phrase."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(phrases(text))
    return counts
