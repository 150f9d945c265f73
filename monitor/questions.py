"""Buyer questions: which intent (price, size, stock …) and which product ("3号链接").

Roughly one live comment in ten is a buyer's question; the host can't read them all. Grouped
by intent and product, they become a short to-do list ("12 people ask the price of #3, the
oldest 95 s ago") that empties when the host pins the product or someone marks it answered.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

INTENTS = ("price", "size", "stock", "shipping", "how_to_buy", "link", "coupon")
INTENT_NAMES: dict[str, dict[str, str]] = {  # how reasons and reports speak of them
    "price": {"en": "price", "zh": "价格"},
    "size": {"en": "size", "zh": "尺码"},
    "stock": {"en": "stock", "zh": "库存"},
    "shipping": {"en": "shipping", "zh": "发货"},
    "how_to_buy": {"en": "how to buy", "zh": "怎么买"},
    "link": {"en": "the link", "zh": "链接"},
    "coupon": {"en": "coupons", "zh": "优惠券"},
}


def intent_name(intent: str, lang: str) -> str:
    """An intent as people read it in `lang` ("en" or "zh"); an unknown one shows its id."""
    return INTENT_NAMES.get(intent, {}).get(lang, intent)

# Order matters: the first intent that matches wins ("链接找不到" is about the link, not stock).
_INTENT_RULES: tuple[tuple[str, str], ...] = (
    ("coupon", r"优惠券|领券|券|满减|优惠|红包|便宜点|coupon|discount|promo|code"),
    ("link", r"链接|小黄车|\blink\b|\bpin\b"),
    (
        "how_to_buy",
        r"怎么拍|怎么买|怎么下单|在哪拍|在哪买|拍哪个|哪里买|how (?:do i|to|can i) (?:buy|order|get)|where (?:do i|to|can i) buy",
    ),
    ("price", r"多少钱|价格|什么价|几块|到手|多少米|\bhow much\b|\bprice\b|\bcost\b"),
    (
        "size",
        r"尺码|什么码|[0-9a-z]码|码数|多大码|大码|偏大|偏小|身高|体重|腰围|\bsize\b|(?<![a-z])x{0,3}[sml](?![a-z])|(?<![a-z])xx?l(?![a-z])|run small|run big|fit",
    ),
    ("stock", r"有货|还有吗|还有没有|补货|库存|没了吗|卖完|还能拍|断码|in stock|sold out|restock|any left|available"),
    ("shipping", r"发货|快递|包邮|几天到|多久到|运费|ship|deliver"),
)
_INTENTS = tuple((intent, re.compile(pattern, re.IGNORECASE)) for intent, pattern in _INTENT_RULES)

_ASKING = re.compile(
    r"[?？]|吗|呢|么|怎么|几|多少|什么|哪|有没有|能不能|求|上链接|找不到|"
    r"^(?:what|whats|when|where|how|which|any|do|does|is|are|can|will)\b|\bpls\b|\bplease\b|drop the",
    re.IGNORECASE,
)
_PRODUCT = re.compile(
    r"(\d{1,3})\s*号|第\s*(\d{1,3})\s*个|#\s*(\d{1,3})|\b(?:no\.?|number|link|item)\s*(\d{1,3})\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Question:
    """A detected buyer question: its intent and, if named, the product index as a string ("3")."""

    intent: str
    product: str | None


def product_reference(text: str) -> str | None:
    """Return the product index a comment names ("3号链接", "#3", "link 3"), or None."""
    match = _PRODUCT.search(text)
    if match is None:
        return None
    return next(g for g in match.groups() if g is not None).lstrip("0") or "0"


# Texts whose answer is remembered: chat repeats itself (几号链接, 多少钱), and the engine asks for
# every comment. Bound: 2,048 texts of at most 500 characters (ingest's limit), about 4 MB if
# every text were that long; ~0.3 MB for danmaku-length ones.
QUESTION_CACHE = 2048


@functools.lru_cache(maxsize=QUESTION_CACHE)
def detect_question(text: str) -> Question | None:
    """Return the question a comment asks, or None for statements ("已拍") and complaints without a request.

    A comment counts when it names an intent *and* asks (a question mark or word, or a
    request such as 上链接 / "link pls").
    """
    # Asking first: one search that rules out nine comments in ten, where the intents are up to
    # seven (the engine runs this on every comment). Same answer as the intent first: both must hold.
    if not _ASKING.search(text):
        return None
    for intent, pattern in _INTENTS:
        if pattern.search(text):
            return Question(intent, product_reference(text))
    return None
