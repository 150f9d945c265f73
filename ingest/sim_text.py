"""Comment text for the simulator: chatter, questions, praise and complaints by topic, zh and en.

Shapes follow PLATFORMS.md §5: bracket emoji codes that repeat, laughter, 扣1 call-and-
response, buyers' questions (about one comment in ten), and complaint words that look alike
but differ by topic, so topic clustering and sentiment have something real to separate.
"""

from __future__ import annotations

import numpy as np

EMOJI_ZH = ("[捂脸]", "[比心]", "[呲牙]", "[赞]", "[鼓掌]", "[玫瑰]", "[泪奔]", "[666]", "🔥", "👍")
EMOJI_EN = ("😂", "🔥", "👍", "❤️", "!!", "lol", "😍")

CHATTER = {
    "zh": ("哈哈哈哈", "哈哈哈哈哈哈", "主播好美", "主播好帅", "来了来了", "好听", "看饿了", "笑死", "绝了", "离谱哈哈",
           "扣1", "1111", "打卡", "晚上好", "刚来", "丝巾丝巾丝巾", "主播今天状态好", "各退一步", "破防了", "蹲一个"),
    "en": ("lol", "hahaha", "hi from texas", "love this stream", "just joined", "omg", "first time here", "hello!!",
           "1", "11111", "you look great", "vibes", "so fun", "queen", "here again"),
}
PRAISE = {
    "zh": ("已拍", "已下单", "拍了拍了", "质量很好", "回购了", "好用", "真便宜", "冲冲冲", "买了三件", "闭眼入", "姐妹们冲"),
    "en": ("ordered!", "just bought 2", "got it", "quality is great", "bought last time, love it", "cheap!!",
           "added to cart", "worth it", "best deal"),
}
QUESTIONS = {
    "zh": ("{n}号链接多少钱", "几号链接", "有XL吗", "还有货吗", "怎么拍？", "链接找不到", "包邮吗", "发什么快递",
           "{name}还有吗", "什么时候上{name}", "{name}是什么材质", "几瓶一组？", "能便宜点吗", "{n}号还会补货吗"),
    "en": ("how much is #{n}?", "which link?", "do you have XL?", "is {name} still in stock?", "how do I buy?",
           "can't find the link", "free shipping?", "when is {name} coming?", "what is {name} made of?",
           "does #{n} ship to canada?"),
}
COMPLAINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "quality": {"zh": ("质量太差了", "做工很粗糙", "用了一次就坏了", "掉色严重", "线头好多"),
                "en": ("quality is terrible", "broke after one use", "cheap material", "color faded")},
    "shipping": {"zh": ("发货太慢了", "一个星期还没发货", "物流不更新", "快递太慢"),
                 "en": ("shipping takes forever", "still not shipped", "where is my order", "tracking never updates")},
    "price": {"zh": ("太贵了", "比超市还贵", "价格虚高", "别的直播间更便宜"),
              "en": ("too expensive", "cheaper on amazon", "overpriced", "price went up?")},
    "authenticity": {"zh": ("假货", "是不是正品啊", "骗人的吧", "骗子"),
                     "en": ("is this fake?", "looks fake", "scam", "not authentic")},
    "service": {"zh": ("客服不回复", "退款不处理", "售后太差", "退货没人管"),
                "en": ("customer service never replies", "refund ignored", "nobody answers returns")},
    "stream": {"zh": ("卡了", "卡了吗", "声音听不见", "画面糊了"),
               "en": ("lagging", "no sound", "stream froze", "so blurry")},
}
TOPICS = tuple(COMPLAINTS)
RAID = {"zh": ("大家别买 主播骗人", "骗子直播间 快跑", "别买别买 都是假货"),
        "en": ("SCAM dont buy", "this stream is a scam RUN", "fake fake fake dont buy")}


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def decorate(rng: np.random.Generator, text: str, lang: str) -> str:
    """Add emoji codes or slang the way viewers do (sometimes repeated: [捂脸][捂脸][捂脸])."""
    r = rng.random()
    if r < 0.25:
        return text + _pick(rng, EMOJI_ZH if lang == "zh" else EMOJI_EN) * int(rng.integers(1, 4))
    if r < 0.3 and lang == "zh":
        return text + "哈哈哈"
    return text


def chatter(rng: np.random.Generator, lang: str) -> str:
    """Laughter, greetings, 扣1 answers."""
    return decorate(rng, _pick(rng, CHATTER[lang]), lang)


def praise(rng: np.random.Generator, lang: str) -> str:
    """A buyer's happy remark."""
    return decorate(rng, _pick(rng, PRAISE[lang]), lang)


def question(rng: np.random.Generator, lang: str, index: int, name: str) -> str:
    """A buyer's question about product `index` (1-based link number) called `name`."""
    return _pick(rng, QUESTIONS[lang]).format(n=index, name=name)


def question_about(rng: np.random.Generator, lang: str, index: int, name: str) -> str:
    """A question that names product `index` / `name` (what a question-surge incident is made of)."""
    return _pick(rng, tuple(q for q in QUESTIONS[lang] if "{" in q)).format(n=index, name=name)


def complaint(rng: np.random.Generator, lang: str, topic: str) -> str:
    """A complaint about `topic` (one of TOPICS)."""
    return decorate(rng, _pick(rng, COMPLAINTS[topic][lang]), lang)


def raid(rng: np.random.Generator, lang: str, phrase: int) -> str:
    """A coordinated raid line: the same phrase with small variations, so it is near-duplicate."""
    return RAID[lang][phrase % len(RAID[lang])] + "!" * int(rng.integers(0, 3))
