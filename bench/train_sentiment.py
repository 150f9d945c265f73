"""Train the hashed character n-gram model and write monitor/data/sentiment_model.npz.

Deterministic: full-batch Adam from zero weights over a fixed split, so the same corpora
give the same file. Classes are weighted to balance, because a model that leans negative
by default would paint neutral chatter as complaints.

Usage: python bench/train_sentiment.py [--bits 18] [--steps 300]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import corpora
import numpy as np

from monitor.sentiment import LANGS, MODEL_FILE, LinearModel, hashed_features, normalise

L2 = 2e-6
LEARNING_RATE = 0.05


def train_one(texts: list[str], labels: np.ndarray, bits: int, steps: int) -> tuple[np.ndarray, float]:
    """Fit one language's weights by full-batch Adam on class-balanced logistic loss."""
    rows, cols, vals = hashed_features([normalise(t) for t in texts], bits)
    n = len(texts)
    positive_share = labels.mean()
    sample_weight = np.where(labels == 1, 0.5 / positive_share, 0.5 / (1 - positive_share)) / n
    w = np.zeros(2**bits)
    b = 0.0
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        z = np.bincount(rows, weights=w[cols] * vals, minlength=n) + b
        err = (1.0 / (1.0 + np.exp(-z)) - labels) * sample_weight
        g_w = np.bincount(cols, weights=err[rows] * vals, minlength=w.size) + L2 * w
        g_b = err.sum()
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
        scale = LEARNING_RATE * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        w -= scale * m_w / (np.sqrt(v_w) + eps)
        b -= scale * m_b / (np.sqrt(v_b) + eps)
    return w, b


def accuracy(model: LinearModel, lang: str, pairs: list[tuple[str, int]]) -> float:
    """Share of dev texts whose model polarity has the right sign."""
    texts = [normalise(t) for t, _ in pairs]
    polarity = model.polarity(texts, [lang] * len(texts))  # type: ignore[list-item]
    return float(np.mean((polarity > 0) == np.array([y for _, y in pairs], dtype=bool)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=18)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "monitor" / "data" / MODEL_FILE)
    args = parser.parse_args()
    sources = {"zh": corpora.chinese_reviews(), "en": corpora.english_tweets()}
    weights = np.zeros((len(LANGS), 2**args.bits), dtype=np.float32)
    bias = np.zeros(len(LANGS), dtype=np.float32)
    for index, lang in enumerate(LANGS):
        train = corpora.split(sources[lang], "train")
        w, b = train_one(
            [t for t, _ in train], np.array([y for _, y in train], dtype=np.float64), args.bits, args.steps
        )
        weights[index], bias[index] = w, b
        print(f"{lang}: trained on {len(train)} texts", file=sys.stderr)
    model = LinearModel(weights, bias, args.bits)
    saved = LinearModel.load(model.dump())
    for lang in LANGS:
        print(f"{lang}: dev accuracy {accuracy(saved, lang, corpora.split(sources[lang], 'dev')):.4f}", file=sys.stderr)
    args.out.write_bytes(model.dump())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
