"""Score live comments (zh and en) as negative, neutral or positive, fast, in batches.

Two signals are blended per comment:

* the lexicon (`monitor.lexicon`) with rules for negation (不好看, not good), degree
  (太差, so bad), repeats (好好好好, 退退退) and shields for look-alike neutral phrases
  (退出直播间, 笑死) — this carries short danmaku;
* a linear model over hashed character 1-4-grams (marked when they fall within three
  characters after 不/没/别), one weight row per language, trained by
  `bench/train_sentiment.py` on shopping reviews and product tweets — this carries longer
  comments and words the lexicon misses.

A comment with no lexicon hit leans on the model only weakly, and shopping chatter
(已拍, 3号链接, "link?") damps it further: the model learned from reviews, where every text
has an opinion, while most live comments have none.

The batch path joins all texts into one string so that normalisation and the lexicon
regex run once per batch, and hashes n-grams for the whole batch in numpy.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np
import numpy.typing as npt

from monitor.lexicon import Kind, Lexicon

Label = Literal["negative", "neutral", "positive"]
Lang = Literal["zh", "en", "und"]

LANGS: tuple[Lang, ...] = ("zh", "en")
_LANG_ROW = {lang: i for i, lang in enumerate(LANGS)}
ORDERS = (1, 2, 3, 4)
MODEL_FILE = "sentiment_model.npz"
MAX_MODEL_CHARS = 256

# Blend and decision constants, chosen on the training corpora's dev split (see docs/comments.md).
THRESHOLD = 0.25
LEX_SQUASH = 0.8
# Below these lengths the review-trained model is trusted proportionally less (an English word is ~5 characters).
RELIABLE_CHARS = {"zh": 30, "en": 80, "und": 30}
MODEL_SHARE_WITH_LEXICON = 0.75
MODEL_SHARE_ALONE = 0.8
CHATTER_DAMPING = 0.5
QUESTION_DAMPING = 0.3
HEDGED_DAMPING = 0.3
NEGATED_POSITIVE = -0.7
NEGATED_NEGATIVE = 0.35
NEGATION_REACH_CJK = 3
NEGATION_REACH_LATIN = 12

_REPEATS = re.compile(r"([^\n])\1{3,}")  # never across the newline that separates a batch
_QUESTION = re.compile(r".*(?:[?？吗呢么]\s*$|还是)|(?:what|whats|when|where|how|which|any|who|why)\b")
# Yes/no questions about a property (会起球吗, 能退吗, "does it run small?") name a worry, not an
# experience: they are chatter for sentiment and questions for `monitor.questions`.
# So are "did it happen?" checks (卡了吗, 到了吗) and 是不是… (a question without 吗 in danmaku):
# a viewer asking whether the stream froze is not yet reporting it. "can't hear" is not "can …?":
# the apostrophe must not end the question word.
_HEDGED = re.compile(
    r"^(?:[^为]*?(?:会|能|可以|是不是|是|容易|有没有)[^?？]*(?:吗|么|[?？])\s*$|[^为?？]*了[吗么][?？]?\s*$"
    r"|是不是[^?？]*$|(?:does|do|is|are|can|will|would|could)\b(?!').*$)"
)
_U64 = np.uint64
_PRIMES = tuple(_U64(p) for p in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93))
_MIX = _U64(0xFF51AFD7ED558CCD)
# An n-gram starting this close after one of these negators hashes to a different column, so
# 好用 in 不太好用 is not the 好用 of praise. Measured on the zh dev split: +0.01 accuracy for reach
# 2-4; adding 无/非/未 loses it again (非常 "very" and 无线 "wireless" are not negations).
_NEGATORS = np.array([ord(c) for c in "不没别"], dtype=np.uint64)
NEGATION_SCOPE = 3
_NEGATED = _U64(0x5BD1E9955BD1E995)
# Length bands of `hashed_features` output order (they were padding buckets when each band was hashed apart).
_BANDS = np.array([16, 32, 64, 128], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Sentiment:
    """The verdict on one comment: label, score in [-1, 1] (negative to positive) and language."""

    label: Label
    score: float
    lang: Lang


def normalise(text: str) -> str:
    """Fold width and case and shorten runs of one character to three (好好好好好 -> 好好好).

    Three, not one, so that 666 and 退退退 survive as the lexicon spells them.
    """
    return _REPEATS.sub(r"\1\1\1", unicodedata.normalize("NFKC", text).lower())


def _codepoints(texts: Sequence[str], width: int) -> npt.NDArray[np.uint64]:
    padded = "".join(t[:width].ljust(width, "\0") for t in texts)
    raw = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).reshape(len(texts), width)
    return raw.astype(np.uint64)


def detect_languages(texts: Sequence[str]) -> list[Lang]:
    """Return 'zh' when Han characters are at least a third of the letters, 'en' for Latin, else 'und'."""
    out: list[Lang] = []
    for start in range(0, len(texts), 4096):
        chunk = texts[start : start + 4096]
        cps = _codepoints(chunk, 64)
        han = ((cps >= 0x3400) & (cps <= 0x9FFF)).sum(axis=1)
        latin = ((cps >= 0x61) & (cps <= 0x7A)).sum(axis=1)
        for h, la in zip(han.tolist(), latin.tolist(), strict=True):
            out.append("zh" if h and h * 3 >= la else "en" if la else "und")
    return out


def hashed_features(
    texts: Sequence[str], bits: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Hash the character 1-4-grams of normalised texts into `2**bits` columns.

    An n-gram that starts within `NEGATION_SCOPE` characters after 不, 没 or 别 gets its own
    column (a salted hash), so the model can learn negated phrases apart from plain ones.
    Returns (rows, cols, values) of a sparse matrix; each row's values have unit L2 norm so
    that a long review and a four-character comment are on the same scale.

    The texts are hashed as one run of code points, n-grams that would cross from one text
    into the next left out: a fixed number of numpy calls per batch, however short the texts
    (the engine scores a few comments at a time, where per-call overhead dominated). The
    triples come in the order `LinearModel.polarity` and training sum them in: texts in
    length bands (<16, <32, <64, <128, longer), then n-gram order, then text, then position.
    """
    n = len(texts)
    lengths = np.fromiter((min(len(t), MAX_MODEL_CHARS) for t in texts), dtype=np.int64, count=n)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    joined = "".join(t[:MAX_MODEL_CHARS] for t in texts)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    row_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
    offset = np.arange(total, dtype=np.int64) - (np.cumsum(lengths) - lengths)[row_of]  # position in its text
    left = lengths[row_of] - offset  # characters from here to the end of the text
    negator = (cps == _NEGATORS[0]) | (cps == _NEGATORS[1]) | (cps == _NEGATORS[2])
    in_scope = np.zeros(total, dtype=bool)
    for k in range(1, NEGATION_SCOPE + 1):
        in_scope[k:] |= negator[:-k] & (offset[k:] >= k)  # never reach back into the previous text
    salt = in_scope.astype(np.uint64) * _NEGATED
    shift = _U64(64 - bits)
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    for order in ORDERS:
        span = total - order + 1
        if span <= 0:
            break
        h = np.full(span, _U64(order), dtype=np.uint64)
        for j in range(order):
            h = (h ^ cps[j : j + span]) * _PRIMES[j]
        h ^= salt[:span]
        h ^= h >> _U64(31)
        h *= _MIX
        valid = left[:span] >= order
        rows.append(row_of[:span][valid])
        cols.append((h[valid] >> shift).astype(np.int64))
    counts = np.zeros(n, dtype=np.float64)  # n-grams per text
    for order in ORDERS:
        counts += np.maximum(lengths - order + 1, 0)
    norm = (1.0 / np.sqrt(np.maximum(counts, 1.0))).astype(np.float32)
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    band = np.searchsorted(_BANDS, lengths, side="right")
    if band.min() != band.max():  # several length bands: band first, as the triples are summed in that order
        by_band = np.argsort(band[row], kind="stable")
        row, col = row[by_band], col[by_band]
    return row, col, norm[row]


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Logistic regression weights per language over hashed n-grams (row i of `weights` is LANGS[i])."""

    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    bits: int

    @classmethod
    def load(cls, raw: bytes) -> LinearModel:
        """Read a model saved by `dump`."""
        with np.load(io.BytesIO(raw)) as data:
            return cls(data["weights"].astype(np.float32), data["bias"].astype(np.float32), int(data["bits"]))

    def dump(self) -> bytes:
        """Serialise as a compressed .npz (float16 weights: half the size, no measurable accuracy loss)."""
        out = io.BytesIO()
        np.savez_compressed(out, weights=self.weights.astype(np.float16), bias=self.bias, bits=np.int64(self.bits))
        return out.getvalue()

    def polarity(self, texts: Sequence[str], langs: Sequence[Lang]) -> npt.NDArray[np.float64]:
        """Return 2·P(positive) − 1 per normalised text; 0 for texts of undetermined language."""
        out = np.zeros(len(texts), dtype=np.float64)
        index = [i for i, la in enumerate(langs) if la in _LANG_ROW]
        if not index:
            return out
        # Both languages hash in one call (the n-grams do not depend on it); each text takes its language's row.
        lang_row = np.array([_LANG_ROW[langs[i]] for i in index], dtype=np.int64)
        rows, cols, vals = hashed_features([texts[i] for i in index], self.bits)
        weighted = np.bincount(rows, weights=self.weights[lang_row[rows], cols] * vals, minlength=len(index))
        logits = weighted.astype(np.float64) + self.bias[lang_row].astype(np.float64)
        out[index] = np.tanh(logits / 2.0)  # equals 2·sigmoid(z) − 1
        return out


class Scorer:
    """Lexicon rules blended with the linear model; see the module docstring for why."""

    def __init__(self, lexicon: Lexicon, model: LinearModel | None) -> None:
        self.lexicon = lexicon
        self.model = model
        self._table = {t: (e.kind, e.weight, e.latin) for t, e in lexicon.entries.items()}

    @classmethod
    def default(cls) -> Scorer:
        """The shipped lexicon and trained model (the model is optional while it is being trained)."""
        path = resources.files("monitor") / "data" / MODEL_FILE
        model = LinearModel.load(path.read_bytes()) if path.is_file() else None
        return cls(Lexicon.default(), model)

    def score_batch(self, texts: Sequence[str]) -> list[Sentiment]:
        """Score many comments at once (the fast path)."""
        if not texts:
            return []
        joined = normalise("\n".join(t.replace("\n", " ") for t in texts))
        norm = joined.split("\n")
        langs = detect_languages(norm)
        lex, hits, chatter, shielded = self._lexicon_scores(joined, len(norm))
        model = self.model.polarity(norm, langs) if self.model is not None else np.zeros(len(norm))
        # The blend, vectorised: see the module docstring and the constants for the why.
        lengths = np.fromiter(map(len, norm), dtype=np.float64, count=len(norm))
        reliable = np.fromiter((RELIABLE_CHARS[la] for la in langs), dtype=np.float64, count=len(norm))
        short = lengths < reliable
        question = np.zeros(len(norm), dtype=bool)
        hedged = np.zeros(len(norm), dtype=bool)
        for i in np.flatnonzero(short).tolist():
            question[i] = _QUESTION.match(norm[i]) is not None
            hedged[i] = _HEDGED.match(norm[i]) is not None
        reliability = np.minimum(1.0, lengths / reliable)
        reliability *= np.where(np.array(chatter), CHATTER_DAMPING, 1.0)
        # A shield in a short comment marks a look-alike of a complaint (笑死, [捂脸]) that the model
        # cannot tell apart; in a long review it is just one phrase (差不多) and damping costs accuracy.
        reliability *= np.where(np.array(shielded) & short, CHATTER_DAMPING, 1.0)
        reliability *= np.where(question, QUESTION_DAMPING, 1.0)
        has_hits = np.array(hits) > 0
        share = np.where(has_hits, MODEL_SHARE_WITH_LEXICON, MODEL_SHARE_ALONE) * reliability
        lexical = np.where(has_hits, np.tanh(LEX_SQUASH * np.array(lex)), 0.0)
        blended = np.where(has_hits, 1.0 - share, 0.0) * lexical + share * model
        blended *= np.where(hedged, HEDGED_DAMPING, 1.0)
        scores = np.round(blended, 4).tolist()
        return [
            Sentiment("positive" if s >= THRESHOLD else "negative" if s <= -THRESHOLD else "neutral", s, lang)
            for s, lang in zip(scores, langs, strict=True)
        ]

    def _lexicon_scores(self, joined: str, n: int) -> tuple[list[float], list[int], list[bool], list[bool]]:
        """Walk the lexicon matches of the whole batch once, keeping per-comment state."""
        lex = [0.0] * n
        hits = [0] * n
        chatter = [False] * n
        shielded = [False] * n
        table = self._table
        row = 0
        row_end = joined.find("\n")
        negator_end, negator_strength, degree_end, degree = -99, 0.0, -99, 1.0
        for match in self.lexicon.pattern.finditer(joined):
            start = match.start()
            if start > row_end >= 0:
                while start > row_end >= 0:
                    row += 1
                    row_end = joined.find("\n", row_end + 1)
                negator_end, degree_end = -99, -99
            term = match.group()
            kind, weight, latin = table[term]
            if latin and not self.lexicon.starts_word(joined, start, term):
                continue
            if kind is Kind.NEGATOR:
                negator_end, negator_strength = match.end(), weight
            elif kind is Kind.DEGREE:
                degree_end, degree = match.end(), weight
            elif kind is Kind.CHATTER:
                chatter[row] = True
            elif kind is Kind.SHIELD:
                shielded[row] = True
            else:
                reach = NEGATION_REACH_LATIN if latin else NEGATION_REACH_CJK
                if start - degree_end <= reach:
                    weight *= degree
                if start - negator_end <= reach + (degree_end > negator_end) * reach:
                    weight = weight * NEGATED_POSITIVE if weight > 0 else -weight * NEGATED_NEGATIVE * negator_strength
                    negator_end = -99
                degree_end = -99
                lex[row] += weight
                hits[row] += 1
        return lex, hits, chatter, shielded


_default: Scorer | None = None


def default_scorer() -> Scorer:
    """Return the process-wide scorer, loading the lexicon and model on first use."""
    global _default
    if _default is None:
        _default = Scorer.default()
    return _default


def score_batch(texts: Sequence[str]) -> list[Sentiment]:
    """Score comments with the shipped lexicon and model."""
    return default_scorer().score_batch(texts)


def score(text: str) -> Sentiment:
    """Score one comment (convenience wrapper over `score_batch`)."""
    return default_scorer().score_batch([text])[0]
